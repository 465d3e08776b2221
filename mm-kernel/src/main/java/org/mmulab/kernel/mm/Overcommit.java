package org.mmulab.kernel.mm;

/**
 * Address-space accounting against overcommit, after mm/util.c {@code __vm_enough_memory} and the
 * {@code accountable_mapping} rule of mm/vma.c (Linux 6.x) with {@code vm.overcommit_memory = 0}
 * (OVERCOMMIT_GUESS, the default): a request is refused only when it alone is larger than total RAM
 * plus swap. What is charged (VM_ACCOUNT): private writable mappings without MAP_NORESERVE (mmap,
 * mprotect making a private mapping writable, brk), and shared anonymous memory without
 * MAP_NORESERVE (shmem_acct_size). The guest has no swap, and every frame of guest RAM counts as
 * totalram (the Java kernel reserves none of it for its own text).
 */
public final class Overcommit {
    private Overcommit() {
    }

    /** __vm_enough_memory in OVERCOMMIT_GUESS mode: may {@code pages} more pages be committed? */
    public static boolean vmEnoughMemory(FrameTable frames, long pages) {
        long totalram = frames.frameCount();
        long totalSwap = 0;
        return Long.compareUnsigned(pages, totalram + totalSwap) <= 0;
    }

    /** accountable_mapping: private and writable, not MAP_NORESERVE (hugetlbfs files are never charged). */
    static boolean accountableMapping(int vmFlags) {
        return (vmFlags & (VmArea.VM_NORESERVE | VmArea.VM_SHARED | VmArea.VM_WRITE)) == VmArea.VM_WRITE;
    }

    /**
     * What mmap_region charges for [start, end) with {@code vmFlags}: the new pages less those of
     * already-charged (VM_ACCOUNT) mappings the MAP_FIXED request replaces (count_vma_pages_range).
     */
    static long chargeForRegion(MmStruct mm, long start, long end) {
        long pages = (end - start) >>> 12;
        for (VmArea v : mm.vmasIn(start, end)) {
            if ((v.flags & VmArea.VM_ACCOUNT) != 0) {
                pages -= (Math.min(v.end, end) - Math.max(v.start, start)) >>> 12;
            }
        }
        return pages;
    }
}
