package org.mmulab.bench;

import java.util.concurrent.TimeUnit;

import org.mmulab.emulator.cpu.CpuState;
import org.mmulab.emulator.memory.PhysicalMemory;
import org.mmulab.emulator.mmu.CpuModel;
import org.mmulab.emulator.mmu.Mmu;
import org.mmulab.emulator.mmu.PfErr;
import org.mmulab.emulator.mmu.Pte;
import org.mmulab.emulator.mmu.Tlb;
import org.mmulab.emulator.mmu.TlbArray;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Cost of one linear-to-physical translation in each part of the modelled hierarchy (skylake preset,
 * Intel SDM Vol. 3A §4.10: TLBs and paging-structure caches):
 * <ul>
 * <li>{@code tlbHit}: an L1 dTLB hit; {@code fastPathRead64}: the same through the host-side fast path;</li>
 * <li>{@code stlbHit}: 512 pages cycled, more than the 64-entry L1 dTLB holds, fewer than the STLB's 1536;</li>
 * <li>{@code walkPscHit}: 4096 pages in 8 page tables (16 MiB) cycled: more pages than the STLB's
 *     ways per set, so every access misses both TLB levels, but the 8 PDEs stay in the 32-entry PDE
 *     cache, so the walk reads only the PTE (one guest-memory load);</li>
 * <li>{@code walkNoPscHit}: 64 pages, each under its own PML4 entry at the same offset: they share one
 *     L1 and one STLB set and outnumber the PDE cache, so every access is a full 4-level walk (four
 *     loads) with no paging-structure-cache help and nothing flushed;</li>
 * <li>{@code fullWalk} and {@code walkAfterInvlpg}: a full walk after a flush of everything / after an
 *     INVLPG (which also drops the paging-structure caches), flush cost included;</li>
 * <li>{@code supervisorTlbHit}: an L1 dTLB hit for a supervisor read (CPL 0), which the host-side fast path
 *     never serves: the modelled lookup itself;</li>
 * <li>{@code stlbHitArrays}: the part of {@code stlbHit} done in the 4 KiB TLB arrays themselves, without the
 *     {@link Mmu} around them (fast-path check, control registers, counters, rights): the L1 dTLB lookup that
 *     misses, the STLB lookup that hits (and its LRU update), the L1 fill that evicts the LRU way. What
 *     {@code stlbHit} costs beyond it is the layers: {@code Tlb}'s page-size dispatch, {@code TlbRefill}, the
 *     fast-path drop of the evicted page, {@code Mmu.translate}'s entry;</li>
 * <li>{@code strideRead64}: what one load of {@code tlb_stride} at 16,384 pages costs the emulator: a user
 *     {@code read64} through the accessor (fast-path miss, L1 and STLB miss, a walk with a PDE-cache hit, both
 *     fills) and the load of the data from its own frame (64 MiB of distinct frames, as in the guest).</li>
 * </ul>
 * Targets from the [bench] issue: TLB hit &lt; 5 ns, STLB hit &lt; 15 ns, full walk &lt; 60 ns.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class TranslateBench {
    private static final long BASE = 0x4000_0000L;
    /** Enough pages to overflow the 64-entry L1 dTLB but fit the 1536-entry STLB. */
    private static final int STLB_PAGES = 512;
    /** walkPscHit: 4096 consecutive pages (8 PDEs) from PSC_BASE. */
    private static final long PSC_BASE = 0x8000_0000L;
    private static final int PSC_PAGES = 4096;
    /** walkNoPscHit: one page under each of PML4 entries 1..64. */
    private static final int SPREAD_PAGES = 64;
    /** strideRead64: 16,384 consecutive pages (32 PDEs, the PDE cache's size) from STRIDE_BASE, own frames. */
    private static final long STRIDE_BASE = 0x10_0000_0000L;
    private static final int STRIDE_PAGES = 16384;
    private static final long STRIDE_FRAMES = 0x100_0000L;

    private PhysicalMemory mem;
    private long root;
    private long free = 0x100000;
    private long nextFrame = 0x80_0000L;

    private CpuState state;
    private Mmu mmu;
    private long va;
    private int next;
    private TlbArray l1Array;
    private TlbArray stlbArray;

    @Setup
    public void setUp() {
        mem = new PhysicalMemory(96 << 20);
        state = new CpuState();
        mmu = new Mmu(mem, state, CpuModel.SKYLAKE);
        root = table();
        for (int i = 0; i < STLB_PAGES; i++) {
            map(BASE + ((long) i << 12));
        }
        for (int i = 0; i < PSC_PAGES; i++) {
            map(PSC_BASE + ((long) i << 12));
        }
        for (int i = 1; i <= SPREAD_PAGES; i++) {
            map(spread(i));
        }
        for (int i = 0; i < STRIDE_PAGES; i++) {
            mapTo(STRIDE_BASE + ((long) i << 12), STRIDE_FRAMES + ((long) i << 12));
        }
        state.cr3 = root;
        state.cpl = 3;
        va = BASE + 0x123;
        for (int i = 0; i < STLB_PAGES; i++) {
            mmu.translate(BASE + ((long) i << 12), PfErr.U);
        }
        l1Array = mmu.dtlb().array(Tlb.SIZE_4K);
        stlbArray = mmu.stlb().array(Tlb.SIZE_4K);
    }

    /** The walkNoPscHit page under PML4 entry {@code i}: same offset everywhere, so the same TLB sets. */
    private static long spread(int i) {
        return ((long) i << 39) + 0x5000;
    }

    private long table() {
        long t = free;
        free += 0x1000;
        mem.zeroFrame(t);
        return t;
    }

    /** Maps the 4 KiB page at {@code v} to the next data frame (frames repeat every 8 MiB: only addresses matter). */
    private void map(long v) {
        mapTo(v, nextFrame);
        nextFrame = 0x80_0000L + ((nextFrame + 0x1000) & 0x7f_ffffL);
    }

    private void mapTo(long v, long frame) {
        long table = root;
        for (int level = 4; level > 1; level--) {
            long ea = table + (((v >>> (12 + 9 * (level - 1))) & 511) << 3);
            long e = mem.read64(ea);
            if ((e & Pte.P) == 0) {
                e = table() | Pte.P | Pte.RW | Pte.US;
                mem.write64(ea, e);
            }
            table = e & Pte.ADDR_MASK;
        }
        mem.write64(table + (((v >>> 12) & 511) << 3), frame | Pte.P | Pte.RW | Pte.US | Pte.A);
    }

    /** An interpreter-style user read through the host-side fast path (a dTLB hit in the model). */
    @Benchmark
    public long fastPathRead64() {
        return mmu.read64(va);
    }

    @Benchmark
    public long tlbHit() {
        return mmu.translate(va, PfErr.U);
    }

    /** Cycles through 512 pages: L1 (64 entries) misses, the STLB hits. */
    @Benchmark
    public long stlbHit() {
        next = (next + 1) & (STLB_PAGES - 1);
        return mmu.translate(BASE + ((long) next << 12), PfErr.U);
    }

    /** {@link #stlbHit}'s work in the two 4 KiB arrays alone: L1 lookup (miss), STLB lookup (hit), L1 fill. */
    @Benchmark
    public long stlbHitArrays() {
        next = (next + 1) & (STLB_PAGES - 1);
        long v = BASE + ((long) next << 12);
        TlbArray l1 = l1Array, stlb = stlbArray;
        long miss = l1.lookup(v, 0);
        int h = stlb.lookup(v, 0);
        return miss + l1.fill(v, 0, stlb.frame(h), stlb.attrs(h));
    }

    /** TLB misses at both levels; the PDE comes from the paging-structure cache: one guest load. */
    @Benchmark
    public long walkPscHit() {
        next = (next + 1) & (PSC_PAGES - 1);
        return mmu.translate(PSC_BASE + ((long) next << 12), PfErr.U);
    }

    /** TLB misses at both levels and no paging-structure-cache hit: four guest loads, nothing flushed. */
    @Benchmark
    public long walkNoPscHit() {
        next = next >= SPREAD_PAGES ? 1 : next + 1;
        return mmu.translate(spread(next), PfErr.U);
    }

    /** An L1 dTLB hit for a supervisor read: the modelled lookup, without the user-mode fast path. */
    @Benchmark
    public long supervisorTlbHit() {
        state.cpl = 0;
        long pa = mmu.translate(va, 0);
        state.cpl = 3;
        return pa;
    }

    /** One tlb_stride load at 16,384 pages: the accessor, a PDE-cache-hit walk with both fills, and the data. */
    @Benchmark
    public long strideRead64() {
        next = (next + 1) & (STRIDE_PAGES - 1);
        return mmu.read64(STRIDE_BASE + ((long) next << 12));
    }

    /** Everything flushed: all four levels are read from guest RAM (the flush is part of the cost). */
    @Benchmark
    public long fullWalk() {
        mmu.flushAll();
        return mmu.translate(va, PfErr.U);
    }

    /** INVLPG drops the TLB entries and the paging-structure caches: a full walk again, via the invlpg path. */
    @Benchmark
    public long walkAfterInvlpg() {
        mmu.invlpg(va);
        return mmu.translate(va, PfErr.U);
    }
}
