package org.mmulab.kernel.mm;

import static org.mmulab.kernel.mm.Mmap.MAP_FIXED;
import static org.mmulab.kernel.mm.Mmap.MAP_SHARED;
import static org.mmulab.kernel.mm.Mmap.MMAP_MIN_ADDR;
import static org.mmulab.kernel.mm.Mmap.PAGE_SIZE;
import static org.mmulab.kernel.mm.Mmap.PMD_SIZE;
import static org.mmulab.kernel.mm.Mmap.STACK_GUARD_GAP;
import static org.mmulab.kernel.mm.Mmap.isErr;
import static org.mmulab.kernel.mm.Mmap.pageAlign;

/**
 * get_unmapped_area (mm/mmap.c {@code __get_unmapped_area}, {@code vm_unmapped_area}, Linux 6.x) with
 * x86's placement policy (arch/x86/kernel/sys_x86_64.c {@code arch_get_unmapped_area_topdown}):
 * MAP_FIXED addresses checked against TASK_SIZE and mmap_min_addr, a free hint taken as is, otherwise
 * the highest gap below mmap_base (stack guard gaps respected) and a bottom-up fallback, and the THP
 * alignment of anonymous private mappings whose length is a multiple of 2 MiB (6.7+, 64-bit only).
 * Returns an address or -errno; the caller holds the mmap write lock.
 */
final class UnmappedArea {
    private static final long ENOMEM = -12, EINVAL = -22, EPERM = -1;

    private UnmappedArea() {
    }

    static long startGap(VmArea v) {
        if ((v.flags & VmArea.VM_GROWSDOWN) != 0) {
            long g = v.start - STACK_GUARD_GAP;
            return g > v.start ? 0 : g;
        }
        return v.start;
    }

    /** vm_unmapped_area with VM_UNMAPPED_AREA_TOPDOWN: highest gap in [low, high) that fits len. */
    static long unmappedAreaTopdown(MmStruct mm, long len, long low, long high) {
        long best = ENOMEM;
        long prevEnd = 0;
        for (VmArea v : mm.vmas.values()) {
            best = Math.max(best, fitTop(prevEnd, startGap(v), len, low, high));
            prevEnd = v.end;
        }
        best = Math.max(best, fitTop(prevEnd, mm.taskSize, len, low, high));
        return best;
    }

    private static long fitTop(long gapStart, long gapEnd, long len, long low, long high) {
        long gs = Math.max(gapStart, low);
        long ge = Math.min(gapEnd, high);
        if (ge > gs && ge - gs >= len) {
            return ge - len;
        }
        return ENOMEM;
    }

    /** arch_get_unmapped_area_topdown (x86): hint first, then the top-down search below mmap_base. */
    static long archGetUnmappedAreaTopdown(MmStruct mm, long addr, long len, int flags) {
        if (Long.compareUnsigned(len, mm.taskSize) > 0) {
            return ENOMEM; // requested length too big for entire address space
        }
        if ((flags & MAP_FIXED) != 0) {
            return addr;
        }
        if (addr != 0) {
            addr &= -PAGE_SIZE;
            // mmap_address_hint_valid: TASK_SIZE - len >= addr, unsigned (len <= TASK_SIZE here)
            if (Long.compareUnsigned(mm.taskSize - len, addr) >= 0) {
                VmArea v = mm.findVma(addr);
                if (v == null || addr + len <= startGap(v)) {
                    return addr;
                }
            }
        }
        long a = unmappedAreaTopdown(mm, len, Math.max(PAGE_SIZE, MMAP_MIN_ADDR), mm.mmapBase);
        if (!isErr(a)) {
            return a;
        }
        // Bottom-up fallback (arch_get_unmapped_area): lowest gap from TASK_UNMAPPED_BASE.
        long base = pageAlign(mm.taskSize / 3);
        long prevEnd = base;
        for (VmArea v : mm.vmas.values()) {
            if (v.end <= base) {
                continue;
            }
            if (startGap(v) > prevEnd && startGap(v) - prevEnd >= len) {
                return prevEnd;
            }
            prevEnd = Math.max(prevEnd, v.end);
        }
        return mm.taskSize - prevEnd >= len ? prevEnd : ENOMEM;
    }

    /** __get_unmapped_area: including the THP alignment of large anonymous private mappings (6.7+). */
    static long getUnmappedArea(MmStruct mm, boolean file, long addr, long len, long pgoff, int flags) {
        if (Long.compareUnsigned(len, mm.taskSize) > 0) {
            return ENOMEM; // "Careful about overflows.."
        }
        long a;
        // __thp_get_unmapped_area does nothing for 32-bit tasks (6.8+: !CONFIG_64BIT || in_compat_syscall()).
        boolean task32 = Long.compareUnsigned(mm.taskSize, 1L << 32) <= 0;
        if (!task32 && !file && (flags & MAP_SHARED) == 0 && addr == 0 && (flags & MAP_FIXED) == 0
                && (len & (PMD_SIZE - 1)) == 0) {
            // thp_get_unmapped_area: ask for len + PMD_SIZE and align the result.
            long lenPad = len + PMD_SIZE;
            long ret = Long.compareUnsigned(lenPad, len) < 0 ? ENOMEM : archGetUnmappedAreaTopdown(mm, 0, lenPad, flags);
            if (!isErr(ret)) {
                long off = pgoff << 12;
                long offSub = (off - ret) & (PMD_SIZE - 1);
                a = offSub == 0 ? ret + PMD_SIZE : ret + offSub;
            } else {
                a = archGetUnmappedAreaTopdown(mm, addr, len, flags);
            }
        } else {
            a = archGetUnmappedAreaTopdown(mm, addr, len, flags);
        }
        if (isErr(a)) {
            return a;
        }
        // MAP_FIXED addresses come back unchecked: an address past TASK_SIZE (or above 2^63, negative
        // as a Java long) is ENOMEM, and only then is an unaligned one EINVAL.
        if (Long.compareUnsigned(a, mm.taskSize - len) > 0) {
            return ENOMEM;
        }
        if ((a & (PAGE_SIZE - 1)) != 0) {
            return EINVAL;
        }
        // security_mmap_addr: below mmap_min_addr needs CAP_SYS_RAWIO, which guests do not have.
        if (Long.compareUnsigned(a, MMAP_MIN_ADDR) < 0) {
            return EPERM;
        }
        return a;
    }
}
