package org.mmulab.kernel.mm;

/**
 * The teardown half of mm/memory.c (Linux 6.x): {@code unmap_single_vma} / {@code zap_*_range} under
 * the PTE lock in bounded batches with an {@link MmuGather} (mm/mmu_gather.c), and
 * {@code free_pgd_range} for the page tables of emptied ranges. The fault half is {@link Memory}.
 */
final class Zap {
    private final Memory memory;
    private final PgtableGeneric pg;
    private final PgtableOps ops;
    private final FrameTable frames;
    private final VmStat stats;

    Zap(Memory memory, PgtableGeneric pg) {
        this.memory = memory;
        this.pg = pg;
        this.ops = memory.ops();
        this.frames = memory.frames();
        this.stats = memory.stats;
    }

    /** unmap_single_vma: zap the part of {@code vma} inside [start, end). */
    public void unmapSingleVma(MmuGather tlb, VmArea vma, long start, long end) {
        long s = Math.max(vma.start, start);
        long e = Math.min(vma.end, end);
        if (s >= e) {
            return;
        }
        zapLevel(tlb, vma, vma.mm.pgd << 12, ops.levels(), s, e);
    }

    /**
     * The entry for {@code addr} in {@code table} (at {@code level}) is none: returns the first address
     * of the next entry in this table, up to the one holding {@code end - 1}, that is not none, or
     * {@code end} when there is none — one scan ({@link PgtableOps#nextNonNone}) instead of an ordered
     * read per empty entry. [addr, end) lies inside this table's span, as every pXd_addr_end-bounded
     * walk guarantees. munmap and exit hold the mmap write lock, so nothing populates these levels
     * meanwhile; MADV_DONTNEED holds only the read lock, and a table a racing fault installs after the
     * scan is left alone like a fault that came after the zap. A hit is re-read by the caller's loop.
     */
    private long skipNone(long table, int level, long addr, long end) {
        int last = lastIndex(end, level);
        int j = ops.nextNonNone(table, index(addr, level) + 1, last + 1);
        return j > last ? end : entryStart(addr, level, j);
    }

    /**
     * Entries a teardown walk of [addr, end) in one table accounts as visited: every entry of the range,
     * read one by one or passed over by {@link #skipNone}'s scan.
     */
    private int entriesIn(long addr, long end, int level) {
        return lastIndex(end, level) - index(addr, level) + 1;
    }

    private int index(long addr, int level) {
        return (int) ((addr >>> ops.shift(level)) & (ops.entries(level) - 1));
    }

    private int lastIndex(long end, int level) {
        return index(end - 1, level);
    }

    /** The first address mapped by entry {@code idx} of the table at {@code level} that covers {@code addr}. */
    private long entryStart(long addr, int level, int idx) {
        int shift = ops.shift(level);
        return (addr & -((long) ops.entries(level) << shift)) | ((long) idx << shift);
    }

    /**
     * zap_p4d_range / zap_pud_range / zap_pmd_range: walk only present tables. The entries visited are
     * added to the statistics once per table (an atomic add per entry would cost more than the visit
     * itself on a sparse range).
     */
    private void zapLevel(MmuGather tlb, VmArea vma, long table, int level, long addr, long end) {
        stats.zapEntriesVisited.addAndGet(entriesIn(addr, end, level));
        do {
            long ep = ops.entryAddr(table, addr, level);
            long e = ops.getLockless(ep);
            if (PteBits.none(e)) {
                addr = skipNone(table, level, addr, end); // end when nothing is left: the loop ends
                continue;
            }
            long next = pg.addrEnd(addr, end, level);
            if (level == 2) {
                // zap_pmd_range: while zap_pte_range stops short (a full batch, or pte_offset_map_lock
                // failed because the PMD changed), look at the PMD again: a table installed meanwhile
                // is zapped too; none ends it.
                long a = addr;
                long pmd = memory.huge.splitIfHuge(vma, ep, addr, e); // zap_huge_pmd's job, done on PTEs
                while (!PteBits.none(pmd) && (pmd & PteBits.PSE) == 0 && !ops.tableBad(2, pmd)) {
                    a = zapPteRange(tlb, vma, ep, a, next);
                    if (a == next) {
                        break;
                    }
                    pmd = ops.getLockless(ep);
                }
            } else if (!ops.tableBad(level, e)) {
                zapLevel(tlb, vma, PteBits.pfn(e) << 12, level - 1, addr, next);
            }
            addr = next;
        } while (addr != end);
    }

    /**
     * zap_pte_range: under the PTE lock, clear up to a batch of entries, queueing their pages in the
     * MmuGather; when the batch is full, drop the lock, flush the TLB, free the pages, and go on.
     * Returns the address reached (== end when done, == addr if the table vanished). As in Linux, the
     * RSS changes are summed in a local {@code rss[]} and applied once ({@code add_mm_rss_vec}).
     */
    long zapPteRange(MmuGather tlb, VmArea vma, long pmdp, long addr, long end) {
        MmStruct mm = vma.mm;
        PteSlot pm = tlb.pteSlot;
        boolean unlocked = memory.fixes.reverted(MmFix.ZAP_PTLOCK); // explorer: pte_offset_map, no lock
        if (unlocked ? !pg.mapNolock(pmdp, addr, pm) : !pg.mapLock(pmdp, addr, pm)) {
            return addr;
        }
        boolean forceFlush = false;
        long ptep = pm.ptep;
        long visited = 0, zapped = 0, anon = 0, file = 0, shmem = 0;
        try {
            mm.updateHiwaterRss();
            do {
                visited++;
                long e = ops.get(ptep);
                if (PteBits.none(e) || tlb.keepCows && isCowCopy(e)) {
                    addr += 4096;
                    ptep += 8;
                    continue;
                }
                long pte = ops.getAndClear(ptep);
                tlb.removeTlbEntry(addr);
                addr += 4096;
                ptep += 8;
                if (!PteBits.present(pte)) {
                    continue;
                }
                long page = memory.vmNormalPage(pte);
                if (page < 0) {
                    continue;
                }
                if (PteBits.dirty(pte) && vma.file != null && (vma.flags & VmArea.VM_SHARED) != 0) {
                    vma.file.markDirty(vma.pageIndex(addr - 4096)); // folio_mark_dirty: written back later
                }
                switch (memory.mmCounter(page)) {
                    case MmStruct.MM_ANONPAGES -> anon++;
                    case MmStruct.MM_SHMEMPAGES -> shmem++;
                    default -> file++;
                }
                frames.removeMap(page);
                zapped++;
                if (tlb.removePage(page)) {
                    forceFlush = true;
                    break;
                }
            } while (addr != end);
            // add_mm_rss_vec, still under the PTE lock as in zap_pte_range
            if (anon != 0) {
                mm.addCounter(MmStruct.MM_ANONPAGES, -anon);
            }
            if (file != 0) {
                mm.addCounter(MmStruct.MM_FILEPAGES, -file);
            }
            if (shmem != 0) {
                mm.addCounter(MmStruct.MM_SHMEMPAGES, -shmem);
            }
            if (forceFlush) {
                // "Do the actual TLB flush before dropping ptl": the shootdown IPIs go out with the PTE
                // lock held, so a vCPU spinning on this lock must answer them meanwhile (LockWait).
                tlb.flushTlbOnly();
            }
        } finally {
            if (!unlocked) {
                pm.ptl.unlock();
            }
            pm.ptl = null;
        }
        stats.zapEntriesVisited.addAndGet(visited);
        stats.zapPages.addAndGet(zapped);
        if (forceFlush) {
            tlb.flushMmu(); // the TLB is clean: frees the batched pages
        }
        return addr;
    }

    /** should_zap_cows's test: a present PTE mapping an anonymous page (a COW copy, in a file mapping). */
    private boolean isCowCopy(long pte) {
        if (!PteBits.present(pte)) {
            return false;
        }
        long page = memory.vmNormalPage(pte);
        return page >= 0 && (frames.flags(page) & FrameTable.PG_ANON) != 0;
    }

    /**
     * free_pgd_range (mm/memory.c): frees the page tables that map only [addr, end), never a table that
     * also maps something in [floor, ceiling)'s outside; ceiling 0 means the top of the address space.
     */
    public void freePgdRange(MmuGather tlb, long addr, long end, long floor, long ceiling) {
        long pmdMask = -(1L << ops.shift(2));
        addr &= pmdMask;
        if (Long.compareUnsigned(addr, floor) < 0) {
            addr += 1L << ops.shift(2);
            if (addr == 0) {
                return;
            }
        }
        if (ceiling != 0) {
            ceiling &= pmdMask;
            if (ceiling == 0) {
                return;
            }
        }
        if (Long.compareUnsigned(end - 1, ceiling - 1) > 0) {
            end -= 1L << ops.shift(2);
        }
        if (Long.compareUnsigned(addr, end - 1) > 0) {
            return;
        }
        freeLevelRange(tlb, -1, tlb.mm.pgd << 12, ops.levels(), addr, end, floor, ceiling);
    }

    /**
     * free_p4d_range / free_pud_range / free_pmd_range / free_pte_range, generically: frees the tables
     * below {@code table} (a table at {@code level}), then the table itself if its whole span lies
     * inside [floor, ceiling) — {@code parentEp} is the entry pointing at it (-1 for the PGD).
     */
    private void freeLevelRange(MmuGather tlb, long parentEp, long table, int level, long addr, long end, long floor,
            long ceiling) {
        long start = addr;
        stats.freeEntriesVisited.addAndGet(entriesIn(addr, end, level));
        do {
            long ep = ops.entryAddr(table, addr, level);
            long e = ops.getLockless(ep);
            if (PteBits.none(e)) {
                addr = skipNone(table, level, addr, end); // end when nothing is left: the loop ends
                continue;
            }
            long next = pg.addrEnd(addr, end, level);
            if (!ops.tableBad(level, e)) {
                if (level == 2) {
                    // free_pte_range
                    long pte = PteBits.pfn(e);
                    ops.clear(ep);
                    tlb.freeTable(pte, addr);
                    tlb.mm.nrPgtables.decrementAndGet();
                } else {
                    freeLevelRange(tlb, ep, PteBits.pfn(e) << 12, level - 1, addr, next, floor, ceiling);
                }
            }
            addr = next;
        } while (addr != end);
        if (parentEp < 0) {
            return;
        }
        long mask = -(1L << ops.shift(level + 1));
        start &= mask;
        if (Long.compareUnsigned(start, floor) < 0) {
            return;
        }
        if (ceiling != 0) {
            ceiling &= mask;
            if (ceiling == 0) {
                return;
            }
        }
        if (Long.compareUnsigned(end - 1, ceiling - 1) > 0) {
            return;
        }
        ops.clear(parentEp);
        tlb.freeTable(table >>> 12, start);
        if (level == 2 && ops.levels() == 3) {
            // ___pmd_free_tlb under PAE: a PDPTE changed, tlb->need_flush_all (CR3 reload) so the
            // PDPTE registers are reloaded before the PMD page can be reused.
            tlb.needFlushAll();
        }
        tlb.mm.nrPgtables.decrementAndGet();
    }
}
