package org.mmulab.kernel.mm;

/**
 * Driver-side mappings of mm/memory.c (Linux 6.6): {@code remap_pfn_range} (VM_PFNMAP: special PTEs for
 * raw frames, no struct page refcounting or mapcount, never followed by GUP, zapped without touching the
 * frames) and {@code vm_insert_page} (VM_MIXEDMAP: a normal, refcounted page put into a driver's VMA).
 * fork copies both kinds of VMA's PTEs (vma_needs_copy's VM_COPY_ON_FORK, the fix in seed 003: such a
 * range cannot be refilled by faults), and a private writable PFN map COWs into anonymous pages
 * (do_wp_page with no struct page copies from the frame). Called with the mmap write lock held, while
 * the VMA is being set up (a driver's mmap handler).
 */
public final class PfnMap {
    private static final int ENOMEM = -12, EINVAL = -22, EBUSY = -16, EFAULT = -14;

    private final Memory memory;

    public PfnMap(Memory memory) {
        this.memory = memory;
    }

    /**
     * remap_pfn_range: maps [addr, addr + size) of {@code vma} to frames pfn.. with the VMA's
     * protection. A COW mapping must be remapped whole (vm_pgoff becomes pfn, which is how
     * vm_normal_page tells the original frames from COW copies). 0 or -errno.
     */
    public int remapPfnRange(VmArea vma, long addr, long pfn, long size) {
        long end = addr + ((size + 4095) & -4096L);
        if ((addr & 4095) != 0 || Long.compareUnsigned(end, addr) <= 0 || addr < vma.start || end > vma.end) {
            return EINVAL;
        }
        if (Fork.isCowMapping(vma.flags)) {
            if (addr != vma.start || end != vma.end) {
                return EINVAL;
            }
            vma.pgoff = pfn;
        }
        vma.flags |= VmArea.VM_IO | VmArea.VM_PFNMAP | VmArea.VM_DONTEXPAND | VmArea.VM_DONTDUMP;
        long prot = vma.pageProt(); // private writable: read-only, COW on write
        for (long a = addr; a != end; a += 4096, pfn++) {
            int r = setPte(vma, a, PteBits.mkPte(pfn, prot) | PteBits.SPECIAL, true);
            if (r != 0) {
                MmuGather tlb = new MmuGather(vma.mm);
                memory.unmapSingleVma(tlb, vma, addr, end); // zap what was mapped: nothing refcounted
                tlb.finish();
                return r;
            }
        }
        return 0;
    }

    /**
     * vm_insert_page: a refcounted page (the caller keeps its own reference) mapped at {@code addr}
     * of a VM_MIXEDMAP-capable VMA; -EBUSY if something is mapped there already. 0 or -errno.
     */
    public int vmInsertPage(VmArea vma, long addr, long pfn) {
        if (addr < vma.start || addr >= vma.end || (addr & 4095) != 0) {
            return EFAULT;
        }
        FrameTable frames = memory.frames();
        if (pfn >= frames.frameCount() || (frames.flags(pfn) & (FrameTable.PG_ANON | FrameTable.PG_PGTABLE)) != 0) {
            return EINVAL; // validate_page_before_insert: no anon pages, no page tables
        }
        vma.flags |= VmArea.VM_MIXEDMAP;
        long prot = vma.pageProt(); // private writable: read-only, COW on write
        return setPte(vma, addr, PteBits.mkPte(pfn, prot), false);
    }

    /** insert_page / remap_pte_range for one entry; -EBUSY when the PTE is not none. */
    private int setPte(VmArea vma, long addr, long entry, boolean special) {
        MmStruct mm = vma.mm;
        long pmdp = memory.pgtables.pmdAlloc(mm, addr);
        if (pmdp < 0) {
            return ENOMEM;
        }
        PteMap pm = memory.pteAllocMapLock(mm, pmdp, addr);
        if (pm == null) {
            return ENOMEM;
        }
        try {
            PgtableOps ops = memory.ops();
            if (!PteBits.none(ops.get(pm.ptep()))) {
                return EBUSY;
            }
            if (!special) {
                long pfn = PteBits.pfn(entry);
                FrameTable frames = memory.frames();
                frames.get(pfn);
                frames.addMap(pfn); // folio_add_file_rmap_pte
                mm.addCounter(memory.mmCounter(pfn), 1);
            }
            ops.set(pm.ptep(), entry);
            return 0;
        } finally {
            pm.unlock();
        }
    }
}
