package org.mmulab.kernel.mm;

import java.util.Arrays;

import org.mmulab.emulator.machine.YieldKind;

/**
 * struct mmu_gather (mm/mmu_gather.c, include/asm-generic/tlb.h): collects the address range whose
 * PTEs were cleared, the pages they mapped and the page-table pages freed, and on
 * {@link #flushMmu()} shoots down the TLB of every vCPU in mm_cpumask, lazy ones included, by IPI and
 * waits for every acknowledgement <em>before</em> any of those frames is freed (tlb_flush_mmu_tlbonly,
 * then tlb_batch_pages_flush and tlb_table_flush). A page freed before the flush could be reused while
 * a stale TLB entry on another vCPU still maps it. The batch is bounded ({@link Memory#GATHER_BATCH}):
 * zap_pte_range stops under its PTE lock when it is full, drops the lock, flushes and frees, and goes on.
 */
public final class MmuGather {
    final MmStruct mm;
    private long start = Long.MAX_VALUE;
    private long end;
    private boolean freedTables;
    private boolean needFlushAll;
    /**
     * The page batch, allocated when the first page is queued (tlb_next_batch): most munmaps of
     * never-touched ranges queue none, and an mmu_gather costs Linux nothing until then either.
     */
    private long[] pages = NO_PAGES;
    private static final long[] NO_PAGES = {};
    private int nrPages;
    private long[] tables = new long[8];
    private int nrTables;
    /** zap_pte_range's mapped-PTE scratch (pte and ptl locals in Linux), reused across tables. */
    final PteSlot pteSlot = new PteSlot();
    /**
     * zap_details.even_cows == false (mm/memory.c should_zap_cows): this zap leaves anonymous pages — the
     * private COW copies in a file mapping — in place. unmap_mapping_range(..., even_cows=0) for a hole
     * punch; truncate and every other zap pass even_cows (the default).
     */
    boolean keepCows;

    /** tlb_finish_mmu found a parallel gather: the flush covers the whole mm and the lazy vCPUs. */
    private boolean forceFreeing;

    /** tlb_gather_mmu: also inc_tlb_flush_pending; every gather must be {@link #finish}ed. */
    public MmuGather(MmStruct mm) {
        this.mm = mm;
        mm.tlbFlushPending.incrementAndGet();
    }

    /** tlb_remove_tlb_entry / __tlb_adjust_range. */
    void removeTlbEntry(long addr) {
        adjustRange(addr, 4096);
    }

    private void adjustRange(long addr, long size) {
        start = Math.min(start, addr);
        end = Math.max(end, addr + size);
    }

    /** __tlb_remove_page: queue a page reference; true when the batch is full and must be flushed. */
    boolean removePage(long pfn) {
        if (pages == NO_PAGES) {
            pages = new long[Memory.GATHER_BATCH];
        }
        pages[nrPages++] = pfn;
        return nrPages == Memory.GATHER_BATCH;
    }

    /** pte_free_tlb / pmd_free_tlb: the table is freed after the flush; its span needs flushing. */
    void freeTable(long pfn, long addr) {
        freedTables = true;
        adjustRange(addr, 4096);
        if (nrTables == tables.length) {
            tables = Arrays.copyOf(tables, nrTables * 2);
        }
        tables[nrTables++] = pfn;
    }

    /** tlb->need_flush_all: the next flush must be a full one (PAE pmd_free_tlb). */
    void needFlushAll() {
        needFlushAll = true;
    }

    /** tlb_flush_mmu_tlbonly: the TLB flush alone (mprotect's, which frees nothing). */
    public void flushTlbOnly() {
        flushTlbOnly(nrPages > 0 || nrTables > 0);
    }

    /**
     * tlb_flush_mmu_tlbonly; {@code freeing}: pages or tables are freed right after, so the shootdown
     * reaches every vCPU in mm_cpumask, the lazy ones too (freed_tables), and returns only when each has
     * acknowledged: from then on no vCPU can reach what is freed.
     */
    private void flushTlbOnly(boolean freeing) {
        TlbFlush tf = mm.memory.tlbFlush;
        if (needFlushAll) {
            tf.flushTlbMmRange(mm, 0, TlbFlush.TLB_FLUSH_ALL, freeing);
            mm.memory.stats.gatherFlushes.incrementAndGet();
            needFlushAll = false;
        } else if (end > start) {
            tf.flushTlbMmRange(mm, start, end, freeing);
            mm.memory.stats.gatherFlushes.incrementAndGet();
        }
        start = Long.MAX_VALUE;
        end = 0;
        freedTables = false;
    }

    /** tlb_flush_mmu: flush the TLB, then free the batched pages and page tables. */
    public void flushMmu() {
        boolean freeing = nrPages > 0 || nrTables > 0;
        if (mm.memory.fixes.reverted(MmFix.GATHER_FLUSH_BEFORE_FREE)) {
            freeBatch(); // explorer: the frames go back to the allocator while TLBs may still map them
            flushTlbOnly(freeing || forceFreeing);
            return;
        }
        flushTlbOnly(freeing || forceFreeing);
        if (freeing) {
            mm.memory.frames().charge().yieldPoint(YieldKind.MMU_GATHER_FLUSH);
        }
        freeBatch();
    }

    /** tlb_batch_pages_flush and tlb_table_flush. */
    private void freeBatch() {
        FrameTable frames = mm.memory.frames();
        frames.putPages(pages, nrPages); // tlb_batch_pages_flush -> free_pages_and_swap_cache
        nrPages = 0;
        for (int i = 0; i < nrTables; i++) {
            mm.memory.freePgtablePage(tables[i]);
            mm.memory.stats.pgtablesFreed.incrementAndGet();
        }
        nrTables = 0;
    }

    /**
     * tlb_finish_mmu. If another gather of this mm is pending (mm_tlb_flush_nested: two MADV_DONTNEEDs
     * of one range under the mmap read lock), this one may have found PTEs already none that the other
     * cleared and has not flushed yet; returning without a flush would let user space rely on a range
     * that another vCPU's TLB still maps. So the whole mm is flushed, lazy vCPUs included, as Linux does
     * (fullmm range, freed_tables), before dec_tlb_flush_pending.
     */
    public void finish() {
        try {
            if (mm.tlbFlushPending.get() > 1 && !mm.memory.fixes.reverted(MmFix.TLB_FLUSH_NESTED)) {
                needFlushAll = true;
                forceFreeing = true;
            }
            flushMmu();
        } finally {
            forceFreeing = false;
            mm.tlbFlushPending.decrementAndGet();
        }
    }

    boolean hasFreedTables() {
        return freedTables;
    }
}
