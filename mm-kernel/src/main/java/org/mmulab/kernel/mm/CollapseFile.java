package org.mmulab.kernel.mm;

import static org.mmulab.kernel.mm.HugeMemory.HPAGE_PMD_MASK;
import static org.mmulab.kernel.mm.HugeMemory.HPAGE_PMD_NR;
import static org.mmulab.kernel.mm.HugeMemory.HPAGE_PMD_SIZE;
import static org.mmulab.kernel.mm.Khugepaged.SCAN_ALLOC_HUGE_PAGE_FAIL;
import static org.mmulab.kernel.mm.Khugepaged.SCAN_EXCEED_NONE_PTE;
import static org.mmulab.kernel.mm.Khugepaged.SCAN_FAIL;
import static org.mmulab.kernel.mm.Khugepaged.SCAN_PAGE_COMPOUND;
import static org.mmulab.kernel.mm.Khugepaged.SCAN_PAGE_COUNT;
import static org.mmulab.kernel.mm.Khugepaged.SCAN_PAGE_NULL;
import static org.mmulab.kernel.mm.Khugepaged.SCAN_PMD_MAPPED;
import static org.mmulab.kernel.mm.Khugepaged.SCAN_PMD_NONE;
import static org.mmulab.kernel.mm.Khugepaged.SCAN_PTE_MAPPED_HUGEPAGE;
import static org.mmulab.kernel.mm.Khugepaged.SCAN_PTE_NON_PRESENT;
import static org.mmulab.kernel.mm.Khugepaged.SCAN_SUCCEED;
import static org.mmulab.kernel.mm.Khugepaged.SCAN_TRUNCATED;
import static org.mmulab.kernel.mm.Khugepaged.SCAN_VMA_CHECK;
import static org.mmulab.kernel.mm.Khugepaged.findPmdOrThpOrNone;

/**
 * The shmem half of mm/khugepaged.c (Linux 6.6): {@code hpage_collapse_scan_file}, {@code collapse_file},
 * {@code retract_page_tables} and {@code collapse_pte_mapped_thp} as seed 001 has it. {@link Khugepaged}
 * decides which 2 MiB to collapse (MADV_COLLAPSE or its scan) and calls here for a file-backed VMA; the
 * anonymous half stays there. The folio lock held from allocation until every mapping's table is retracted
 * keeps faults from mapping the small pages meanwhile; a retracted table is freed after a grace period
 * ({@link RcuTableFree}), because a lockless walker may still be reading it.
 */
final class CollapseFile {
    private final Memory memory;
    private final PgtableOps ops;
    private final FrameTable frames;
    private final PgtableGeneric pg;
    private final HugeMemory huge;

    CollapseFile(Memory memory, PgtableGeneric pg, HugeMemory huge) {
        this.memory = memory;
        this.ops = memory.ops();
        this.frames = memory.frames();
        this.pg = pg;
        this.huge = huge;
    }

    /** hpage_collapse_scan_file: what the cache holds for [start, start + 512). No mmap lock held. */
    int scanFile(AddressSpace file, long start, int maxPtesNone) {
        AddressSpace.HugeScan s = file.scanForCollapse(start, HPAGE_PMD_NR);
        if (s.eofShort()) {
            return SCAN_TRUNCATED;
        }
        if (s.headAt() >= 0) {
            return SCAN_PTE_MAPPED_HUGEPAGE; // already a huge folio in the cache: just map it
        }
        if (s.compound()) {
            return SCAN_PAGE_COMPOUND;
        }
        if (HPAGE_PMD_NR - s.present() > maxPtesNone) {
            return SCAN_EXCEED_NONE_PTE;
        }
        int result = collapseFile(file, start);
        // MADV_COLLAPSE maps it in this mm at once; so does khugepaged here (Linux's khugepaged only
        // retracts and lets the next fault map the PMD: mmulab's fault path maps no huge PMDs)
        return result == SCAN_SUCCEED ? SCAN_PTE_MAPPED_HUGEPAGE : result;
    }

    /**
     * collapse_file for shmem: the new folio is locked from allocation until the page tables of every
     * mapping were retracted; the small pages are unmapped everywhere, then copied and replaced in the
     * cache in one step under i_pages with their references checked (only the cache may hold them).
     */
    private int collapseFile(AddressSpace file, long start) {
        long hpage = frames.allocHugePage();
        if (hpage < 0) {
            memory.stats.thpCollapseFailed.incrementAndGet();
            return SCAN_ALLOC_HUGE_PAGE_FAIL;
        }
        frames.trylockPage(hpage); // __folio_set_locked: nobody can see it yet
        Truncate.unmapMappingRange(memory, file, start, start + HPAGE_PMD_NR, false); // try_to_unmap of each page cache folio: private COW copies are not its
        if (!file.replaceWithHuge(start, hpage)) {
            frames.unlockPage(hpage);
            frames.put(hpage);
            memory.stats.thpCollapseFailed.incrementAndGet();
            return SCAN_PAGE_COUNT;
        }
        retractPageTables(file, start);
        frames.unlockPage(hpage);
        frames.put(hpage); // the allocation's reference: the cache holds its own 512
        memory.stats.thpCollapseAlloc.incrementAndGet();
        return SCAN_SUCCEED;
    }

    /**
     * retract_page_tables: in every VMA mapping [pgoff, pgoff + 512) suitably aligned, without anon pages
     * (no anon_vma: here, no private COW copies in the range), the now empty PTE table is unlinked under
     * pmd_lock + its PTE lock, flushed, and freed after a grace period. Under i_mmap (read), not the VMA's
     * mmap lock.
     */
    private void retractPageTables(AddressSpace file, long pgoff) {
        file.iMmapRwsem.downRead();
        try {
            for (VmArea vma : file.iMmap.mappings()) {
                long addr = vma.start + ((pgoff - vma.pgoff) << 12);
                if (pgoff < vma.pgoff || (addr & ~HPAGE_PMD_MASK) != 0 || vma.end < addr + HPAGE_PMD_SIZE
                        || (vma.flags & VmArea.VM_SHARED) == 0) {
                    continue; // a private mapping may hold COW copies: leave its table (the anon_vma check)
                }
                long[] pmdOut = new long[1];
                if (findPmdOrThpOrNone(pg, ops, vma.mm, addr, pmdOut) != SCAN_SUCCEED) {
                    continue;
                }
                retractTable(vma, addr, pmdOut[0], true);
            }
        } finally {
            file.iMmapRwsem.upRead();
        }
    }

    /**
     * The common end of retract_page_tables and collapse_pte_mapped_thp (step 4): pmd_lock, the PTE lock
     * nested, pmdp_collapse_flush, then mm_dec_nr_ptes and pte_free_defer. {@code mustBeEmpty}: the table
     * is freed only if every entry is none (retract: the folio lock keeps new PTEs out, a racing fault may
     * have mapped a small page before it). Returns whether the table went.
     */
    private boolean retractTable(VmArea vma, long addr, long pmdp, boolean mustBeEmpty) {
        MmStruct mm = vma.mm;
        boolean seed001 = !memory.fixes.reverted(MmFix.PTE_FREE_DEFER);
        long pgtPmd;
        SpinLock pml = mm.pageTableLock;
        if (seed001) {
            pml.lock();
        }
        SpinLock ptl = null;
        try {
            long pmd = seed001 ? ops.get(pmdp) : ops.getLockless(pmdp);
            if (PteBits.none(pmd) || HugeMemory.pmdTransHuge(pmd) || !PteBits.present(pmd) || ops.tableBad(2, pmd)) {
                return false;
            }
            if (seed001) {
                ptl = frames.ptlock(PteBits.pfn(pmd));
                ptl.lock();
            }
            if (mustBeEmpty && ops.nextNonNone(PteBits.pfn(pmd) << 12, 0, HPAGE_PMD_NR) != HPAGE_PMD_NR) {
                return false;
            }
            pgtPmd = ops.getAndClear(pmdp); // pmdp_collapse_flush
            memory.tlbFlush.flushTlbMmRange(mm, addr, addr + HPAGE_PMD_SIZE, true);
        } finally {
            if (ptl != null) {
                ptl.unlock();
            }
            if (seed001) {
                pml.unlock();
            }
        }
        mm.nrPgtables.decrementAndGet();
        long table = PteBits.pfn(pgtPmd);
        if (seed001) {
            memory.stats.pteFreeDeferred.incrementAndGet();
            pg.rcu.defer(table); // pte_free_defer
        } else {
            pg.rcu.checkFree(table); // explorer: pte_free at once (what the watch reports)
            pg.freePgtablePage(table);
        }
        return true;
    }

    /**
     * collapse_pte_mapped_thp (seed 001): the huge folio is in the cache; take this mm's PTE table of the
     * range away and, with {@code installPmd}, map the folio with one PMD. The mmap read lock is held.
     */
    int collapsePteMappedThp(MmStruct mm, long addr, boolean installPmd) {
        long haddr = addr & HPAGE_PMD_MASK;
        VmArea vma = mm.vmaLookup(haddr);
        // first check the VMA, in case page tables are being torn down
        if (vma == null || vma.file == null || haddr < vma.start || haddr + HPAGE_PMD_SIZE > vma.end) {
            return SCAN_VMA_CHECK;
        }
        long[] pmdOut = new long[1];
        int result = findPmdOrThpOrNone(pg, ops, mm, haddr, pmdOut);
        if (result == SCAN_PMD_MAPPED) {
            return result;
        }
        if (!Khugepaged.hugepageVmaCheck(vma) || !Khugepaged.transhugeVmaSuitable(vma, haddr)) {
            return SCAN_VMA_CHECK;
        }
        long hpage = vma.file.findPage(vma.pageIndex(haddr));
        if (hpage < 0) {
            return SCAN_PAGE_NULL;
        }
        if ((frames.flags(hpage) & FrameTable.PG_HEAD) == 0) {
            frames.put(hpage);
            return SCAN_PAGE_COMPOUND;
        }
        // find_lock_page: sleep until the folio lock is ours (collapse_file holds it a while)
        while (!frames.trylockPage(hpage)) {
            huge.waitOnPageLocked(hpage);
        }
        try {
            result = findPmdOrThpOrNone(pg, ops, mm, haddr, pmdOut);
            long pmdp = pmdOut[0];
            switch (result) {
                case SCAN_SUCCEED -> {
                    result = clearAndRetract(vma, haddr, pmdp, hpage);
                    if (result != SCAN_SUCCEED) {
                        return result;
                    }
                }
                case SCAN_PMD_NONE -> {
                    // all PTEs removed and the PMD cleared already (retract_page_tables): just install
                }
                default -> {
                    return result;
                }
            }
            if (!installPmd) {
                return SCAN_SUCCEED;
            }
            return huge.setHugePmd(vma, haddr, pmdp, hpage, -1) ? SCAN_SUCCEED : SCAN_FAIL;
        } finally {
            frames.unlockPage(hpage);
            frames.put(hpage);
        }
    }

    /** collapse_pte_mapped_thp's steps 1-4 (seed 001): check, clear, account, retract. */
    private int clearAndRetract(VmArea vma, long haddr, long pmdp, long hpage) {
        MmStruct mm = vma.mm;
        PteSlot slot = new PteSlot();
        if (!pg.mapLock(pmdp, haddr, slot)) { // mmap_lock + page lock should prevent this
            return SCAN_FAIL;
        }
        // step 1: every mapped PTE maps the right subpage of the huge page
        try {
            for (int i = 0; i < HPAGE_PMD_NR; i++) {
                long pte = ops.get(slot.ptep + 8L * i);
                if (PteBits.none(pte)) {
                    continue;
                }
                if (!PteBits.present(pte)) {
                    return SCAN_PTE_NON_PRESENT;
                }
                if (memory.vmNormalPage(pte) != hpage + i) {
                    return SCAN_FAIL; // a COW copy or another page: not ours to drop
                }
            }
        } finally {
            slot.ptl.unlock();
        }
        // (the mmu_notifier_invalidate_range_start would go here)
        if (!pg.mapLock(pmdp, haddr, slot)) {
            return SCAN_FAIL;
        }
        int nrPtes = 0;
        int result = SCAN_SUCCEED;
        // step 2: clear the page table and adjust rmap (the TLB flush waits for pmdp_collapse_flush)
        try {
            for (int i = 0; i < HPAGE_PMD_NR; i++) {
                long ptep = slot.ptep + 8L * i;
                long pte = ops.get(ptep);
                if (PteBits.none(pte)) {
                    continue;
                }
                if (!PteBits.present(pte) || memory.vmNormalPage(pte) != hpage + i) {
                    result = PteBits.present(pte) ? SCAN_FAIL : SCAN_PTE_NON_PRESENT;
                    break;
                }
                ops.clear(ptep);
                frames.removeMap(hpage + i);
                nrPtes++;
            }
        } finally {
            slot.ptl.unlock();
        }
        // step 3: refcount and mm counters (abort: the same, after flushing what was cleared)
        if (nrPtes > 0) {
            if (result != SCAN_SUCCEED) {
                mm.flushTlbAll();
            }
            for (int i = 0; i < nrPtes; i++) {
                frames.put(hpage);
            }
            mm.addCounter(memory.mmCounter(hpage), -nrPtes);
        }
        if (result != SCAN_SUCCEED) {
            return result;
        }
        // step 4: remove the page table; the folio lock keeps it empty
        retractTable(vma, haddr, pmdp, false);
        return SCAN_SUCCEED;
    }
}
