package org.mmulab.kernel.mm;

import org.mmulab.kernel.mm.Memory.VmFault;

/**
 * The write-protect fault of mm/memory.c (Linux 6.x): {@code do_wp_page} on a present, read-only PTE
 * in a writable VMA — a shared mapping is made writable in place; a private page is reused when it is
 * exclusively this mm's ({@code wp_can_reuse_anon_folio}: PageAnonExclusive, or the PTE holds its only
 * reference, after which it is exclusive again), and copied otherwise ({@code wp_page_copy}, the zero
 * page becoming a fresh zeroed page), with the old translation flushed from every vCPU before the old
 * page can be freed.
 */
final class WpFault {
    private final Memory memory;
    private final FrameTable frames;
    private final PgtableOps ops;

    WpFault(Memory memory) {
        this.memory = memory;
        this.frames = memory.frames();
        this.ops = memory.ops();
    }

    /** do_wp_page: entered with the PTE lock held; returns with it released. */
    int doWpPage(VmFault vmf) {
        VmArea vma = vmf.vma;
        long page = memory.vmNormalPage(vmf.origPte);
        if (page < 0 && (vma.flags & VmArea.VM_PFNMAP) != 0 && memory.fixes.reverted(MmFix.COW_PFNMAP_NO_REFCOUNT)
                && PteBits.pfn(vmf.origPte) < frames.frameCount()) {
            page = PteBits.pfn(vmf.origPte); // reverted: the PFN map's frame counted like a page (before 920fc356f5)
        }
        if ((vma.flags & (VmArea.VM_SHARED | VmArea.VM_MAYSHARE)) != 0) {
            // wp_page_shared / wp_pfn_shared: no page_mkwrite for shmem; reuse.
            return wpPageReuse(vmf);
        }
        if (page >= 0 && wpCanReuseAnon(page)) {
            return wpPageReuse(vmf);
        }
        if (page >= 0) {
            frames.get(page);
        }
        vmf.ptl.unlock();
        return wpPageCopy(vmf, page);
    }

    /**
     * The 6.x reuse rule of do_wp_page (wp_can_reuse_anon_folio): an anon page marked exclusive is
     * written in place without looking further; otherwise it is reused only if this PTE holds its only
     * reference (fork's other mm unmapped it, or COW-copied away), and then it becomes exclusive again
     * (folio_move_anon_rmap). Any other reference — another mm's PTE, a pending MmuGather batch of a
     * racing zap — means copy. Called under the PTE lock, which every path that could add a reference
     * through this PTE also holds.
     */
    private boolean wpCanReuseAnon(long page) {
        if ((frames.flags(page) & FrameTable.PG_ANON) == 0) {
            return false;
        }
        if (memory.fixes.reverted(MmFix.COW_REUSE_REFCOUNT)) {
            // reverted: 2.6's can_share_swap_page, reuse when this PTE is the only mapping (pins not seen)
            if (frames.mapcount(page) != 1) {
                return false;
            }
            frames.moveAnonRmap(page);
            return true;
        }
        if (frames.anonExclusive(page)) {
            memory.stats.faultWpReuseExclusive.incrementAndGet();
            return true;
        }
        if (frames.refcount(page) != 1) {
            return false;
        }
        frames.moveAnonRmap(page);
        return true;
    }

    /** maybe_mkwrite: RW only in a VM_WRITE mapping (a FOLL_FORCE write of GUP breaks COW read-only). */
    private static long maybeMkwrite(long entry, VmArea vma) {
        return (vma.flags & VmArea.VM_WRITE) != 0 ? entry | PteBits.RW : entry;
    }

    private int wpPageReuse(VmFault vmf) {
        try {
            long entry = maybeMkwrite(PteBits.mkdirty(vmf.origPte | PteBits.ACCESSED), vmf.vma);
            ops.set(vmf.ptep, entry);
            memory.stats.faultWpReuse.incrementAndGet();
            return Memory.VM_FAULT_OK;
        } finally {
            vmf.ptl.unlock();
        }
    }

    /**
     * wp_page_copy: new page (zeroed when the old one is the zero page, else a copy), then under the
     * PTE lock and only if the PTE is unchanged: ptep_clear_flush (TLB flushed before the old page can be
     * freed), set the new PTE, drop the old mapping.
     */
    private int wpPageCopy(VmFault vmf, long old) {
        VmArea vma = vmf.vma;
        // The source: the old page, or with no struct page (a private PFN map's frame, PfnMap) the frame
        // itself; only the zero page gives a zeroed copy.
        long src = old >= 0 ? old : PteBits.pfn(vmf.origPte) == memory.zeroPfn() ? -1 : PteBits.pfn(vmf.origPte);
        long nw = src < 0 ? frames.allocZeroedPage() : frames.allocPages(0);
        if (nw < 0) {
            if (old >= 0) {
                frames.put(old);
            }
            return Memory.VM_FAULT_OOM;
        }
        if (src >= 0) {
            frames.copyPage(src, nw);
        }
        if (!memory.pgtables.mapLock(vmf.pmdp, vmf.address, vmf)) {
            frames.put(nw);
            if (old >= 0) {
                frames.put(old);
            }
            memory.stats.faultRetry.incrementAndGet();
            return Memory.VM_FAULT_OK;
        }
        boolean copied = false;
        try {
            if (ops.get(vmf.ptep) == vmf.origPte) {
                if (old >= 0) {
                    int oc = memory.mmCounter(old);
                    if (oc != MmStruct.MM_ANONPAGES) {
                        vmf.mm.addCounter(oc, -1);
                        vmf.mm.addCounter(MmStruct.MM_ANONPAGES, 1);
                    }
                } else {
                    vmf.mm.addCounter(MmStruct.MM_ANONPAGES, 1);
                }
                long entry = maybeMkwrite(PteBits.mkdirty(PteBits.mkPte(nw, vma.pageProt())), vma);
                // ptep_clear_flush: every vCPU's translation of the old page is gone before it can be freed
                ops.getAndClear(vmf.ptep);
                memory.tlbFlush.flushTlbMmRange(vmf.mm, vmf.address, vmf.address + 4096, true);
                frames.addNewAnonRmap(nw);
                ops.set(vmf.ptep, entry);
                if (old >= 0) {
                    frames.removeMap(old);
                }
                copied = true;
                if (old < 0) {
                    memory.stats.faultWpZeroCopy.incrementAndGet();
                } else {
                    memory.stats.faultWpCopy.incrementAndGet();
                }
            } else {
                memory.stats.faultRetry.incrementAndGet();
            }
        } finally {
            vmf.ptl.unlock();
        }
        if (copied) {
            if (old >= 0) {
                frames.put(old); // the reference the old PTE held
            }
        } else {
            frames.put(nw);
        }
        if (old >= 0) {
            frames.put(old); // the reference do_wp_page took
        }
        return Memory.VM_FAULT_OK;
    }
}
