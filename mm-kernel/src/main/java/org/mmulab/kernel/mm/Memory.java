package org.mmulab.kernel.mm;

import java.util.concurrent.locks.ReentrantLock;

import org.mmulab.emulator.memory.PhysicalMemory;

/**
 * The port of mm/memory.c (Linux 6.x) plus the PTE map/lock helpers of mm/pgtable-generic.c: the
 * page-fault path ({@code handle_mm_fault} and the functions it dispatches to), page-table allocation
 * ({@code __pud_alloc}/{@code __pmd_alloc}/{@code __pte_alloc}, which take {@code page_table_lock}
 * themselves and re-check for a racing allocation, seed 000), {@code pte_offset_map_lock} which may
 * fail when the PMD changes under it (seed 002), and teardown ({@code unmap_vmas} /
 * {@code zap_pte_range} under the PTE lock in bounded batches, {@code free_pgtables}).
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
    /**
     * Test hook run inside {@code __pte_offset_map_lock} between reading the PMD locklessly and taking
     * the PTE lock: the window in which khugepaged's retract_page_tables can change the PMD.
     */
    volatile Runnable pteMapLockRaceHook;

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

    /** my_zero_pfn. */
    public long zeroPfn() {
        return zeroPfn;
    }

    public void setPteMapLockRaceHook(Runnable r) {
        pteMapLockRaceHook = r;
    }

    // ==========================================================================================
    // mm creation and destruction (kernel/fork.c mm_alloc / mmput, mm/mmap.c exit_mmap)

    /** mm_alloc + pgd_alloc with TASK_SIZE of the page-table format; null when out of frames. */
    public MmStruct mmAlloc() {
        return mmAlloc(ops.taskSize());
    }

    /**
     * mm_alloc + pgd_alloc for a process whose TASK_SIZE is {@code taskSize} (a compat 32-bit process
     * under 4-level paging has TASK_SIZE_32, below the format's limit). Null when out of frames.
     *
     * <p>PAE (arch/x86/mm/pgtable.c pgd_alloc, preallocate_pmds / pgd_prepopulate_pmd): all four PDPTEs
     * are made present here — a PMD page each for the three user gigabytes and the kernel's shared PMD
     * for the top one — because the CPU reads PDPTEs only at MOV CR3: a PDPTE populated later would
     * need a CR3 reload on every CPU using the mm ({@code pud_populate}'s flush_tlb_mm).
     */
    public MmStruct mmAlloc(long taskSize) {
        if (Long.compareUnsigned(taskSize, ops.taskSize()) > 0) {
            throw new IllegalArgumentException("task size 0x" + Long.toHexString(taskSize) + " above the paging format's");
        }
        long pgd = allocPgtablePage();
        if (pgd < 0) {
            return null;
        }
        MmStruct mm = new MmStruct(this, pgd, taskSize, asidCtxIds.incrementAndGet());
        if (ops.levels() == 3) {
            long kpmd = kernelPmd();
            if (kpmd < 0) {
                freePgtablePage(pgd);
                return null;
            }
            int user = (int) (PaePgtable.TASK_SIZE >>> ops.shift(3)); // KERNEL_PGD_BOUNDARY = 3
            for (int i = 0; i < ops.entries(3); i++) {
                long pmd = i < user ? allocPgtablePage() : kpmd;
                if (pmd < 0) {
                    for (int j = 0; j < i; j++) {
                        long e = ops.get((pgd << 12) + 8L * j);
                        freePgtablePage(PteBits.pfn(e));
                    }
                    freePgtablePage(pgd);
                    return null;
                }
                if (i < user) {
                    mm.nrPgtables.incrementAndGet();
                }
                ops.set((pgd << 12) + 8L * i, ops.mkTable(3, pmd));
            }
        }
        return mm;
    }

    /** ctx_id source (mm->context.ctx_id): unique per mm, never reused, so a recycled ASID is never mistaken. */
    private final java.util.concurrent.atomic.AtomicLong asidCtxIds = new java.util.concurrent.atomic.AtomicLong();
    /** PAE: the kernel's PMD (swapper_pg_dir's 4th gigabyte), shared by every PDPT; no user entries. */
    private long kernelPmd = -1;
    /** arch/x86/mm/tlb.c per-CPU ASID state; one per machine. */
    public final TlbFlush tlbFlush = new TlbFlush(this);

    private synchronized long kernelPmd() {
        if (kernelPmd < 0) {
            long p = frames.allocZeroedPage();
            if (p >= 0) {
                frames.reserve(p);
            }
            kernelPmd = p;
        }
        return kernelPmd;
    }

    /** exit_mmap: unmaps every VMA, frees every page table and the PGD. */
    public void exitMmap(MmStruct mm) {
        mm.mmapLock.writeLock().lock();
        try {
            mm.updateHiwaterRss();
            mm.updateHiwaterVm();
            MmuGather tlb = new MmuGather(mm);
            for (VmArea v : mm.vmaList()) {
                unmapSingleVma(tlb, v, v.start, v.end);
            }
            freePgdRange(tlb, 0, mm.taskSize, 0, 0);
            tlb.finish();
            for (VmArea v : mm.vmaList()) {
                if (v.file != null) {
                    v.file.releaseUser();
                }
            }
            mm.clearVmas();
            mm.totalVm = 0;
            mm.flushTlbAll();
            mm.cpus.clear();
            freePgtablePage(mm.pgd);
        } finally {
            mm.mmapLock.writeLock().unlock();
        }
    }

    // ==========================================================================================
    // Page-table pages

    private long allocPgtablePage() {
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
        return ops.getLockless(ops.entryAddr(PteBits.pfn(pmd) << 12, addr, 1));
    }

    // ==========================================================================================
    // pte_offset_map_lock (mm/pgtable-generic.c, seed 002)

    /** A mapped and (for the _lock variant) locked PTE: the entry's address, its table's lock, the PMD seen. */
    public record PteMap(long ptep, ReentrantLock ptl, long pmdval) {
        public void unlock() {
            ptl.unlock();
        }
    }

    /**
     * The out-parameters of pte_offset_map*(): Linux returns the PTE pointer and fills {@code *ptlp};
     * here the entry address, its table's lock (null: no page table) and the PMD value seen. Mutable
     * and reused, so the fault path allocates nothing.
     */
    static class PteSlot {
        long ptep;
        ReentrantLock ptl;
        long pmdval;
    }

    /**
     * __pte_offset_map: validates the PMD read locklessly (pmdp_get_lockless). Returns the PTE address
     * or -1 for no page table (none, huge, bad — a bad PMD is cleared, as pmd_clear_bad does).
     */
    long pteOffsetMap(long pmdp, long pmdval, long addr) {
        if (PteBits.none(pmdval) || (pmdval & PteBits.PSE) != 0) {
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
        ReentrantLock ptl = ptep < 0 ? null : ptlockOrNull(pmdval);
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
        for (;;) {
            long pmdval = ops.getLockless(pmdp);
            long ptep = pteOffsetMap(pmdp, pmdval, addr);
            if (ptep < 0) {
                stats.pteMapLockFailed.incrementAndGet();
                out.ptl = null;
                return false;
            }
            ReentrantLock ptl = ptlockOrNull(pmdval);
            Runnable hook = pteMapLockRaceHook;
            if (hook != null) {
                hook.run();
            }
            if (ptl == null) {
                stats.pteMapLockRetries.incrementAndGet();
                continue;
            }
            ptl.lock();
            if (pmdval == ops.getLockless(pmdp)) {
                out.ptep = ptep;
                out.ptl = ptl;
                out.pmdval = pmdval;
                return true;
            }
            ptl.unlock();
            stats.pteMapLockRetries.incrementAndGet();
        }
    }

    private ReentrantLock ptlockOrNull(long pmdval) {
        long pfn = PteBits.pfn(pmdval);
        if ((frames.flags(pfn) & FrameTable.PG_PGTABLE) == 0) {
            return null;
        }
        try {
            return frames.ptlock(pfn);
        } catch (IllegalStateException freedUnderUs) {
            return null;
        }
    }

    /** pte_alloc_map_lock: allocates the PTE table if needed, then pte_offset_map_lock. Null on failure. */
    public PteMap pteAllocMapLock(MmStruct mm, long pmdp, long addr) {
        if (PteBits.none(ops.getLockless(pmdp)) && pteAlloc(mm, pmdp) != 0) {
            return null;
        }
        return pteOffsetMapLock(mm, pmdp, addr);
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
        vmf.pmdp = pmdAlloc(vmf.mm, vmf.address);
        if (vmf.pmdp < 0) {
            return oom();
        }
        int ret = handlePteFault(vmf);
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
        if (PteBits.none(pmdval)) {
            vmf.ptl = null;
        } else {
            if (!mapNolock(vmf.pmdp, vmf.address, vmf)) {
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
        ReentrantLock ptl = vmf.ptl;
        ptl.lock();
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
                    return doWpPage(vmf); // unlocks
                }
                entry |= PteBits.DIRTY;
            }
            entry |= PteBits.ACCESSED;
            // ptep_set_access_flags: only write the PTE if it changes.
            if (entry != vmf.origPte) {
                ops.set(vmf.ptep, entry);
                stats.faultAccessFlags.incrementAndGet();
            } else {
                // Spurious: the PTE already allows the access; a stale TLB entry faulted.
                stats.faultSpurious.incrementAndGet();
                vmf.mm.flushTlbPage(vmf.address);
            }
            return VM_FAULT_OK;
        } finally {
            if (ptl.isHeldByCurrentThread()) {
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
        ReentrantLock ptl = vmf.ptl;
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
        if (PteBits.none(ops.getLockless(vmf.pmdp)) && pteAlloc(vmf.mm, vmf.pmdp) != 0) {
            return VM_FAULT_OOM;
        }
        if (!vmf.write()) {
            // Use the zero page for reads: read-only, special (no refcount, no rss).
            long entry = PteBits.mkPte(zeroPfn, vma.pageProt()) | PteBits.SPECIAL;
            if (!mapLock(vmf.pmdp, vmf.address, vmf)) {
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
            entry |= PteBits.RW | PteBits.DIRTY;
        }
        if (!mapLock(vmf.pmdp, vmf.address, vmf)) {
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
            return VM_FAULT_OOM;
        }
        stats.faultFileRead.incrementAndGet();
        return finishFault(vmf, pfn, false);
    }

    private int doSharedFault(VmFault vmf, long index) {
        long pfn = vmf.vma.file.getPage(index);
        if (pfn < 0) {
            return VM_FAULT_OOM;
        }
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
            return VM_FAULT_OOM;
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
        if (PteBits.none(ops.getLockless(vmf.pmdp)) && pteAlloc(vmf.mm, vmf.pmdp) != 0) {
            frames.put(pfn);
            return VM_FAULT_OOM;
        }
        if (!mapLock(vmf.pmdp, vmf.address, vmf)) {
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
            long entry = PteBits.mkPte(pfn, vma.pageProt());
            if (vmf.write() && (vma.flags & VmArea.VM_WRITE) != 0) {
                entry |= PteBits.RW | PteBits.DIRTY;
            }
            if (anon) {
                frames.setFlags(pfn, FrameTable.PG_ANON);
                vmf.mm.addCounter(MmStruct.MM_ANONPAGES, 1);
            } else {
                vmf.mm.addCounter(mmCounterFile(pfn), 1);
            }
            frames.addMap(pfn);
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
    private int mmCounter(long pfn) {
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

    /** do_wp_page: entered with the PTE lock held; returns with it released. */
    private int doWpPage(VmFault vmf) {
        VmArea vma = vmf.vma;
        long page = vmNormalPage(vmf.origPte);
        if ((vma.flags & (VmArea.VM_SHARED | VmArea.VM_MAYSHARE)) != 0) {
            // wp_page_shared / wp_pfn_shared: no page_mkwrite for shmem; reuse.
            return wpPageReuse(vmf);
        }
        if (page >= 0 && (frames.flags(page) & FrameTable.PG_ANON) != 0 && frames.refcount(page) == 1) {
            // wp_can_reuse_anon_folio: exclusively ours, write in place.
            return wpPageReuse(vmf);
        }
        if (page >= 0) {
            frames.get(page);
        }
        vmf.ptl.unlock();
        return wpPageCopy(vmf, page);
    }

    private int wpPageReuse(VmFault vmf) {
        try {
            long entry = vmf.origPte | PteBits.ACCESSED | PteBits.DIRTY | PteBits.RW;
            ops.set(vmf.ptep, entry);
            stats.faultWpReuse.incrementAndGet();
            return VM_FAULT_OK;
        } finally {
            vmf.ptl.unlock();
        }
    }

    /**
     * wp_page_copy: new page (zeroed when the old one is the zero page, else a copy), then under the
     * PTE lock and only if the PTE is unchanged: ptep_clear_flush (TLB flushed before the old page can be
     * freed), set the new PTE, drop the old mapping.
     */
    private int wpPageCopy(VmFault vmf, long old) {
        VmArea vma = vmf.vma;
        long nw = old < 0 ? frames.allocZeroedPage() : frames.allocPages(0);
        if (nw < 0) {
            if (old >= 0) {
                frames.put(old);
            }
            return VM_FAULT_OOM;
        }
        if (old >= 0) {
            frames.copyPage(old, nw);
        }
        if (!mapLock(vmf.pmdp, vmf.address, vmf)) {
            frames.put(nw);
            if (old >= 0) {
                frames.put(old);
            }
            stats.faultRetry.incrementAndGet();
            return VM_FAULT_OK;
        }
        boolean copied = false;
        try {
            if (ops.get(vmf.ptep) == vmf.origPte) {
                if (old >= 0) {
                    int oc = mmCounter(old);
                    if (oc != MmStruct.MM_ANONPAGES) {
                        vmf.mm.addCounter(oc, -1);
                        vmf.mm.addCounter(MmStruct.MM_ANONPAGES, 1);
                    }
                } else {
                    vmf.mm.addCounter(MmStruct.MM_ANONPAGES, 1);
                }
                long entry = PteBits.mkPte(nw, vma.pageProt()) | PteBits.RW | PteBits.DIRTY;
                // ptep_clear_flush
                ops.getAndClear(vmf.ptep);
                vmf.mm.flushTlbPage(vmf.address);
                frames.addNewAnonRmap(nw);
                ops.set(vmf.ptep, entry);
                if (old >= 0) {
                    frames.removeMap(old);
                }
                copied = true;
                if (old < 0) {
                    stats.faultWpZeroCopy.incrementAndGet();
                } else {
                    stats.faultWpCopy.incrementAndGet();
                }
            } else {
                stats.faultRetry.incrementAndGet();
            }
        } finally {
            vmf.ptl.unlock();
        }
        if (copied) {
            if (old >= 0) {
                frames.put(old); // the reference the old PTE held
            }
        } else {
            frames.put(nw);
        }
        if (old >= 0) {
            frames.put(old); // the reference do_wp_page took
        }
        return VM_FAULT_OK;
    }

    // ==========================================================================================
    // Teardown: unmap_vmas, zap_*_range, free_pgtables (mm/memory.c), with MmuGather (mm/mmu_gather.c)

    /** unmap_single_vma: zap the part of {@code vma} inside [start, end). */
    public void unmapSingleVma(MmuGather tlb, VmArea vma, long start, long end) {
        long s = Math.max(vma.start, start);
        long e = Math.min(vma.end, end);
        if (s >= e) {
            return;
        }
        zapLevel(tlb, vma, vma.mm.pgd << 12, ops.levels(), s, e);
    }

    private long addrEnd(long addr, long end, int level) {
        long size = 1L << ops.shift(level);
        long boundary = (addr + size) & -size;
        // boundary - 1 < end - 1 handles wrap at the top of the address space
        return Long.compareUnsigned(boundary - 1, end - 1) < 0 ? boundary : end;
    }

    /**
     * The entry for {@code addr} in {@code table} (at {@code level}) is none: returns the first address
     * of the next entry in this table, up to the one holding {@code end - 1}, that is not none, or
     * {@code end} when there is none — one scan ({@link PgtableOps#nextNonNone}) instead of an ordered
     * read per empty entry. [addr, end) lies inside this table's span, as every pXd_addr_end-bounded
     * walk guarantees. The teardown callers hold the mmap write lock, so nothing populates these levels
     * meanwhile, and a hit is re-read by the caller's loop anyway.
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
            long next = addrEnd(addr, end, level);
            if (level == 2) {
                long a = addr;
                while (a != next) {
                    long r = zapPteRange(tlb, vma, ep, a, next);
                    if (r == a) {
                        // pte_offset_map_lock failed: no PTE table here any more (a huge PMD would
                        // be zap_huge_pmd's business; mmulab maps none yet), so nothing to zap.
                        break;
                    }
                    a = r;
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
        if (!mapLock(pmdp, addr, pm)) {
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
                if (PteBits.none(e)) {
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
                long page = vmNormalPage(pte);
                if (page < 0) {
                    continue;
                }
                switch (mmCounter(page)) {
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
        } finally {
            pm.ptl.unlock();
            pm.ptl = null;
        }
        stats.zapEntriesVisited.addAndGet(visited);
        stats.zapPages.addAndGet(zapped);
        if (forceFlush) {
            tlb.flushMmu();
        }
        return addr;
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
            long next = addrEnd(addr, end, level);
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

    // ==========================================================================================
    // change_protection (mm/mprotect.c change_pte_range), used by mprotect

    /** Rewrites the protection of present PTEs in [start, end) of {@code vma}; returns pages changed. */
    long changeProtection(MmuGather tlb, VmArea vma, long start, long end) {
        long newProt = vma.pageProt();
        boolean tryWritable = (vma.flags & (VmArea.VM_WRITE | VmArea.VM_SHARED)) == VmArea.VM_WRITE;
        long[] pages = {0};
        changeLevel(tlb, vma, vma.mm.pgd << 12, ops.levels(), start, end, newProt, tryWritable, pages);
        return pages[0];
    }

    private void changeLevel(MmuGather tlb, VmArea vma, long table, int level, long addr, long end, long newProt,
            boolean tryWritable, long[] pages) {
        do {
            long next = addrEnd(addr, end, level);
            long ep = ops.entryAddr(table, addr, level);
            long e = ops.getLockless(ep);
            if (!PteBits.none(e) && !ops.tableBad(level, e)) {
                if (level == 2) {
                    PteMap pm = pteOffsetMapLock(vma.mm, ep, addr);
                    if (pm != null) {
                        try {
                            long ptep = pm.ptep();
                            for (long a = addr; a != next; a += 4096, ptep += 8) {
                                long old = ops.get(ptep);
                                if (!PteBits.present(old)) {
                                    continue;
                                }
                                long nw = PteBits.modify(old, newProt);
                                long page = vmNormalPage(old);
                                // MM_CP_TRY_CHANGE_WRITABLE: an exclusive anon page may become writable at once.
                                if (tryWritable && (nw & PteBits.PRESENT) != 0 && page >= 0
                                        && (frames.flags(page) & FrameTable.PG_ANON) != 0 && frames.refcount(page) == 1) {
                                    nw |= PteBits.RW;
                                }
                                if (nw != old) {
                                    ops.getAndClear(ptep);
                                    ops.set(ptep, nw);
                                    tlb.removeTlbEntry(a);
                                    pages[0]++;
                                }
                            }
                        } finally {
                            pm.unlock();
                        }
                    }
                } else {
                    changeLevel(tlb, vma, PteBits.pfn(e) << 12, level - 1, addr, next, newProt, tryWritable, pages);
                }
            }
            addr = next;
        } while (addr != end);
    }
}
