package org.mmulab.kernel.mm;

import static org.mmulab.kernel.mm.Mmap.PAGE_SIZE;

/**
 * mincore(2) after mm/mincore.c (Linux 6.6): one byte per page of [start, start + len), bit 0 set when
 * the page is resident: a present PTE (the zero page included), or for an unmapped page of a file or
 * shmem VMA, the page being in that object's cache. Anonymous pages never touched are 0. The vector
 * is built at most PAGE_SIZE entries at a time under the mmap read lock and copied out between them,
 * so a fault on the vector (EFAULT) leaves the earlier chunks written, as in Linux. A hole in the range
 * is ENOMEM once the walk reaches it.
 */
public final class Mincore {
    private static final int ENOMEM = -12, EINVAL = -22, EFAULT = -14;

    /** copy_to_user for the vector: true when all {@code n} bytes were written at {@code va}. */
    @FunctionalInterface
    public interface VecCopy {
        boolean copy(long va, byte[] buf, int n);
    }

    private final Memory memory;

    Mincore(Memory memory) {
        this.memory = memory;
    }

    public long mincore(MmStruct mm, long start, long len, long vec, VecCopy out) {
        if ((start & (PAGE_SIZE - 1)) != 0) {
            return EINVAL;
        }
        // access_ok(start, len)
        if (Long.compareUnsigned(len, mm.taskSize) > 0 || Long.compareUnsigned(start, mm.taskSize - len) > 0) {
            return ENOMEM;
        }
        long pages = (len >>> 12) + ((len & (PAGE_SIZE - 1)) != 0 ? 1 : 0);
        if (Long.compareUnsigned(pages, mm.taskSize) > 0 || Long.compareUnsigned(vec, mm.taskSize - pages) > 0) {
            return EFAULT;
        }
        byte[] tmp = new byte[(int) PAGE_SIZE];
        while (pages > 0) {
            long r;
            mm.mmapLock.downRead();
            try {
                r = doMincore(mm, start, Math.min(pages, PAGE_SIZE), tmp);
            } finally {
                mm.mmapLock.upRead();
            }
            if (r <= 0) {
                return r;
            }
            if (!out.copy(vec, tmp, (int) r)) {
                return EFAULT;
            }
            pages -= r;
            vec += r;
            start += r << 12;
        }
        return 0;
    }

    private long doMincore(MmStruct mm, long addr, long pages, byte[] vec) {
        VmArea vma = mm.vmaLookup(addr);
        if (vma == null) {
            return ENOMEM;
        }
        long end = Math.min(vma.end, addr + (pages << 12));
        int n = (int) ((end - addr) >>> 12);
        PgtableOps ops = memory.ops();
        PteSlot slot = new PteSlot();
        for (int i = 0; i < n; i++) {
            long a = addr + ((long) i << 12);
            vec[i] = (byte) (resident(mm, vma, a, ops, slot) ? 1 : 0);
        }
        return n;
    }

    /** mincore_pte_range for one page: the PTE under its lock, else the object's cache. */
    private boolean resident(MmStruct mm, VmArea vma, long a, PgtableOps ops, PteSlot slot) {
        long pmdp = memory.pgtables.pmdOffset(mm, a);
        boolean mapped = pmdp >= 0 && memory.pgtables.mapLock(pmdp, a, slot);
        if (!mapped && pmdp >= 0 && HugeMemory.pmdTransHuge(slot.pmdval)) {
            return true; // mincore_pte_range: a huge PMD maps every page of its range
        }
        if (mapped) {
            long pte;
            try {
                pte = ops.get(slot.ptep);
            } finally {
                slot.ptl.unlock();
                slot.ptl = null;
            }
            if (PteBits.present(pte)) {
                return true;
            }
        }
        // __mincore_unmapped_range: a file page may be cached though not mapped here.
        return vma.file != null && (vma.flags & VmArea.VM_PFNMAP) == 0 && vma.file.isCached(vma.pageIndex(a));
    }
}
