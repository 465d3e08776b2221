package org.mmulab.emulator.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.mmulab.emulator.mmu.cpudb.Zen5;
import org.mmulab.emulator.timing.CacheHierarchy;
import org.mmulab.emulator.timing.TimingModel;
import org.mmulab.emulator.timing.VcpuClock;
import org.mmulab.emulator.timing.WalkTiming;

/**
 * Under cycle timing a guest's loads and instruction fetches go through the vCPU's L1D/L1I/L2/LLC
 * (WalkTiming): a small guest loop that loads one word per 64-byte line of a 16 KiB buffer misses every
 * level on its first pass (each line from memory, charged memory latency minus the L1D latency already in
 * the instruction's base cost) and hits L1D on its second; the loop's code is one line, fetched from
 * memory once. Under fast timing the MMU holds no WalkTiming and nothing is counted.
 */
class GuestCacheTimingTest {
    static final long CODE = 0x400000, DATA = 0x600000;
    static final int LINES = 256; // 16 KiB: fits Zen 5's 48 KiB L1D
    static final TimingModel T = Zen5.TIMING;
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
        walk = new WalkTiming(T.buildCaches(), T.stlbHit());
        it = new InstructionTiming(m.s, T, new VcpuClock(T, walk.caches()), walk);
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
