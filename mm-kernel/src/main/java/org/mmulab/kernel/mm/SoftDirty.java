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

    /** clear_refs_write's types (enum clear_refs_types): 1 all, 2 anon, 3 mapped, 4 soft-dirty, 5 hiwater RSS. */
    public static final int CLEAR_REFS_ALL = 1, CLEAR_REFS_ANON = 2, CLEAR_REFS_MAPPED = 3, CLEAR_REFS_SOFT_DIRTY = 4,
            CLEAR_REFS_MM_HIWATER_RSS = 5;

    /** clear_refs_write(CLEAR_REFS_SOFT_DIRTY): every VMA but PFN maps, every present PTE. */
    public void clearRefs(MmStruct mm) {
        clearRefs(mm, CLEAR_REFS_SOFT_DIRTY);
    }

    /**
     * clear_refs_write for {@code type} 1-5 (validated by the caller). 4 clears soft-dirty as the class
     * comment says; 1-3 clear the Accessed bit of every present PTE of all, anonymous-only or file-backed
     * VMAs (clear_refs_pte_range's ptep_test_and_clear_young), then flush the mm's TLBs so the CPU sets
     * them again on the next access; 5 resets the RSS high-water mark to the current RSS.
     */
    public void clearRefs(MmStruct mm, int type) {
        if (type == CLEAR_REFS_MM_HIWATER_RSS) {
            mm.mmapLock.downWrite();
            try {
                mm.resetHiwaterRss();
            } finally {
                mm.mmapLock.upWrite();
            }
            return;
        }
        boolean softDirty = type == CLEAR_REFS_SOFT_DIRTY;
        long clear = softDirty ? PteBits.RW | PteBits.SOFT_DIRTY : PteBits.ACCESSED;
        mm.mmapLock.downWrite();
        try {
            MmuGather tlb = new MmuGather(mm);
            PteSlot slot = new PteSlot();
            PgtableOps ops = memory.ops();
            for (VmArea v : mm.vmaList()) {
                if ((v.flags & VmArea.VM_PFNMAP) != 0 || type == CLEAR_REFS_ANON && v.file != null
                        || type == CLEAR_REFS_MAPPED && v.file == null) {
                    continue;
                }
                if (softDirty) {
                    v.flags &= ~VmArea.VM_SOFTDIRTY; // vma_set_page_prot follows from the flags here
                }
                for (long a = v.start; a < v.end;) {
                    long next = memory.pgtables.addrEnd(a, v.end, 2);
                    long pmdp = memory.pgtables.pmdOffset(mm, a);
                    if (pmdp >= 0 && memory.pgtables.mapLockSplit(v, pmdp, a, slot)) {
                        try {
                            long ptep = slot.ptep;
                            for (long x = a; x < next; x += 4096, ptep += 8) {
                                long pte = ops.get(ptep);
                                if (!PteBits.present(pte) || (pte & clear) == 0) {
                                    continue;
                                }
                                pte = ops.getAndClear(ptep); // ptep_modify_prot_start: keeps a racing A/D
                                ops.set(ptep, pte & ~clear);
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
            return pagemapEntryLocked(mm, mm.vmaLookup(addr), addr, showPfn, new PteSlot());
        } finally {
            mm.mmapLock.upRead();
        }
    }

    /**
     * pagemap_read's walk: {@code out[i]} is the entry of page {@code va + i * 4096}, all under one hold
     * of the mmap read lock (a racing munmap/mremap sees either all before or all after).
     */
    public void pagemap(MmStruct mm, long va, long[] out, boolean showPfn) {
        PteSlot slot = new PteSlot();
        mm.mmapLock.downRead();
        try {
            VmArea v = null;
            for (int i = 0; i < out.length; i++, va += 4096) {
                if (v == null || va < v.start || va >= v.end) {
                    v = mm.vmaLookup(va);
                }
                out[i] = pagemapEntryLocked(mm, v, va, showPfn, slot);
            }
        } finally {
            mm.mmapLock.upRead();
        }
    }

    /**
     * {@link #pagemapEntry} with the mmap lock held, {@code v} the VMA containing addr (or null) and
     * {@code slot} the caller's scratch (a pagemap read reuses one for every entry).
     */
    private long pagemapEntryLocked(MmStruct mm, VmArea v, long addr, boolean showPfn, PteSlot slot) {
        if (v == null) {
            return 0;
        }
        long flags = (v.flags & VmArea.VM_SOFTDIRTY) != 0 ? PM_SOFT_DIRTY : 0; // pagemap_pte_hole too
        long pmdp = memory.pgtables.pmdOffset(mm, addr);
        if (pmdp < 0 || !memory.pgtables.mapLockSplit(v, pmdp, addr, slot)) {
            return flags;
        }
        try {
            long pte = memory.ops().get(slot.ptep);
            if (!PteBits.present(pte)) {
                return flags;
            }
            long page = memory.vmNormalPage(pte); // -1: zero page, PFN map: no struct page
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
            slot.ptl = null;
        }
    }
}
