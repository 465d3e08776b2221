package org.mmulab.emulator.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.mmulab.emulator.mmu.Pte;
import org.mmulab.emulator.mmu.cpudb.Zen5;
import org.mmulab.emulator.timing.CacheHierarchy;
import org.mmulab.emulator.timing.DataPrefetch;
import org.mmulab.emulator.timing.StridePrefetcher;
import org.mmulab.emulator.timing.TimingModel;
import org.mmulab.emulator.timing.VcpuClock;
import org.mmulab.emulator.timing.WalkTiming;

/**
 * Under cycle timing a guest's loads and instruction fetches go through the vCPU's L1D/L1I/L2/LLC
 * (WalkTiming): a small guest loop that loads one word per 64-byte line of a 16 KiB buffer misses every
 * level on its first pass (each line from memory, charged memory latency minus the L1D latency already in
 * the instruction's base cost) and hits L1D on its second; the loop's code is one line, fetched from
 * memory once. Under fast timing the MMU holds no WalkTiming and nothing is counted. Those run without
 * a data prefetcher; with Zen 5's (the same loop, one load instruction, 64 bytes apart) the first pass
 * misses only while the prefetcher trains and where a prefetch would need a page walk.
 */
class GuestCacheTimingTest {
    static final long CODE = 0x400000, DATA = 0x600000;
    static final int LINES = 256; // 16 KiB: fits Zen 5's 48 KiB L1D
    static final TimingModel T = Zen5.TIMING.withPrefetch(DataPrefetch.NONE);
    TestMachine m;
    WalkTiming walk;
    InstructionTiming it;

    @BeforeEach
    void setUp() {
        m = new TestMachine();
        m.mapNew(CODE, TestMachine.P | TestMachine.US);
        for (long p = 0; p < LINES * 64L; p += 4096) {
            m.mapNew(DATA + p, TestMachine.P | TestMachine.RW | TestMachine.US | TestMachine.NX);
        }
        // loop: mov rax,[rbx]; add rbx,64; dec ecx; jnz loop
        m.load(CODE, TestMachine.hex("488b03" + "4883c340" + "ffc9" + "75f5"));
        VcpuClock clock = new VcpuClock(T, T.buildCaches());
        walk = new WalkTiming(clock.caches(), T.stlbHit(), clock);
        it = new InstructionTiming(m.s, T, clock, walk);
    }

    private void pass() {
        m.s.rip = CODE;
        m.s.gpr[CpuState.RBX] = DATA;
        m.s.gpr[CpuState.RCX] = LINES;
        assertEquals(Exit.BUDGET, m.runTo(CODE + 11, 4 * LINES + 1));
        it.settle();
    }

    @Test
    void loadsMissEveryLevelOnceThenHitL1dAndTheLoopIsOneFetchedLine() {
        m.mmu.setTiming(walk);
        m.cpu.setTiming(it);
        assertSame(walk, m.mmu.timing(), "the walker and the guest's data accesses share one hierarchy");
        pass();
        int mem = CacheHierarchy.MEMORY;
        assertEquals(LINES, walk.dataAccessesByLevel[mem], "first pass: every line from memory");
        assertEquals((long) LINES * (T.memoryLatency() - T.l1d().latency()), walk.dataCycles);
        assertEquals(1, walk.fetchLinesByLevel[mem], "the loop is one 64-byte line, fetched once");
        assertEquals(T.memoryLatency(), walk.fetchCycles);
        long dataCycles = walk.dataCycles;
        pass();
        assertEquals(LINES, walk.dataAccessesByLevel[CacheHierarchy.L1], "second pass: every line in L1D");
        assertEquals(dataCycles, walk.dataCycles, "L1D hits cost nothing beyond the base cost");
        assertEquals(1, walk.fetchLinesByLevel[mem] + walk.fetchLinesByLevel[CacheHierarchy.L1]);
        assertTrue(walk.cycles >= walk.walkCycles + walk.dataCycles + walk.fetchCycles);
    }

    @Test
    void zen5sPrefetcherRunsAheadOfTheLoadInsideAPageAndThroughTheTlbAcrossOne() {
        zen5();
        pass();
        int d = Zen5.PREFETCH.distance(), pages = LINES * 64 / 4096;
        // 3 loads train it; at each of the 3 page crossings the prefetches into the next page found no
        // translation (its first load walks), so that page's first `distance` lines miss
        assertEquals(3 + (pages - 1) * d, walk.dataAccessesByLevel[CacheHierarchy.MEMORY]);
        StridePrefetcher p = walk.prefetcher();
        assertEquals(LINES - 3 - (pages - 1) * d, p.useful, "every other line was there: a prefetch filled it");
        assertEquals(pages * d, p.droppedNoTranslation, "and past the last page, which is not mapped");
        assertEquals(pages * d, p.walks, "each of those walked: Zen 5's prefetches walk on a TLB miss");
        assertEquals(pages * d, p.walksDropped, "and was dropped: the next page's PTE has Accessed = 0");
    }

    private void zen5() {
        TimingModel z = Zen5.TIMING;
        VcpuClock clock = new VcpuClock(z, z.buildCaches());
        walk = new WalkTiming(clock.caches(), z.stlbHit(), clock);
        it = new InstructionTiming(m.s, z, clock, walk);
        m.mmu.setTiming(walk);
        m.cpu.setTiming(it);
    }

    private long pte(long va) {
        long t = m.pml4;
        for (int level = 4; level > 1; level--) {
            t = m.mem.read64(t + ((va >>> (12 + 9 * (level - 1))) & 511) * 8) & 0x000f_ffff_ffff_f000L;
        }
        return m.mem.read64(t + ((va >>> 12) & 511) * 8);
    }

    @Test
    void zen5sPrefetchWalksAcrossPagesWhoseEntriesAreAccessedSoOnlyTheTrainingLoadsMiss() {
        for (long p = 0; p < LINES * 64L; p += 4096) { // as after an earlier pass: every leaf has A = 1
            m.map(DATA + p, m.pa(DATA + p), TestMachine.P | TestMachine.RW | TestMachine.US | TestMachine.NX | Pte.A);
        }
        zen5();
        pass();
        int d = Zen5.PREFETCH.distance(), pages = LINES * 64 / 4096;
        assertEquals(3, walk.dataAccessesByLevel[CacheHierarchy.MEMORY], "the walks found every next page's lines");
        StridePrefetcher p = walk.prefetcher();
        assertEquals(LINES - 3, p.useful);
        assertTrue(p.late > 0, "a 4-instruction loop runs 7 lines ahead in less than a memory latency: some come early");
        assertEquals(3L * (Zen5.TIMING.memoryLatency() - Zen5.TIMING.l1d().latency()) + p.lateCycles, walk.dataCycles,
                "the training loads' misses and the waits for prefetches in flight");
        assertEquals((pages - 1) + d, p.walks,
                "the first prefetch into each next page walks and fills the STLB, the later ones hit it; past the last page each walks");
        assertEquals(pages - 1, p.stlbFills);
        assertEquals(d, p.walksDropped, "past the last page: not present");
        assertTrue(p.walkLoads >= p.walks, "each walk read at least the PTE, through the caches");
        assertEquals(1 + 1, m.mmu.counters.walksCompleted,
                "demand walks: the code page's and the first data page's (the next pages' loads hit the TLBs the prefetches filled)");
        assertEquals(4 + 2, m.mmu.counters.walkerLoads,
                "only theirs are counted: the code page's 4 levels, the first data page's PDE and PTE");
    }

    @Test
    void aPrefetchWalkNeverSetsAccessedFillsATlbOrFaults() {
        zen5();
        m.s.rip = CODE;
        m.s.gpr[CpuState.RBX] = DATA;
        m.s.gpr[CpuState.RCX] = LINES / 2; // two of the four pages; the prefetches run 7 lines into the third
        assertEquals(Exit.BUDGET, m.runTo(CODE + 11, 4 * LINES / 2 + 1));
        it.settle();
        StridePrefetcher p = walk.prefetcher();
        assertTrue(p.walks > 0 && p.walksDropped == p.walks, p.walks + " walks, " + p.walksDropped + " dropped");
        long third = DATA + 2 * 4096;
        assertEquals(0, pte(third) & Pte.A, "the third page's PTE is as the guest left it");
        assertEquals(-1, m.mmu.dtlb().lookup(third, m.mmu.currentPcid()));
        assertEquals(-1, m.mmu.stlb().lookup(third, m.mmu.currentPcid()));
        assertEquals(0, m.mmu.counters.pageFaults);
        assertEquals(Pte.A, pte(DATA + 4096) & (Pte.A | Pte.D), "the loaded pages: A by their demand walks");
    }

    @Test
    void fastTimingCountsNothing() {
        pass();
        long total = 0;
        for (long c : walk.dataAccessesByLevel) {
            total += c;
        }
        assertEquals(0, total);
        assertEquals(0, walk.cycles);
    }
}
