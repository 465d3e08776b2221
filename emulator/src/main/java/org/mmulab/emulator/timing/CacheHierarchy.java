package org.mmulab.emulator.timing;

/**
 * One vCPU's cache hierarchy: split L1I and L1D in front of a unified L2 and LLC, then DRAM. Guest
 * loads and stores, the page walker's loads and the kernel's accesses go through L1D; instruction
 * fetches (by line) through L1I; both share L2 and the LLC, so code, data and page tables evict each
 * other as on the part. The page walker's loads go through L1D, L2 and LLC, then DRAM
 * (SDM Vol. 3A §4.10.3 notes the walker's loads are ordinary cacheable loads). Inclusive fill on a
 * miss. The default latencies are Skylake client figures measured by 7-cpu.com ("Intel Skylake":
 * L1 4-5 cycles, L2 12 cycles, L3 42 cycles, RAM 42 cycles + 51 ns, i.e. about 246 cycles at 4 GHz)
 * and sizes from Intel's optimization manual (L1D 32 KiB 8-way, L2 256 KiB 4-way, LLC 2 MiB per core
 * 16-way on client parts; one core's share is modelled).
 */
public final class CacheHierarchy {
    /** Which level served the last access: 1, 2, 3, or 4 for memory (page_walker_loads.dtlb_l1/l2/l3/memory). */
    public static final int L1 = 1, L2 = 2, LLC = 3, MEMORY = 4;

    private final CacheLevel l1i;
    private final CacheLevel l1;
    private final CacheLevel l2;
    private final CacheLevel llc;
    private final int memoryLatency;
    private int lastLevel;
    /** The machine's coherence domain (N vCPUs under cycle timing) and this hierarchy's index in it, or null. */
    private final CoherenceDomain domain;
    private final int member;
    /** Stores that invalidated another vCPU's copy (each charged as a snoop). */
    private long snoops;

    /**
     * @param l1i the instruction cache; the LLC is one core's share of the part's (see the presets): a
     *            cache shared by the vCPUs, with snoops between their L1/L2s, is the next step for N vCPUs
     */
    public CacheHierarchy(CacheLevel l1i, CacheLevel l1, CacheLevel l2, CacheLevel llc, int memoryLatency) {
        this(l1i, l1, l2, llc, memoryLatency, null, 0);
    }

    /** A member of {@code domain} (its shared LLC is {@code llc}); see {@link CoherenceDomain#join}. */
    CacheHierarchy(CacheLevel l1i, CacheLevel l1, CacheLevel l2, CacheLevel llc, int memoryLatency, CoherenceDomain domain,
            int member) {
        this.l1i = l1i;
        this.l1 = l1;
        this.l2 = l2;
        this.llc = llc;
        this.memoryLatency = memoryLatency;
        this.domain = domain;
        this.member = member;
    }

    /**
     * A store to the line holding {@code pa}: an {@link #access} (write-allocate), and with other vCPUs in a
     * {@link CoherenceDomain}, their private copies invalidated. Returns the extra cycles: the domain's snoop
     * latency when another vCPU held the line, else 0. The level that served it is {@link #lastLevel}.
     */
    public int store(long pa) {
        access(pa);
        if (domain != null && domain.invalidateOthers(member, pa)) {
            snoops++;
            return domain.snoopLatency();
        }
        return 0;
    }

    /** Drops the line holding {@code pa} from L1I, L1D and L2; true when any of them held it. */
    boolean invalidatePrivate(long pa) {
        return l1.invalidate(pa) | l2.invalidate(pa) | l1i.invalidate(pa);
    }

    /** Stores of this vCPU that invalidated another vCPU's copy. */
    public long snoops() {
        return snoops;
    }

    public static CacheHierarchy skylake() {
        return TimingModel.SKYLAKE.buildCaches();
    }

    /** A load of the line holding {@code pa}; returns its latency in cycles. */
    public int load(long pa) {
        return latency(access(pa));
    }

    /**
     * An access to the line holding {@code pa} (filling every level that missed); returns the level that
     * served it, {@link #L1} .. {@link #MEMORY}.
     */
    public int access(long pa) {
        int level = lookup(l1, pa);
        lastLevel = level;
        return level;
    }

    /**
     * An instruction fetch of the line holding {@code pa}: L1I, then the shared L2 and LLC (filling every
     * level that missed); returns the level that served it, {@link #L1} (= L1I) .. {@link #MEMORY}.
     */
    public int fetch(long pa) {
        return lookup(l1i, pa);
    }

    /** {@code first} (L1D or L1I), then the shared L2 and LLC, filling every level that missed. */
    private int lookup(CacheLevel first, long pa) {
        if (first.access(pa)) {
            return L1;
        } else if (l2.access(pa)) {
            return L2;
        } else if (llc.access(pa)) {
            return LLC;
        }
        return MEMORY;
    }

    /** Load-to-use latency of a level. */
    public int latency(int level) {
        return switch (level) {
            case L1 -> l1.latency();
            case L2 -> l2.latency();
            case LLC -> llc.latency();
            default -> memoryLatency;
        };
    }

    /** The level that served the most recent {@link #load}. */
    public int lastLevel() {
        return lastLevel;
    }

    public CacheLevel l1i() {
        return l1i;
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

    /** Empties every level (a shared LLC too: call it on every member or none). */
    public void invalidateAll() {
        l1i.invalidateAll();
        l1.invalidateAll();
        l2.invalidateAll();
        llc.invalidateAll();
    }
}
