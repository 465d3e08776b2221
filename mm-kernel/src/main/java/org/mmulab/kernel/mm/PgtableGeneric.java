package org.mmulab.kernel.mm;

/**
 * The page-table helpers of mm/pgtable-generic.c and the table allocation of mm/memory.c (Linux 6.x):
 * page-table pages ({@code pagetable_alloc} with the split-lock ctor), {@code __pud_alloc} /
 * {@code __pmd_alloc} / {@code __pte_alloc}, which take {@code page_table_lock} themselves and re-check
 * for a racing allocation (seed 000), the lockless walk to a PMD entry, and {@code pte_offset_map*},
 * which may fail when the PMD changes under it (seed 002): every caller retries or bails out.
 */
final class PgtableGeneric {
    private final Memory memory;
    private final PgtableOps ops;
    private final FrameTable frames;
    private final VmStat stats;
    /**
     * Test hook run inside {@code __pte_offset_map_lock} between reading the PMD locklessly and taking
     * the PTE lock: the window in which khugepaged's retract_page_tables can change the PMD.
     */
    volatile Runnable pteMapLockRaceHook;
    /** pte_free_defer's grace periods and the lockless walkers' read-side sections. */
    final RcuTableFree rcu;

    PgtableGeneric(Memory memory) {
        this.memory = memory;
        this.ops = memory.ops();
        this.frames = memory.frames();
        this.stats = memory.stats;
        this.rcu = new RcuTableFree(memory, this::freePgtablePage);
    }

    long allocPgtablePage() {
        long pfn = frames.allocZeroedPage();
        if (pfn >= 0) {
            frames.pgtableCtor(pfn);
        }
        return pfn;
    }

    void freePgtablePage(long pfn) {
        frames.pgtableDtor(pfn);
        frames.put(pfn);
    }

    /**
     * __pud_alloc / __pmd_alloc (and __pte_alloc's core): allocate a table outside the lock, take
     * page_table_lock, populate the entry only if it is still none, free the page if someone raced.
     * Returns 0 or -ENOMEM.
     */
    int pxdAlloc(MmStruct mm, long entryPa, int level) {
        long nw = allocPgtablePage();
        if (nw < 0) {
            return -12;
        }
        if (level == 2) {
            frames.setFlags(nw, FrameTable.PG_PTE_TABLE); // pagetable_pte_ctor
            if (memory.ptlockSplit.pageTableLockForEveryPte()) {
                frames.sharePtlock(nw, mm.pageTableLock); // pte_lockptr without USE_SPLIT_PTE_PTLOCKS
            }
            if (memory.fixes.reverted(MmFix.PTE_ALLOC_PTLOCK)) {
                // explorer: the pre-seed-000 populate, trusting the caller's unlocked pmd_none
                mm.nrPgtables.incrementAndGet();
                ops.set(entryPa, ops.mkTable(level, nw));
                return 0;
            }
        }
        mm.pageTableLock.lock();
        try {
            if (PteBits.none(ops.get(entryPa))) {
                mm.nrPgtables.incrementAndGet();
                // pmd_install: smp_wmb() then populate; the release store orders the zeroed table first.
                ops.set(entryPa, ops.mkTable(level, nw));
                nw = -1;
            }
        } finally {
            mm.pageTableLock.unlock();
        }
        if (nw >= 0) {
            stats.pgtableAllocRaces.incrementAndGet();
            freePgtablePage(nw);
        } else if (level == 3 && ops.levels() == 3) {
            // PAE pud_populate: the CPU only reads PDPTEs at MOV CR3, so flush_tlb_mm (a CR3 reload) on
            // every CPU using the mm. Only reached after free_pgtables emptied a whole gigabyte.
            mm.flushTlbAll();
        }
        return 0;
    }

    /** __pte_alloc(mm, pmd): seed 000, takes page_table_lock itself and re-checks pmd_none. */
    public int pteAlloc(MmStruct mm, long pmdp) {
        return pxdAlloc(mm, pmdp, 2);
    }

    /**
     * Walks (allocating) from the PGD down to the PMD entry for {@code addr}: pgd_offset, pud_alloc,
     * pmd_alloc. Returns the physical address of the PMD entry, or -1 when a table could not be allocated.
     */
    long pmdAlloc(MmStruct mm, long addr) {
        long table = mm.pgd << 12;
        for (int level = ops.levels(); level > 2; level--) {
            long ep = ops.entryAddr(table, addr, level);
            long e = ops.getLockless(ep);
            if (PteBits.none(e)) {
                if (pxdAlloc(mm, ep, level) != 0) {
                    return -1;
                }
                e = ops.getLockless(ep);
            }
            table = PteBits.pfn(e) << 12;
        }
        return ops.entryAddr(table, addr, 2);
    }

    /** Walks without allocating; returns the PMD entry address or -1 when an upper level is none. */
    public long pmdOffset(MmStruct mm, long addr) {
        long table = mm.pgd << 12;
        for (int level = ops.levels(); level > 2; level--) {
            long e = ops.getLockless(ops.entryAddr(table, addr, level));
            if (PteBits.none(e) || ops.tableBad(level, e)) {
                return -1;
            }
            table = PteBits.pfn(e) << 12;
        }
        return ops.entryAddr(table, addr, 2);
    }

    /** The PTE value mapping {@code addr} (0 when none); for tests and debugging. */
    public long lookupPte(MmStruct mm, long addr) {
        long pmdp = pmdOffset(mm, addr);
        if (pmdp < 0) {
            return 0;
        }
        long pmd = ops.getLockless(pmdp);
        if (PteBits.none(pmd)) {
            return 0;
        }
        if (HugeMemory.pmdTransHuge(pmd)) {
            // the PTE a split would make for addr: the subpage, with the huge PMD's bits but PS
            return (pmd & ~PteBits.PSE) + (((addr >>> 12) & (HugeMemory.HPAGE_PMD_NR - 1)) << 12);
        }
        return ops.getLockless(ops.entryAddr(PteBits.pfn(pmd) << 12, addr, 1));
    }

    /**
     * __pte_offset_map: validates the PMD read locklessly (pmdp_get_lockless). Returns the PTE address
     * or -1 for no page table (none, huge, bad). Only a <em>present</em> bad PMD is cleared, as
     * pmd_clear_bad does: a present lockless value is never torn, but a non-present one may be (this
     * format writes a PMD as two 32-bit words under PAE, where Linux uses one set_64bit: a reader inside
     * the write sees the new high word with the old low word), and clearing the PMD for it would drop a
     * table just installed. Such a value is "no page table" for now; the caller retries or bails out.
     */
    long pteOffsetMap(long pmdp, long pmdval, long addr) {
        if (PteBits.none(pmdval) || (pmdval & PteBits.PSE) != 0 || !PteBits.present(pmdval)) {
            return -1;
        }
        if (ops.tableBad(2, pmdval) || PteBits.pfn(pmdval) >= frames.frameCount()) {
            stats.pmdBad.incrementAndGet();
            ops.clear(pmdp);
            return -1;
        }
        return ops.entryAddr(PteBits.pfn(pmdval) << 12, addr, 1);
    }

    /**
     * pte_offset_map_nolock: maps the PTE and names its lock without taking it; null if there is no
     * page table. The lock belongs to the table the returned PTE is in, even if the PMD changes later.
     */
    public PteMap pteOffsetMapNolock(MmStruct mm, long pmdp, long addr) {
        PteSlot t = new PteSlot();
        return mapNolock(pmdp, addr, t) ? new PteMap(t.ptep, t.ptl, t.pmdval) : null;
    }

    /** pte_offset_map_nolock into {@code out}; false (and out.ptl null) when there is no page table. */
    boolean mapNolock(long pmdp, long addr, PteSlot out) {
        long pmdval = ops.getLockless(pmdp);
        long ptep = pteOffsetMap(pmdp, pmdval, addr);
        SpinLock ptl = ptep < 0 ? null : ptlockOrNull(pmdval);
        out.ptep = ptep;
        out.ptl = ptl;
        out.pmdval = pmdval;
        return ptl != null;
    }

    /**
     * __pte_offset_map_lock: maps the PTE, takes its table's lock, then re-checks that the PMD still
     * points at that table (pmd_same); if it changed, unlocks and tries again. Returns null (no lock
     * held) when there is no page table any more; every caller must retry the fault or bail out.
     */
    public PteMap pteOffsetMapLock(MmStruct mm, long pmdp, long addr) {
        PteSlot t = new PteSlot();
        return mapLock(pmdp, addr, t) ? new PteMap(t.ptep, t.ptl, t.pmdval) : null;
    }

    /**
     * __pte_offset_map_lock into {@code out}: true with {@code out.ptl} held, or false (no lock held,
     * out.ptl null) when there is no page table any more.
     */
    boolean mapLock(long pmdp, long addr, PteSlot out) {
        // rcu_read_lock from the lockless PMD read until the lock is validated (or given up): a table
        // unlinked meanwhile is not freed before the pmd_same recheck below found out
        out.ptl = null;
        out.pmdval = 0;
        int rcuSlot = rcu.readLock(out);
        try {
            return mapLockRcu(pmdp, addr, out);
        } finally {
            rcu.readUnlock(rcuSlot);
        }
    }

    private boolean mapLockRcu(long pmdp, long addr, PteSlot out) {
        for (;;) {
            long pmdval = ops.getLockless(pmdp);
            long ptep = pteOffsetMap(pmdp, pmdval, addr);
            if (ptep < 0) {
                stats.pteMapLockFailed.incrementAndGet();
                out.ptl = null;
                out.pmdval = pmdval; // what it found instead: none, huge, or not a table
                return false;
            }
            SpinLock ptl = ptlockOrNull(pmdval);
            // mapped, not yet locked: what RcuTableFree's check sees of this walker meanwhile
            out.pmdval = pmdval;
            out.ptl = ptl;
            Runnable hook = pteMapLockRaceHook;
            if (hook != null) {
                hook.run();
            }
            if (ptl == null) {
                stats.pteMapLockRetries.incrementAndGet();
                continue;
            }
            ptl.lock();
            // pmd_same, and the lock is still the table's: a table freed and allocated again at the same
            // pfn (the same PMD value: ABA) has a new lock, and holding the old one would exclude nobody.
            if (memory.fixes.reverted(MmFix.PMD_SAME_RECHECK) || pmdval == ops.getLockless(pmdp)
                    && frames.ptlockOrNull(PteBits.pfn(pmdval)) == ptl) {
                out.ptep = ptep;
                out.ptl = ptl;
                out.pmdval = pmdval;
                return true;
            }
            ptl.unlock();
            out.ptl = null;
            stats.pteMapLockRetries.incrementAndGet();
        }
    }

    /**
     * pte_offset_map_lock for a walker that meets a huge PMD by splitting it (split_huge_pmd) and trying
     * again; the split happens only on the failure path, so ordinary walks are unchanged.
     */
    boolean mapLockSplit(VmArea vma, long pmdp, long addr, PteSlot out) {
        if (mapLock(pmdp, addr, out)) {
            return true;
        }
        if (!HugeMemory.pmdTransHuge(out.pmdval)) {
            return false;
        }
        memory.huge.splitHugePmd(vma, pmdp, addr);
        return mapLock(pmdp, addr, out);
    }

    private SpinLock ptlockOrNull(long pmdval) {
        long pfn = PteBits.pfn(pmdval);
        if (pfn >= frames.frameCount() || (frames.flags(pfn) & FrameTable.PG_PGTABLE) == 0) {
            return null;
        }
        return frames.ptlockOrNull(pfn);
    }

    /** pte_alloc_map_lock: allocates the PTE table if needed, then pte_offset_map_lock. Null on failure. */
    public PteMap pteAllocMapLock(MmStruct mm, long pmdp, long addr) {
        if (PteBits.none(ops.getLockless(pmdp)) && pteAlloc(mm, pmdp) != 0) {
            return null;
        }
        return pteOffsetMapLock(mm, pmdp, addr);
    }

    /** pgd_addr_end / pud_addr_end / pmd_addr_end for a table at {@code level}. */
    long addrEnd(long addr, long end, int level) {
        long size = 1L << ops.shift(level);
        long boundary = (addr + size) & -size;
        // boundary - 1 < end - 1 handles wrap at the top of the address space
        return Long.compareUnsigned(boundary - 1, end - 1) < 0 ? boundary : end;
    }
}
