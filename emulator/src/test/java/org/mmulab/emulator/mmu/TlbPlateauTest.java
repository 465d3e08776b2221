package org.mmulab.emulator.mmu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.mmulab.emulator.cpu.CpuState;
import org.mmulab.emulator.memory.PhysicalMemory;
import org.mmulab.emulator.timing.InstrClass;
import org.mmulab.emulator.timing.TimingModel;
import org.mmulab.emulator.timing.WalkTiming;

/**
 * The plateaus of the skylake preset's TLB hierarchy in cycles per access: one 8-byte load per page over
 * N pages, repeated, through the real MMU with cycle timing. Cycles per access = the load's base cost
 * (a SIMPLE instruction with a memory operand) + what the MMU charged (STLB lookups, walker loads through
 * the cache model). Steady state: a warm-up pass, then measured passes.
 * <ul>
 * <li>N = 32 consecutive pages: all in the 64-entry L1 dTLB → the base cost only;</li>
 * <li>N = 1024: L1 misses, all in the 1536-entry STLB → base + 9;</li>
 * <li>N = 16384: STLB misses, walks (PDE-cache hits) whose PTE loads hit L1D/L2 → base + 9 + a few;</li>
 * <li>N = 65536 with an 8-page stride (each access a different PTE line: 4 MiB of PTE lines, twice the
 *     LLC) → walks whose PTE load goes to DRAM → base + 9 + ~246.</li>
 * </ul>
 */
class TlbPlateauTest {
    static final TimingModel T = TimingModel.SKYLAKE;
    static final long BASE_VA = 0x1_0000_0000L;
    static final long DATA = 0x200000;
    static PhysicalMemory mem;
    static CpuState s;
    static Mmu mmu;
    static WalkTiming timing;

    @BeforeAll
    static void mapTwoGiB() {
        mem = new PhysicalMemory(32L << 20);
        s = new CpuState();
        mmu = new Mmu(mem, s, CpuModel.SKYLAKE);
        timing = new WalkTiming(T.buildCaches(), T.stlbHit());
        mmu.setTiming(timing);
        PageTableBuilder pt = new PageTableBuilder(mem, 0x400000);
        s.cr3 = pt.root;
        long flags = Pte.P | Pte.RW | Pte.US | Pte.A | Pte.D;
        long upper = Pte.P | Pte.RW | Pte.US | Pte.A;
        for (long i = 0; i < 16384; i++) { // every page of the first 64 MiB
            pt.map4k(BASE_VA + (i << 12), DATA, flags, upper);
        }
        for (long i = 16384; i < 65536L * 8; i += 8) { // every 8th page up to 2 GiB
            pt.map4k(BASE_VA + (i << 12), DATA, flags, upper);
        }
    }

    /** Cycles per access over {@code passes} passes of {@code n} loads, {@code stride} pages apart. */
    static double cyclesPerAccess(int n, int stride, int passes) {
        int base = T.cycles(InstrClass.SIMPLE) + T.cycles(InstrClass.MEM_OPERAND);
        mmu.flushAll();
        for (int i = 0; i < n; i++) { // warm-up
            mmu.read64(BASE_VA + ((long) i * stride << 12));
        }
        long before = timing.cycles;
        for (int p = 0; p < passes; p++) {
            for (int i = 0; i < n; i++) {
                mmu.read64(BASE_VA + ((long) i * stride << 12));
            }
        }
        return base + (double) (timing.cycles - before) / ((long) n * passes);
    }

    @Test
    void plateausOfL1DtlbStlbCachedWalksAndMissingWalks() {
        double base = T.cycles(InstrClass.SIMPLE) + T.cycles(InstrClass.MEM_OPERAND);
        double l1 = cyclesPerAccess(32, 1, 20);
        double l1Edge = cyclesPerAccess(64, 1, 20);
        double stlb = cyclesPerAccess(1024, 1, 4);
        double stlbEdge = cyclesPerAccess(1536, 1, 4);
        double walkCached = cyclesPerAccess(16384, 1, 2);
        double walkMissing = cyclesPerAccess(65536, 8, 1);
        System.out.printf("tlb plateaus (cycles/access): L1 %.1f (64: %.1f), STLB %.1f (1536: %.1f), "
                + "walk cached %.1f, walk missing %.1f%n", l1, l1Edge, stlb, stlbEdge, walkCached, walkMissing);
        assertEquals(base, l1, 1e-9, "32 pages: every access an L1 dTLB hit");
        assertEquals(base, l1Edge, 1e-9, "64 pages fill the 16 x 4 dTLB exactly");
        assertEquals(base + T.stlbHit(), stlb, 1e-9, "1024 pages: every access an STLB hit");
        assertEquals(base + T.stlbHit(), stlbEdge, 1e-9, "1536 pages fill the 128 x 12 STLB exactly");
        assertTrue(walkCached > stlb + 3 && walkCached < stlb + 20, "walks hitting L1D/L2: " + walkCached);
        assertTrue(walkMissing > stlb + 0.9 * T.memoryLatency() && walkMissing < stlb + 3 * T.memoryLatency(),
                "walks whose PTE line comes from DRAM: " + walkMissing);
        assertTrue(l1 < stlb && stlb < walkCached && walkCached < walkMissing);
    }

    @Test
    void theSameCurveTwiceIsIdentical() {
        assertEquals(cyclesPerAccess(4096, 1, 1), cyclesPerAccess(4096, 1, 1), 1e-12);
    }
}
