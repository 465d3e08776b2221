package org.mmulab.emulator.timing;

/**
 * Cycles a vCPU's MMU and memory pipeline spend beyond what an instruction's base cost covers, under
 * {@code --timing cycle} only:
 * <ul>
 * <li>Translation: an L1 TLB hit is part of the load-to-use latency ({@link TimingModel#l1TlbHit()}); the
 *     STLB lookup after an L1 miss costs {@link TimingModel#stlbHit()} extra whether it hits or not — a
 *     miss learns it no sooner — and then every paging-structure load of a walk goes through the
 *     {@link CacheHierarchy} (SDM Vol. 3A §4.10.3: the walker's loads are ordinary cacheable loads);
 *     paging-structure-cache hits skip the upper levels' loads, so they cost nothing here.</li>
 * <li>Guest data: every guest load or store goes through L1D, L2, LLC. An L1D hit is in the instruction's
 *     base cost (its MEM_OPERAND class); a miss costs the serving level's load-to-use latency minus the L1D
 *     latency. The cost is blocking, as in a simple in-order timing model (gem5's TimingSimpleCPU): the
 *     benchmark images chase pointers, so each load's latency is exposed as on the real part. A preset
 *     whose part has an L1 stride prefetcher runs a {@link StridePrefetcher} beside the loads: it learns
 *     from {@link #dataLoad} and fills lines ahead; a demand load that hits a prefetched line before the prefetch
 *     completes waits for the rest of its latency ({@code prefetch.late_cycles}, in {@link #dataCycles}).</li>
 * <li>Instruction fetch: by 64-byte line; a fetch from the line of the previous instruction is free, a
 *     new line goes through L1I (a hit is part of the pipelined fetch), a miss costs the level that
 *     serves it.</li>
 * </ul>
 * Counters mirror perf's {@code page_walker_loads.dtlb_l1/l2/l3/memory} and {@code .itlb_*}, and AMD's
 * / Intel's load-source events ({@code mem_load_retired.l1_hit/l2_hit/l3_hit/l3_miss}). Nothing here is
 * touched under {@code --timing fast}: the MMU holds no WalkTiming then.
 */
public final class WalkTiming {
    private final CacheHierarchy caches;
    private final int stlbHitLatency;
    /** Cycles a virtualised host's two-dimensional walk adds to each page walk ({@link VirtualisedHost#walkCycles}). */
    private final int nestedWalkCycles;
    private final int l1Latency;
    /** Cycles charged so far: STLB lookups, walker loads, guest data misses and fetch misses. */
    public long cycles;
    /** Of {@link #cycles}: STLB lookups and walker loads (perf has no name; mmulab's walk_cycles). */
    public long walkCycles;
    /** Data-side walker loads served by L1D, L2, LLC and memory (index = {@link CacheHierarchy#L1}..MEMORY). */
    public final long[] walkerLoadsByLevel = new long[5];
    /** The same for instruction-fetch walks. */
    public final long[] itlbWalkerLoadsByLevel = new long[5];
    /** Guest loads and stores served by L1D, L2, LLC and memory (index = level). */
    public final long[] dataAccessesByLevel = new long[5];
    /** Instruction-fetch line accesses served by L1I, L2, LLC and memory (index = level). */
    public final long[] fetchLinesByLevel = new long[5];
    /** Of {@link #cycles}: guest data misses and fetch misses. */
    public long dataCycles, fetchCycles;
    /** Of {@link #dataCycles}: snoops of guest stores that invalidated another vCPU's copy. */
    public long snoopCycles;
    /** Of {@link #walkCycles}: the virtualised host's walk layer (demand walks only; a prefetch walk's is its lateness). */
    public long nestedWalkCharged;
    private long lastFetchLine = -1;
    /** The part's L1 data stride prefetcher, or null when its preset has none. */
    private final StridePrefetcher prefetcher;
    /** The vCPU's clock (with {@link #cycles}, the vCPU's time at an access), or null: time is {@link #cycles} alone. */
    private final VcpuClock clock;

    /** A hierarchy without a vCPU clock: the prefetcher's time is this account's {@link #cycles} alone (unit tests). */
    public WalkTiming(CacheHierarchy caches, int stlbHitLatency) {
        this(caches, stlbHitLatency, null);
    }

    /**
     * @param clock the vCPU's clock over the same {@code caches}: the time of an access is its cycles plus
     *              {@link #cycles} (what InstructionTiming's issue point measures), which times the data
     *              prefetcher's fills against the demand loads
     */
    public WalkTiming(CacheHierarchy caches, int stlbHitLatency, VcpuClock clock) {
        this(caches, stlbHitLatency, 0, clock);
    }

    /**
     * @param nestedWalkCycles what a virtualised host adds to each page walk (0 on bare metal): charged after each
     *                         STLB miss of a demand walk, and added to a prefetch walk's latency
     */
    public WalkTiming(CacheHierarchy caches, int stlbHitLatency, int nestedWalkCycles, VcpuClock clock) {
        if (nestedWalkCycles < 0) {
            throw new IllegalArgumentException("nested walk cycles must not be negative");
        }
        this.nestedWalkCycles = nestedWalkCycles;
        this.clock = clock;
        this.caches = caches;
        this.stlbHitLatency = stlbHitLatency;
        this.l1Latency = caches.latency(CacheHierarchy.L1);
        this.prefetcher = caches.prefetchSpec().isNone() ? null : new StridePrefetcher(caches.prefetchSpec(), caches);
    }

    /**
     * The model's counters beyond the public arrays, for {@code --stats} (in this order): core-to-core
     * transfers of Modified lines ({@code coherence.dirty_reads}, {@code coherence.dirty_read_cycles}), and
     * with a data prefetcher its {@code prefetch.*} counters ({@link StridePrefetcher}). Built on request.
     */
    public java.util.Map<String, Long> modelCounters() {
        java.util.Map<String, Long> m = new java.util.LinkedHashMap<>();
        if (nestedWalkCycles != 0) {
            m.put("virt.walk_cycles", nestedWalkCharged);
        }
        m.put("coherence.dirty_reads", caches.dirtyReads());
        m.put("coherence.dirty_read_cycles", caches.dirtyReadCycles());
        StridePrefetcher p = prefetcher;
        if (p != null) {
            m.put("prefetch.issued", p.issued);
            m.put("prefetch.filled", p.filled);
            m.put("prefetch.useful", p.useful);
            m.put("prefetch.late", p.late);
            m.put("prefetch.late_cycles", p.lateCycles);
            m.put("prefetch.dropped_no_translation", p.droppedNoTranslation);
            m.put("prefetch.dropped_page_boundary", p.droppedPageBoundary);
            if (p.spec().tlbFill() != DataPrefetch.TlbFill.NONE) {
                m.put("prefetch.l1_tlb_fills", p.tlbFills);
            }
            if (p.spec().tlbFill() == DataPrefetch.TlbFill.FROM_STLB_WALK_INTO_STLB) {
                m.put("prefetch.stlb_fills", p.stlbFills);
            }
            if (p.spec().walks()) {
                m.put("prefetch.walks", p.walks);
                m.put("prefetch.walk_loads", p.walkLoads);
                m.put("prefetch.walks_dropped", p.walksDropped);
            }
        }
        return m;
    }

    /** The data prefetcher (its counters), or null when the preset has none. */
    public StridePrefetcher prefetcher() {
        return prefetcher;
    }

    /**
     * Where the prefetcher translates a prefetch into another page (the vCPU's MMU: TLB lookups, then a
     * side-effect-free walk when the preset's prefetcher walks).
     */
    public void prefetchTranslator(StridePrefetcher.Translator t) {
        if (prefetcher != null) {
            prefetcher.translator(t);
        }
    }

    /**
     * The MMU is about to walk for a prefetch whose translation the TLBs lack: true (and counted in
     * {@code prefetch.walks}) when the preset's prefetcher walks, false when it drops such prefetches.
     */
    public boolean prefetchWalkStart() {
        StridePrefetcher p = prefetcher;
        if (p == null || !p.spec().walks()) {
            return false;
        }
        p.walks++;
        p.walkLoadLatency += nestedWalkCycles; // the prefetch's walk is two-dimensional too: its line arrives later
        return true;
    }

    /**
     * A prefetch walk's paging-structure load of {@code pa}: through the caches as the walker's loads go
     * (filling L1D, L2, LLC), charged to no instruction and counted only in {@code prefetch.walk_loads}; its
     * latency delays the prefetched line's arrival.
     */
    public void prefetchWalkLoad(long pa) {
        StridePrefetcher p = prefetcher;
        p.walkLoadLatency += caches.latency(caches.prefetch(pa));
        p.walkLoads++;
    }

    /** The prefetch walk ended without a translation (not present, Accessed = 0, reserved bit, rights). */
    public void prefetchWalkDropped() {
        prefetcher.walksDropped++;
    }

    public static WalkTiming skylake() {
        return new WalkTiming(CacheHierarchy.skylake(), TimingModel.SKYLAKE.stlbHit());
    }

    public CacheHierarchy caches() {
        return caches;
    }

    /** The vCPU's clock this account's time adds to, or null (see the constructors). */
    public VcpuClock clock() {
        return clock;
    }

    /** An L1 miss that hit in the STLB. */
    public void stlbHit() {
        cycles += stlbHitLatency;
        walkCycles += stlbHitLatency;
    }

    /**
     * An L1 miss that also missed the STLB: the lookup took as long as a hit before the walk starts; on a
     * virtualised host the walk then pays its layer's two-dimensional share.
     */
    public void stlbMiss() {
        int c = stlbHitLatency + nestedWalkCycles;
        cycles += c;
        walkCycles += c;
        nestedWalkCharged += nestedWalkCycles;
    }

    /** A data-side walker load of the entry at {@code pa}. */
    public void walkerLoad(long pa) {
        walkerLoad(pa, false);
    }

    /** A walker load of the entry at {@code pa}; {@code fetch}: the walk is for an instruction fetch. */
    public void walkerLoad(long pa, boolean fetch) {
        int level = caches.access(pa);
        int c = caches.latency(level) + caches.lastExtra();
        cycles += c;
        walkCycles += c;
        (fetch ? itlbWalkerLoadsByLevel : walkerLoadsByLevel)[level]++;
    }

    /** A guest load or store of the line holding {@code pa} (after its translation). */
    public void dataAccess(long pa) {
        dataLookup(pa);
    }

    /** {@link #dataAccess}'s lookup and charge; returns the level that served the line. */
    private int dataLookup(long pa) {
        int level = caches.access(pa);
        dataAccessesByLevel[level]++;
        if (level != CacheHierarchy.L1) {
            int c = caches.latency(level) - l1Latency + caches.lastExtra();
            cycles += c;
            dataCycles += c;
        }
        return level;
    }

    /**
     * A guest load by the instruction at {@code pc} of {@code va} at {@code pa}: as {@link #dataAccess}, and
     * the data prefetcher learns from it (and may fetch ahead, issued at this access's time). A hit on a line a
     * prefetch has not yet brought in waits for it: charged the rest.
     */
    public void dataLoad(long pc, long va, long pa) {
        StridePrefetcher p = prefetcher;
        if (p == null) {
            dataLookup(pa);
            return;
        }
        long now = (clock != null ? clock.cycles() : 0) + cycles; // before this load's own miss, if any
        if (dataLookup(pa) == CacheHierarchy.L1) {
            long wait = p.demandHit(pa, now);
            cycles += wait;
            dataCycles += wait;
        } else {
            p.demandMiss(pa);
        }
        p.now = now;
        p.train(pc, va, pa);
    }

    /**
     * A guest store to the line holding {@code pa}: as {@link #dataAccess}, plus, with other vCPUs in a
     * {@link CoherenceDomain}, the snoop when the store invalidated another vCPU's copy.
     */
    public void dataStore(long pa) {
        int snoop = caches.store(pa);
        int level = caches.lastLevel();
        dataAccessesByLevel[level]++;
        int c = snoop + (level != CacheHierarchy.L1 ? caches.latency(level) - l1Latency : 0);
        if (c != 0) {
            cycles += c;
            dataCycles += c;
            snoopCycles += snoop;
        }
    }

    /** The instruction at {@code pa} is fetched: charged when it starts a line other than the previous one's. */
    public void fetch(long pa) {
        long line = pa >>> CacheLevel.LINE_SHIFT;
        if (line == lastFetchLine) {
            return;
        }
        lastFetchLine = line;
        int level = caches.fetch(pa);
        fetchLinesByLevel[level]++;
        if (level != CacheHierarchy.L1) {
            int c = caches.latency(level) + caches.lastExtra();
            cycles += c;
            fetchCycles += c;
        }
    }
}
