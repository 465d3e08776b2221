package org.mmulab.kernel.mm;

import static org.mmulab.kernel.mm.Mmap.PAGE_SIZE;
import static org.mmulab.kernel.mm.Mmap.pageAlign;

/**
 * mlock(2), munlock(2), mlock2(2), mlockall(2), munlockall(2) after mm/mlock.c (Linux 6.6), as
 * accounting: VM_LOCKED / VM_LOCKONFAULT on the VMAs (split and merged as mlock_fixup does), the pages
 * faulted in as __mm_populate does, and {@code locked_vm} checked against RLIMIT_MEMLOCK
 * ({@link MmStruct#memlockRlimit}; guests have no CAP_IPC_LOCK). mmulab never reclaims anonymous
 * memory (there is no swap), so "locked" changes nothing else. {@code locked_vm} is the sum of the
 * VM_LOCKED VMAs' pages, which is what Linux's counter holds (VM_SPECIAL VMAs never get the flag).
 */
public final class Mlock {
    public static final int MCL_CURRENT = 1, MCL_FUTURE = 2, MCL_ONFAULT = 4, MLOCK_ONFAULT = 1;
    static final int VM_LOCKED_MASK = VmArea.VM_LOCKED | VmArea.VM_LOCKONFAULT;
    private static final int ENOMEM = -12, EINVAL = -22, EAGAIN = -11;

    private final Mmap mmap;

    Mlock(Mmap mmap) {
        this.mmap = mmap;
    }

    /** mm->locked_vm in pages. Mmap lock held. */
    public static long lockedVm(MmStruct mm) {
        long n = 0;
        for (VmArea v : mm.vmas.values()) {
            if ((v.flags & VmArea.VM_LOCKED) != 0) {
                n += v.pages();
            }
        }
        return n;
    }

    /** mlock_future_ok: may {@code bytes} more of a mapping with {@code flags} be locked? */
    static boolean mlockFutureOk(MmStruct mm, int flags, long bytes) {
        if ((flags & VmArea.VM_LOCKED) == 0) {
            return true;
        }
        long locked = (bytes >>> 12) + lockedVm(mm);
        return Long.compareUnsigned(locked, mm.memlockRlimit >>> 12) <= 0;
    }

    /** mlock (flags 0) and mlock2: 0 or -errno. */
    public int mlock(MmStruct mm, long start, long len, int mlock2Flags) {
        if ((mlock2Flags & ~MLOCK_ONFAULT) != 0) {
            return EINVAL;
        }
        int vmFlags = VmArea.VM_LOCKED | ((mlock2Flags & MLOCK_ONFAULT) != 0 ? VmArea.VM_LOCKONFAULT : 0);
        long plen = pageAlign(len + (start & (PAGE_SIZE - 1)));
        start &= -PAGE_SIZE;
        int error;
        mm.mmapLock.downWrite();
        try {
            long locked = (plen >>> 12) + lockedVm(mm);
            long limit = mm.memlockRlimit >>> 12;
            if (Long.compareUnsigned(locked, limit) > 0) {
                locked -= countMlocked(mm, start, plen); // already-locked parts are not counted twice
            }
            if (Long.compareUnsigned(locked, limit) > 0) {
                return ENOMEM;
            }
            error = applyVmaLockFlags(mm, start, plen, vmFlags);
        } finally {
            mm.mmapLock.upWrite();
        }
        if (error != 0) {
            return error;
        }
        if ((vmFlags & VmArea.VM_LOCKONFAULT) == 0) {
            mmap.populateUnlocked(mm, start, start + plen);
        }
        return 0;
    }

    public int munlock(MmStruct mm, long start, long len) {
        long plen = pageAlign(len + (start & (PAGE_SIZE - 1)));
        start &= -PAGE_SIZE;
        mm.mmapLock.downWrite();
        try {
            return applyVmaLockFlags(mm, start, plen, 0);
        } finally {
            mm.mmapLock.upWrite();
        }
    }

    public int mlockall(MmStruct mm, int flags) {
        if (flags == 0 || (flags & ~(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT)) != 0 || flags == MCL_ONFAULT) {
            return EINVAL;
        }
        mm.mmapLock.downWrite();
        try {
            if ((flags & MCL_CURRENT) != 0 && Long.compareUnsigned(mm.totalVm, mm.memlockRlimit >>> 12) > 0) {
                return ENOMEM;
            }
            applyMlockallFlags(mm, flags);
        } finally {
            mm.mmapLock.upWrite();
        }
        if ((flags & MCL_CURRENT) != 0 && (flags & MCL_ONFAULT) == 0) {
            mmap.populateUnlocked(mm, 0, mm.taskSize); // mm_populate(0, TASK_SIZE), errors ignored
        }
        return 0;
    }

    public int munlockall(MmStruct mm) {
        mm.mmapLock.downWrite();
        try {
            applyMlockallFlags(mm, 0);
            return 0;
        } finally {
            mm.mmapLock.upWrite();
        }
    }

    private static long countMlocked(MmStruct mm, long start, long len) {
        long n = 0;
        for (VmArea v : mm.vmasIn(start, start + len)) {
            if ((v.flags & VmArea.VM_LOCKED) != 0) {
                n += (Math.min(v.end, start + len) - Math.max(v.start, start)) >>> 12;
            }
        }
        return n;
    }

    /** apply_vma_lock_flags: every page of [start, start + len) must be mapped (else -ENOMEM after the rest). */
    private int applyVmaLockFlags(MmStruct mm, long start, long len, int flags) {
        long end = start + len;
        if (Long.compareUnsigned(end, start) < 0) {
            return EINVAL;
        }
        if (end == start) {
            return 0;
        }
        VmArea vma = mm.vmaLookup(start);
        if (vma == null) {
            return ENOMEM;
        }
        long nstart = start;
        long tmp = vma.start;
        for (VmArea v : mm.vmasIn(start, end)) {
            if (v.start != tmp) {
                return ENOMEM;
            }
            int newflags = (v.flags & ~VM_LOCKED_MASK) | flags;
            tmp = Math.min(v.end, end);
            mlockFixup(mm, v, nstart, tmp, newflags);
            nstart = tmp;
        }
        return Long.compareUnsigned(tmp, end) < 0 ? ENOMEM : 0;
    }

    private void applyMlockallFlags(MmStruct mm, int flags) {
        mm.defFlags &= ~VM_LOCKED_MASK;
        if ((flags & MCL_FUTURE) != 0) {
            mm.defFlags |= VmArea.VM_LOCKED | ((flags & MCL_ONFAULT) != 0 ? VmArea.VM_LOCKONFAULT : 0);
        }
        if ((flags & MCL_CURRENT) == 0 && flags != 0) {
            return;
        }
        int toAdd = (flags & MCL_CURRENT) != 0
                ? VmArea.VM_LOCKED | ((flags & MCL_ONFAULT) != 0 ? VmArea.VM_LOCKONFAULT : 0) : 0;
        for (VmArea v : mm.vmaList()) {
            if (!v.detached) {
                mlockFixup(mm, v, v.start, v.end, (v.flags & ~VM_LOCKED_MASK) | toAdd);
            }
        }
    }

    /** mlock_fixup: VM_SPECIAL mappings are never locked (nor counted). */
    private void mlockFixup(MmStruct mm, VmArea vma, long start, long end, int newflags) {
        if (newflags == vma.flags || (vma.flags & VmArea.VM_SPECIAL) != 0) {
            return;
        }
        VmArea v = mmap.vmaOps.isolate(mm, vma, start, end);
        v.flags = newflags;
        long s = v.start;
        mmap.vmaOps.mergeAround(mm, v.end);
        mmap.vmaOps.mergeAround(mm, s);
    }
}
