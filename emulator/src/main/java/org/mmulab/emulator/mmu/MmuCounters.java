package org.mmulab.emulator.mmu;

/** Per-vCPU translation counters; names follow perf events where one exists. Plain fields: one writer. */
public final class MmuCounters {
    public long dtlbHits, dtlbMisses, itlbHits, itlbMisses;
    /** dtlb_load_misses.walk_completed + dtlb_store_misses.walk_completed + itlb_misses.walk_completed. */
    public long walksCompleted;
    /** page_walker_loads.*: paging-structure entries read by the walker. */
    public long walkerLoads;
    /** Walks restarted because an entry changed under the A/D compare-and-exchange. */
    public long walkRestarts;
    public long pageFaults;
    public long invlpg, cr3Flushes;
}
