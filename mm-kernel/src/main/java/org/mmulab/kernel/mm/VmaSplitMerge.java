package org.mmulab.kernel.mm;

/**
 * VMA split and merge (mm/vma.c, Linux 6.x: __split_vma, vma_merge's adjacent case, and vma_modify's
 * split of a VMA down to exactly a range). A file VMA's bounds change under its mapping's i_mmap_rwsem
 * ({@link AddressSpace#iMmapRwsem}, vma_prepare), because {@link Truncate} walks them holding only that.
 * Split from {@link Mmap}; every mm/*.c operation that changes part of a VMA (mprotect, madvise, mlock,
 * mremap, munmap, brk) goes through these. Caller holds the mmap lock for writing.
 */
final class VmaSplitMerge {
    private final Memory memory;

    VmaSplitMerge(Memory memory) {
        this.memory = memory;
    }

    /** __split_vma: [v.start, addr) stays in v, [addr, v.end) becomes a new VMA, returned. */
    VmArea splitVma(MmStruct mm, VmArea v, long addr) {
        if ((addr & ~HugeMemory.HPAGE_PMD_MASK) != 0 && mm.hugePmds.get() != 0) {
            memory.huge.splitHugePmd(v, memory.pmdOffset(mm, addr), addr); // vma_adjust_trans_huge
        }
        VmArea n = new VmArea(mm, addr, v.end, v.flags, v.pgoff + ((addr - v.start) >>> 12), v.file);
        n.name = v.name;
        if (v.file == null) {
            v.end = addr;
            mm.insertVma(addr, n);
            return n;
        }
        // vma_prepare: a file VMA's bounds change under the mapping's i_mmap lock (Truncate walks them)
        v.file.acquire();
        v.file.iMmapRwsem.downWrite();
        try {
            v.end = addr;
            mm.insertVma(addr, n);
            v.file.iMmap.linkVmaLocked(n);
        } finally {
            v.file.iMmapRwsem.upWrite();
        }
        return n;
    }

    private static boolean canMerge(VmArea a, VmArea b) {
        // VM_SOFTDIRTY is VM_IGNORE_MERGE: the merged VMA keeps it if either had it (mergeAround)
        return a.end == b.start && ((a.flags ^ b.flags) & ~VmArea.VM_SOFTDIRTY) == 0 && a.file == b.file
                && a.pgoff + a.pages() == b.pgoff && java.util.Objects.equals(a.name, b.name)
                && (a.flags & VmArea.VM_GROWSDOWN) == 0;
    }

    /** Merges the VMA ending at {@code addr} with the one starting there, if compatible. */
    void mergeAround(MmStruct mm, long addr) {
        VmArea next = mm.vmas.get(addr);
        if (next == null) {
            return;
        }
        VmArea prev = mm.prevVma(next);
        if (prev != null && canMerge(prev, next)) {
            prev.flags |= next.flags & VmArea.VM_SOFTDIRTY;
            if (next.file == null) {
                prev.end = next.end;
                mm.removeVma(next.start);
                return;
            }
            next.file.iMmapRwsem.downWrite();
            try {
                prev.end = next.end;
                mm.removeVma(next.start);
                next.file.iMmap.unlinkVmaLocked(next);
            } finally {
                next.file.iMmapRwsem.upWrite();
            }
            next.file.releaseUser();
        }
    }

    /** Splits so that exactly [start, end) is one VMA (start/end inside vma); returns it. */
    VmArea isolate(MmStruct mm, VmArea vma, long start, long end) {
        if (vma.start < start) {
            vma = splitVma(mm, vma, start);
        }
        if (vma.end > end) {
            splitVma(mm, vma, end);
        }
        return vma;
    }
}
