package org.mmulab.emulator.timing;

import java.util.Arrays;
import java.util.Objects;

/**
 * Every latency the cycle model charges, for one processor. Attached to a CPU model
 * ({@code org.mmulab.emulator.mmu.CpuModel#timing()}).
 *
 * <p>Sources of the {@link #SKYLAKE} numbers (Skylake client, i7-6700K, the part 7-cpu.com measured):
 * <ul>
 * <li>Clock: 4.0 GHz base. The guest's TSC ticks at this rate under {@code --deterministic} (an invariant
 *     TSC equal to the core clock), and virtual time = cycles / frequency.</li>
 * <li>Caches: 7-cpu.com "Intel Skylake": L1D 32 KiB 8-way 4-5 cycles (5 used: complex addressing),
 *     L2 256 KiB 4-way 12 cycles, L3 42 cycles (one core's 2 MiB 16-way share modelled), RAM 42 cycles
 *     + 51 ns = 246 cycles at 4 GHz. Bulk (sequential, prefetched) per-64-byte-line costs from the same
 *     page's bandwidths: L1 32 B/cycle store → 2, L2 ~29 B/cycle → 3, L3 ~18 B/cycle → 4, RAM ~21 GB/s
 *     → 12 cycles per line.</li>
 * <li>TLB: Intel 64 and IA-32 Architectures Optimization Reference Manual, Skylake TLB table: an L1 TLB
 *     hit is part of the 4-5 cycle load-to-use latency (0 extra); an STLB hit costs about 9 cycles more.
 *     A page walk's loads go through the caches above; paging-structure caches skip levels.</li>
 * <li>Instruction classes ({@link InstrClass}): Agner Fog, "Instruction tables" (2022), Skylake section:
 *     reciprocal throughputs rounded up to whole cycles (ALU, MOV, LEA, branches 1; CALL/RET 2; IMUL 1),
 *     latencies where the result is consumed at once: DIV r32 26, DIV r64 35-88 (42 used), POPF ~20,
 *     CPUID 100-250 (100 used), RDTSC 25; LOCK-prefixed read-modify-write and XCHG m,r ~18;
 *     CMPXCHG8B ~10; ENTER 8; FXSAVE/FXRSTOR ~70; SSE add/mul/logic/shuffle 1 (0.5 rounded up),
 *     DIVSS 3, DIVSD 4, SQRTSD 4-6 (6 used), LDMXCSR 3. REP MOVS/STOS fast strings: start-up ~15
 *     cycles then about one element per cycle; REPE CMPS / REPNE SCAS about 2 cycles per element.</li>
 * <li>Exceptions: Linus Torvalds' measurement of a user page fault on Haswell (2016): fault delivery
 *     about 715 cycles, IRET about 330. Skylake is of the same generation of microcode entry.</li>
 * <li>System calls: SYSCALL/SYSRET mode switches are far cheaper than an exception; Soares and Stumm,
 *     "FlexSC" (OSDI 2010) measured a null system call's direct cost at roughly 150 cycles on a Core
 *     i7; split 90 entry (SYSCALL + swapgs + stack switch) and 60 exit (SYSRET).</li>
 * <li>Locks: an uncontended spin_lock is one LOCK CMPXCHG (~18 cycles, Agner Fog); spin_unlock is a
 *     plain store (1). A contended hand-off moves the lock's cache line from the owner's core:
 *     about 30 ns core-to-core on Skylake client (AnandTech's core-to-core latency tests), 120 cycles.</li>
 * <li>IPIs (for TLB shootdowns): writing the x2APIC ICR and the receiver's interrupt entry/exit; Amit,
 *     "Optimizing the TLB Shootdown Algorithm with Page-Table Access Tracking" (USENIX ATC 2017)
 *     puts a one-target shootdown at a few microseconds. Used: send 500 cycles on the sender, receive
 *     (interrupt entry + handler + EOI + IRET) 1500 on the target, and the sender waits 2000 more for
 *     the acknowledgement.</li>
 * </ul>
 *
 * <li>L1 data prefetcher ({@link #INTEL_IP_STRIDE}): Intel's IA-32 Intel Architecture Optimization
 *     Reference Manual (248966), "Hardware Prefetch": the hardware prefetcher "will not prefetch across a 4K
 *     page boundary; i.e., the program would have to initiate demand loads for the new page before the
 *     hardware prefetcher will start prefetching from the new page"; Intel's Xeon Phi prefetching guide
 *     contrasts the Xeon cores' stride prefetcher, "capable of detecting regular strides forward or
 *     backward up to 2K bytes". Modelled: per load instruction, one stride ahead, strides up to 2 KiB,
 *     never into another 4 KiB page; so tlb_stride's page-apart loads never train it.</li>
 * <li>L1I (for {@code --timing cycle}'s instruction fetch by line): 32 KiB 8-way (optimization manual);
 *     a hit is part of the pipelined fetch (0 extra), a miss costs the level that serves it.</li>
 * <li>Fault software path ({@link #faultKernelPath}): what Linux 6.x executes for an anonymous write fault
 *     besides the trap itself, the page-table accesses and clearing the page (which are charged where they
 *     happen): {@code do_user_addr_fault}, {@code lock_vma_under_rcu}, {@code handle_mm_fault},
 *     {@code do_anonymous_page} with {@code vma_alloc_folio} (per-CPU free list), the memcg charge,
 *     {@code folio_add_new_anon_rmap} and {@code folio_add_lru_vma}, plus the share of {@code zap_pte_range}
 *     and the batched free at munmap. will-it-scale's page_fault1 (one process) runs at roughly 0.5-0.7
 *     million pages per second per core on Skylake-generation Xeons in Intel's LKP reports (about 4,000
 *     to 5,000 cycles per page at 2.5-3 GHz); taking out entry, exit, clearing and the PTE accesses
 *     leaves about 2,000 cycles of kernel instructions, charged here at the fault.</li>
 *
 * @param frequencyHz     core (and TSC) frequency
 * @param bulkLineCycles  per-line cost of sequential kernel zeroing/copying served by L1D, L2, LLC,
 *                        memory (index {@link CacheHierarchy#L1}..{@link CacheHierarchy#MEMORY} - 1)
 * @param classCycles     base cost of each {@link InstrClass} (index = ordinal)
 * @param l1i             the instruction cache (fetches by line go through it, then the shared L2/LLC)
 * @param faultKernelPath cycles of the kernel's own instructions for one page fault (see above)
 * @param hostLayer       the virtualised-host layer ({@link VirtualisedHost}): what a hypervisor under the
 *                        guest adds to each system call and exception; {@link VirtualisedHost#NONE} for every
 *                        preset (they model bare metal)
 * @param prefetch        the part's L1 data stride prefetcher ({@link DataPrefetch}, {@link StridePrefetcher});
 *                        {@link DataPrefetch#NONE} unless the preset gives one with its source
 */
public record TimingModel(String name, long frequencyHz,
        CacheGeometry l1d, CacheGeometry l2, CacheGeometry llc, int memoryLatency, int[] bulkLineCycles,
        int l1TlbHit, int stlbHit,
        int exceptionEntry, int exceptionExit, int syscallEntry, int syscallExit,
        int lockAcquire, int lockRelease, int lockHandoff,
        int ipiSend, int ipiReceive, int ipiAckWait,
        int[] classCycles, CacheGeometry l1i, int faultKernelPath, VirtualisedHost hostLayer, DataPrefetch prefetch) {

    /** A bare-metal model (no {@link VirtualisedHost} layer): what every preset is. */
    public TimingModel(String name, long frequencyHz,
            CacheGeometry l1d, CacheGeometry l2, CacheGeometry llc, int memoryLatency, int[] bulkLineCycles,
            int l1TlbHit, int stlbHit,
            int exceptionEntry, int exceptionExit, int syscallEntry, int syscallExit,
            int lockAcquire, int lockRelease, int lockHandoff,
            int ipiSend, int ipiReceive, int ipiAckWait,
            int[] classCycles, CacheGeometry l1i, int faultKernelPath) {
        this(name, frequencyHz, l1d, l2, llc, memoryLatency, bulkLineCycles, l1TlbHit, stlbHit, exceptionEntry, exceptionExit,
                syscallEntry, syscallExit, lockAcquire, lockRelease, lockHandoff, ipiSend, ipiReceive, ipiAckWait, classCycles, l1i,
                faultKernelPath, VirtualisedHost.NONE, DataPrefetch.NONE);
    }

    /** This model with the virtualised-host layer {@code layer} under it (NONE: bare metal again). */
    public TimingModel withHostLayer(VirtualisedHost layer) {
        return new TimingModel(name, frequencyHz, l1d, l2, llc, memoryLatency, bulkLineCycles, l1TlbHit, stlbHit, exceptionEntry,
                exceptionExit, syscallEntry, syscallExit, lockAcquire, lockRelease, lockHandoff, ipiSend, ipiReceive, ipiAckWait,
                classCycles, l1i, faultKernelPath, Objects.requireNonNull(layer), prefetch);
    }

    /**
     * The same part with its cores at {@code hz} instead of the preset's clock (a host measured running at its boost
     * clock): what runs on the core clock keeps its cycles (caches, TLBs, the L3, which Zen clocks with the cores,
     * instruction classes, kernel paths), while DRAM keeps its latency and bandwidth in nanoseconds, so the memory
     * latency and the memory-bound bulk line cost scale by {@code hz / frequencyHz}.
     */
    public TimingModel withCoreClock(long hz) {
        if (hz <= 0) {
            throw new IllegalArgumentException("core clock must be positive: " + hz);
        }
        int[] bulk = bulkLineCycles.clone();
        bulk[3] = scaleToClock(bulk[3], hz);
        return new TimingModel(name, hz, l1d, l2, llc, scaleToClock(memoryLatency, hz), bulk, l1TlbHit, stlbHit,
                exceptionEntry, exceptionExit, syscallEntry, syscallExit, lockAcquire, lockRelease, lockHandoff, ipiSend, ipiReceive,
                ipiAckWait, classCycles, l1i, faultKernelPath, hostLayer, prefetch);
    }

    private int scaleToClock(int cycles, long hz) {
        return (int) Math.round((double) cycles * hz / frequencyHz);
    }

    /** This model with the L1 data prefetcher {@code p} (NONE: without one). */
    public TimingModel withPrefetch(DataPrefetch p) {
        return new TimingModel(name, frequencyHz, l1d, l2, llc, memoryLatency, bulkLineCycles, l1TlbHit, stlbHit, exceptionEntry,
                exceptionExit, syscallEntry, syscallExit, lockAcquire, lockRelease, lockHandoff, ipiSend, ipiReceive, ipiAckWait,
                classCycles, l1i, faultKernelPath, hostLayer, Objects.requireNonNull(p));
    }

    /** One cache level: capacity, associativity and load-to-use latency. */
    public record CacheGeometry(int sizeBytes, int ways, int latency, boolean hashedIndex) {
        /** A level indexed by the low line-address bits (the textbook index). */
        public CacheGeometry(int sizeBytes, int ways, int latency) {
            this(sizeBytes, ways, latency, false);
        }

        /** The same level with its set index folding the upper physical address bits in ({@link CacheLevel}). */
        public CacheGeometry hashed() {
            return new CacheGeometry(sizeBytes, ways, latency, true);
        }

        public CacheGeometry {
            int lines = sizeBytes >>> CacheLevel.LINE_SHIFT;
            if (sizeBytes <= 0 || ways <= 0 || latency < 0 || lines % ways != 0 || Integer.bitCount(lines / ways) != 1) {
                throw new IllegalArgumentException("cache geometry: " + sizeBytes + " B, " + ways
                        + "-way, latency " + latency + ": sets must be a power of two, latency >= 0");
            }
        }

        CacheLevel build(String name) {
            return new CacheLevel(name, sizeBytes, ways, latency, hashedIndex);
        }
    }

    public TimingModel {
        Objects.requireNonNull(name);
        if (frequencyHz <= 0) {
            throw new IllegalArgumentException("frequency must be positive");
        }
        Objects.requireNonNull(l1i);
        Objects.requireNonNull(hostLayer);
        Objects.requireNonNull(prefetch);
        if (faultKernelPath < 0) {
            throw new IllegalArgumentException("faultKernelPath must not be negative");
        }
        if (bulkLineCycles.length != 4 || classCycles.length != InstrClass.COUNT) {
            throw new IllegalArgumentException("bulkLineCycles needs 4 entries, classCycles " + InstrClass.COUNT);
        }
        bulkLineCycles = bulkLineCycles.clone();
        classCycles = classCycles.clone();
    }

    /** Intel's L1 IP-based stride prefetcher (Skylake, Sapphire Rapids): see the class comment. */
    public static final DataPrefetch INTEL_IP_STRIDE = new DataPrefetch(1, 2048, false, false,
            "Intel optimization manual: L1 IP-based stride prefetcher, strides up to 2 KB, next address, no prefetch across 4 KiB");

    public static final TimingModel SKYLAKE = new TimingModel("skylake", 4_000_000_000L,
            new CacheGeometry(32 << 10, 8, 5), new CacheGeometry(256 << 10, 4, 12), new CacheGeometry(2 << 20, 16, 42),
            246, new int[] {2, 3, 4, 12},
            0, 9,
            715, 330, 90, 60,
            18, 1, 120,
            500, 1500, 2000,
            skylakeClasses(), new CacheGeometry(32 << 10, 8, 0), 2000).withPrefetch(INTEL_IP_STRIDE);

    /**
     * The Skylake class table, which the other presets start from: Agner Fog's tables give the same
     * rounded reciprocal throughputs for the simple classes on every core since Haswell and Zen 1; the
     * presets change the classes whose cost differs on their part (division, locked operations, CPUID).
     */
    public static int[] skylakeClasses() {
        int[] c = new int[InstrClass.COUNT];
        Arrays.fill(c, 1);
        c[InstrClass.MEM_OPERAND.ordinal()] = 1;
        c[InstrClass.CALL_RET.ordinal()] = 2;
        c[InstrClass.DIV32.ordinal()] = 26;
        c[InstrClass.DIV64.ordinal()] = 42;
        c[InstrClass.LOCKED_RMW.ordinal()] = 18;
        c[InstrClass.CMPXCHG8B.ordinal()] = 10;
        c[InstrClass.POPF.ordinal()] = 20;
        c[InstrClass.CPUID.ordinal()] = 100;
        c[InstrClass.RDTSC.ordinal()] = 25;
        c[InstrClass.ENTER.ordinal()] = 8;
        c[InstrClass.REP_STARTUP.ordinal()] = 15;
        c[InstrClass.STRING_ITER.ordinal()] = 1;
        c[InstrClass.STRING_CMP_ITER.ordinal()] = 2;
        c[InstrClass.SSE_DIV_SINGLE.ordinal()] = 3;
        c[InstrClass.SSE_DIV_DOUBLE.ordinal()] = 4;
        c[InstrClass.SSE_SQRT.ordinal()] = 6;
        c[InstrClass.MXCSR.ordinal()] = 3;
        c[InstrClass.FXSAVE.ordinal()] = 70;
        // x87 (reciprocal throughputs of Agner Fog's Skylake tables, rounded): FDIV 4-5, FSQRT 4-7,
        // FPREM ~20 and FRNDINT ~10 folded into X87_DIV, FSIN/FPATAN/FYL2X 50-130, FNSAVE/FRSTOR ~90-150.
        c[InstrClass.X87_DIV.ordinal()] = 5;
        c[InstrClass.X87_SQRT.ordinal()] = 6;
        c[InstrClass.X87_TRANS.ordinal()] = 60;
        c[InstrClass.X87_STATE.ordinal()] = 90;
        return c;
    }

    /** A copy of the per-line bulk costs. */
    @Override
    public int[] bulkLineCycles() {
        return bulkLineCycles.clone();
    }

    /** A copy of the class costs (index = {@link InstrClass#ordinal()}). */
    @Override
    public int[] classCycles() {
        return classCycles.clone();
    }

    /** Base cost of an instruction class. */
    public int cycles(InstrClass c) {
        return classCycles[c.ordinal()];
    }

    /** Per-line cost of bulk kernel work served by {@code level} (1 = L1D .. 4 = memory). */
    public int bulkLine(int level) {
        return bulkLineCycles[level - 1];
    }

    /** The data-cache hierarchy these geometries describe (one per vCPU). */
    public CacheHierarchy buildCaches() {
        return new CacheHierarchy(l1i.build("L1I"), l1d.build("L1D"), l2.build("L2"), llc.build("LLC"), memoryLatency, prefetch);
    }

    /** Nanoseconds of virtual time in {@code cycles} at this frequency (exact, no overflow). */
    public long cyclesToNanos(long cycles) {
        return cycles / frequencyHz * 1_000_000_000L + (cycles % frequencyHz) * 1_000_000_000L / frequencyHz;
    }

    /** Cycles in {@code nanos} nanoseconds at this frequency, saturating. */
    public long nanosToCycles(long nanos) {
        long whole = nanos / 1_000_000_000L, frac = nanos % 1_000_000_000L;
        if (whole > Long.MAX_VALUE / frequencyHz - 1) {
            return Long.MAX_VALUE / 2;
        }
        return whole * frequencyHz + frac * frequencyHz / 1_000_000_000L;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TimingModel t && t.name.equals(name) && Arrays.equals(t.classCycles, classCycles)
                && Arrays.equals(t.bulkLineCycles, bulkLineCycles) && t.frequencyHz == frequencyHz && t.hostLayer.equals(hostLayer)
                && t.prefetch.equals(prefetch);
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Arrays.hashCode(classCycles);
    }

    @Override
    public String toString() {
        return "TimingModel[" + name + ", " + frequencyHz / 1_000_000 + " MHz" + (hostLayer.isNone() ? "" : ", " + hostLayer) + "]";
    }
}
