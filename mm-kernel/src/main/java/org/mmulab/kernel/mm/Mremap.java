package org.mmulab.kernel.mm;

import static org.mmulab.kernel.mm.Mmap.PAGE_SIZE;
import static org.mmulab.kernel.mm.Mmap.isErr;
import static org.mmulab.kernel.mm.Mmap.pageAlign;

/**
 * mremap(2) after mm/mremap.c (Linux 6.6, plus 6.17's move of several VMAs in one MREMAP_FIXED call): the
 * syscall's argument checks, shrinking (an munmap of the
 * tail), growing in place ({@code vma_expandable} + {@code vma_merge_extend}, which also merges with the
 * next VMA when the two become adjacent and compatible), moving ({@code MREMAP_MAYMOVE}: a new area from
 * get_unmapped_area; {@code MREMAP_FIXED}: at new_addr, unmapping what is there first), and
 * {@code MREMAP_DONTUNMAP} (a move that leaves the old VMA in place without its pages: a private
 * anonymous range then faults in zeroes, a shared one the object's data again). The page tables move
 * through {@link MoveTables}. Every error is the errno Linux returns, with the side effects Linux has
 * already done at that point (MREMAP_FIXED's unmap of the target, a shrink's unmap of the tail).
 * mm/mremap.c copy_vma makes the destination: a file range that lands right after a VMA of the same
 * object with the preceding pgoff merges into it at once (mm/vma.c vma_merge_new_range, vma_expand),
 * otherwise a new VMA is linked into i_mmap right after the source (mm/interval_tree.c
 * vma_interval_tree_insert_after) — the order a truncate's i_mmap walk races with (seed 004).
 */
public final class Mremap {
    public static final int MREMAP_MAYMOVE = 1, MREMAP_FIXED = 2, MREMAP_DONTUNMAP = 4;
    /** sysctl_max_map_count (DEFAULT_MAX_MAP_COUNT). */
    static final int MAX_MAP_COUNT = 65530;
    private static final long ENOMEM = -12, EINVAL = -22, EFAULT = -14, EAGAIN = -11;

    private final Mmap mmap;
    private final Memory memory;
    final MoveTables moveTables;

    Mremap(Mmap mmap, Memory memory) {
        this.mmap = mmap;
        this.memory = memory;
        this.moveTables = new MoveTables(memory);
    }

    /**
     * The explorer's {@code --revert-fix} for CVE-2018-18281: true makes move_ptes flush the TLB of the
     * old range only after dropping the PTE locks, as Linux did before 4.20.
     */
    public void setRevertFlushBeforeUnlock(boolean revert) {
        memory.fixes.set(MmFix.MREMAP_FLUSH_BEFORE_UNLOCK, revert);
    }

    /** The explorer's {@code --revert-fix} for seed 004: move file PTEs without the i_mmap lock. */
    public void setRevertRmapLocks(boolean revert) {
        memory.fixes.set(MmFix.MREMAP_RMAP_LOCKS, revert);
    }

    /** Test hook: runs in move_ptes just after both PTE locks are dropped (see {@link MoveTables}). */
    public void setMovePtesUnlockHook(Runnable r) {
        moveTables.afterUnlockHook = r;
    }

    /** SYSCALL_DEFINE5(mremap): the new address or -errno. */
    public long mremap(MmStruct mm, long addr, long oldLen, long newLen, int flags, long newAddr) {
        if ((flags & ~(MREMAP_FIXED | MREMAP_MAYMOVE | MREMAP_DONTUNMAP)) != 0) {
            return EINVAL;
        }
        if ((flags & MREMAP_FIXED) != 0 && (flags & MREMAP_MAYMOVE) == 0) {
            return EINVAL;
        }
        // MREMAP_DONTUNMAP is always a move and it does not allow resizing in the process.
        if ((flags & MREMAP_DONTUNMAP) != 0 && ((flags & MREMAP_MAYMOVE) == 0 || oldLen != newLen)) {
            return EINVAL;
        }
        if ((addr & (PAGE_SIZE - 1)) != 0) {
            return EINVAL;
        }
        oldLen = pageAlign(oldLen);
        newLen = pageAlign(newLen);
        // A zero old_len is the "duplicate a shared area" special case; a zero new_len is nonsense.
        if (newLen == 0) {
            return EINVAL;
        }
        long lockedFrom = -1, lockedLen = 0;
        long ret;
        mm.mmapLock.downWrite();
        try {
            VmArea vma = mm.vmaLookup(addr);
            if (vma == null) {
                return EFAULT;
            }
            if ((flags & MREMAP_FIXED) != 0 && oldLen == newLen && oldLen != 0
                    && Long.compareUnsigned(addr + oldLen, vma.end) > 0) {
                return remapMove(mm, addr, oldLen, newAddr, flags);
            }
            if ((flags & (MREMAP_FIXED | MREMAP_DONTUNMAP)) != 0) {
                long[] locked = {-1};
                ret = mremapTo(mm, addr, oldLen, newAddr, newLen, flags, locked);
                if (!isErr(ret) && locked[0] >= 0 && newLen > oldLen) {
                    lockedFrom = ret + oldLen;
                    lockedLen = newLen - oldLen;
                }
                return ret;
            }
            // Always allow a shrinking remap: that just unmaps the unnecessary pages.
            if (Long.compareUnsigned(oldLen, newLen) >= 0) {
                if (oldLen != newLen) {
                    int r = mmap.doMunmapLocked(mm, addr + newLen, oldLen - newLen);
                    if (r != 0) {
                        return r;
                    }
                }
                return addr;
            }
            // Ok, we need to grow.
            Object v = vmaToResize(mm, addr, oldLen, newLen, flags);
            if (v instanceof Long err) {
                return err;
            }
            vma = (VmArea) v;
            // old_len exactly to the end of the area: can we just expand the current mapping?
            if (oldLen == vma.end - addr && vmaExpandable(mm, vma, newLen - oldLen)) {
                long delta = newLen - oldLen;
                if ((vma.flags & VmArea.VM_ACCOUNT) != 0
                        && !Overcommit.vmEnoughMemory(memory.frames(), delta >>> 12)) {
                    return ENOMEM;
                }
                vmaMergeExtend(mm, vma, delta);
                mm.totalVm += delta >>> 12;
                if ((vma.flags & VmArea.VM_LOCKED) != 0) {
                    lockedFrom = addr + oldLen;
                    lockedLen = delta;
                }
                return addr;
            }
            // We weren't able to just expand or shrink the area: create a new one and move it.
            if ((flags & MREMAP_MAYMOVE) == 0) {
                return ENOMEM;
            }
            int mapFlags = (vma.flags & VmArea.VM_MAYSHARE) != 0 ? Mmap.MAP_SHARED : 0;
            long na = UnmappedArea.getUnmappedArea(mm, vma.file != null, 0, newLen, vma.pgoff + ((addr - vma.start) >>> 12),
                    mapFlags);
            if (isErr(na)) {
                return na;
            }
            long[] locked = {-1};
            ret = moveVma(mm, vma, addr, oldLen, newLen, na, flags, locked);
            if (!isErr(ret) && locked[0] >= 0 && newLen > oldLen) {
                lockedFrom = ret + oldLen;
                lockedLen = newLen - oldLen;
            }
            return ret;
        } finally {
            mm.mmapLock.upWrite();
            if (lockedFrom >= 0) {
                mmap.populateUnlocked(mm, lockedFrom, lockedFrom + lockedLen); // mm_populate of the locked growth
            }
        }
    }

    /**
     * remap_move (Linux 6.17+): a pure MREMAP_FIXED move (old_len == new_len) of a range that spans more
     * than its first VMA moves each VMA's part to the same offset from new_addr, one after the other;
     * the gaps between them are left alone at both ends (the destination's gaps are not unmapped). The
     * range must start inside a VMA (checked by the caller: EFAULT).
     */
    private long remapMove(MmStruct mm, long addr, long len, long newAddr, int flags) {
        if ((newAddr & (PAGE_SIZE - 1)) != 0) {
            return EINVAL;
        }
        if (Long.compareUnsigned(len, mm.taskSize) > 0 || Long.compareUnsigned(newAddr, mm.taskSize - len) > 0) {
            return EINVAL;
        }
        if (Long.compareUnsigned(addr + len, newAddr) > 0 && Long.compareUnsigned(newAddr + len, addr) > 0) {
            return EINVAL;
        }
        long[] locked = {-1};
        for (VmArea v : mm.vmasIn(addr, addr + len)) {
            long s = Math.max(v.start, addr);
            long e = Long.compareUnsigned(v.end, addr + len) < 0 ? v.end : addr + len;
            long r = mremapTo(mm, s, e - s, newAddr + (s - addr), e - s, flags, locked);
            if (isErr(r)) {
                return r;
            }
        }
        return newAddr;
    }

    /** mremap_to: MREMAP_FIXED and/or MREMAP_DONTUNMAP. */
    private long mremapTo(MmStruct mm, long addr, long oldLen, long newAddr, long newLen, int flags, long[] locked) {
        if ((newAddr & (PAGE_SIZE - 1)) != 0) {
            return EINVAL;
        }
        if (Long.compareUnsigned(newLen, mm.taskSize) > 0 || Long.compareUnsigned(newAddr, mm.taskSize - newLen) > 0) {
            return EINVAL;
        }
        // Ensure the old and new locations do not overlap.
        if (Long.compareUnsigned(addr + oldLen, newAddr) > 0 && Long.compareUnsigned(newAddr + newLen, addr) > 0) {
            return EINVAL;
        }
        // move_vma() needs us to stay 4 maps below the threshold (both VMAs may split in three).
        if (mm.mapCount() + 2 >= MAX_MAP_COUNT - 3) {
            return ENOMEM;
        }
        // Linux 6.16+ validates the source before touching the destination: a call that fails on the
        // source leaves whatever was mapped at new_addr in place.
        VmArea src = mm.vmaLookup(addr);
        if (src == null) {
            return EFAULT;
        }
        if (oldLen == 0 && (src.flags & (VmArea.VM_SHARED | VmArea.VM_MAYSHARE)) == 0) {
            return EINVAL;
        }
        if ((flags & MREMAP_DONTUNMAP) != 0 && (src.flags & (VmArea.VM_DONTEXPAND | VmArea.VM_PFNMAP)) != 0) {
            return EINVAL;
        }
        long keep = Long.compareUnsigned(oldLen, newLen) < 0 ? oldLen : newLen;
        if (Long.compareUnsigned(keep, src.end - addr) > 0) {
            return EFAULT;
        }
        if ((flags & MREMAP_FIXED) != 0) {
            int r = mmap.doMunmapLocked(mm, newAddr, newLen);
            if (r != 0) {
                return r;
            }
        }
        if (Long.compareUnsigned(oldLen, newLen) > 0) {
            int r = mmap.doMunmapLocked(mm, addr + newLen, oldLen - newLen);
            if (r != 0) {
                return r;
            }
            oldLen = newLen;
        }
        Object v = vmaToResize(mm, addr, oldLen, newLen, flags);
        if (v instanceof Long err) {
            return err;
        }
        VmArea vma = (VmArea) v;
        int mapFlags = (flags & MREMAP_FIXED) != 0 ? Mmap.MAP_FIXED : 0;
        if ((vma.flags & VmArea.VM_MAYSHARE) != 0) {
            mapFlags |= Mmap.MAP_SHARED;
        }
        long ret = UnmappedArea.getUnmappedArea(mm, vma.file != null, newAddr, newLen,
                vma.pgoff + ((addr - vma.start) >>> 12), mapFlags);
        if (isErr(ret)) {
            return ret;
        }
        if ((flags & MREMAP_FIXED) == 0) {
            newAddr = ret;
        }
        return moveVma(mm, vma, addr, oldLen, newLen, newAddr, flags, locked);
    }

    /** vma_to_resize: the VMA at addr, or an errno as a Long. */
    private Object vmaToResize(MmStruct mm, long addr, long oldLen, long newLen, int flags) {
        VmArea vma = mm.vmaLookup(addr);
        if (vma == null) {
            return EFAULT;
        }
        // !old_len duplicates a mapping: meaningless for a private one.
        if (oldLen == 0 && (vma.flags & (VmArea.VM_SHARED | VmArea.VM_MAYSHARE)) == 0) {
            return EINVAL;
        }
        if ((flags & MREMAP_DONTUNMAP) != 0 && (vma.flags & (VmArea.VM_DONTEXPAND | VmArea.VM_PFNMAP)) != 0) {
            return EINVAL;
        }
        // We can't remap across VMA boundaries.
        if (Long.compareUnsigned(oldLen, vma.end - addr) > 0) {
            return EFAULT;
        }
        if (newLen == oldLen) {
            return vma;
        }
        long pgoff = ((addr - vma.start) >>> 12) + vma.pgoff;
        if (Long.compareUnsigned(pgoff + (newLen >>> 12), pgoff) < 0) {
            return EINVAL;
        }
        if ((vma.flags & (VmArea.VM_DONTEXPAND | VmArea.VM_PFNMAP)) != 0) {
            return EFAULT;
        }
        if (!Mlock.mlockFutureOk(mm, vma.flags, newLen - oldLen)) {
            return EAGAIN;
        }
        return vma; // may_expand_vm: RLIMIT_AS and RLIMIT_DATA are unlimited
    }

    /** vma_expandable: [vm_end, vm_end + delta) is free and the grown VMA still fits (MAP_FIXED rules). */
    private static boolean vmaExpandable(MmStruct mm, VmArea vma, long delta) {
        long end = vma.end + delta;
        if (Long.compareUnsigned(end, vma.end) < 0) {
            return false;
        }
        if (mm.findVmaIntersection(vma.end, end) != null) {
            return false;
        }
        return !isErr(UnmappedArea.getUnmappedArea(mm, false, vma.start, end - vma.start, 0, Mmap.MAP_FIXED));
    }

    /** vma_merge_extend: grow vma by delta, then merge it with the next VMA if they now touch and match. */
    private void vmaMergeExtend(MmStruct mm, VmArea vma, long delta) {
        if (vma.file != null) {
            vma.file.iMmapRwsem.downWrite();
            try {
                vma.end += delta;
            } finally {
                vma.file.iMmapRwsem.upWrite();
            }
        } else {
            vma.end += delta;
        }
        mmap.vmaOps.mergeAround(mm, vma.end);
    }

    /**
     * move_vma: copy_vma at newAddr, move_page_tables, then unmap the old range (or, for
     * MREMAP_DONTUNMAP, keep it, unlocked). On a table allocation failure the moved entries go back and
     * the new area is unmapped instead: -ENOMEM with the old mapping intact.
     */
    private long moveVma(MmStruct mm, VmArea vma, long oldAddr, long oldLen, long newLen, long newAddr, int flags,
            long[] locked) {
        if (mm.mapCount() >= MAX_MAP_COUNT - 3) {
            return ENOMEM;
        }
        long toAccount = (flags & MREMAP_DONTUNMAP) != 0 ? newLen : newLen - oldLen;
        int vmFlags = vma.flags;
        if ((vmFlags & VmArea.VM_ACCOUNT) != 0 && !Overcommit.vmEnoughMemory(memory.frames(), toAccount >>> 12)) {
            return ENOMEM;
        }
        // The old range becomes a VMA of its own: the split keeps vma = [oldAddr, oldAddr + oldLen).
        vma = mmap.vmaOps.isolate(mm, vma, oldAddr, oldAddr + oldLen);
        long newPgoff = vma.pgoff;
        VmArea newVma = copyVma(mm, vma, newAddr, newLen, newPgoff);
        long moved = moveTables.movePageTables(vma, oldAddr, newVma, newAddr, oldLen);
        long err = 0;
        if (moved < oldLen) {
            // On error, move entries back from new area to old (the tables are still there), then unmap
            // the new area instead of the old.
            moveTables.movePageTables(newVma, newAddr, vma, oldAddr, moved);
            vma = newVma;
            oldLen = newLen;
            oldAddr = newAddr;
            err = ENOMEM;
        }
        long hiwaterVm = mm.hiwaterVm;
        mm.totalVm += newLen >>> 12;
        if (err == 0 && (flags & MREMAP_DONTUNMAP) != 0) {
            // We always clear VM_LOCKED[ONFAULT] on the old vma; it keeps its (now empty) range.
            vma.flags &= ~(VmArea.VM_LOCKED | VmArea.VM_LOCKONFAULT);
            mmap.vmaOps.mergeAround(mm, vma.end);
            mmap.vmaOps.mergeAround(mm, vma.start);
            mergeNew(mm, newAddr, newLen);
            return newAddr;
        }
        // The old range's charge moves with it (VM_ACCOUNT is concealed in Linux): nothing to undo here,
        // Overcommit keeps no running total.
        mmap.doMunmapLocked(mm, oldAddr, oldLen);
        mm.hiwaterVm = hiwaterVm;
        if (err != 0) {
            return err;
        }
        if ((vmFlags & VmArea.VM_LOCKED) != 0) {
            locked[0] = newAddr;
        }
        mergeNew(mm, newAddr, newLen);
        return newAddr;
    }

    private void mergeNew(MmStruct mm, long newAddr, long newLen) {
        mmap.vmaOps.mergeAround(mm, newAddr + newLen);
        mmap.vmaOps.mergeAround(mm, newAddr);
    }

    /**
     * copy_vma (mm/vma.c, Linux 6.6+): the VMA that maps [addr, addr + len) like {@code vma} with page
     * offset {@code pgoff}. A file VMA first tries vma_merge_new_range with the VMA ending at addr: same
     * object, flags and name, and pgoff contiguous with it; vma_expand then grows that VMA over the new
     * range (one line in /proc/pid/maps, as Linux prints it) and the moved PTEs land in a VMA that an
     * i_mmap walk visits before the source, since its pgoff is lower: why move_page_tables holds the
     * i_mmap lock (seed 004, {@link MoveTables}). Otherwise a new VMA is linked into i_mmap right after
     * {@code vma} (vma_interval_tree_insert_after). Other merges (with the next VMA, anonymous ranges)
     * wait until the old range is gone ({@link #mergeNew}), so a move never merges into the VMA it is
     * moving out of; the VMAs that result are the same.
     */
    private static VmArea copyVma(MmStruct mm, VmArea vma, long addr, long len, long pgoff) {
        VmArea prev = vma.file == null ? null : mm.vmaLookup(addr - 1);
        if (prev != null && prev != vma && prev.end == addr && canMergeNew(prev, vma, pgoff)) {
            // vma_expand under vma_prepare: the bounds of a linked file VMA change under the i_mmap lock
            vma.file.iMmapRwsem.downWrite();
            try {
                prev.end = addr + len;
            } finally {
                vma.file.iMmapRwsem.upWrite();
            }
            return prev;
        }
        VmArea n = new VmArea(mm, addr, addr + len, vma.flags, pgoff, vma.file);
        n.name = vma.name;
        mm.insertVma(addr, n);
        if (n.file != null) {
            n.file.acquire();
            n.file.iMmapRwsem.downWrite();
            try {
                n.file.iMmap.linkVmaAfterLocked(vma, n);
            } finally {
                n.file.iMmapRwsem.upWrite();
            }
        }
        return n;
    }

    /**
     * is_mergeable_vma + can_vma_merge_after for a new range of {@code vma} at pgoff {@code pgoff} placed
     * right after {@code prev}: the same object, flags (VM_SOFTDIRTY ignored) and name, and contiguous
     * offsets; never a VM_SPECIAL or VM_GROWSDOWN area.
     */
    private static boolean canMergeNew(VmArea prev, VmArea vma, long pgoff) {
        int special = VmArea.VM_GROWSDOWN | VmArea.VM_SPECIAL;
        return prev.file == vma.file && ((prev.flags ^ vma.flags) & ~VmArea.VM_SOFTDIRTY) == 0
                && (prev.flags & special) == 0 && prev.pgoff + prev.pages() == pgoff
                && java.util.Objects.equals(prev.name, vma.name);
    }
}
