package org.mmulab.emulator.mmu;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Per-vCPU translation counters; names follow perf's Skylake events where one exists
 * ({@code perf list}: dtlb_load_misses.*, dtlb_store_misses.*, itlb_misses.*, tlb_flush.*). Plain
 * fields: one writer (the vCPU's thread). The hot paths bump one total per event; the store / fetch
 * split is counted beside it only on the miss paths and the load share is derived (total - store).
 */
public final class MmuCounters {
    /** L1 dTLB / iTLB lookups that hit (including the host-side fast path, a subset of the dTLB). */
    public long dtlbHits, itlbHits;
    /** L1 dTLB misses (loads + stores) and iTLB misses. */
    public long dtlbMisses, itlbMisses;
    public long dtlbStoreMisses;
    /** L1 misses that hit in the STLB: all kinds, and the store and fetch shares. */
    public long stlbHits, dtlbStoreStlbHits, itlbStlbHits;
    /** Walks started (…misses.miss_causes_a_walk), data and fetch, and the data walks for stores. */
    public long dtlbWalks, itlbWalks, dtlbStoreWalks;
    /** Walks that finished with a translation (…misses.walk_completed): all, and store and fetch shares. */
    public long walksCompleted, dtlbStoreWalksCompleted, itlbWalksCompleted;
    /** Paging-structure entries the walker read from memory (page_walker_loads, all levels). */
    public long walkerLoads;
    public long pml4eCacheHits, pdpteCacheHits, pdeCacheHits;
    /** Walks restarted because an entry changed under the A/D compare-and-exchange. */
    public long walkRestarts;
    /** #PF raised by this MMU (for guest accesses and the kernel's copy_to/from_user alike). */
    public long pageFaults;
    public long invlpg, invpcid, cr3Flushes, fullFlushes;

    public long dtlbLoadMisses() {
        return dtlbMisses - dtlbStoreMisses;
    }

    public long dtlbLoadStlbHits() {
        return stlbHits - dtlbStoreStlbHits - itlbStlbHits;
    }

    public long dtlbLoadWalks() {
        return dtlbWalks - dtlbStoreWalks;
    }

    public long dtlbLoadWalksCompleted() {
        return walksCompleted - dtlbStoreWalksCompleted - itlbWalksCompleted;
    }

    /** Events that flush (part of) the dTLB and STLB: INVLPG, INVPCID, CR3 writes that flush, full flushes. */
    public long tlbFlushes() {
        return invlpg + invpcid + cr3Flushes + fullFlushes;
    }

    /** Counter name → value, in display order, using perf's names where one exists. */
    public Map<String, Long> asMap() {
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("l1_dtlb.hits", dtlbHits);
        m.put("dtlb_load_misses.l1_miss", dtlbLoadMisses());
        m.put("dtlb_load_misses.stlb_hit", dtlbLoadStlbHits());
        m.put("dtlb_load_misses.miss_causes_a_walk", dtlbLoadWalks());
        m.put("dtlb_load_misses.walk_completed", dtlbLoadWalksCompleted());
        m.put("dtlb_store_misses.l1_miss", dtlbStoreMisses);
        m.put("dtlb_store_misses.stlb_hit", dtlbStoreStlbHits);
        m.put("dtlb_store_misses.miss_causes_a_walk", dtlbStoreWalks);
        m.put("dtlb_store_misses.walk_completed", dtlbStoreWalksCompleted);
        m.put("l1_itlb.hits", itlbHits);
        m.put("itlb_misses.l1_miss", itlbMisses);
        m.put("itlb_misses.stlb_hit", itlbStlbHits);
        m.put("itlb_misses.miss_causes_a_walk", itlbWalks);
        m.put("itlb_misses.walk_completed", itlbWalksCompleted);
        m.put("page_walker_loads", walkerLoads);
        m.put("pwc.pml4e_hits", pml4eCacheHits);
        m.put("pwc.pdpte_hits", pdpteCacheHits);
        m.put("pwc.pde_hits", pdeCacheHits);
        m.put("walk_restarts", walkRestarts);
        m.put("page-faults.hw", pageFaults);
        m.put("tlb_flush.dtlb_thread", tlbFlushes());
        m.put("tlb_flush.stlb_any", tlbFlushes());
        m.put("tlb_flush.invlpg", invlpg);
        m.put("tlb_flush.invpcid", invpcid);
        m.put("tlb_flush.cr3", cr3Flushes);
        m.put("tlb_flush.all", fullFlushes);
        return m;
    }
}
