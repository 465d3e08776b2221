package org.mmulab.emulator.timing;

/**
 * Cycles a vCPU's MMU spends beyond an L1 TLB hit (whose cost is part of the instruction's base cost,
 * {@link TimingModel#l1TlbHit()}): the STLB lookup after an L1 miss costs {@link TimingModel#stlbHit()}
 * extra (about 9 cycles on Skylake, Intel optimization manual) whether it hits or not — a miss learns
 * it no sooner — and then every paging-structure load of a walk goes through the
 * {@link CacheHierarchy} (SDM Vol. 3A §4.10.3: the walker's loads are ordinary cacheable loads);
 * paging-structure-cache hits skip the upper levels' loads, so they cost nothing here. Counters
 * mirror perf's {@code page_walker_loads.dtlb_l1/l2/l3/memory} and {@code .itlb_*}. Only attached to
 * the MMU under {@code --timing cycle}.
 */
public final class WalkTiming {
    private final CacheHierarchy caches;
    private final int stlbHitLatency;
    /** Cycles charged so far (STLB hits + walker loads). */
    public long cycles;
    /** Data-side walker loads served by L1D, L2, LLC and memory (index = {@link CacheHierarchy#L1}..MEMORY). */
    public final long[] walkerLoadsByLevel = new long[5];
    /** The same for instruction-fetch walks. */
    public final long[] itlbWalkerLoadsByLevel = new long[5];

    public WalkTiming(CacheHierarchy caches, int stlbHitLatency) {
        this.caches = caches;
        this.stlbHitLatency = stlbHitLatency;
    }

    public static WalkTiming skylake() {
        return new WalkTiming(CacheHierarchy.skylake(), TimingModel.SKYLAKE.stlbHit());
    }

    public CacheHierarchy caches() {
        return caches;
    }

    /** An L1 miss that hit in the STLB. */
    public void stlbHit() {
        cycles += stlbHitLatency;
    }

    /** An L1 miss that also missed the STLB: the lookup took as long as a hit before the walk starts. */
    public void stlbMiss() {
        cycles += stlbHitLatency;
    }

    /** A data-side walker load of the entry at {@code pa}. */
    public void walkerLoad(long pa) {
        walkerLoad(pa, false);
    }

    /** A walker load of the entry at {@code pa}; {@code fetch}: the walk is for an instruction fetch. */
    public void walkerLoad(long pa, boolean fetch) {
        int level = caches.access(pa);
        cycles += caches.latency(level);
        (fetch ? itlbWalkerLoadsByLevel : walkerLoadsByLevel)[level]++;
    }
}
