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
    /** The part's L1 data prefetcher ({@link DataPrefetch#NONE}: none). */
    private final DataPrefetch prefetchSpec;
    /** Stores that invalidated another vCPU's copy (each charged as a snoop). */
    private long snoops;
    /** Cycles beyond the serving level's latency of the last access: a line another vCPU held Modified. */
    private int lastExtra;
    /** Reads (data, walker, fetch, kernel) of lines another vCPU held Modified, and their extra cycles. */
    private long dirtyReads, dirtyReadCycles;

    /**
     * @param l1i the instruction cache; the LLC is one core's share of the part's (see the presets): a
     *            cache shared by the vCPUs, with snoops between their L1/L2s, is the next step for N vCPUs
     */
    public CacheHierarchy(CacheLevel l1i, CacheLevel l1, CacheLevel l2, CacheLevel llc, int memoryLatency) {
        this(l1i, l1, l2, llc, memoryLatency, null, 0, DataPrefetch.NONE);
    }

    /** As above, with the part's L1 data prefetcher ({@link StridePrefetcher}, built by {@link WalkTiming}). */
    public CacheHierarchy(CacheLevel l1i, CacheLevel l1, CacheLevel l2, CacheLevel llc, int memoryLatency, DataPrefetch prefetch) {
        this(l1i, l1, l2, llc, memoryLatency, null, 0, prefetch);
    }

    /** A member of {@code domain} (its shared LLC is {@code llc}); see {@link CoherenceDomain#join}. */
    CacheHierarchy(CacheLevel l1i, CacheLevel l1, CacheLevel l2, CacheLevel llc, int memoryLatency, CoherenceDomain domain,
            int member, DataPrefetch prefetch) {
        this.prefetchSpec = java.util.Objects.requireNonNull(prefetch);
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
        if (domain == null) {
            access(pa);
            return 0;
        }
        lastLevel = lookup(l1, pa, false); // the RFO: the snoop below is its cost when another vCPU held the line
        l1.markDirty(pa); // Modified in this vCPU's L1D and L2 until another vCPU reads it
        l2.markDirty(pa);
        if (domain.invalidateOthers(member, pa)) {
            snoops++;
            return domain.snoopLatency();
        }
        return 0;
    }

    /** Another vCPU reads the line holding {@code pa}: a Modified copy here becomes Shared; true when there was one. */
    boolean supplyDirty(long pa) {
        return l1.cleanIfDirty(pa) | l2.cleanIfDirty(pa);
    }

    /**
     * Cycles the last {@link #access}, {@link #fetch} or {@link #load} took beyond {@link #latency} of the level
     * it returned: with N vCPUs, a read of a line another vCPU held Modified is a core-to-core transfer, charged
     * the domain's core-to-core latency instead of the LLC's; else 0.
     */
    public int lastExtra() {
        return lastExtra;
    }

    /** Reads of lines another vCPU held Modified (core-to-core transfers). */
    public long dirtyReads() {
        return dirtyReads;
    }

    /** Their cycles beyond the LLC latency. */
    public long dirtyReadCycles() {
        return dirtyReadCycles;
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

    /** A load of the line holding {@code pa}; returns its latency in cycles (a core-to-core transfer's included). */
    public int load(long pa) {
        return latency(access(pa)) + lastExtra;
    }

    /**
     * An access to the line holding {@code pa} (filling every level that missed); returns the level that
     * served it, {@link #L1} .. {@link #MEMORY}.
     */
    public int access(long pa) {
        int level = lookup(l1, pa, true);
        lastLevel = level;
        return level;
    }

    /**
     * An instruction fetch of the line holding {@code pa}: L1I, then the shared L2 and LLC (filling every
     * level that missed); returns the level that served it, {@link #L1} (= L1I) .. {@link #MEMORY}.
     */
    public int fetch(long pa) {
        return lookup(l1i, pa, true);
    }

    /**
     * {@code first} (L1D or L1I), then the shared L2 and LLC, filling every level that missed. A read
     * ({@code read}) that misses this vCPU's private levels takes a Modified copy from another vCPU of the
     * domain when one has it (MSI: Modified there → Shared in both); it is served at the LLC's level and
     * charged the core-to-core latency ({@link #lastExtra}).
     */
    private int lookup(CacheLevel first, long pa, boolean read) {
        lastExtra = 0;
        if (first.access(pa)) {
            return L1;
        } else if (l2.access(pa)) {
            return L2;
        }
        boolean inLlc = llc.access(pa);
        if (read && domain != null && domain.takeDirty(member, pa)) {
            lastExtra = Math.max(0, domain.snoopLatency() - llc.latency());
            dirtyReads++;
            dirtyReadCycles += lastExtra;
            return LLC;
        }
        return inLlc ? LLC : MEMORY;
    }

    /**
     * A hardware prefetch of the line holding {@code pa} into L1D (filling L2 and the LLC on the way, as a
     * load would); returns the level that held it. Charges nothing and leaves {@link #lastLevel} alone.
     */
    public int prefetch(long pa) {
        int extra = lastExtra;
        long reads = dirtyReads, cycles = dirtyReadCycles;
        int level = lookup(l1, pa, true); // takes a Modified line as a read would, but charges and counts nothing
        lastExtra = extra;
        dirtyReads = reads;
        dirtyReadCycles = cycles;
        return level;
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

    /** The part's L1 data prefetcher, which {@link WalkTiming} runs beside these caches. */
    public DataPrefetch prefetchSpec() {
        return prefetchSpec;
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
