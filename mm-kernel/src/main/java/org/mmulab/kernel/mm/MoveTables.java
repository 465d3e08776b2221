package org.mmulab.kernel.mm;

/**
 * move_page_tables of mm/mremap.c (Linux 6.6): moves the translations of [oldAddr, oldAddr + len) of
 * one VMA to newAddr in another VMA of the same mm, with the mmap write lock held.
 *
 * <ul>
 * <li>Where the extent of one step is a whole PUD (4-level only) or PMD span at both addresses
 *     ({@code get_extent}), the table itself moves: the old entry is cleared and the new one
 *     populated under {@code page_table_lock} (x86's pud_lock/pmd_lock here), and the old range is
 *     flushed before that lock is dropped ({@code move_normal_pud}, {@code move_normal_pmd}). A
 *     destination entry that is already populated (a table free_pgtables kept) falls back to PTEs.
 *     PAE's PUD level is the four PDPTEs the CPU loads only at MOV CR3, so there only PMDs move.</li>
 * <li>Otherwise PTE by PTE ({@code move_ptes}): the old table's lock from pte_offset_map_lock (which may
 *     fail when the PMD changed: the step is retried, {@code goto again}), the new one's from
 *     pte_offset_map_nolock taken nested; each entry is read-and-cleared atomically (the walkers of
 *     other vCPUs may be setting A/D in it) and set at the new address; if any was present the TLB is
 *     flushed for the old range <em>before the PTE locks are dropped</em>. Dropping them first (the bug
 *     fixed for CVE-2018-18281) lets a truncate or zap through the new mapping free the page while a
 *     vCPU still holds a stale translation of the old address: {@link MmFix#MREMAP_FLUSH_BEFORE_UNLOCK} brings
 *     that order back for the explorer.</li>
 * <li>rmap locks ({@code take_rmap_locks}): for a file or shmem VMA the mapping's i_mmap lock is held
 *     for writing across each table or PTE batch moved (seed 004, the i_shared_lock fix), so a racing
 *     truncate that unmaps the object's range through i_mmap sees either the old PTE or the new one,
 *     never neither: i_mmap is walked in pgoff order ({@link AddressSpace}) and copy_vma may have merged
 *     the destination into a VMA of lower pgoff that the walk visits before the source
 *     ({@link MmFix#MREMAP_RMAP_LOCKS} reverts it). Linux skips the lock when copy_vma did not merge
 *     (need_rmap_locks false: the new VMA is linked right after the old one); the port always takes it. Anonymous memory has no anon_vma lock to
 *     take (nothing walks anon rmap here).</li>
 * </ul>
 * Returns how many bytes were moved; less than len only when a table could not be allocated (-ENOMEM
 * for the caller, which moves them back).
 */
final class MoveTables {
    private final Memory memory;
    private final PgtableGeneric pg;
    private final PgtableOps ops;

    /**
     * Test hook run by move_ptes right after both PTE locks are dropped (before the flush when the fix is
     * reverted): from here on a racing zap through the new mapping could free the pages (null: none).
     */
    volatile Runnable afterUnlockHook;

    MoveTables(Memory memory) {
        this.memory = memory;
        this.pg = memory.pgtables;
        this.ops = memory.ops();
    }

    /** get_extent: how far one step may go before either address crosses a {@code shift}-sized boundary. */
    static long getExtent(int shift, long oldAddr, long oldEnd, long newAddr) {
        long size = 1L << shift;
        long mask = -size;
        long extent = ((oldAddr + size) & mask) - oldAddr;
        if (Long.compareUnsigned(extent, oldEnd - oldAddr) > 0) {
            extent = oldEnd - oldAddr;
        }
        long n = ((newAddr + size) & mask) - newAddr;
        if (Long.compareUnsigned(extent, n) > 0) {
            extent = n;
        }
        return extent;
    }

    /** The entry at {@code level} for addr, walking without allocating; -1 when a level above is none. */
    private long entryOffset(MmStruct mm, long addr, int level) {
        long table = mm.pgd << 12;
        for (int l = ops.levels(); l > level; l--) {
            long e = ops.getLockless(ops.entryAddr(table, addr, l));
            if (PteBits.none(e) || ops.tableBad(l, e)) {
                return -1;
            }
            table = PteBits.pfn(e) << 12;
        }
        return ops.entryAddr(table, addr, level);
    }

    /** p4d_alloc/pud_alloc down to the entry at {@code level}; -1 when a table could not be allocated. */
    private long entryAlloc(MmStruct mm, long addr, int level) {
        long table = mm.pgd << 12;
        for (int l = ops.levels(); l > level; l--) {
            long ep = ops.entryAddr(table, addr, l);
            long e = ops.getLockless(ep);
            if (PteBits.none(e)) {
                if (pg.pxdAlloc(mm, ep, l) != 0) {
                    return -1;
                }
                e = ops.getLockless(ep);
            }
            table = PteBits.pfn(e) << 12;
        }
        return ops.entryAddr(table, addr, level);
    }

    long movePageTables(VmArea vma, long oldAddr, VmArea newVma, long newAddr, long len) {
        if (len == 0) {
            return 0;
        }
        MmStruct mm = vma.mm;
        long oldEnd = oldAddr + len;
        boolean pudMoves = ops.levels() == 4;
        int pmdShift = ops.shift(2);
        long extent;
        for (; Long.compareUnsigned(oldAddr, oldEnd) < 0; oldAddr += extent, newAddr += extent) {
            if (pudMoves) {
                int pudShift = ops.shift(3);
                extent = getExtent(pudShift, oldAddr, oldEnd, newAddr);
                long oldPud = entryOffset(mm, oldAddr, 3);
                if (oldPud < 0 || PteBits.none(ops.getLockless(oldPud))) {
                    continue; // nothing mapped up to the next PUD boundary
                }
                long newPud = entryAlloc(mm, newAddr, 3);
                if (newPud < 0) {
                    break;
                }
                if (extent == 1L << pudShift && moveEntry(vma, oldAddr, newAddr, oldPud, newPud, pudShift)) {
                    memory.stats.mremapPudsMoved.incrementAndGet();
                    continue;
                }
            }
            extent = getExtent(pmdShift, oldAddr, oldEnd, newAddr);
            long oldPmd = entryOffset(mm, oldAddr, 2);
            if (oldPmd < 0 || PteBits.none(memory.huge.splitIfHuge(vma, oldPmd, oldAddr, ops.getLockless(oldPmd)))) {
                continue; // (a huge PMD split first: move_huge_pmd's job, done on the PTEs)
            }
            long newPmd = entryAlloc(mm, newAddr, 2);
            if (newPmd < 0) {
                break;
            }
            boolean failed = false;
            for (;;) { // again:
                if (extent == 1L << pmdShift && moveEntry(vma, oldAddr, newAddr, oldPmd, newPmd, pmdShift)) {
                    memory.stats.mremapPmdsMoved.incrementAndGet();
                    break;
                }
                if (PteBits.none(ops.getLockless(oldPmd))) {
                    break;
                }
                if (PteBits.none(ops.getLockless(newPmd)) && pg.pteAlloc(mm, newPmd) != 0) {
                    failed = true;
                    break;
                }
                if (movePtes(vma, oldPmd, oldAddr, oldAddr + extent, newVma, newPmd, newAddr)) {
                    break;
                }
            }
            if (failed) {
                break;
            }
        }
        return len + oldAddr - oldEnd;
    }

    /**
     * move_pgt_entry(NORMAL_PMD / NORMAL_PUD) = move_normal_pmd / move_normal_pud: the whole table moves.
     * False (nothing done) when the destination entry is populated or the source is not a table.
     */
    private boolean moveEntry(VmArea vma, long oldAddr, long newAddr, long oldEp, long newEp, int shift) {
        if (!PteBits.none(ops.getLockless(newEp))) {
            return false; // free_pgtables kept a table there: WARN_ON_ONCE in Linux, fall back to PTEs
        }
        MmStruct mm = vma.mm;
        RwSemaphore rmap = takeRmapLocks(vma);
        try {
            mm.pageTableLock.lock();
            try {
                long e = ops.get(oldEp);
                // Racing with collapse? (a leaf or a non-present entry is not a table to move)
                if (!PteBits.present(e) || (e & PteBits.PSE) != 0 || ops.tableBad(shift == ops.shift(2) ? 2 : 3, e)) {
                    return false;
                }
                ops.clear(oldEp);
                ops.set(newEp, e);
                // flush_tlb_range(vma, old_addr, old_addr + size) under the lock, as Linux does
                mm.flushTlbRange(oldAddr, oldAddr + (1L << shift));
                return true;
            } finally {
                mm.pageTableLock.unlock();
            }
        } finally {
            dropRmapLocks(rmap);
        }
    }

    /** take_rmap_locks: the file's i_mmap lock for writing (see the class comment); null for anon. */
    private RwSemaphore takeRmapLocks(VmArea vma) {
        if (vma.file == null || memory.fixes.reverted(MmFix.MREMAP_RMAP_LOCKS)) {
            return null;
        }
        vma.file.iMmapRwsem.downWrite();
        return vma.file.iMmapRwsem;
    }

    private static void dropRmapLocks(RwSemaphore r) {
        if (r != null) {
            r.upWrite();
        }
    }

    /**
     * move_ptes for [oldAddr, oldEnd) inside one PTE table; false for -EAGAIN (a PMD changed under
     * pte_offset_map_lock: the caller looks at it again).
     */
    private boolean movePtes(VmArea vma, long oldPmd, long oldAddr, long oldEnd, VmArea newVma, long newPmd,
            long newAddr) {
        MmStruct mm = vma.mm;
        long len = oldEnd - oldAddr;
        PteSlot oldSlot = new PteSlot();
        PteSlot newSlot = new PteSlot();
        boolean forceFlush = false;
        RwSemaphore rmap = takeRmapLocks(vma);
        try {
            if (!pg.mapLock(oldPmd, oldAddr, oldSlot)) {
                return false;
            }
            SpinLock oldPtl = oldSlot.ptl;
            SpinLock newPtl = null;
            try {
                if (!pg.mapNolock(newPmd, newAddr, newSlot)) {
                    return false;
                }
                newPtl = newSlot.ptl;
                if (newPtl != oldPtl) {
                    newPtl.lockNested();
                }
                long op = oldSlot.ptep;
                long np = newSlot.ptep;
                long moved = 0;
                for (; oldAddr != oldEnd; oldAddr += 4096, newAddr += 4096, op += 8, np += 8) {
                    if (PteBits.none(ops.get(op))) {
                        continue;
                    }
                    long pte = ops.getAndClear(op); // ptep_get_and_clear: keeps A/D set meanwhile
                    if (PteBits.present(pte)) {
                        forceFlush = true;
                    }
                    // move_pte is the identity on x86; move_soft_dirty_pte: a moved page reads as written
                    ops.set(np, PteBits.present(pte) ? pte | PteBits.SOFT_DIRTY : pte);
                    moved++;
                }
                memory.stats.mremapPtesMoved.addAndGet(moved);
                if (forceFlush && !memory.fixes.reverted(MmFix.MREMAP_FLUSH_BEFORE_UNLOCK)) {
                    // "make sure to flush TLB before we drop the PTL for the PTE" (CVE-2018-18281)
                    mm.flushTlbRange(oldEnd - len, oldEnd);
                    forceFlush = false;
                }
            } finally {
                if (newPtl != null && newPtl != oldPtl) {
                    newPtl.unlock();
                }
                oldPtl.unlock();
            }
            Runnable hook = afterUnlockHook;
            if (hook != null) {
                hook.run();
            }
            if (forceFlush) {
                mm.flushTlbRange(oldEnd - len, oldEnd); // reverted fix: too late, see the class comment
            }
            return true;
        } finally {
            dropRmapLocks(rmap);
        }
    }
}
