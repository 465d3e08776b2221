package org.mmulab.emulator.mmu;

import java.util.LinkedHashMap;
import java.util.Map;

/** Per-vCPU translation counters; names follow perf events where one exists. Plain fields: one writer. */
public final class MmuCounters {
    public long dtlbHits, dtlbMisses, itlbHits, itlbMisses;
    /** L1 misses that hit in the STLB (dtlb_load_misses.stlb_hit + itlb_misses.stlb_hit). */
    public long stlbHits;
    public long dtlbWalks, itlbWalks;
    /** Walks that finished with a translation (…misses.walk_completed). */
    public long walksCompleted;
    /** page_walker_loads.*: paging-structure entries the walker read from memory. */
    public long walkerLoads;
    public long pml4eCacheHits, pdpteCacheHits, pdeCacheHits;
    /** Walks restarted because an entry changed under the A/D compare-and-exchange. */
    public long walkRestarts;
    public long pageFaults;
    public long invlpg, invpcid, cr3Flushes, fullFlushes;

    /** Counter name → value, in display order, using perf's names where one exists. */
    public Map<String, Long> asMap() {
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("dtlb.hits", dtlbHits);
        m.put("dtlb_misses", dtlbMisses);
        m.put("itlb.hits", itlbHits);
        m.put("itlb_misses", itlbMisses);
        m.put("tlb_misses.stlb_hit", stlbHits);
        m.put("dtlb_misses.walk_started", dtlbWalks);
        m.put("itlb_misses.walk_started", itlbWalks);
        m.put("tlb_misses.walk_completed", walksCompleted);
        m.put("page_walker_loads", walkerLoads);
        m.put("pwc.pml4e_hits", pml4eCacheHits);
        m.put("pwc.pdpte_hits", pdpteCacheHits);
        m.put("pwc.pde_hits", pdeCacheHits);
        m.put("walk_restarts", walkRestarts);
        m.put("page-faults.hw", pageFaults);
        m.put("tlb_flush.invlpg", invlpg);
        m.put("tlb_flush.invpcid", invpcid);
        m.put("tlb_flush.cr3", cr3Flushes);
        m.put("tlb_flush.all", fullFlushes);
        return m;
    }
}
