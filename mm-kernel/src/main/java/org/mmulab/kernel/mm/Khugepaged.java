package org.mmulab.kernel.mm;

import static org.mmulab.kernel.mm.HugeMemory.HPAGE_PMD_MASK;
import static org.mmulab.kernel.mm.HugeMemory.HPAGE_PMD_NR;
import static org.mmulab.kernel.mm.HugeMemory.HPAGE_PMD_SIZE;

import java.util.ArrayList;
import java.util.List;

/**
 * mm/khugepaged.c (Linux 6.6): collapsing a PTE-mapped 2 MiB range into one PMD-mapped huge page, for
 * MADV_COLLAPSE ({@link #madviseCollapse}) and for the khugepaged pass over VM_HUGEPAGE VMAs
 * ({@link #scanMm}, run by the kernel's tick).
 * <ul>
 * <li>Anonymous: {@code hpage_collapse_scan_pmd} under the mmap read lock, then
 *     {@code collapse_huge_page}: allocate the folio with no lock held, take the mmap write lock,
 *     revalidate, {@code pmdp_collapse_flush} under pmd_lock (the PMD cleared and every vCPU's TLB shot
 *     down before the PTEs are looked at again), isolate and copy the 512 pages under the old table's lock,
 *     deposit that table and install the huge PMD. (Linux also takes the anon_vma lock for rmap walkers;
 *     mmulab has no anon rmap walker — no reclaim or migration — and the mmap write lock excludes the
 *     rest.)</li>
 * <li>Shmem ({@link CollapseFile}): {@code collapse_file} (the 512 cache pages replaced by the subpages of one locked huge
 *     folio, after every mapping of them was unmapped and with the references checked: a page somebody
 *     else holds is SCAN_PAGE_COUNT), {@code retract_page_tables} in every mm that maps the range, and
 *     for MADV_COLLAPSE {@code collapse_pte_mapped_thp} under the mmap <em>read</em> lock as seed 001
 *     has it: pte_offset_map_lock to check and clear the PTEs, then pmd_lock + the PTE lock around
 *     {@code pmdp_collapse_flush}, and {@code pte_free_defer}: the table is freed only after a grace
 *     period ({@link RcuTableFree}), because a lockless walker may still be reading it. The folio lock
 *     held meanwhile keeps faults from mapping its subpages ({@link Memory}'s finish_fault waits and
 *     re-checks it).</li>
 * </ul>
 * MADV_COLLAPSE's errno follows madvise_collapse_errno: ENOMEM when no huge page could be allocated,
 * EAGAIN for transient states (a page held by someone else, a locked folio), EINVAL otherwise.
 */
public final class Khugepaged {
    // enum scan_result (the members mmulab can produce)
    static final int SCAN_FAIL = 0, SCAN_SUCCEED = 1, SCAN_PMD_NULL = 2, SCAN_PMD_NONE = 3, SCAN_PMD_MAPPED = 4,
            SCAN_EXCEED_NONE_PTE = 5, SCAN_EXCEED_SHARED_PTE = 6, SCAN_PTE_NON_PRESENT = 7, SCAN_PAGE_NULL = 8,
            SCAN_LACK_REFERENCED_PAGE = 9, SCAN_PAGE_COUNT = 10, SCAN_PAGE_LOCK = 11, SCAN_PAGE_ANON = 12,
            SCAN_PAGE_COMPOUND = 13, SCAN_VMA_NULL = 14, SCAN_VMA_CHECK = 15, SCAN_ALLOC_HUGE_PAGE_FAIL = 16,
            SCAN_TRUNCATED = 17, SCAN_PTE_MAPPED_HUGEPAGE = 18;
    static final String[] SCAN_NAMES = {"fail", "succeed", "pmd_null", "pmd_none", "pmd_mapped", "exceed_none_pte",
        "exceed_shared_pte", "pte_non_present", "page_null", "lack_referenced_page", "page_count", "page_lock",
        "page_anon", "page_compound", "vma_null", "vma_check", "alloc_huge_page_fail", "truncated",
        "pte_mapped_hugepage"};
    private static final int EINVAL = -22, ENOMEM = -12, EAGAIN = -11;
    /** /sys/kernel/mm/transparent_hugepage/khugepaged/max_ptes_none and max_ptes_shared defaults. */
    static final int MAX_PTES_NONE = HPAGE_PMD_NR - 1, MAX_PTES_SHARED = HPAGE_PMD_NR / 2;

    private final Memory memory;
    private final PgtableOps ops;
    private final FrameTable frames;
    private final PgtableGeneric pg;
    private final HugeMemory huge;
    /** The shmem half: collapse_file, retract_page_tables, collapse_pte_mapped_thp. */
    private final CollapseFile collapseFile;
    /** khugepaged's mm list (khugepaged_mm_slot): mms with a VM_HUGEPAGE VMA, in the order they entered. */
    private final List<MmStruct> mmList = new ArrayList<>();

    Khugepaged(Memory memory, PgtableGeneric pg, HugeMemory huge) {
        this.memory = memory;
        this.ops = memory.ops();
        this.frames = memory.frames();
        this.pg = pg;
        this.huge = huge;
        this.collapseFile = new CollapseFile(memory, pg, huge);
    }

    /** struct collapse_control: khugepaged (limits on none/shared PTEs, a referenced page) or MADV_COLLAPSE. */
    private record Control(boolean isKhugepaged) {
        int maxPtesNone() {
            return isKhugepaged ? MAX_PTES_NONE : HPAGE_PMD_NR;
        }

        int maxPtesShared() {
            return isKhugepaged ? MAX_PTES_SHARED : HPAGE_PMD_NR;
        }
    }

    // ---- checks ---------------------------------------------------------------------------------

    /** hugepage_vma_check (enforce_sysfs false): anonymous private or shmem, not NOHUGEPAGE, not special. */
    static boolean hugepageVmaCheck(VmArea vma) {
        if ((vma.flags & (VmArea.VM_NOHUGEPAGE | VmArea.VM_SPECIAL)) != 0) {
            return false;
        }
        return vma.isAnonymous() ? (vma.flags & VmArea.VM_SHARED) == 0 : vma.file.isShmem();
    }

    /** transhuge_vma_suitable: the aligned 2 MiB at haddr is inside the VMA (and file offsets line up). */
    static boolean transhugeVmaSuitable(VmArea vma, long haddr) {
        if (!vma.isAnonymous() && (((vma.start >>> 12) - vma.pgoff) & (HPAGE_PMD_NR - 1)) != 0) {
            return false;
        }
        return haddr >= vma.start && haddr + HPAGE_PMD_SIZE <= vma.end;
    }

    /** hugepage_vma_revalidate: after the mmap lock was dropped, is the VMA still there and suitable? */
    private int revalidate(MmStruct mm, long address, boolean expectAnon) {
        VmArea vma = mm.vmaLookup(address);
        if (vma == null) {
            return SCAN_VMA_NULL;
        }
        if (!transhugeVmaSuitable(vma, address) || !hugepageVmaCheck(vma) || vma.isAnonymous() != expectAnon) {
            return SCAN_VMA_CHECK;
        }
        return SCAN_SUCCEED;
    }

    /** find_pmd_or_thp_or_none: the PMD entry's address in {@code out[0]}, and what it holds. */
    static int findPmdOrThpOrNone(PgtableGeneric pg, PgtableOps ops, MmStruct mm, long address, long[] out) {
        long pmdp = pg.pmdOffset(mm, address);
        out[0] = pmdp;
        if (pmdp < 0) {
            return SCAN_PMD_NULL;
        }
        long pmd = ops.getLockless(pmdp);
        if (PteBits.none(pmd)) {
            return SCAN_PMD_NONE;
        }
        if (HugeMemory.pmdTransHuge(pmd)) {
            return SCAN_PMD_MAPPED;
        }
        if (!PteBits.present(pmd) || ops.tableBad(2, pmd)) {
            return SCAN_PMD_NULL;
        }
        return SCAN_SUCCEED;
    }

    // ---- MADV_COLLAPSE ---------------------------------------------------------------------------

    /**
     * madvise_collapse for [start, end): every aligned 2 MiB inside each VMA of the range. Takes and drops
     * the mmap lock itself (the caller holds none). 0 when every range is PMD-mapped afterwards, else
     * madvise_collapse_errno of the last failure; ENOMEM for a hole in the range, as madvise does.
     */
    public int madviseCollapse(MmStruct mm, long start, long end) {
        Control cc = new Control(false);
        int unmapped = 0;
        long a = start;
        while (Long.compareUnsigned(a, end) < 0) {
            VmArea vma;
            long vEnd;
            mm.mmapLock.downRead();
            try {
                vma = mm.findVma(a);
                if (vma == null || Long.compareUnsigned(vma.start, end) >= 0) {
                    return ENOMEM;
                }
                if (vma.start > a) {
                    unmapped = ENOMEM;
                    a = vma.start;
                }
                if (!hugepageVmaCheck(vma)) {
                    return EINVAL;
                }
                vEnd = Long.compareUnsigned(vma.end, end) < 0 ? vma.end : end;
            } finally {
                mm.mmapLock.upRead();
            }
            int r = collapseVmaRange(mm, a, vEnd, cc);
            if (r != 0) {
                return r;
            }
            a = vEnd;
        }
        return unmapped;
    }

    /** The loop of madvise_collapse over one VMA's part [start, end) of the range. */
    private int collapseVmaRange(MmStruct mm, long start, long end, Control cc) {
        long hstart = (start + HPAGE_PMD_SIZE - 1) & HPAGE_PMD_MASK;
        long hend = end & HPAGE_PMD_MASK;
        if (hend < hstart) {
            return EINVAL; // (hend - hstart) >> HPAGE_PMD_SHIFT underflows: thps can never match it
        }
        int thps = 0;
        int lastFail = SCAN_FAIL;
        for (long addr = hstart; addr < hend; addr += HPAGE_PMD_SIZE) {
            int result = collapseOne(mm, addr, cc);
            switch (result) {
                case SCAN_SUCCEED, SCAN_PMD_MAPPED -> thps++;
                case SCAN_PMD_NULL, SCAN_PTE_NON_PRESENT, SCAN_PAGE_NULL, SCAN_PAGE_COUNT, SCAN_PAGE_LOCK,
                        SCAN_PAGE_COMPOUND, SCAN_LACK_REFERENCED_PAGE -> lastFail = result;
                default -> {
                    return collapseErrno(result);
                }
            }
        }
        return thps == (int) ((hend - hstart) >>> 21) ? 0 : collapseErrno(lastFail);
    }

    /** madvise_collapse_errno. */
    static int collapseErrno(int result) {
        return switch (result) {
            case SCAN_ALLOC_HUGE_PAGE_FAIL -> ENOMEM;
            case SCAN_PAGE_COUNT, SCAN_PAGE_LOCK -> EAGAIN;
            default -> EINVAL;
        };
    }

    /** One aligned 2 MiB at {@code addr}: the body of madvise_collapse's loop and of khugepaged_scan_mm_slot's. */
    private int collapseOne(MmStruct mm, long addr, Control cc) {
        AddressSpace file;
        long pgoff;
        mm.mmapLock.downRead();
        boolean locked = true;
        try {
            VmArea vma = mm.vmaLookup(addr);
            if (vma == null) {
                return SCAN_VMA_NULL;
            }
            if (!transhugeVmaSuitable(vma, addr) || !hugepageVmaCheck(vma)) {
                return SCAN_VMA_CHECK;
            }
            if (vma.isAnonymous()) {
                locked = false; // hpage_collapse_scan_pmd drops it (collapse_huge_page) or we do below
                return scanPmd(mm, vma, addr, cc);
            }
            file = vma.file;
            pgoff = vma.pageIndex(addr);
        } finally {
            if (locked) {
                mm.mmapLock.upRead();
            }
        }
        int result = collapseFile.scanFile(file, pgoff, cc.maxPtesNone());
        if (result == SCAN_PTE_MAPPED_HUGEPAGE) {
            mm.mmapLock.downRead();
            try {
                result = collapseFile.collapsePteMappedThp(mm, addr, true);
            } finally {
                mm.mmapLock.upRead();
            }
        }
        return result;
    }

    // ---- anonymous: hpage_collapse_scan_pmd + collapse_huge_page ---------------------------------

    /**
     * hpage_collapse_scan_pmd: entered with the mmap read lock held; returns with it dropped (either here
     * or by collapse_huge_page, which takes the write lock).
     */
    private int scanPmd(MmStruct mm, VmArea vma, long address, Control cc) {
        long[] pmdOut = new long[1];
        int result;
        boolean referenced = false;
        try {
            result = findPmdOrThpOrNone(pg, ops, mm, address, pmdOut);
            if (result != SCAN_SUCCEED) {
                return result;
            }
            PteSlot slot = new PteSlot();
            if (!pg.mapLock(pmdOut[0], address, slot)) {
                return SCAN_PMD_NULL;
            }
            int none = 0, shared = 0;
            result = SCAN_SUCCEED;
            try {
                for (int i = 0; i < HPAGE_PMD_NR && result == SCAN_SUCCEED; i++) {
                    long pte = ops.get(slot.ptep + 8L * i);
                    if (PteBits.none(pte) || (PteBits.present(pte) && PteBits.pfn(pte) == memory.zeroPfn())) {
                        if (++none > cc.maxPtesNone()) {
                            result = SCAN_EXCEED_NONE_PTE;
                        }
                        continue;
                    }
                    if (!PteBits.present(pte)) {
                        result = SCAN_PTE_NON_PRESENT;
                        continue;
                    }
                    long page = memory.vmNormalPage(pte);
                    if (page < 0) {
                        result = SCAN_PAGE_NULL;
                        continue;
                    }
                    if ((frames.flags(page) & FrameTable.PG_ANON) == 0) {
                        result = SCAN_PAGE_ANON;
                        continue;
                    }
                    if (frames.mapcount(page) > 1 && ++shared > cc.maxPtesShared()) {
                        result = SCAN_EXCEED_SHARED_PTE;
                        continue;
                    }
                    if (!refcountSuitable(page)) {
                        result = SCAN_PAGE_COUNT; // a pin or a copy in flight
                        continue;
                    }
                    referenced |= (pte & PteBits.ACCESSED) != 0;
                }
            } finally {
                slot.ptl.unlock();
            }
            if (result == SCAN_SUCCEED && cc.isKhugepaged() && !referenced) {
                result = SCAN_LACK_REFERENCED_PAGE;
            }
        } finally {
            mm.mmapLock.upRead();
        }
        if (result != SCAN_SUCCEED) {
            return result;
        }
        return collapseHugePage(mm, address);
    }

    /**
     * is_refcount_suitable: every reference to the page's folio is a mapping (no GUP pin, no copy in
     * flight). A subpage of a PTE-mapped huge folio counts its folio's total mapcount (the PTEs of all
     * 512 subpages and the PMDs); such a folio is collapsed by copying like small pages, as in Linux.
     */
    private boolean refcountSuitable(long page) {
        if (!frames.isCompound(page)) {
            return frames.refcount(page) == frames.mapcount(page);
        }
        long head = frames.compoundHead(page);
        long total = frames.entireMapcount(head);
        for (int i = 0; i < HPAGE_PMD_NR; i++) {
            total += frames.pageMapcount(head + i);
        }
        return frames.refcount(head) == total;
    }

    /** collapse_huge_page: no mmap lock held on entry or exit. */
    private int collapseHugePage(MmStruct mm, long address) {
        long hpage = frames.allocHugePage(); // hpage_collapse_alloc_folio, with no lock held
        if (hpage < 0) {
            memory.stats.thpCollapseFailed.incrementAndGet();
            return SCAN_ALLOC_HUGE_PAGE_FAIL;
        }
        mm.mmapLock.downWrite();
        int result;
        try {
            result = revalidate(mm, address, true);
            long[] pmdOut = new long[1];
            if (result == SCAN_SUCCEED) {
                result = findPmdOrThpOrNone(pg, ops, mm, address, pmdOut);
            }
            if (result == SCAN_SUCCEED) {
                result = collapseLocked(mm, mm.vmaLookup(address), address, pmdOut[0], hpage);
            }
        } finally {
            mm.mmapLock.upWrite();
        }
        if (result != SCAN_SUCCEED) {
            frames.put(hpage);
        } else {
            memory.stats.thpCollapseAlloc.incrementAndGet();
        }
        return result;
    }

    /** The part of collapse_huge_page under the mmap write lock, from pmdp_collapse_flush on. */
    private int collapseLocked(MmStruct mm, VmArea vma, long address, long pmdp, long hpage) {
        long pmd;
        mm.pageTableLock.lock();
        try {
            // pmdp_collapse_flush: GUP-fast and the hardware walkers lose the table before it is looked at
            pmd = ops.getAndClear(pmdp);
            memory.tlbFlush.flushTlbMmRange(mm, address, address + HPAGE_PMD_SIZE, true);
        } finally {
            mm.pageTableLock.unlock();
        }
        long table = PteBits.pfn(pmd);
        SpinLock ptl = frames.ptlock(table);
        long tablePa = table << 12;
        long[] pages = new long[HPAGE_PMD_NR];
        ptl.lock();
        try {
            // __collapse_huge_page_isolate: the pages are still exclusively ours
            for (int i = 0; i < HPAGE_PMD_NR; i++) {
                long pte = ops.get(tablePa + 8L * i);
                long page = PteBits.none(pte) ? -1 : memory.vmNormalPage(pte);
                pages[i] = page;
                if (page >= 0 && ((frames.flags(page) & FrameTable.PG_ANON) == 0 || !refcountSuitable(page))) {
                    // restore: pmd_populate the old table again
                    mm.pageTableLock.lock();
                    try {
                        ops.set(pmdp, pmd);
                    } finally {
                        mm.pageTableLock.unlock();
                    }
                    return SCAN_PAGE_COUNT;
                }
            }
            // __collapse_huge_page_copy + _copy_succeeded: copy, then release the small pages
            long gained = 0;
            for (int i = 0; i < HPAGE_PMD_NR; i++) {
                long ptep = tablePa + 8L * i;
                if (pages[i] < 0) {
                    if (!PteBits.none(ops.get(ptep))) {
                        ops.clear(ptep); // the zero page's PTE
                    }
                    gained++;
                    continue;
                }
                frames.copyPage(pages[i], hpage + i);
                ops.clear(ptep);
                frames.removeMap(pages[i]);
                frames.put(pages[i]); // the TLB was flushed by pmdp_collapse_flush
            }
            mm.addCounter(MmStruct.MM_ANONPAGES, -(HPAGE_PMD_NR - gained));
        } finally {
            ptl.unlock();
        }
        // folio_add_new_anon_rmap, the old table deposited, set_pmd_at
        if (!huge.setHugePmd(vma, address, pmdp, hpage, table)) {
            throw new IllegalStateException("PMD refilled under the mmap write lock");
        }
        return SCAN_SUCCEED;
    }

    // ---- khugepaged ------------------------------------------------------------------------------

    /** khugepaged_enter_vma: MADV_HUGEPAGE put a VMA of {@code mm} under khugepaged. */
    public void enterVma(VmArea vma) {
        if (!hugepageVmaCheck(vma)) {
            return;
        }
        synchronized (mmList) {
            if (!vma.mm.khugepagedListed) {
                vma.mm.khugepagedListed = true;
                mmList.add(vma.mm);
            }
        }
    }

    /** __khugepaged_exit: the mm is going away. */
    public void exitMm(MmStruct mm) {
        synchronized (mmList) {
            if (mm.khugepagedListed) {
                mm.khugepagedListed = false;
                mmList.remove(mm);
            }
        }
    }

    /** The mms khugepaged scans, in order. */
    public List<MmStruct> listedMms() {
        synchronized (mmList) {
            return new ArrayList<>(mmList);
        }
    }

    /**
     * khugepaged_scan_mm_slot for one mm: every aligned 2 MiB of each VM_HUGEPAGE VMA, under khugepaged's
     * limits (max_ptes_none, max_ptes_shared, a referenced page). Returns the huge pages made.
     * Called by the kernel's khugepaged tick and by tests; takes the mmap lock itself.
     */
    public int scanMm(MmStruct mm) {
        Control cc = new Control(true);
        List<long[]> ranges = new ArrayList<>();
        mm.mmapLock.downRead();
        try {
            for (VmArea v : mm.vmaList()) {
                if ((v.flags & VmArea.VM_HUGEPAGE) != 0 && hugepageVmaCheck(v)) {
                    ranges.add(new long[] {(v.start + HPAGE_PMD_SIZE - 1) & HPAGE_PMD_MASK, v.end & HPAGE_PMD_MASK});
                }
            }
        } finally {
            mm.mmapLock.upRead();
        }
        int made = 0;
        for (long[] r : ranges) {
            for (long addr = r[0]; addr < r[1]; addr += HPAGE_PMD_SIZE) {
                int result = collapseOne(mm, addr, cc);
                if (result == SCAN_SUCCEED) {
                    made++;
                }
            }
        }
        pg.rcu.poll();
        return made;
    }

    /**
     * Ticks between two khugepaged passes over an mm (khugepaged_scan_sleep_millisecs, counted in the
     * timer ticks of the vCPUs running the mm: the same instructions give the same passes under
     * --deterministic).
     */
    public static final int SCAN_TICKS = 64;

    /**
     * The kernel's timer tick on a vCPU running {@code mm}: khugepaged's wakeup. mmulab has no kernel
     * threads, so the pass runs on the ticking vCPU, in its own mm, with no lock held (the task is in
     * user mode). Allocates nothing unless the mm is on khugepaged's list.
     */
    public void tick(MmStruct mm) {
        if (mm.khugepagedListed && mm.khugepagedTicks.incrementAndGet() % SCAN_TICKS == 0) {
            scanMm(mm);
        }
    }

    /** One khugepaged pass over every listed mm (khugepaged_do_scan); returns the huge pages made. */
    public int scanAll() {
        int made = 0;
        for (MmStruct mm : listedMms()) {
            made += scanMm(mm);
        }
        return made;
    }
}
