package org.mmulab.kernel.mm;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/** Event counters of the mm (the mmulab analogue of /proc/vmstat and the fault-kind breakdown). */
public final class VmStat {
    public final AtomicLong faults = new AtomicLong();
    public final AtomicLong faultAnonZero = new AtomicLong();
    public final AtomicLong faultAnonNew = new AtomicLong();
    public final AtomicLong faultWpZeroCopy = new AtomicLong();
    public final AtomicLong faultWpCopy = new AtomicLong();
    public final AtomicLong faultWpReuse = new AtomicLong();
    /** do_wp_page reuses that PageAnonExclusive decided alone (no refcount look). */
    public final AtomicLong faultWpReuseExclusive = new AtomicLong();
    public final AtomicLong faultFileRead = new AtomicLong();
    public final AtomicLong faultFileCow = new AtomicLong();
    public final AtomicLong faultShared = new AtomicLong();
    public final AtomicLong faultAccessFlags = new AtomicLong();
    public final AtomicLong faultSpurious = new AtomicLong();
    public final AtomicLong faultRetry = new AtomicLong();
    /** A non-none, non-present PTE read locklessly that pte_unmap_same found changed under the lock (PAE torn read). */
    public final AtomicLong faultPteUnmapSameRetry = new AtomicLong();
    public final AtomicLong faultOom = new AtomicLong();
    public final AtomicLong faultSigsegv = new AtomicLong();
    public final AtomicLong pteMapLockFailed = new AtomicLong();
    public final AtomicLong pteMapLockRetries = new AtomicLong();
    public final AtomicLong pgtableAllocRaces = new AtomicLong();
    public final AtomicLong pmdBad = new AtomicLong();
    public final AtomicLong zapPages = new AtomicLong();
    /** Page-table entries examined by zap_*_range: the cost of munmap. */
    public final AtomicLong zapEntriesVisited = new AtomicLong();
    /** Page-table entries examined by free_pgd_range. */
    public final AtomicLong freeEntriesVisited = new AtomicLong();
    public final AtomicLong pgtablesFreed = new AtomicLong();
    public final AtomicLong tlbPageFlushes = new AtomicLong();
    public final AtomicLong tlbFullFlushes = new AtomicLong();
    public final AtomicLong gatherFlushes = new AtomicLong();
    /** switch_mm: CR3 loads that kept the ASID's TLB entries (PCID no-flush) / that flushed them. */
    public final AtomicLong switchMmNoFlush = new AtomicLong();
    public final AtomicLong switchMmFlush = new AtomicLong();
    /** fork (dup_mmap): PTEs copied into children, and parent PTEs write-protected for COW. */
    public final AtomicLong forkPtesCopied = new AtomicLong();
    public final AtomicLong forkPtesWrprotected = new AtomicLong();
    /** mremap's move_page_tables: whole PUD / PMD tables moved, and PTEs moved one by one. */
    public final AtomicLong mremapPudsMoved = new AtomicLong();
    public final AtomicLong mremapPmdsMoved = new AtomicLong();
    public final AtomicLong mremapPtesMoved = new AtomicLong();
    /** THP (mm/huge_memory.c, khugepaged): PMD-mapped anon THPs now (meminfo AnonHugePages / 2 MiB) and
     * shmem PMD mappings now (ShmemPmdMapped), collapses done and failed, PMD splits, tables deferred. */
    public final AtomicLong anonThps = new AtomicLong();
    public final AtomicLong shmemPmdMapped = new AtomicLong();
    public final AtomicLong thpCollapseAlloc = new AtomicLong();
    public final AtomicLong thpCollapseFailed = new AtomicLong();
    public final AtomicLong thpSplitPmd = new AtomicLong();
    public final AtomicLong pteFreeDeferred = new AtomicLong();

    public Map<String, Long> asMap() {
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("pgfault", faults.get());
        m.put("pgfault.anon_zero_page", faultAnonZero.get());
        m.put("pgfault.anon_new_page", faultAnonNew.get());
        m.put("pgfault.wp_zero_page_copy", faultWpZeroCopy.get());
        m.put("pgfault.wp_copy", faultWpCopy.get());
        m.put("pgfault.wp_reuse", faultWpReuse.get());
        m.put("pgfault.wp_reuse_exclusive", faultWpReuseExclusive.get());
        m.put("pgfault.file_read", faultFileRead.get());
        m.put("pgfault.file_cow", faultFileCow.get());
        m.put("pgfault.shared", faultShared.get());
        m.put("pgfault.access_flags", faultAccessFlags.get());
        m.put("pgfault.spurious", faultSpurious.get());
        m.put("pgfault.retry", faultRetry.get());
        m.put("pgfault.pte_unmap_same_retry", faultPteUnmapSameRetry.get());
        m.put("pgfault.oom", faultOom.get());
        m.put("pgfault.sigsegv", faultSigsegv.get());
        m.put("pte_offset_map_lock.failed", pteMapLockFailed.get());
        m.put("pte_offset_map_lock.retried", pteMapLockRetries.get());
        m.put("pgtable_alloc.raced", pgtableAllocRaces.get());
        m.put("zap.pages", zapPages.get());
        m.put("zap.entries_visited", zapEntriesVisited.get());
        m.put("free_pgtables.entries_visited", freeEntriesVisited.get());
        m.put("free_pgtables.freed", pgtablesFreed.get());
        m.put("tlb_flush.pages", tlbPageFlushes.get());
        m.put("tlb_flush.full", tlbFullFlushes.get());
        m.put("mmu_gather.flushes", gatherFlushes.get());
        m.put("switch_mm.noflush", switchMmNoFlush.get());
        m.put("switch_mm.flush", switchMmFlush.get());
        m.put("fork.ptes_copied", forkPtesCopied.get());
        m.put("fork.ptes_wrprotected", forkPtesWrprotected.get());
        m.put("mremap.puds_moved", mremapPudsMoved.get());
        m.put("mremap.pmds_moved", mremapPmdsMoved.get());
        m.put("mremap.ptes_moved", mremapPtesMoved.get());
        m.put("nr_anon_transparent_hugepages", anonThps.get());
        m.put("nr_shmem_pmdmapped", shmemPmdMapped.get());
        m.put("thp_collapse_alloc", thpCollapseAlloc.get());
        m.put("thp_collapse_alloc_failed", thpCollapseFailed.get());
        m.put("thp_split_pmd", thpSplitPmd.get());
        m.put("pte_free_defer", pteFreeDeferred.get());
        return m;
    }
}
