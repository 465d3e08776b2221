package org.mmulab.kernel.mm;

import static org.mmulab.kernel.mm.Mmap.*;

/**
 * madvise(2) after mm/madvise.c (Linux 6.x): do_madvise's argument checks (an unaligned start or a
 * length that wraps is EINVAL, an empty range 0) and madvise_walk_vmas, which applies the advice to
 * each VMA in [start, end) and reports ENOMEM for holes after doing the rest. {@code end} is an
 * unsigned long: a length of 2^63 reaches past every VMA and ends in ENOMEM, as in Linux.
 */
final class Madvise {
    private static final int ENOMEM = -12, EINVAL = -22, EACCES = -13;

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
        boolean write = madviseNeedMmapWrite(behavior);
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
    static boolean madviseNeedMmapWrite(int behavior) {
        switch (behavior) {
            case MADV_REMOVE, MADV_WILLNEED, MADV_DONTNEED, MADV_DONTNEED_LOCKED, MADV_COLD, MADV_PAGEOUT, MADV_FREE,
                    MADV_POPULATE_READ, MADV_POPULATE_WRITE, MADV_COLLAPSE:
                return false;
            default:
                return true;
        }
    }

    private int madviseVma(MmStruct mm, VmArea vma, long start, long end, int behavior) {
        int newFlags = vma.flags;
        switch (behavior) {
            case MADV_DONTNEED, MADV_DONTNEED_LOCKED, MADV_FREE -> {
                if ((vma.flags & (VmArea.VM_LOCKED | VmArea.VM_PFNMAP)) != 0 && behavior != MADV_DONTNEED_LOCKED) {
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
                MmuGather tlb = new MmuGather(mm);
                memory.unmapSingleVma(tlb, vma, start, end);
                tlb.finish();
                return 0; // hole punching in shmem arrives with truncate
            }
            case MADV_WILLNEED, MADV_COLD, MADV_PAGEOUT, MADV_COLLAPSE -> {
                return 0;
            }
            case MADV_POPULATE_READ, MADV_POPULATE_WRITE -> {
                if (!vma.accessible() || behavior == MADV_POPULATE_WRITE && (vma.flags & VmArea.VM_WRITE) == 0) {
                    return behavior == MADV_POPULATE_WRITE ? EINVAL : ENOMEM;
                }
                for (long a = start; a < end; a += PAGE_SIZE) {
                    if (memory.handleMmFault(vma, a, behavior == MADV_POPULATE_WRITE ? Memory.FAULT_FLAG_WRITE : 0)
                            == Memory.VM_FAULT_OOM) {
                        return ENOMEM;
                    }
                }
                return 0;
            }
            case MADV_NORMAL -> newFlags &= ~(VmArea.VM_RAND_READ | VmArea.VM_SEQ_READ);
            case MADV_RANDOM -> newFlags = (newFlags & ~VmArea.VM_SEQ_READ) | VmArea.VM_RAND_READ;
            case MADV_SEQUENTIAL -> newFlags = (newFlags & ~VmArea.VM_RAND_READ) | VmArea.VM_SEQ_READ;
            case MADV_DONTFORK -> newFlags |= VmArea.VM_DONTCOPY;
            case MADV_DOFORK -> newFlags &= ~VmArea.VM_DONTCOPY;
            case MADV_DONTDUMP -> newFlags |= VmArea.VM_DONTDUMP;
            case MADV_DODUMP -> newFlags &= ~VmArea.VM_DONTDUMP;
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
            VmArea v = mmap.isolate(mm, vma, start, end);
            v.flags = newFlags;
            long s = v.start;
            mmap.mergeAround(mm, v.end);
            mmap.mergeAround(mm, s);
        }
        return 0;
    }
}
