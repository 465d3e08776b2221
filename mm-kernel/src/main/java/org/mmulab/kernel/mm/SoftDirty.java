package org.mmulab.kernel.mm;

/**
 * Soft-dirty tracking after fs/proc/task_mmu.c (Linux 6.6, CONFIG_MEM_SOFT_DIRTY): what writing "4" to
 * /proc/PID/clear_refs does ({@link #clearRefs}) and the soft-dirty part of /proc/PID/pagemap
 * ({@link #pagemapEntry}, bit 55). New or grown VMAs carry VM_SOFTDIRTY (all of their pages read as
 * written); the kernel sets {@link PteBits#SOFT_DIRTY} wherever it makes a PTE dirty. clear_refs clears
 * both and write-protects every present PTE (a shared mapping's protection loses RW too: write-notify),
 * so the next write to a page faults and marks it again; mprotect does not make such a PTE writable
 * behind the fault's back (can_change_pte_writable), mremap marks the PTEs it moves, fork copies them.
 * The procfs files themselves belong to the VFS; these are the mm halves they call.
 */
public final class SoftDirty {
    public static final long PM_SOFT_DIRTY = 1L << 55, PM_MMAP_EXCLUSIVE = 1L << 56, PM_FILE = 1L << 61,
            PM_PRESENT = 1L << 63, PM_PFRAME_MASK = (1L << 55) - 1;

    private final Memory memory;

    public SoftDirty(Memory memory) {
        this.memory = memory;
    }

    /** clear_refs_write(CLEAR_REFS_SOFT_DIRTY): every VMA but PFN maps, every present PTE. */
    public void clearRefs(MmStruct mm) {
        mm.mmapLock.downWrite();
        try {
            MmuGather tlb = new MmuGather(mm);
            PteSlot slot = new PteSlot();
            PgtableOps ops = memory.ops();
            for (VmArea v : mm.vmaList()) {
                if ((v.flags & VmArea.VM_PFNMAP) != 0) {
                    continue;
                }
                v.flags &= ~VmArea.VM_SOFTDIRTY; // vma_set_page_prot follows from the flags here
                for (long a = v.start; a < v.end;) {
                    long next = memory.pgtables.addrEnd(a, v.end, 2);
                    long pmdp = memory.pgtables.pmdOffset(mm, a);
                    if (pmdp >= 0 && memory.pgtables.mapLockSplit(v, pmdp, a, slot)) {
                        try {
                            long ptep = slot.ptep;
                            for (long x = a; x < next; x += 4096, ptep += 8) {
                                long pte = ops.get(ptep);
                                if (!PteBits.present(pte) || (pte & (PteBits.RW | PteBits.SOFT_DIRTY)) == 0) {
                                    continue;
                                }
                                pte = ops.getAndClear(ptep); // ptep_modify_prot_start: keeps a racing A/D
                                ops.set(ptep, pte & ~(PteBits.RW | PteBits.SOFT_DIRTY));
                                tlb.removeTlbEntry(x);
                            }
                        } finally {
                            slot.ptl.unlock();
                            slot.ptl = null;
                        }
                    }
                    a = next;
                }
            }
            tlb.finish(); // no write through a stale writable TLB entry once clear_refs returns
        } finally {
            mm.mmapLock.upWrite();
        }
    }

    /**
     * One /proc/PID/pagemap entry (pte_to_pagemap_entry / pagemap_pte_hole): PM_PRESENT with the frame
     * number ({@code showPfn}: CAP_SYS_ADMIN), PM_FILE for a page that is not anonymous,
     * PM_MMAP_EXCLUSIVE for one mapped once, PM_SOFT_DIRTY for a soft-dirty PTE or VMA; 0 outside VMAs.
     */
    public long pagemapEntry(MmStruct mm, long addr, boolean showPfn) {
        mm.mmapLock.downRead();
        try {
            VmArea v = mm.vmaLookup(addr);
            if (v == null) {
                return 0;
            }
            long flags = (v.flags & VmArea.VM_SOFTDIRTY) != 0 ? PM_SOFT_DIRTY : 0;
            long pmdp = memory.pgtables.pmdOffset(mm, addr);
            PteSlot slot = new PteSlot();
            if (pmdp < 0 || !memory.pgtables.mapLockSplit(v, pmdp, addr, slot)) {
                return flags;
            }
            try {
                long pte = memory.ops().get(slot.ptep);
                if (!PteBits.present(pte)) {
                    return flags;
                }
                long page = memory.vmNormalPage(pte);
                FrameTable frames = memory.frames();
                if (page >= 0 && (frames.flags(page) & FrameTable.PG_ANON) == 0) {
                    flags |= PM_FILE;
                }
                if (page >= 0 && frames.mapcount(page) == 1) {
                    flags |= PM_MMAP_EXCLUSIVE;
                }
                if ((pte & PteBits.SOFT_DIRTY) != 0) {
                    flags |= PM_SOFT_DIRTY;
                }
                return PM_PRESENT | flags | (showPfn ? PteBits.pfn(pte) & PM_PFRAME_MASK : 0);
            } finally {
                slot.ptl.unlock();
            }
        } finally {
            mm.mmapLock.upRead();
        }
    }
}
