package org.mmulab.emulator.timing;

/**
 * The data-side cache hierarchy a page walker's loads go through: L1D, L2 and LLC, then DRAM
 * (SDM Vol. 3A §4.10.3 notes the walker's loads are ordinary cacheable loads). Inclusive fill on a
 * miss. The default latencies are Skylake client figures measured by 7-cpu.com ("Intel Skylake":
 * L1 4-5 cycles, L2 12 cycles, L3 42 cycles, RAM 42 cycles + 51 ns, i.e. about 246 cycles at 4 GHz)
 * and sizes from Intel's optimization manual (L1D 32 KiB 8-way, L2 256 KiB 4-way, LLC 2 MiB per core
 * 16-way on client parts; one core's share is modelled).
 */
public final class CacheHierarchy {
    /** Which level served the last access: 1, 2, 3, or 4 for memory (page_walker_loads.dtlb_l1/l2/l3/memory). */
    public static final int L1 = 1, L2 = 2, LLC = 3, MEMORY = 4;

    private final CacheLevel l1;
    private final CacheLevel l2;
    private final CacheLevel llc;
    private final int memoryLatency;
    private int lastLevel;

    public CacheHierarchy(CacheLevel l1, CacheLevel l2, CacheLevel llc, int memoryLatency) {
        this.l1 = l1;
        this.l2 = l2;
        this.llc = llc;
        this.memoryLatency = memoryLatency;
    }

    public static CacheHierarchy skylake() {
        return new CacheHierarchy(new CacheLevel("L1D", 32 << 10, 8, 5), new CacheLevel("L2", 256 << 10, 4, 12),
                new CacheLevel("LLC", 2 << 20, 16, 42), 246);
    }

    /** A load of the line holding {@code pa}; returns its latency in cycles. */
    public int load(long pa) {
        if (l1.access(pa)) {
            lastLevel = L1;
            return l1.latency();
        }
        if (l2.access(pa)) {
            lastLevel = L2;
            return l2.latency();
        }
        if (llc.access(pa)) {
            lastLevel = LLC;
            return llc.latency();
        }
        lastLevel = MEMORY;
        return memoryLatency;
    }

    /** The level that served the most recent {@link #load}. */
    public int lastLevel() {
        return lastLevel;
    }

    public CacheLevel l1() {
        return l1;
    }

    public CacheLevel l2() {
        return l2;
    }

    public CacheLevel llc() {
        return llc;
    }

    public void invalidateAll() {
        l1.invalidateAll();
        l2.invalidateAll();
        llc.invalidateAll();
    }
}
