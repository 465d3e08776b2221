package org.mmulab.bench;

import java.util.concurrent.TimeUnit;

import org.mmulab.emulator.cpu.CpuState;
import org.mmulab.emulator.memory.PhysicalMemory;
import org.mmulab.emulator.mmu.CpuModel;
import org.mmulab.emulator.mmu.Mmu;
import org.mmulab.emulator.mmu.PfErr;
import org.mmulab.emulator.mmu.Pte;
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
 * Cost of one linear-to-physical translation in each part of the modelled hierarchy (skylake preset):
 * an L1 dTLB hit, an STLB hit (L1 evicted), a full 4-level walk (everything flushed) and a walk whose
 * upper levels come from the paging-structure caches (only the TLB entry invalidated).
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

    private CpuState state;
    private Mmu mmu;
    private long va;
    private int next;

    @Setup
    public void setUp() {
        PhysicalMemory mem = new PhysicalMemory(64 << 20);
        state = new CpuState();
        mmu = new Mmu(mem, state, CpuModel.SKYLAKE);
        long free = 0x100000;
        long root = free;
        free += 0x1000;
        mem.zeroFrame(root);
        for (int i = 0; i < STLB_PAGES; i++) {
            long v = BASE + ((long) i << 12);
            long table = root;
            for (int level = 4; level > 1; level--) {
                long ea = table + (((v >>> (12 + 9 * (level - 1))) & 511) << 3);
                long e = mem.read64(ea);
                if ((e & Pte.P) == 0) {
                    mem.zeroFrame(free);
                    e = free | Pte.P | Pte.RW | Pte.US;
                    mem.write64(ea, e);
                    free += 0x1000;
                }
                table = e & Pte.ADDR_MASK;
            }
            mem.write64(table + (((v >>> 12) & 511) << 3), (0x80_0000L + ((long) i << 12)) | Pte.P | Pte.RW | Pte.US | Pte.A);
        }
        state.cr3 = root;
        state.cpl = 3;
        va = BASE + 0x123;
        for (int i = 0; i < STLB_PAGES; i++) {
            mmu.translate(BASE + ((long) i << 12), PfErr.U);
        }
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

    /** Everything flushed: all four levels are read from guest RAM. */
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
