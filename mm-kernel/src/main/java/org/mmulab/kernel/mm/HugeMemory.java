package org.mmulab.kernel.mm;

/**
 * PMD-mapped transparent huge pages after mm/huge_memory.c (Linux 6.6): the huge PMD leaf (PS set, 2 MiB
 * in 4-level and PAE alike) and what the rest of mm does when it meets one.
 * <ul>
 * <li>{@link #setHugePmd}: do_set_pmd / set_pmd_at for a huge folio ({@link FrameTable#allocHugePage}),
 *     under {@code pmd_lock} (here {@code page_table_lock}: mmulab has no split PMD locks, as x86 with
 *     {@code USE_SPLIT_PMD_PTLOCKS} off), accounting the whole folio in the RSS and its entire mapcount.</li>
 * <li>{@link #splitHugePmd}: {@code __split_huge_pmd}. The simplest correct rule of the port: every
 *     PMD-level walker (zap, mprotect, mremap, madvise, fork, GUP, mincore, pagemap, soft-dirty) calls it
 *     when it meets a huge PMD and then walks PTEs as usual. Anonymous: the PMD is invalidated and flushed,
 *     the table deposited at collapse ({@code pgtable_trans_huge_withdraw}) gets 512 PTEs to the subpages
 *     (each subpage's {@code _mapcount} and one folio reference per PTE) and is populated
 *     ({@code __split_huge_pmd_locked}). File/shmem: the PMD is cleared and flushed and the mapping
 *     dropped; later faults map PTEs from the page cache (the folio stays whole there).</li>
 * <li>{@link #hugePmdFault}: a fault on a huge PMD: {@code huge_pmd_set_accessed}, or a write to a
 *     read-only one: {@code do_huge_pmd_wp_page} reuses an exclusive anon folio and otherwise splits and
 *     lets the access fault again on the PTE ({@code VM_FAULT_FALLBACK}).</li>
 * </ul>
 * A folio is never split into small folios here: a partially unmapped huge page lives until its last
 * subpage goes (Linux's deferred split queue without the shrinker that would split it early).
 */
public final class HugeMemory {
    public static final long HPAGE_PMD_SIZE = 1L << 21, HPAGE_PMD_MASK = -HPAGE_PMD_SIZE;
    public static final int HPAGE_PMD_NR = FrameTable.HPAGE_PMD_NR;

    private final Memory memory;
    private final PgtableOps ops;
    private final FrameTable frames;

    HugeMemory(Memory memory) {
        this.memory = memory;
        this.ops = memory.ops();
        this.frames = memory.frames();
    }

    /** pmd_trans_huge. */
    public static boolean pmdTransHuge(long pmd) {
        return PteBits.present(pmd) && (pmd & PteBits.PSE) != 0;
    }

    /** mk_huge_pmd(page, vma->vm_page_prot), writable and dirty for a write ({@code maybe_pmd_mkwrite}). */
    long mkHugePmd(VmArea vma, long head, boolean write) {
        long e = PteBits.mkPte(head, vma.pageProt()) | PteBits.PSE | PteBits.ACCESSED;
        if (write && (vma.flags & VmArea.VM_WRITE) != 0) {
            e = PteBits.mkdirty(e | PteBits.RW);
        }
        return e;
    }

    /**
     * set_huge_pmd / do_set_pmd: maps the folio at {@code head} with one PMD if the PMD is still none.
     * Anonymous folios come new from collapse (folio_add_new_anon_rmap: exclusive), file folios from the
     * page cache (the caller's reference is not consumed: the mapping takes its own). The deposited table
     * of an anonymous mapping is passed in {@code deposit} (-1 for file). Returns false if the PMD was not
     * none.
     */
    boolean setHugePmd(VmArea vma, long haddr, long pmdp, long head, long deposit) {
        MmStruct mm = vma.mm;
        boolean anon = vma.isAnonymous();
        mm.pageTableLock.lock();
        try {
            if (!PteBits.none(ops.get(pmdp))) {
                return false;
            }
            if (anon) {
                for (int i = 0; i < HPAGE_PMD_NR; i++) {
                    frames.setFlags(head + i, FrameTable.PG_ANON | FrameTable.PG_ANON_EXCLUSIVE);
                }
                mm.hugePmdDeposit.push(deposit); // pgtable_trans_huge_deposit: split can never fail
                mm.addCounter(MmStruct.MM_ANONPAGES, HPAGE_PMD_NR);
                memory.stats.anonThps.incrementAndGet();
            } else {
                frames.get(head);
                mm.addCounter(memory.mmCounter(head), HPAGE_PMD_NR);
                memory.stats.shmemPmdMapped.incrementAndGet();
            }
            frames.addEntireMap(head, 1);
            mm.hugePmds.incrementAndGet();
            mm.hugePmdCounts.incrementAndGet(anon ? 0 : 1);
            ops.set(pmdp, mkHugePmd(vma, head, anon || (vma.flags & VmArea.VM_SHARED) != 0));
            return true;
        } finally {
            mm.pageTableLock.unlock();
        }
    }

    /**
     * split_huge_pmd(vma, pmd, address): if the PMD at {@code pmdp} maps a huge page, turn it into a PTE
     * table (anon) or clear it (file). A no-op (one lockless read) for any other PMD. Callers hold the
     * mmap lock (read or write) or, for a file VMA, the i_mmap lock.
     */
    public void splitHugePmd(VmArea vma, long pmdp, long address) {
        if (pmdp >= 0) {
            splitIfHuge(vma, pmdp, address, ops.getLockless(pmdp));
        }
    }

    /**
     * The walkers' form of {@link #splitHugePmd}: {@code pmdval} is the PMD they just read; returns it
     * unchanged unless it is huge, else splits and returns the PMD read again (a table, or none for a
     * file mapping). No page-table access at all for an ordinary PMD, so the walks' yield points (the
     * explorer's schedules) are those of a kernel without THPs until a huge PMD exists.
     */
    public long splitIfHuge(VmArea vma, long pmdp, long address, long pmdval) {
        if (!pmdTransHuge(pmdval)) {
            return pmdval;
        }
        splitLocked(vma, pmdp, address);
        return ops.getLockless(pmdp);
    }

    private void splitLocked(VmArea vma, long pmdp, long address) {
        MmStruct mm = vma.mm;
        long haddr = address & HPAGE_PMD_MASK;
        long old;
        long table = -1;
        mm.pageTableLock.lock();
        try {
            old = ops.get(pmdp);
            if (!pmdTransHuge(old)) {
                return; // split or zapped meanwhile
            }
            long head = PteBits.pfn(old);
            if (!frames.isCompound(head) || (frames.flags(head) & FrameTable.PG_ANON) == 0) {
                // file: pmdp_huge_clear_flush, the mapping's rmap and reference go, faults map PTEs again
                ops.getAndClear(pmdp);
                memory.tlbFlush.flushTlbMmRange(mm, haddr, haddr + HPAGE_PMD_SIZE, true);
                frames.addEntireMap(head, -1);
                mm.hugePmds.decrementAndGet();
                mm.hugePmdCounts.decrementAndGet(1);
                mm.addCounter(memory.mmCounter(head), -HPAGE_PMD_NR);
                memory.stats.shmemPmdMapped.decrementAndGet();
                memory.stats.thpSplitPmd.incrementAndGet();
                frames.put(head);
                return;
            }
            // pmdp_invalidate: the huge TLB entries go before the PTEs exist
            old = ops.getAndClear(pmdp);
            memory.tlbFlush.flushTlbMmRange(mm, haddr, haddr + HPAGE_PMD_SIZE, false);
            table = mm.hugePmdDeposit.pop(); // pgtable_trans_huge_withdraw
            long prot = old & ~(PteBits.PFN_MASK | PteBits.PSE); // PFN_MASK takes the large page's PAT bit 12 too
            SpinLock ptl = frames.ptlock(table);
            ptl.lock();
            try {
                for (int i = 0; i < HPAGE_PMD_NR; i++) {
                    frames.addMap(head + i);
                    ops.set((table << 12) + 8L * i, PteBits.mkPte(head + i, prot));
                }
            } finally {
                ptl.unlock();
            }
            frames.refAdd(head, HPAGE_PMD_NR - 1); // one reference per PTE now
            frames.addEntireMap(head, -1);
            mm.hugePmds.decrementAndGet();
            mm.hugePmdCounts.decrementAndGet(0);
            memory.stats.anonThps.decrementAndGet();
            memory.stats.thpSplitPmd.incrementAndGet();
            ops.set(pmdp, ops.mkTable(2, table)); // pmd_populate
        } finally {
            mm.pageTableLock.unlock();
        }
    }

    /**
     * The huge-PMD part of __handle_mm_fault: {@code pmdval} was read locklessly and is a huge PMD.
     * Returns VM_FAULT_OK: the access is retried (on the PMD, or on the PTEs after a split).
     */
    int hugePmdFault(Memory.VmFault vmf, long pmdval) {
        MmStruct mm = vmf.mm;
        boolean split = false;
        mm.pageTableLock.lock();
        try {
            long pmd = ops.get(vmf.pmdp);
            if (pmd != pmdval) {
                memory.stats.faultRetry.incrementAndGet(); // pmd_same failed
                return Memory.VM_FAULT_OK;
            }
            long entry = pmd | PteBits.ACCESSED;
            if (vmf.write()) {
                if (!PteBits.write(pmd)) {
                    long head = PteBits.pfn(pmd);
                    // do_huge_pmd_wp_page: reuse an exclusive anon folio nobody else holds
                    if (vmf.vma.isAnonymous() && frames.anonExclusive(head) && frames.refcount(head) == 1
                            && (vmf.vma.flags & VmArea.VM_WRITE) != 0) {
                        ops.set(vmf.pmdp, PteBits.mkdirty(entry | PteBits.RW));
                        return Memory.VM_FAULT_OK;
                    }
                    split = true; // VM_FAULT_FALLBACK: COW on the PTE level
                    return Memory.VM_FAULT_OK;
                }
                entry = PteBits.mkdirty(entry);
            }
            if (entry != pmd) {
                ops.set(vmf.pmdp, entry); // huge_pmd_set_accessed
            }
            return Memory.VM_FAULT_OK;
        } finally {
            mm.pageTableLock.unlock();
            if (split) {
                splitHugePmd(vmf.vma, vmf.pmdp, vmf.address);
            }
        }
    }

    /**
     * folio_lock's wait (folio_wait_bit): until the folio of {@code pfn} is unlocked, answering IPIs and
     * passing the baton like a lock waiter ({@link LockWait}). Called with no page-table lock held.
     */
    void waitOnPageLocked(long pfn) {
        if (!frames.pageLocked(pfn)) {
            return;
        }
        LockWait.await(frames.charge().machine(), x -> !frames.pageLocked(pfn), (x, nanos) -> {
            java.util.concurrent.locks.LockSupport.parkNanos(nanos);
            return !frames.pageLocked(pfn);
        }, () -> {
            while (frames.pageLocked(pfn)) {
                Thread.onSpinWait();
            }
        });
    }
}
