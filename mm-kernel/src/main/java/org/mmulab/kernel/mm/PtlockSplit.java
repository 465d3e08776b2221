package org.mmulab.kernel.mm;

/**
 * Split PTE locks (Linux 2.6.15, 4c21e2f2441 "[PATCH] mm: split page table lock", include/linux/mm.h
 * pte_lockptr / USE_SPLIT_PTE_PTLOCKS) against the kernel before it: with {@link #usePageTableLock} set,
 * every PTE table of an mm is guarded by that mm's {@code page_table_lock} instead of its own
 * {@code ptlock_ptr(page)}, as {@code pte_lockptr(mm, pmd)} returns when USE_SPLIT_PTE_PTLOCKS is 0.
 *
 * <p>Only for {@code mmulab bench --scalability}, which measures what the split buys: off by default; only
 * Java code that builds the {@link Memory} can set it, before any vCPU runs (starting the vCPU threads
 * publishes it). No syscall, file or guest-visible path reaches it. The choice is made once per PTE table,
 * where __pte_alloc constructs it ({@link PgtableGeneric#pxdAlloc}); every later pte_offset_map_lock takes
 * the lock the table was given, so nothing on the fault path reads this switch.
 */
public final class PtlockSplit {
    private boolean pageTableLockForEveryPte;

    /** Turns split PTE locks off in this Memory: new PTE tables use their mm's page_table_lock. */
    public void usePageTableLock() {
        pageTableLockForEveryPte = true;
    }

    /** Are PTE tables guarded by page_table_lock (the pre-split kernel)? */
    public boolean pageTableLockForEveryPte() {
        return pageTableLockForEveryPte;
    }
}
