package org.mmulab.kernel.mm;

import java.util.List;

/**
 * The address-space operations of mm/mmap.c and mm/vma.c (Linux 6.x),
 * with x86's mmap_base from arch/x86/mm/mmap.c: do_mmap (placement by get_unmapped_area in
 * {@link UnmappedArea}; MAP_FIXED_NOREPLACE, MAP_POPULATE, MAP_LOCKED against RLIMIT_MEMLOCK,
 * MAP_STACK as VM_NOHUGEPAGE, MAP_GROWSDOWN for private anonymous memory only), munmap (split, detach,
 * unmap_region), brk, mprotect and madvise (entry points; {@link Mprotect} and {@link Madvise} hold
 * mm/mprotect.c and mm/madvise.c), expand_stack; VMA split and merge are {@link VmaSplitMerge} (mm/vma.c).
 * All return a value or a negative errno, never throw for bad input.
 * Callers need not hold the mmap lock; these take it for writing (madvise DONTNEED too, for simplicity).
 */
public final class Mmap {
    public static final int PROT_NONE = 0, PROT_READ = 1, PROT_WRITE = 2, PROT_EXEC = 4, PROT_SEM = 8,
            PROT_GROWSDOWN = 0x01000000, PROT_GROWSUP = 0x02000000;
    public static final int MAP_SHARED = 1, MAP_PRIVATE = 2, MAP_SHARED_VALIDATE = 3, MAP_TYPE = 0xf,
            MAP_FIXED = 0x10, MAP_ANONYMOUS = 0x20, MAP_32BIT = 0x40, MAP_GROWSDOWN = 0x100, MAP_DENYWRITE = 0x800,
            MAP_EXECUTABLE = 0x1000, MAP_LOCKED = 0x2000, MAP_NORESERVE = 0x4000, MAP_POPULATE = 0x8000,
            MAP_NONBLOCK = 0x10000, MAP_STACK = 0x20000, MAP_HUGETLB = 0x40000, MAP_SYNC = 0x80000,
            MAP_FIXED_NOREPLACE = 0x100000, MAP_UNINITIALIZED = 0x4000000;
    /** Flags MAP_SHARED_VALIDATE accepts (LEGACY_MAP_MASK plus MAP_SYNC for DAX only). */
    static final int LEGACY_MAP_MASK = MAP_SHARED | MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS | MAP_DENYWRITE
            | MAP_EXECUTABLE | MAP_UNINITIALIZED | MAP_GROWSDOWN | MAP_LOCKED | MAP_NORESERVE | MAP_POPULATE
            | MAP_NONBLOCK | MAP_STACK | MAP_HUGETLB | MAP_32BIT | (0x3f << 26);

    public static final int MADV_NORMAL = 0, MADV_RANDOM = 1, MADV_SEQUENTIAL = 2, MADV_WILLNEED = 3,
            MADV_DONTNEED = 4, MADV_FREE = 8, MADV_REMOVE = 9, MADV_DONTFORK = 10, MADV_DOFORK = 11,
            MADV_MERGEABLE = 12, MADV_UNMERGEABLE = 13, MADV_HUGEPAGE = 14, MADV_NOHUGEPAGE = 15,
            MADV_DONTDUMP = 16, MADV_DODUMP = 17, MADV_WIPEONFORK = 18, MADV_KEEPONFORK = 19, MADV_COLD = 20,
            MADV_PAGEOUT = 21, MADV_POPULATE_READ = 22, MADV_POPULATE_WRITE = 23, MADV_DONTNEED_LOCKED = 24,
            MADV_COLLAPSE = 25;

    public static final long PAGE_SIZE = 4096, PMD_SIZE = 1L << 21;
    /** mmap_min_addr (CONFIG_DEFAULT_MMAP_MIN_ADDR on x86 distributions). */
    public static final long MMAP_MIN_ADDR = 65536;
    /** stack_guard_gap: 256 pages. */
    public static final long STACK_GUARD_GAP = 256 * PAGE_SIZE;
    static final long SIZE_128M = 128L << 20;

    private static final int ENOMEM = -12, EINVAL = -22, EEXIST = -17, EACCES = -13, EOVERFLOW = -75,
            EOPNOTSUPP = -95, EPERM = -1, EAGAIN = -11;

    private final Memory memory;
    private final Mprotect mprotect;
    private final Madvise madvise;
    private final Mremap mremap;
    private final Mlock mlock;
    private final Mincore mincore;
    private final Gup gup;
    /** mm/vma.c's split and merge ({@link VmaSplitMerge}). */
    final VmaSplitMerge vmaOps;

    public Mmap(Memory memory) {
        this.memory = memory;
        this.vmaOps = new VmaSplitMerge(memory);
        this.mprotect = new Mprotect(this, memory);
        this.madvise = new Madvise(this, memory);
        this.mremap = new Mremap(this, memory);
        this.mlock = new Mlock(this);
        this.mincore = new Mincore(memory);
        this.gup = new Gup(memory);
    }

    /** mm/mremap.c ({@link Mremap}), mm/mlock.c ({@link Mlock}), mm/mincore.c, mm/gup.c. */
    public Mremap mremapOps() {
        return mremap;
    }

    public long mremap(MmStruct mm, long addr, long oldLen, long newLen, int flags, long newAddr) {
        return mremap.mremap(mm, addr, oldLen, newLen, flags, newAddr);
    }

    public Mlock mlockOps() {
        return mlock;
    }

    public Mincore mincoreOps() {
        return mincore;
    }

    public Gup gup() {
        return gup;
    }

    /** IS_ERR_VALUE: the top 4095 values of an unsigned long are -errno, everything else an address. */
    static boolean isErr(long v) {
        return Long.compareUnsigned(v, -4095L) >= 0;
    }

    static long pageAlign(long v) {
        return (v + PAGE_SIZE - 1) & -PAGE_SIZE;
    }

    /** mmap_base (arch/x86/mm/mmap.c) without randomization: TASK_SIZE - clamp(rlimit + guard gap). */
    public static long mmapBase(long taskSize, long stackRlimit) {
        long gap = stackRlimit;
        long pad = STACK_GUARD_GAP; // stack_maxrandom_size() is 0 without PF_RANDOMIZE
        if (gap + pad > gap) {
            gap += pad;
        }
        long gapMin = SIZE_128M;
        long gapMax = (taskSize / 6) * 5;
        if (gap < gapMin) {
            gap = gapMin;
        } else if (gap > gapMax) {
            gap = gapMax;
        }
        return pageAlign(taskSize - gap);
    }

    /** calc_vm_prot_bits | calc_vm_flag_bits. */
    /** doMmapLocked's extraVmFlags bit (no VM_* flag uses bit 31): the file is not open for writing. */

    static int vmFlags(int prot, int flags) {
        int vf = 0;
        if ((prot & PROT_READ) != 0) {
            vf |= VmArea.VM_READ;
        }
        if ((prot & PROT_WRITE) != 0) {
            vf |= VmArea.VM_WRITE;
        }
        if ((prot & PROT_EXEC) != 0) {
            vf |= VmArea.VM_EXEC;
        }
        if ((flags & MAP_GROWSDOWN) != 0) {
            vf |= VmArea.VM_GROWSDOWN;
        }
        if ((flags & MAP_LOCKED) != 0) {
            vf |= VmArea.VM_LOCKED;
        }
        if ((flags & MAP_STACK) != 0) {
            vf |= VmArea.VM_NOHUGEPAGE; // 6.7+: a thread stack is never backed by THPs
        }
        return vf;
    }

    // get_unmapped_area: {@link UnmappedArea}

    // ==========================================================================================
    // do_mmap / mmap_region

    /**
     * do_mmap for anonymous (file == null; MAP_SHARED gets a new shmem object) or file-backed
     * mappings. Returns the address or -errno. {@code name} labels the VMA ("[stack]", "[heap]").
     */
    public long doMmap(MmStruct mm, AddressSpace file, long addr, long len, int prot, int flags, long pgoff,
            String name) {
        return doMmap(mm, file, addr, len, prot, flags, pgoff, name, 0);
    }

    /**
     * do_mmap with VM flags the file's checks take away ({@code clearVmFlags}, applied last: VM_MAYWRITE
     * for a shared mapping of a write-sealed memfd, memfd_check_seals_mmap; VM_MAYWRITE|VM_SHARED for a
     * shared mapping of a file not open for writing, do_mmap's "!(file->f_mode & FMODE_WRITE)" — a later
     * mprotect(PROT_WRITE) is EACCES).
     */
    public long doMmap(MmStruct mm, AddressSpace file, long addr, long len, int prot, int flags, long pgoff,
            String name, int clearVmFlags) {
        mm.mmapLock.downWrite();
        try {
            return doMmapLocked(mm, file, addr, len, prot, flags, pgoff, name, 0, clearVmFlags, null);
        } finally {
            mm.mmapLock.upWrite();
        }
    }

    /**
     * do_mmap of a character device whose f_op->mmap is {@code driver} (a driver calling remap_pfn_range
     * or vm_insert_page, {@link PfnMap}): the VMA maps no object (no page cache, no shmem even when
     * shared; vm_pgoff is the device offset) and is filled by {@code driver} with the mmap write lock
     * held before mmap returns; its 0 or -errno (the VMA is unmapped again on an error). Such a VMA never
     * merges with a neighbour (VM_SPECIAL).
     */
    public long mmapDriver(MmStruct mm, long addr, long len, int prot, int flags, long pgoff,
            java.util.function.ToIntFunction<VmArea> driver) {
        mm.mmapLock.downWrite();
        try {
            return doMmapLocked(mm, null, addr, len, prot, flags & ~MAP_POPULATE, pgoff, null, VmArea.VM_DONTEXPAND, 0,
                    driver);
        } finally {
            mm.mmapLock.upWrite();
        }
    }

    long doMmapLocked(MmStruct mm, AddressSpace file, long addr, long len, int prot, int flags, long pgoff,
            String name, int extraVmFlags, int clearVmFlags, java.util.function.ToIntFunction<VmArea> driver) {
        if (len == 0) {
            return EINVAL;
        }
        if ((flags & MAP_FIXED_NOREPLACE) != 0) {
            flags |= MAP_FIXED;
        }
        if ((flags & MAP_FIXED) == 0) {
            // round_hint_to_min
            addr &= -PAGE_SIZE;
            if (addr != 0 && Long.compareUnsigned(addr, MMAP_MIN_ADDR) < 0) {
                addr = pageAlign(MMAP_MIN_ADDR);
            }
        }
        long plen = pageAlign(len);
        if (plen == 0 || Long.compareUnsigned(len, plen) > 0) {
            return ENOMEM;
        }
        len = plen;
        if (Long.compareUnsigned(pgoff + (len >>> 12), pgoff) < 0) {
            return EOVERFLOW;
        }
        if (mm.mapCount() > 65530) {
            return ENOMEM;
        }
        int type = flags & MAP_TYPE;
        boolean shared;
        switch (type) {
            case MAP_SHARED_VALIDATE:
                if ((flags & ~LEGACY_MAP_MASK) != 0) {
                    return EOPNOTSUPP;
                }
                shared = true;
                break;
            case MAP_SHARED:
                shared = true;
                break;
            case MAP_PRIVATE:
                shared = false;
                break;
            default:
                return EINVAL;
        }
        if ((flags & MAP_HUGETLB) != 0 && file == null) {
            return ENOMEM; // no hugetlb pages reserved (vm.nr_hugepages = 0)
        }
        long a = UnmappedArea.getUnmappedArea(mm, file != null, addr, len, pgoff, flags);
        if (isErr(a)) {
            return a;
        }
        addr = a;
        if ((flags & MAP_FIXED_NOREPLACE) != 0 && mm.findVmaIntersection(addr, addr + len) != null) {
            return EEXIST;
        }
        int vmFlags = vmFlags(prot, flags) | mm.defFlags | VmArea.VM_MAYREAD | VmArea.VM_MAYWRITE | VmArea.VM_MAYEXEC
                | extraVmFlags;
        if (!Mlock.mlockFutureOk(mm, vmFlags, len)) {
            return EAGAIN; // MAP_LOCKED (or mlockall(MCL_FUTURE)) past RLIMIT_MEMLOCK
        }
        if ((vmFlags & VmArea.VM_GROWSDOWN) != 0 && (file != null || shared)) {
            return EINVAL; // only private anonymous memory grows down
        }
        if (shared) {
            vmFlags |= VmArea.VM_SHARED | VmArea.VM_MAYSHARE;
        }
        vmFlags &= ~clearVmFlags;
        if ((flags & MAP_NORESERVE) != 0) {
            vmFlags |= VmArea.VM_NORESERVE; // honoured: overcommit mode 0 is not OVERCOMMIT_NEVER
        }
        long r = mmapRegion(mm, file, addr, len, vmFlags, pgoff, name, driver);
        if (!isErr(r) && ((flags & MAP_POPULATE) != 0 && (flags & MAP_NONBLOCK) == 0
                || (vmFlags & (VmArea.VM_LOCKED | VmArea.VM_LOCKONFAULT)) == VmArea.VM_LOCKED)) {
            populate(mm, addr, addr + len);
        }
        return r;
    }

    private long mmapRegion(MmStruct mm, AddressSpace file, long addr, long len, int vmFlags, long pgoff,
            String name, java.util.function.ToIntFunction<VmArea> driver) {
        long end = addr + len;
        // Private writable mappings are charged against overcommit (VM_ACCOUNT), less what the
        // mappings being replaced were charged already.
        if (Overcommit.accountableMapping(vmFlags)) {
            if (!Overcommit.vmEnoughMemory(memory.frames(), Overcommit.chargeForRegion(mm, addr, end))) {
                return ENOMEM;
            }
            vmFlags |= VmArea.VM_ACCOUNT;
        }
        // shmem_zero_setup -> shmem_acct_size: shared anonymous memory is charged unless MAP_NORESERVE.
        if (file == null && (vmFlags & (VmArea.VM_SHARED | VmArea.VM_NORESERVE)) == VmArea.VM_SHARED
                && !Overcommit.vmEnoughMemory(memory.frames(), len >>> 12)) {
            return ENOMEM;
        }
        // Unmap whatever is there (MAP_FIXED).
        doMunmapLocked(mm, addr, len);
        if (driver != null) {
            VmArea v = new VmArea(mm, addr, end, vmFlags | VmArea.VM_SOFTDIRTY, pgoff, null);
            mm.insertVma(addr, v);
            mm.totalVm += len >>> 12;
            int r = driver.applyAsInt(v); // call_mmap: the driver fills the VMA (no merging: VM_SPECIAL)
            if (r < 0) {
                doMunmapLocked(mm, addr, len);
                return r;
            }
            return addr;
        }
        if (file == null) {
            if ((vmFlags & VmArea.VM_SHARED) != 0) {
                file = AddressSpace.shmem(memory.frames()); // shmem_zero_setup: the VMA owns the reference
                pgoff = 0;
            } else {
                pgoff = addr >>> 12;
            }
        } else {
            file.acquire();
        }
        // New (or expanded) VMAs are soft-dirty: a range unmapped and mapped again must read as written.
        VmArea v = new VmArea(mm, addr, end, vmFlags | VmArea.VM_SOFTDIRTY, pgoff, file);
        v.name = name;
        mm.insertVma(addr, v);
        if (file != null) {
            file.iMmap.linkVma(v); // vma_link_file
        }
        mm.totalVm += len >>> 12;
        vmaOps.mergeAround(mm, addr);
        vmaOps.mergeAround(mm, end);
        return addr;
    }

    /** mm_populate after the mmap write lock was dropped: takes the read lock around {@link #populate}. */
    void populateUnlocked(MmStruct mm, long start, long end) {
        mm.mmapLock.downRead();
        try {
            populate(mm, start, end);
        } finally {
            mm.mmapLock.upRead();
        }
    }

    /** MAP_POPULATE / mm_populate: fault every page in (write for private writable mappings). */
    public void populate(MmStruct mm, long start, long end) {
        for (VmArea v : mm.vmasIn(start, end)) {
            if (!v.accessible() || (v.flags & (VmArea.VM_IO | VmArea.VM_PFNMAP)) != 0) {
                continue;
            }
            int ff = (v.flags & (VmArea.VM_WRITE | VmArea.VM_SHARED)) == VmArea.VM_WRITE ? Memory.FAULT_FLAG_WRITE : 0;
            long e = Long.compareUnsigned(v.end, end) < 0 ? v.end : end;
            for (long a = Math.max(v.start, start); a < e; a += PAGE_SIZE) {
                if (memory.handleMmFault(v, a, ff) == Memory.VM_FAULT_OOM) {
                    return;
                }
            }
        }
    }

    // ==========================================================================================
    // munmap (do_vmi_munmap, unmap_region)

    public int doMunmap(MmStruct mm, long start, long len) {
        // do_vmi_munmap: start and len are unsigned longs
        if ((start & (PAGE_SIZE - 1)) != 0 || Long.compareUnsigned(start, mm.taskSize) > 0
                || Long.compareUnsigned(len, mm.taskSize - start) > 0) {
            return EINVAL;
        }
        len = pageAlign(len);
        if (len == 0) {
            return EINVAL;
        }
        mm.mmapLock.downWrite();
        try {
            return doMunmapLocked(mm, start, len);
        } finally {
            mm.mmapLock.upWrite();
        }
    }

    int doMunmapLocked(MmStruct mm, long start, long len) {
        long end = start + len;
        List<VmArea> list = mm.vmasIn(start, end);
        if (list.isEmpty()) {
            return 0;
        }
        VmArea first = list.get(0);
        if (first.start < start) {
            VmArea tail = vmaOps.splitVma(mm, first, start);
            list.set(0, tail);
        }
        VmArea last = list.get(list.size() - 1);
        if (last.end > end) {
            vmaOps.splitVma(mm, last, end);
        }
        VmArea lo = list.get(0);
        VmArea hi = list.get(list.size() - 1);
        VmArea prev = mm.prevVma(lo);
        VmArea next = mm.nextVma(hi);
        mm.updateHiwaterVm();
        for (VmArea v : list) {
            mm.removeVma(v.start);
            mm.totalVm -= v.pages();
        }
        // unmap_region: zap the PTEs, free the page tables nobody else needs, flush, free the frames.
        MmuGather tlb = new MmuGather(mm);
        mm.updateHiwaterRss();
        for (VmArea v : list) {
            memory.unmapSingleVma(tlb, v, v.start, v.end);
        }
        for (VmArea v : list) {
            if (v.file != null) {
                v.file.iMmap.unlinkVma(v); // free_pgtables' unlink_file_vma: before the tables go
            }
        }
        memory.freePgdRange(tlb, lo.start, hi.end, prev == null ? 0 : prev.end, next == null ? 0 : next.start);
        tlb.finish();
        for (VmArea v : list) {
            if (v.file != null) {
                v.file.releaseUser();
            }
        }
        return 0;
    }

    // ==========================================================================================
    // brk (mm/mmap.c SYSCALL_DEFINE1(brk))

    public long brk(MmStruct mm, long brk) {
        mm.mmapLock.downWrite();
        try {
            long origbrk = mm.brk;
            if (Long.compareUnsigned(brk, mm.startBrk) < 0) {
                return origbrk;
            }
            long newbrk = pageAlign(brk);
            long oldbrk = pageAlign(mm.brk);
            if (oldbrk == newbrk) {
                mm.brk = brk;
                return brk;
            }
            if (Long.compareUnsigned(brk, mm.brk) <= 0) {
                VmArea brkvma = mm.findVma(newbrk);
                if (brkvma == null || brkvma.start >= oldbrk) {
                    return origbrk;
                }
                mm.brk = brk;
                doMunmapLocked(mm, newbrk, oldbrk - newbrk);
                return brk;
            }
            VmArea next = mm.findVma(oldbrk);
            if (next != null && newbrk + PAGE_SIZE > UnmappedArea.startGap(next)) {
                return origbrk;
            }
            // do_brk_flags: charge the growth (security_vm_enough_memory_mm), then expand the brk VMA
            // ending at oldbrk, or create it.
            if (!Overcommit.vmEnoughMemory(memory.frames(), (newbrk - oldbrk) >>> 12)) {
                return origbrk;
            }
            VmArea brkvma = mm.vmaLookup(oldbrk - 1);
            if (brkvma != null && brkvma.start >= mm.startBrk && brkvma.end == oldbrk && brkvma.file == null
                    && "[heap]".equals(brkvma.name)) {
                brkvma.end = newbrk;
                brkvma.flags |= VmArea.VM_SOFTDIRTY;
            } else {
                VmArea v = new VmArea(mm, oldbrk, newbrk, VmArea.VM_READ | VmArea.VM_WRITE | VmArea.VM_MAYREAD
                        | VmArea.VM_MAYWRITE | VmArea.VM_MAYEXEC | VmArea.VM_SOFTDIRTY, oldbrk >>> 12, null);
                v.name = "[heap]";
                mm.insertVma(oldbrk, v);
            }
            mm.totalVm += (newbrk - oldbrk) >>> 12;
            mm.brk = brk;
            return brk;
        } finally {
            mm.mmapLock.upWrite();
        }
    }

    /**
     * vm_brk_flags (mm/mmap.c, Linux 6.x): an anonymous private mapping at a fixed address (ELF bss).
     * check_brk_limits first (the range must fit below TASK_SIZE: get_unmapped_area with MAP_FIXED), then,
     * as Linux does, whatever is mapped in the range is unmapped (do_vmi_munmap) before do_brk_flags maps
     * it: a bss that runs into a segment loaded earlier replaces that part of it. Returns 0 or -errno.
     */
    public long vmBrkFlags(MmStruct mm, long addr, long request, int vmExtra) {
        long len = pageAlign(request);
        if (Long.compareUnsigned(len, request) < 0) {
            return ENOMEM;
        }
        if (len == 0) {
            return 0;
        }
        if (Long.compareUnsigned(len, mm.taskSize) > 0 || Long.compareUnsigned(addr, mm.taskSize - len) > 0) {
            return ENOMEM;
        }
        mm.mmapLock.downWrite();
        try {
            doMunmapLocked(mm, addr, len);
            VmArea v = new VmArea(mm, addr, addr + len, VmArea.VM_READ | VmArea.VM_WRITE | VmArea.VM_MAYREAD
                    | VmArea.VM_MAYWRITE | VmArea.VM_MAYEXEC | VmArea.VM_SOFTDIRTY | vmExtra, addr >>> 12, null);
            mm.insertVma(addr, v);
            mm.totalVm += len >>> 12;
            vmaOps.mergeAround(mm, addr);
            vmaOps.mergeAround(mm, addr + len);
            return 0;
        } finally {
            mm.mmapLock.upWrite();
        }
    }

    // ==========================================================================================
    // mprotect and madvise: mm/mprotect.c and mm/madvise.c live in {@link Mprotect} and {@link Madvise}

    public int mprotect(MmStruct mm, long start, long len, int prot) {
        return mprotect.doMprotect(mm, start, len, prot);
    }

    public int madvise(MmStruct mm, long start, long lenIn, int behavior) {
        return madvise.doMadvise(mm, start, lenIn, behavior);
    }

    // ==========================================================================================
    // expand_stack (mm/mmap.c expand_downwards)

    /** Grows a VM_GROWSDOWN vma down to cover {@code address}; 0 or -errno. Caller holds the mmap lock. */
    public int expandStack(MmStruct mm, VmArea vma, long address) {
        address &= -PAGE_SIZE;
        if (address < MMAP_MIN_ADDR) {
            return EPERM;
        }
        if ((vma.flags & VmArea.VM_GROWSDOWN) == 0) {
            return EINVAL;
        }
        VmArea prev = mm.prevVma(vma);
        if (prev != null && (prev.flags & VmArea.VM_GROWSDOWN) == 0 && prev.accessible()
                && address - prev.end < STACK_GUARD_GAP) {
            return ENOMEM;
        }
        if (address >= vma.start) {
            return 0;
        }
        long size = vma.end - address;
        if (size > mm.stackRlimit) {
            return ENOMEM;
        }
        long grow = (vma.start - address) >>> 12;
        mm.removeVma(vma.start);
        vma.start = address;
        vma.pgoff -= grow;
        mm.insertVma(address, vma);
        mm.totalVm += grow;
        return 0;
    }

    /** Creates the initial stack VMA [start, end) (setup_arg_pages). */
    public void setupStackVma(MmStruct mm, long start, long end) {
        mm.mmapLock.downWrite();
        try {
            VmArea v = new VmArea(mm, start, end, VmArea.VM_READ | VmArea.VM_WRITE | VmArea.VM_MAYREAD
                    | VmArea.VM_MAYWRITE | VmArea.VM_MAYEXEC | VmArea.VM_GROWSDOWN | VmArea.VM_SOFTDIRTY, start >>> 12, null);
            v.name = "[stack]";
            mm.insertVma(start, v);
            mm.totalVm += (end - start) >>> 12;
        } finally {
            mm.mmapLock.upWrite();
        }
    }
}
