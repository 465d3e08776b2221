package org.mmulab.kernel.mm;

import org.mmulab.emulator.memory.PhysicalMemory;

/**
 * The port of mm/memory.c (Linux 6.x), fault half: the page-fault path ({@code handle_mm_fault} and
 * the functions it dispatches to). The rest of mm lives by Linux file: {@link PgtableGeneric}
 * (mm/pgtable-generic.c, and memory.c's {@code __pte_alloc} & co.: page-table allocation that takes
 * {@code page_table_lock} and re-checks for a racing allocation, seed 000, and
 * {@code pte_offset_map_lock}, which may fail when the PMD changes under it, seed 002), {@link Zap}
 * (memory.c's teardown: {@code unmap_vmas} / {@code zap_pte_range} under the PTE lock in bounded
 * batches, {@code free_pgtables}), {@link MmLifecycle} (mm_alloc, pgd_alloc, exit_mmap) and
 * {@link Mprotect} (mm/mprotect.c, change_protection included), {@link WpFault} (do_wp_page: COW with the
 * 6.x reuse rule) and {@link Fork} (copy_page_range). This class is the facade the rest of the kernel calls.
 *
 * <p>One instance per machine: it owns the frame table, the page-table format and the shared zero
 * page (its {@code ZERO_PAGE}). Locking: the caller holds the mm's mmap lock (read for faults, write
 * for munmap/mprotect); PTE tables are changed only under their split lock ({@link FrameTable#ptlock}),
 * upper levels only under {@link MmStruct#pageTableLock}.
 *
 * <p>Executable images are mapped as files: a read fault maps the image's page-cache page read-only
 * (shared by every mapping of it), a write fault to a private mapping copies it (do_cow_fault). So
 * {@code .text} pages are filled at fault time, and a fault on an already-correct PTE never rewrites it.
 */
public final class Memory {
    // vm_fault_t
    public static final int VM_FAULT_OK = 0, VM_FAULT_OOM = 1, VM_FAULT_SIGBUS = 2, VM_FAULT_SIGSEGV = 0x40;
    // enum fault_flag
    public static final int FAULT_FLAG_WRITE = 0x1, FAULT_FLAG_USER = 0x40, FAULT_FLAG_INSTRUCTION = 0x100;

    /** Pages an MmuGather batches before it must flush the TLB and free them (MAX_GATHER_BATCH-like). */
    public static final int GATHER_BATCH = 256;

    private final PhysicalMemory mem;
    private final FrameTable frames;
    private final PgtableOps ops;
    private final long zeroPfn;
    public final VmStat stats = new VmStat();
    /** mm/pgtable-generic.c: page-table pages, __pte_alloc & co., pte_offset_map*. */
    final PgtableGeneric pgtables;
    /** The teardown half of mm/memory.c. */
    private final Zap zap;
    /** do_wp_page and its COW / reuse paths. */
    private final WpFault wp;
    /** mm_alloc / pgd_alloc / exit_mmap. */
    private final MmLifecycle lifecycle;
    /** mm/huge_memory.c: huge PMDs, split_huge_pmd. */
    public final HugeMemory huge;
    /** mm/khugepaged.c: MADV_COLLAPSE and the khugepaged pass. */
    public final Khugepaged khugepaged;
    /** ctx_id source (mm->context.ctx_id): unique per mm, never reused, so a recycled ASID is never mistaken. */
    private final java.util.concurrent.atomic.AtomicLong asidCtxIds = new java.util.concurrent.atomic.AtomicLong();
    /** {@code --check}'s invariants for this machine's mm. */
    public final MmCheck check = new MmCheck(this);
    /** arch/x86/mm/tlb.c per-CPU ASID state; one per machine. */
    public final TlbFlush tlbFlush = new TlbFlush(this);
    /** The fixes the race explorer may turn off ({@link MmFix}); all on unless a Java caller reverts one. */
    public final MmFix.Fixes fixes = new MmFix.Fixes();
    /** Split PTE locks or page_table_lock for every PTE ({@link PtlockSplit}, mmulab bench --scalability only). */
    public final PtlockSplit ptlockSplit = new PtlockSplit();

    public Memory(PhysicalMemory mem) {
        this(mem, new FrameTable(mem), null);
    }

    public Memory(PhysicalMemory mem, FrameTable frames, PgtableOps ops) {
        this.mem = mem;
        this.frames = frames;
        this.ops = ops != null ? ops : new X86_64Pgtable(mem);
        long z = frames.allocZeroedPage();
        if (z < 0) {
            throw new IllegalStateException("no memory for the zero page");
        }
        frames.reserve(z);
        frames.setFlags(z, FrameTable.PG_ZERO);
        this.zeroPfn = z;
        if (MmCheck.enabled) {
            check.assertPteLocks();
        }
        this.pgtables = new PgtableGeneric(this);
        this.zap = new Zap(this, pgtables);
        this.wp = new WpFault(this);
        this.lifecycle = new MmLifecycle(this, pgtables);
        this.huge = new HugeMemory(this);
        this.khugepaged = new Khugepaged(this, pgtables, huge);
    }

    public FrameTable frames() {
        return frames;
    }

    public PgtableOps ops() {
        return ops;
    }

    public PhysicalMemory physicalMemory() {
        return mem;
    }

    /**
     * Physical address of init_mm's PGD (swapper_pg_dir), what a vCPU's CR3 holds when it runs no user
     * mm ({@link TlbFlush#leaveMm}). mmulab's kernel runs in Java, so init_mm maps nothing: its top
     * table is all empty, which the zero page already is — never written (with no present entry the
     * walker never sets an A bit) and never freed. Under PAE it is a PDPT of four non-present PDPTEs.
     */
    public long swapperPgdPhys() {
        return zeroPfn << 12;
    }

    /** my_zero_pfn. */
    public long zeroPfn() {
        return zeroPfn;
    }

    public void setPteMapLockRaceHook(Runnable r) {
        pgtables.pteMapLockRaceHook = r;
    }

    long nextCtxId() {
        return asidCtxIds.incrementAndGet();
    }

    // ---- mm creation and destruction: MmLifecycle -------------------------------------------

    /** mm_alloc + pgd_alloc with TASK_SIZE of the page-table format; null when out of frames. */
    public MmStruct mmAlloc() {
        return lifecycle.mmAlloc(ops.taskSize());
    }

    /** mm_alloc + pgd_alloc for a process whose TASK_SIZE is {@code taskSize}; null when out of frames. */
    public MmStruct mmAlloc(long taskSize) {
        return lifecycle.mmAlloc(taskSize);
    }

    /** exit_mmap: unmaps every VMA, frees every page table and the PGD. */
    public void exitMmap(MmStruct mm) {
        lifecycle.exitMmap(mm);
    }

    // ---- page tables: PgtableGeneric --------------------------------------------------------

    void freePgtablePage(long pfn) {
        pgtables.freePgtablePage(pfn);
    }

    /** __pte_alloc(mm, pmd): seed 000, takes page_table_lock itself and re-checks pmd_none. */
    public int pteAlloc(MmStruct mm, long pmdp) {
        return pgtables.pteAlloc(mm, pmdp);
    }

    /** Walks without allocating; returns the PMD entry address or -1 when an upper level is none. */
    public long pmdOffset(MmStruct mm, long addr) {
        return pgtables.pmdOffset(mm, addr);
    }

    /** The PTE value mapping {@code addr} (0 when none); for tests and debugging. */
    public long lookupPte(MmStruct mm, long addr) {
        return pgtables.lookupPte(mm, addr);
    }

    /** pte_offset_map_nolock ({@link PgtableGeneric}); null if there is no page table. */
    public PteMap pteOffsetMapNolock(MmStruct mm, long pmdp, long addr) {
        return pgtables.pteOffsetMapNolock(mm, pmdp, addr);
    }

    /** pte_offset_map_lock ({@link PgtableGeneric}); null (no lock held) when there is no page table. */
    public PteMap pteOffsetMapLock(MmStruct mm, long pmdp, long addr) {
        return pgtables.pteOffsetMapLock(mm, pmdp, addr);
    }

    /** pte_alloc_map_lock ({@link PgtableGeneric}); null on failure. */
    public PteMap pteAllocMapLock(MmStruct mm, long pmdp, long addr) {
        return pgtables.pteAllocMapLock(mm, pmdp, addr);
    }

    // ---- teardown: Zap ----------------------------------------------------------------------

    /** unmap_single_vma: zap the part of {@code vma} inside [start, end). */
    public void unmapSingleVma(MmuGather tlb, VmArea vma, long start, long end) {
        zap.unmapSingleVma(tlb, vma, start, end);
    }

    /** free_pgd_range: frees the page tables that map only [addr, end) (see {@link Zap#freePgdRange}). */
    public void freePgdRange(MmuGather tlb, long addr, long end, long floor, long ceiling) {
        zap.freePgdRange(tlb, addr, end, floor, ceiling);
    }

    // ==========================================================================================
    // The fault path

    /**
     * struct vm_fault, plus the mapped PTE ({@code vmf->pte}, {@code vmf->ptl}). Reusable: the trap entry
     * keeps one per vCPU and passes it to {@link #handleMmFault(VmFault, VmArea, long, int)}, so a fault
     * allocates nothing; {@code ptl == null} means no PTE is mapped.
     */
    public static final class VmFault extends PteSlot {
        public VmFault() {
            // filled by init() on each fault
        }

        VmArea vma;
        MmStruct mm;
        long address;
        int flags;
        long pmdp;
        long origPte;

        VmFault init(VmArea vma, long address, int flags) {
            this.vma = vma;
            this.mm = vma.mm;
            this.address = address & ~0xfffL;
            this.flags = flags;
            this.pmdp = 0;
            this.origPte = 0;
            this.ptep = 0;
            this.ptl = null;
            this.pmdval = 0;
            return this;
        }

        /** Drops the references to the VMA and mm so a cached instance keeps nothing alive. */
        void clear() {
            vma = null;
            mm = null;
            ptl = null;
        }

        boolean write() {
            return (flags & FAULT_FLAG_WRITE) != 0;
        }
    }

    /**
     * handle_mm_fault: the caller (the arch fault handler) holds the mmap read lock, found the VMA and
     * checked access rights. Returns VM_FAULT_OK (retry the access), VM_FAULT_OOM, or VM_FAULT_SIGBUS.
     */
    public int handleMmFault(VmArea vma, long address, int flags) {
        return handleMmFault(new VmFault(), vma, address, flags);
    }

    /** handle_mm_fault with a caller-owned, reused {@code vm_fault} (the trap entry's, one per vCPU). */
    public int handleMmFault(VmFault vmf, VmArea vma, long address, int flags) {
        try {
            return handleMmFaultLocked(vmf.init(vma, address, flags));
        } finally {
            vmf.clear();
        }
    }

    private int handleMmFaultLocked(VmFault vmf) {
        stats.faults.incrementAndGet();
        vmf.pmdp = pgtables.pmdAlloc(vmf.mm, vmf.address);
        if (vmf.pmdp < 0) {
            return oom();
        }
        // the lockless walk below is an RCU read-side section (__pte_offset_map .. pte_unmap): a table
        // khugepaged retracts meanwhile is freed only after it ends (pte_free_defer)
        int rcu = pgtables.rcu.readLock(vmf);
        int ret;
        try {
            ret = handlePteFault(vmf);
        } finally {
            pgtables.rcu.readUnlock(rcu);
        }
        if (ret == VM_FAULT_OOM) {
            stats.faultOom.incrementAndGet();
        }
        return ret;
    }

    private int oom() {
        stats.faultOom.incrementAndGet();
        return VM_FAULT_OOM;
    }

    private int handlePteFault(VmFault vmf) {
        long pmdval = ops.getLockless(vmf.pmdp);
        if (HugeMemory.pmdTransHuge(pmdval)) {
            return huge.hugePmdFault(vmf, pmdval); // huge_pmd_set_accessed / wp_huge_pmd
        }
        if (PteBits.none(pmdval)) {
            vmf.ptl = null;
        } else {
            if (!pgtables.mapNolock(vmf.pmdp, vmf.address, vmf)) {
                stats.faultRetry.incrementAndGet();
                return VM_FAULT_OK; // the PMD changed: let the access fault again
            }
            vmf.origPte = ops.getLockless(vmf.ptep);
            if (PteBits.none(vmf.origPte)) {
                vmf.ptl = null;
            }
        }
        if (vmf.ptl == null) {
            return doPteMissing(vmf);
        }
        if (!PteBits.present(vmf.origPte)) {
            return doSwapPage(vmf);
        }
        SpinLock ptl = vmf.ptl;
        ptl.lock();
        boolean handedOff = false; // do_wp_page takes the locked PTE over and releases the lock itself
        try {
            long entry = vmf.origPte;
            if (ops.get(vmf.ptep) != entry) {
                stats.faultRetry.incrementAndGet(); // pte_same failed: someone else handled it
                return VM_FAULT_OK;
            }
            if ((entry & PteBits.PRESENT) == 0) {
                // A PROT_NONE pte in an accessible VMA cannot happen without NUMA balancing.
                return VM_FAULT_SIGSEGV;
            }
            if (vmf.write()) {
                if (!PteBits.write(entry)) {
                    handedOff = true;
                    return wp.doWpPage(vmf);
                }
                entry = PteBits.mkdirty(entry);
            }
            entry |= PteBits.ACCESSED;
            // ptep_set_access_flags: only write the PTE if it changes.
            if (entry != vmf.origPte || fixes.reverted(MmFix.NO_IDENTICAL_PTE_REWRITE)) {
                ops.set(vmf.ptep, entry);
                stats.faultAccessFlags.incrementAndGet();
            } else {
                // Spurious: the PTE already allows the access; a stale TLB entry faulted (another
                // vCPU raised the permission, which needs no flush). handle_pte_fault then calls
                // flush_tlb_fix_spurious_fault, a no-op on x86: the #PF itself dropped the faulting
                // address's TLB and paging-structure-cache entries (SDM Vol. 3A 4.10.4.1), so the
                // retried access walks the page tables. Flushing the mm would cost every vCPU using it.
                stats.faultSpurious.incrementAndGet();
            }
            return VM_FAULT_OK;
        } finally {
            if (!handedOff) {
                ptl.unlock();
            }
        }
    }

    /**
     * do_swap_page's entry: {@code pte_unmap_same} first. The lockless read may have returned a value that
     * is neither none nor present only because it was torn — a PAE reader between native_set_pte's two
     * stores sees the new high word with the old (not-present) low word, and native_pte_clear's window
     * shows the old high word with a zero low word. Under the PTE lock the entry is re-read; if it is
     * not the same any more the fault is simply retried. An unchanged non-present entry would be a swap
     * entry, which mmulab never creates, so that is SIGBUS.
     */
    private int doSwapPage(VmFault vmf) {
        if (fixes.reverted(MmFix.PTE_UNMAP_SAME)) {
            return VM_FAULT_SIGBUS; // explorer: act on the lockless value as it is (a swap entry)
        }
        SpinLock ptl = vmf.ptl;
        ptl.lock();
        try {
            if (ops.get(vmf.ptep) != vmf.origPte) {
                stats.faultPteUnmapSameRetry.incrementAndGet();
                stats.faultRetry.incrementAndGet();
                return VM_FAULT_OK;
            }
        } finally {
            ptl.unlock();
        }
        return VM_FAULT_SIGBUS;
    }

    private int doPteMissing(VmFault vmf) {
        if ((vmf.vma.flags & (VmArea.VM_PFNMAP | VmArea.VM_MIXEDMAP)) != 0) {
            // A driver mapping filled at mmap time has no fault handler (PfnMap): SIGBUS — unless the none
            // entry was a temporary clearing (wp_page_copy's ptep_clear_flush on another vCPU), which
            // do_fault tells apart by looking again under the PTE lock.
            if (!pgtables.mapLock(vmf.pmdp, vmf.address, vmf)) {
                return VM_FAULT_SIGBUS;
            }
            try {
                return PteBits.none(ops.get(vmf.ptep)) ? VM_FAULT_SIGBUS : VM_FAULT_OK;
            } finally {
                vmf.ptl.unlock();
            }
        }
        if (vmf.vma.isAnonymous()) {
            return doAnonymousPage(vmf);
        }
        return doFault(vmf);
    }

    /** vmf_pte_changed: under the PTE lock, is the entry still what the fault saw (none here)? */
    private boolean ptePresentNow(VmFault vmf) {
        return !PteBits.none(ops.get(vmf.ptep));
    }

    /** do_anonymous_page. */
    private int doAnonymousPage(VmFault vmf) {
        VmArea vma = vmf.vma;
        if (PteBits.none(ops.getLockless(vmf.pmdp)) && pgtables.pteAlloc(vmf.mm, vmf.pmdp) != 0) {
            return VM_FAULT_OOM;
        }
        if (!vmf.write()) {
            // Use the zero page for reads: read-only, special (no refcount, no rss).
            long entry = PteBits.mkPte(zeroPfn, vma.pageProt()) | PteBits.SPECIAL;
            if (!pgtables.mapLock(vmf.pmdp, vmf.address, vmf)) {
                stats.faultRetry.incrementAndGet();
                return VM_FAULT_OK;
            }
            try {
                if (ptePresentNow(vmf)) {
                    stats.faultRetry.incrementAndGet();
                    return VM_FAULT_OK;
                }
                ops.set(vmf.ptep, entry);
                stats.faultAnonZero.incrementAndGet();
                return VM_FAULT_OK;
            } finally {
                vmf.ptl.unlock();
            }
        }
        long pfn = frames.allocZeroedPage();
        if (pfn < 0) {
            return VM_FAULT_OOM;
        }
        long entry = PteBits.mkPte(pfn, vma.pageProt());
        if ((vma.flags & VmArea.VM_WRITE) != 0) {
            entry = PteBits.mkdirty(entry | PteBits.RW);
        }
        if (!pgtables.mapLock(vmf.pmdp, vmf.address, vmf)) {
            frames.put(pfn);
            stats.faultRetry.incrementAndGet();
            return VM_FAULT_OK;
        }
        try {
            if (ptePresentNow(vmf)) {
                frames.put(pfn);
                stats.faultRetry.incrementAndGet();
                return VM_FAULT_OK;
            }
            vmf.mm.addCounter(MmStruct.MM_ANONPAGES, 1);
            frames.addNewAnonRmap(pfn);
            ops.set(vmf.ptep, entry);
            stats.faultAnonNew.incrementAndGet();
            return VM_FAULT_OK;
        } finally {
            vmf.ptl.unlock();
        }
    }

    /** do_fault: file-backed (executable image) or shmem VMA, first touch of this page. */
    private int doFault(VmFault vmf) {
        VmArea vma = vmf.vma;
        long index = vma.pageIndex(vmf.address);
        if (!vmf.write()) {
            return doReadFault(vmf, index);
        }
        if ((vma.flags & VmArea.VM_SHARED) == 0) {
            return doCowFault(vmf, index);
        }
        return doSharedFault(vmf, index);
    }

    private int doReadFault(VmFault vmf, long index) {
        long pfn = vmf.vma.file.getPage(index);
        if (pfn < 0) {
            return pfn == AddressSpace.SIGBUS ? VM_FAULT_SIGBUS : VM_FAULT_OOM;
        }
        huge.waitOnPageLocked(pfn); // filemap_fault's folio lock: khugepaged may be collapsing it
        stats.faultFileRead.incrementAndGet();
        return finishFault(vmf, pfn, false);
    }

    private int doSharedFault(VmFault vmf, long index) {
        long pfn = vmf.vma.file.getPage(index);
        if (pfn < 0) {
            return pfn == AddressSpace.SIGBUS ? VM_FAULT_SIGBUS : VM_FAULT_OOM;
        }
        huge.waitOnPageLocked(pfn);
        stats.faultShared.incrementAndGet();
        return finishFault(vmf, pfn, false);
    }

    /** do_cow_fault: private write to a file page never mapped here: copy it into a new anon page. */
    private int doCowFault(VmFault vmf, long index) {
        long nw = frames.allocPages(0);
        if (nw < 0) {
            return VM_FAULT_OOM;
        }
        long src = vmf.vma.file.getPage(index);
        if (src < 0) {
            frames.put(nw);
            return src == AddressSpace.SIGBUS ? VM_FAULT_SIGBUS : VM_FAULT_OOM;
        }
        frames.copyPage(src, nw);
        frames.put(src);
        stats.faultFileCow.incrementAndGet();
        return finishFault(vmf, nw, true);
    }

    /**
     * finish_fault / set_pte_range: installs {@code pfn} (whose reference the caller passes on) unless
     * the PTE is no longer none, in which case the already-installed PTE is left exactly as it is.
     */
    private int finishFault(VmFault vmf, long pfn, boolean anon) {
        VmArea vma = vmf.vma;
        if (PteBits.none(ops.getLockless(vmf.pmdp)) && pgtables.pteAlloc(vmf.mm, vmf.pmdp) != 0) {
            frames.put(pfn);
            return VM_FAULT_OOM;
        }
        if (!pgtables.mapLock(vmf.pmdp, vmf.address, vmf)) {
            frames.put(pfn);
            stats.faultRetry.incrementAndGet();
            return VM_FAULT_OK;
        }
        try {
            if (ptePresentNow(vmf)) {
                // Someone (another vCPU) mapped it meanwhile: never rewrite an already-correct PTE.
                frames.put(pfn);
                stats.faultRetry.incrementAndGet();
                return VM_FAULT_OK;
            }
            if (!anon && vma.file != null && (vma.file.cachedPfn(vma.pageIndex(vmf.address)) != pfn
                    || frames.pageLocked(pfn))) {
                // (or locked again since the wait: khugepaged is collapsing it, seed 001's "huge page
                // lock stops new PTEs": never map a subpage into a table it is retracting)
                // Truncated or punched since the lookup (the folio->mapping recheck under the folio
                // lock in Linux): mapping it now would outlive Truncate's second unmap. Fault again.
                frames.put(pfn);
                stats.faultRetry.incrementAndGet();
                return VM_FAULT_OK;
            }
            long entry = PteBits.mkPte(pfn, vma.pageProt());
            if (vmf.write() && (vma.flags & VmArea.VM_WRITE) != 0) {
                entry = PteBits.mkdirty(entry | PteBits.RW);
            }
            if (anon) {
                vmf.mm.addCounter(MmStruct.MM_ANONPAGES, 1);
                frames.addNewAnonRmap(pfn); // a fresh copy: exclusive to this mm
            } else {
                vmf.mm.addCounter(mmCounterFile(pfn), 1);
                frames.addMap(pfn);
            }
            ops.set(vmf.ptep, entry);
            return VM_FAULT_OK;
        } finally {
            vmf.ptl.unlock();
        }
    }

    private int mmCounterFile(long pfn) {
        return (frames.flags(pfn) & FrameTable.PG_SHMEM) != 0 ? MmStruct.MM_SHMEMPAGES : MmStruct.MM_FILEPAGES;
    }

    /** mm_counter(page). */
    int mmCounter(long pfn) {
        return (frames.flags(pfn) & FrameTable.PG_ANON) != 0 ? MmStruct.MM_ANONPAGES : mmCounterFile(pfn);
    }

    /** vm_normal_page: the frame behind a present PTE, or -1 for a special mapping (the zero page). */
    long vmNormalPage(long pte) {
        if (PteBits.special(pte)) {
            return -1;
        }
        long pfn = PteBits.pfn(pte);
        if (pfn == zeroPfn || pfn >= frames.frameCount()) {
            return -1;
        }
        return pfn;
    }
}
