package org.mmulab.kernel.mm;

/**
 * Writing a file's dirty page-cache pages back, after mm/filemap.c {@code file_write_and_wait_range}
 * (what fsync and msync(MS_SYNC) call), mm/page-writeback.c {@code write_cache_pages} /
 * {@code folio_clear_dirty_for_io} and mm/rmap.c {@code folio_mkclean} / {@code page_vma_mkclean_one}
 * (Linux 6.6). A page written through a shared mapping is dirty only in its PTEs (the MMU sets D on the
 * store); before writeback every shared VMA in the object's i_mmap has those PTEs made clean and
 * read-only — so the next store faults ({@code do_wp_page} on a shared mapping makes it writable and
 * dirty again) — the TLBs of that mm flushed, and the bit passed to the page's dirty tag
 * ({@link AddressSpace#markDirty}); then the tagged pages are written ({@link AddressSpace#writeDirty}).
 * A zap passes a dirty PTE's bit to the page the same way (zap_pte_range's folio_mark_dirty), so
 * munmap and exit lose nothing.
 */
public final class PageWriteback {
    private PageWriteback() {
    }

    /**
     * file_write_and_wait_range for pages [fromIndex, toIndex) of {@code a}: 0 or -errno (EIO when the
     * host write failed). Nothing to do for an object without a {@link AddressSpace.Backing}.
     */
    public static int writeAndWait(Memory memory, AddressSpace a, long fromIndex, long toIndex) {
        if (!a.hasBacking()) {
            return 0;
        }
        mkcleanRange(memory, a, fromIndex, toIndex);
        return a.writeDirty(fromIndex, toIndex);
    }

    /**
     * folio_mkclean for every page of [fromIndex, toIndex) mapped shared: under the i_mmap lock (read),
     * each present PTE that is dirty or writable loses D and RW (ptep_clear_flush semantics: read and
     * cleared atomically, so a D bit the MMU sets meanwhile is not lost), and a dirty one tags its page.
     */
    static void mkcleanRange(Memory memory, AddressSpace a, long fromIndex, long toIndex) {
        PgtableOps ops = memory.ops();
        PteSlot slot = new PteSlot();
        a.iMmapRwsem.downRead();
        try {
            for (VmArea v : a.iMmap.mappings()) {
                if ((v.flags & VmArea.VM_SHARED) == 0) {
                    continue; // a private mapping's file pages are never written in place
                }
                long vFirst = v.pgoff, vLast = v.pgoff + v.pages();
                long s = Math.max(vFirst, fromIndex), e = Math.min(vLast, toIndex);
                if (s >= e) {
                    continue;
                }
                long start = v.start + ((s - vFirst) << 12), end = v.start + ((e - vFirst) << 12);
                MmuGather tlb = new MmuGather(v.mm);
                try {
                    for (long addr = start; addr < end;) {
                        long next = memory.pgtables.addrEnd(addr, end, 2);
                        long pmdp = memory.pgtables.pmdOffset(v.mm, addr);
                        if (pmdp >= 0 && memory.pgtables.mapLock(pmdp, addr, slot)) {
                            try {
                                long ptep = slot.ptep;
                                for (long x = addr; x < next; x += 4096, ptep += 8) {
                                    long pte = ops.get(ptep);
                                    if (!PteBits.present(pte) || (pte & (PteBits.RW | PteBits.DIRTY)) == 0) {
                                        continue;
                                    }
                                    pte = ops.getAndClear(ptep);
                                    ops.set(ptep, pte & ~(PteBits.RW | PteBits.DIRTY));
                                    tlb.removeTlbEntry(x);
                                    if (PteBits.dirty(pte)) {
                                        a.markDirty(vFirst + ((x - v.start) >>> 12));
                                    }
                                }
                            } finally {
                                slot.ptl.unlock();
                                slot.ptl = null;
                            }
                        }
                        addr = next;
                    }
                } finally {
                    tlb.finish(); // no store through a stale writable TLB entry once the page is written
                }
            }
        } finally {
            a.iMmapRwsem.upRead();
        }
    }
}
