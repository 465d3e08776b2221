package org.mmulab.emulator.timing;

/**
 * Cycles a vCPU's MMU spends beyond an L1 TLB hit (whose cost is part of the instruction's base cost):
 * an STLB hit costs {@link #stlbHitLatency} extra (about 9 cycles on Skylake, Intel optimization
 * manual), and every paging-structure load of a walk goes through the {@link CacheHierarchy}.
 * Counters mirror perf's {@code page_walker_loads.dtlb_l1/l2/l3/memory}.
 */
public final class WalkTiming {
    private final CacheHierarchy caches;
    private final int stlbHitLatency;
    /** Cycles charged so far. */
    public long cycles;
    /** Walker loads served by L1D, L2, LLC and memory (index = {@link CacheHierarchy#lastLevel()}). */
    public final long[] walkerLoadsByLevel = new long[5];

    public WalkTiming(CacheHierarchy caches, int stlbHitLatency) {
        this.caches = caches;
        this.stlbHitLatency = stlbHitLatency;
    }

    public static WalkTiming skylake() {
        return new WalkTiming(CacheHierarchy.skylake(), 9);
    }

    public CacheHierarchy caches() {
        return caches;
    }

    public void stlbHit() {
        cycles += stlbHitLatency;
    }

    public void walkerLoad(long pa) {
        cycles += caches.load(pa);
        walkerLoadsByLevel[caches.lastLevel()]++;
    }
}
