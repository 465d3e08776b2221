package org.mmulab.kernel.mm;

/**
 * Unmapping an object's range from every mm that maps it, after mm/memory.c {@code unmap_mapping_range}
 * and mm/truncate.c {@code truncate_pagecache_range} / mm/shmem.c {@code shmem_fallocate(PUNCH_HOLE)}
 * (Linux 6.6): under the mapping's i_mmap lock (read), each VMA in i_mmap (in pgoff order, as
 * vma_interval_tree_foreach visits them: {@link AddressSpace}) that maps part of the range
 * has that part zapped ({@code zap_page_range_single}: PTE locks, an MmuGather shooting down that mm's
 * TLBs before the pages go), without that VMA's mmap lock — which is why mremap moves a file range's
 * PTEs with the i_mmap lock held for writing ({@link MoveTables}, seed 004): otherwise this walk could
 * zap the new range before the PTEs arrive there and the old one after they left, missing them.
 * Punching a hole unmaps, drops the object's pages, and unmaps again (pages faulted in meanwhile).
 */
public final class Truncate {
    private Truncate() {
    }

    /** unmap_mapping_range(even_cows=1) for pages [fromIndex, toIndex) of {@code f}: truncate's. */
    public static void unmapMappingRange(Memory memory, AddressSpace f, long fromIndex, long toIndex) {
        unmapMappingRange(memory, f, fromIndex, toIndex, true);
    }

    /**
     * unmap_mapping_range for pages [fromIndex, toIndex) of {@code f}; {@code evenCows} false leaves the
     * private COW copies of those pages mapped (a hole punch: the copies are the process's own data).
     */
    public static void unmapMappingRange(Memory memory, AddressSpace f, long fromIndex, long toIndex, boolean evenCows) {
        f.iMmapRwsem.downRead();
        try {
            for (VmArea v : f.iMmap.mappings()) {
                long vFirst = v.pgoff, vLast = v.pgoff + v.pages(); // [vFirst, vLast)
                long s = Math.max(vFirst, fromIndex), e = Math.min(vLast, toIndex);
                if (s >= e) {
                    continue;
                }
                MmuGather tlb = new MmuGather(v.mm);
                tlb.keepCows = !evenCows;
                v.mm.updateHiwaterRss();
                memory.unmapSingleVma(tlb, v, v.start + ((s - vFirst) << 12), v.start + ((e - vFirst) << 12));
                tlb.finish();
            }
        } finally {
            f.iMmapRwsem.upRead();
        }
    }

    /**
     * shmem_fallocate(FALLOC_FL_PUNCH_HOLE) of pages [fromIndex, toIndex): the number of pages the object
     * dropped (tmpfs's block accounting), or -EOPNOTSUPP for an object that is not shmem.
     */
    public static long punchHole(Memory memory, AddressSpace f, long fromIndex, long toIndex) {
        if (!f.isShmem()) {
            return -95;
        }
        unmapMappingRange(memory, f, fromIndex, toIndex, false); // shmem_fallocate: private COW copies stay
        long n = f.punchHole(fromIndex, toIndex);
        unmapMappingRange(memory, f, fromIndex, toIndex, false); // truncate_pagecache_range's second pass
        return n;
    }
}
