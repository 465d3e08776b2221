package org.mmulab.kernel.mm;

import static org.mmulab.kernel.mm.Mmap.*;

/**
 * madvise(2) after mm/madvise.c (Linux 6.6): do_madvise's argument checks (an unaligned start or a
 * length that wraps is EINVAL, an empty range 0) and madvise_walk_vmas, which applies the advice to
 * each VMA in [start, end) and reports ENOMEM for holes after doing the rest. {@code end} is an
 * unsigned long: a length of 2^63 reaches past every VMA and ends in ENOMEM, as in Linux.
 * The lock is madvise_need_mmap_write's: advice that only zaps or faults (DONTNEED, FREE, REMOVE,
 * WILLNEED, COLD, PAGEOUT, POPULATE_*, COLLAPSE) runs under the mmap read lock, concurrently with faults
 * and GUP, as in Linux; advice that changes vm_flags takes it for writing.
 *
 * <ul>
 * <li>DONTNEED zaps the PTEs (a later fault gives zeroes, or the object's data); not on VM_PFNMAP or,
 *     except DONTNEED_LOCKED, VM_LOCKED (EINVAL). FREE (anonymous only) is lazy freeing with the
 *     reclaim done at once: the pages go now, which is one of the outcomes Linux allows.</li>
 * <li>REMOVE punches the shmem backing (shmem_fallocate PUNCH_HOLE): shared writable mappings only
 *     (EACCES), not VM_LOCKED or anonymous (EINVAL).</li>
 * <li>POPULATE_READ/WRITE (madvise_populate, faultin_vma_page_range): a hole is ENOMEM at once, an
 *     incompatible mapping or missing permission (PROT_NONE, a write to a read-only mapping,
 *     VM_PFNMAP/VM_IO) EINVAL, a fault that would signal (SIGBUS past EOF) EFAULT.</li>
 * <li>DONTFORK/DOFORK (VM_DONTCOPY; EINVAL on VM_IO), WIPEONFORK/KEEPONFORK (private anonymous only;
 *     {@link Fork} honours both), DONTDUMP/DODUMP, HUGEPAGE/NOHUGEPAGE are recorded in vm_flags;
 *     HUGEPAGE also puts the mm on khugepaged's list; COLLAPSE is {@link Khugepaged#madviseCollapse}.</li>
 * </ul>
 */
final class Madvise {
    private static final int ENOMEM = -12, EINVAL = -22, EACCES = -13, EFAULT = -14, EOPNOTSUPP = -95;

    private final Mmap mmap;
    private final Memory memory;

    Madvise(Mmap mmap, Memory memory) {
        this.mmap = mmap;
        this.memory = memory;
    }

    static boolean madviseBehaviorValid(int behavior) {
        switch (behavior) {
            case MADV_DOFORK, MADV_DONTFORK, MADV_NORMAL, MADV_SEQUENTIAL, MADV_RANDOM, MADV_REMOVE, MADV_WILLNEED,
                    MADV_DONTNEED, MADV_DONTNEED_LOCKED, MADV_FREE, MADV_COLD, MADV_PAGEOUT, MADV_POPULATE_READ,
                    MADV_POPULATE_WRITE, MADV_HUGEPAGE, MADV_NOHUGEPAGE, MADV_COLLAPSE, MADV_DONTDUMP, MADV_DODUMP,
                    MADV_WIPEONFORK, MADV_KEEPONFORK:
                return true;
            default:
                return false;
        }
    }

    int doMadvise(MmStruct mm, long start, long lenIn, int behavior) {
        if (!madviseBehaviorValid(behavior)) {
            return EINVAL;
        }
        if ((start & (PAGE_SIZE - 1)) != 0) {
            return EINVAL;
        }
        long len = pageAlign(lenIn);
        if (lenIn != 0 && len == 0) {
            return EINVAL;
        }
        long end = start + len;
        if (Long.compareUnsigned(end, start) < 0) {
            return EINVAL;
        }
        if (end == start) {
            return 0;
        }
        if (behavior == MADV_COLLAPSE) {
            return memory.khugepaged.madviseCollapse(mm, start, end); // drops and retakes the mmap lock
        }
        if (behavior == MADV_POPULATE_READ || behavior == MADV_POPULATE_WRITE) {
            mm.mmapLock.downRead();
            try {
                return madvisePopulate(mm, start, end, behavior == MADV_POPULATE_WRITE);
            } finally {
                mm.mmapLock.upRead();
            }
        }
        boolean write = needMmapWrite(behavior);
        if (write) {
            mm.mmapLock.downWrite();
        } else {
            mm.mmapLock.downRead();
        }
        try {
            int unmappedError = 0;
            long a = start;
            while (Long.compareUnsigned(a, end) < 0) {
                VmArea vma = mm.findVma(a);
                if (vma == null || Long.compareUnsigned(vma.start, end) >= 0) {
                    unmappedError = ENOMEM;
                    break;
                }
                if (vma.start > a) {
                    unmappedError = ENOMEM;
                    a = vma.start;
                }
                long tmp = Long.compareUnsigned(vma.end, end) < 0 ? vma.end : end;
                int r = madviseVma(mm, vma, a, tmp, behavior);
                if (r < 0) {
                    return r;
                }
                a = tmp;
            }
            return unmappedError;
        } finally {
            if (write) {
                mm.mmapLock.upWrite();
            } else {
                mm.mmapLock.upRead();
            }
        }
    }

    /**
     * madvise_need_mmap_write: advice that only zaps or populates PTEs runs under the mmap read lock,
     * concurrently with faults and with each other (two MADV_DONTNEEDs of one range: the nested flush
     * of {@link MmuGather#finish}); advice that changes VMA flags splits VMAs and needs the write lock.
     */
    static boolean needMmapWrite(int behavior) {
        return switch (behavior) {
            case MADV_REMOVE, MADV_WILLNEED, MADV_DONTNEED, MADV_DONTNEED_LOCKED, MADV_COLD, MADV_PAGEOUT, MADV_FREE,
                    MADV_POPULATE_READ, MADV_POPULATE_WRITE, MADV_COLLAPSE -> false;
            default -> true;
        };
    }

    /** madvise_populate: fault in [start, end) VMA by VMA through GUP's checks; mmap read lock held. */
    private int madvisePopulate(MmStruct mm, long start, long end, boolean write) {
        int gupFlags = Gup.FOLL_TOUCH | (write ? Gup.FOLL_WRITE : 0);
        while (Long.compareUnsigned(start, end) < 0) {
            VmArea vma = mm.vmaLookup(start);
            if (vma == null) {
                return ENOMEM;
            }
            // faultin_vma_page_range: permission problems and incompatible mappings are EINVAL
            if (Gup.checkVmaFlags(vma, gupFlags) != 0) {
                return EINVAL;
            }
            long tmpEnd = Long.compareUnsigned(end, vma.end) < 0 ? end : vma.end;
            while (start < tmpEnd) {
                // __get_user_pages: fault and follow (under the PTE lock) until each page is there
                long n = mmap.gup().getUserPages(mm, start, (int) Math.min((tmpEnd - start) >>> 12, 1 << 20), gupFlags,
                        null);
                if (n < 0) {
                    return n == EFAULT ? EFAULT : ENOMEM; // EFAULT: VM_FAULT_SIGBUS or VM_FAULT_SIGSEGV
                }
                start += n << 12;
            }
        }
        return 0;
    }

    private int madviseVma(MmStruct mm, VmArea vma, long start, long end, int behavior) {
        int newFlags = vma.flags;
        switch (behavior) {
            case MADV_DONTNEED, MADV_DONTNEED_LOCKED, MADV_FREE -> {
                // madvise_dontneed_free_valid_vma
                int forbidden = VmArea.VM_PFNMAP | (behavior != MADV_DONTNEED_LOCKED ? VmArea.VM_LOCKED : 0);
                if ((vma.flags & forbidden) != 0) {
                    return EINVAL;
                }
                if (behavior == MADV_FREE && !vma.isAnonymous()) {
                    return EINVAL;
                }
                // zap_page_range_single: the PTEs go, the page tables stay.
                MmuGather tlb = new MmuGather(mm);
                mm.updateHiwaterRss();
                memory.unmapSingleVma(tlb, vma, start, end);
                tlb.finish();
                return 0;
            }
            case MADV_REMOVE -> {
                if ((vma.flags & VmArea.VM_LOCKED) != 0 || vma.file == null) {
                    return EINVAL;
                }
                if ((vma.flags & (VmArea.VM_SHARED | VmArea.VM_MAYWRITE)) != (VmArea.VM_SHARED | VmArea.VM_MAYWRITE)) {
                    return EACCES;
                }
                if (!vma.file.isShmem()) {
                    return EOPNOTSUPP; // vfs_fallocate: only tmpfs/shmem punch holes here
                }
                // vfs_fallocate(PUNCH_HOLE | KEEP_SIZE): every mapping of the range, in every mm, goes
                return (int) Math.min(0, Truncate.punchHole(memory, vma.file, vma.pageIndex(start), vma.pageIndex(end)));
            }
            case MADV_WILLNEED -> {
                // madvise_willneed: vfs_fadvise(WILLNEED) reads the file's pages into its cache; anonymous
                // and shmem memory have no swap to read back here
                if (vma.file != null && !vma.file.isShmem()) {
                    vma.file.readahead(vma.pageIndex(start), vma.pageIndex(end));
                }
                return 0;
            }
            case MADV_COLD, MADV_PAGEOUT -> {
                return 0; // no swap to write to: nothing to reclaim
            }
            case MADV_NORMAL -> newFlags &= ~(VmArea.VM_RAND_READ | VmArea.VM_SEQ_READ);
            case MADV_RANDOM -> newFlags = (newFlags & ~VmArea.VM_SEQ_READ) | VmArea.VM_RAND_READ;
            case MADV_SEQUENTIAL -> newFlags = (newFlags & ~VmArea.VM_RAND_READ) | VmArea.VM_SEQ_READ;
            case MADV_DONTFORK, MADV_DOFORK -> {
                if ((vma.flags & VmArea.VM_IO) != 0) {
                    return EINVAL;
                }
                newFlags = behavior == MADV_DONTFORK ? newFlags | VmArea.VM_DONTCOPY : newFlags & ~VmArea.VM_DONTCOPY;
            }
            case MADV_DONTDUMP -> newFlags |= VmArea.VM_DONTDUMP;
            case MADV_DODUMP -> {
                if ((vma.flags & VmArea.VM_SPECIAL) != 0) {
                    return EINVAL;
                }
                newFlags &= ~VmArea.VM_DONTDUMP;
            }
            case MADV_WIPEONFORK -> {
                if (!vma.isAnonymous() || (vma.flags & VmArea.VM_SHARED) != 0) {
                    return EINVAL;
                }
                newFlags |= VmArea.VM_WIPEONFORK;
            }
            case MADV_KEEPONFORK -> newFlags &= ~VmArea.VM_WIPEONFORK;
            case MADV_HUGEPAGE -> newFlags = (newFlags & ~VmArea.VM_NOHUGEPAGE) | VmArea.VM_HUGEPAGE;
            case MADV_NOHUGEPAGE -> newFlags = (newFlags & ~VmArea.VM_HUGEPAGE) | VmArea.VM_NOHUGEPAGE;
            default -> {
                return 0;
            }
        }
        if (newFlags != vma.flags) {
            VmArea v = mmap.vmaOps.isolate(mm, vma, start, end);
            v.flags = newFlags;
            if (behavior == MADV_HUGEPAGE) {
                memory.khugepaged.enterVma(v); // khugepaged_enter_vma
            }
            long s = v.start;
            mmap.vmaOps.mergeAround(mm, v.end);
            mmap.vmaOps.mergeAround(mm, s);
        }
        return 0;
    }
}
