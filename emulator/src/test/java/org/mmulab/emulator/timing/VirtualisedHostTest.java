package org.mmulab.emulator.timing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * The virtualised-host layer: its calibration is host minus bare model at the model's frequency, never
 * negative; {@code --virt-layer} values parse or fail with one line; the clock charges the layer on every
 * system call and exception, in its own counter, and nothing for a bare-metal model.
 */
class VirtualisedHostTest {
    @Test
    void calibrationIsHostCyclesMinusTheBareModel() {
        TimingModel t = TimingModel.SKYLAKE; // 4 GHz
        VirtualisedHost v = VirtualisedHost.calibrate(t, 250.0, 2000.0, 150.0, 3000.0);
        assertEquals(850, v.syscallCycles(), "250 ns x 4 GHz - 150");
        assertEquals(5000, v.exceptionCycles(), "2000 ns x 4 GHz - 3000");
        assertTrue(v.source().contains("calibrated") && v.source().contains("trap_cost"), v.source());
        VirtualisedHost bareHost = VirtualisedHost.calibrate(t, 30.0, 500.0, 150.0, 3000.0);
        assertTrue(bareHost.isNone(), "a host faster than the model adds nothing (no negative layer)");
        assertEquals("850,5000", v.option());
        assertEquals(v.syscallCycles(), VirtualisedHost.parse(v.option()).syscallCycles());
    }

    @Test
    void optionValues() {
        assertTrue(VirtualisedHost.parse("none").isNone());
        VirtualisedHost v = VirtualisedHost.parse("2100,25000");
        assertEquals(2100, v.syscallCycles());
        assertEquals(25000, v.exceptionCycles());
        for (String bad : new String[] {"", "1", "1,2,3,4", "1,2,-3", "-1,5", "a,b", "1,", "200000000,1", "auto"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> VirtualisedHost.parse(bad), bad);
            assertTrue(e.getMessage().startsWith("--virt-layer: ") && !e.getMessage().contains("\n"), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> new VirtualisedHost(-1, 0, "x"));
        VirtualisedHost w = VirtualisedHost.parse("2100,25000,40");
        assertEquals(40, w.walkCycles());
        assertEquals("2100,25000,40", w.option());
        assertEquals(0, v.walkCycles(), "two values: no walk figure");
        assertTrue(w.toString().contains("+40 per page walk"), w.toString());
        assertEquals("0,0,7", VirtualisedHost.NONE.withWalk(7, "w").option());
        assertThrows(IllegalArgumentException.class, () -> new VirtualisedHost(0, 0, -1, "x"));
    }

    @Test
    void walkCalibrationIsTheMedianOfHostCyclesMinusTheBareModel() {
        TimingModel t = TimingModel.SKYLAKE; // 4 GHz
        // host 10/20/30 ns = 40/80/120 cycles; model 10/20/30 cycles: differences 30, 60, 90
        assertEquals(60, VirtualisedHost.calibrateWalk(t, new double[] {10, 20, 30}, new double[] {10, 20, 30}));
        assertEquals(45, VirtualisedHost.calibrateWalk(t, new double[] {10, 20}, new double[] {10, 20}), "even count: mean of the middle");
        assertEquals(0, VirtualisedHost.calibrateWalk(t, new double[] {1}, new double[] {100}), "never negative");
        assertThrows(IllegalArgumentException.class, () -> VirtualisedHost.calibrateWalk(t, new double[] {1}, new double[] {}));
    }

    @Test
    void aDemandWalkPaysTheWalkFigureAfterItsStlbMissAndAPrefetchWalkArrivesThatMuchLater() {
        WalkTiming bare = new WalkTiming(org.mmulab.emulator.mmu.cpudb.Zen5.TIMING.buildCaches(), 7, 0, null);
        WalkTiming virt = new WalkTiming(org.mmulab.emulator.mmu.cpudb.Zen5.TIMING.buildCaches(), 7, 40, null);
        for (WalkTiming w : new WalkTiming[] {bare, virt}) {
            w.stlbHit();
            w.stlbMiss();
        }
        assertEquals(14, bare.cycles);
        assertEquals(54, virt.cycles, "an STLB hit pays nothing more; the walk after the miss pays 40");
        assertEquals(54, virt.walkCycles);
        assertEquals(40, virt.nestedWalkCharged);
        assertEquals(40L, virt.modelCounters().get("virt.walk_cycles"));
        assertTrue(!bare.modelCounters().containsKey("virt.walk_cycles"), "bare metal: no such counter");
        assertTrue(bare.prefetchWalkStart() && virt.prefetchWalkStart(), "zen5's prefetches walk");
        assertEquals(0, bare.prefetcher().walkLoadLatency);
        assertEquals(40, virt.prefetcher().walkLoadLatency);
        assertThrows(IllegalArgumentException.class, () -> new WalkTiming(CacheHierarchy.skylake(), 7, -1, null));
    }

    @Test
    void aFasterCoreClockKeepsCoreCyclesAndDramNanoseconds() {
        TimingModel z = org.mmulab.emulator.mmu.cpudb.Zen5.TIMING; // 2.7 GHz, DRAM 350 cycles
        TimingModel fast = z.withCoreClock(3_780_000_000L); // x 1.4
        assertEquals(3_780_000_000L, fast.frequencyHz());
        assertEquals(490, fast.memoryLatency(), "350 cycles at 2.7 GHz = 129.6 ns = 490 cycles at 3.78 GHz");
        assertEquals(z.cyclesToNanos(z.memoryLatency()), fast.cyclesToNanos(fast.memoryLatency()), "DRAM keeps its ns");
        assertEquals(z.l1d(), fast.l1d());
        assertEquals(z.l2(), fast.l2());
        assertEquals(z.llc(), fast.llc());
        assertEquals(z.stlbHit(), fast.stlbHit());
        assertEquals(z.exceptionEntry(), fast.exceptionEntry());
        assertEquals(z.bulkLine(3), fast.bulkLine(3), "an LLC line keeps its cycles");
        assertEquals(Math.round(z.bulkLine(4) * 1.4), fast.bulkLine(4), "a DRAM line's bandwidth is in ns");
        assertEquals(z.prefetch(), fast.prefetch());
        assertTrue(!fast.equals(z));
        assertThrows(IllegalArgumentException.class, () -> z.withCoreClock(0));
    }

    @Test
    void everyBarePresetHasNoWalkLayer() {
        for (org.mmulab.emulator.mmu.cpudb.CpuPresets.Preset p : org.mmulab.emulator.mmu.cpudb.CpuPresets.ALL) {
            assertEquals(0, p.model().timing().hostLayer().walkCycles(), p.name());
        }
    }

    @Test
    void theClockChargesTheLayerOnEachEntry() {
        TimingModel bare = TimingModel.SKYLAKE;
        TimingModel virt = bare.withHostLayer(new VirtualisedHost(1000, 20000, "test"));
        VcpuClock b = new VcpuClock(bare, null);
        VcpuClock v = new VcpuClock(virt, null);
        for (VcpuClock c : new VcpuClock[] {b, v}) {
            c.syscallEntry();
            c.syscallExit();
            c.exceptionEntry();
            c.exceptionExit();
        }
        assertEquals(0, b.hypervisorCycles);
        assertEquals(21000, v.hypervisorCycles);
        assertEquals(b.cycles() + 21000, v.cycles());
        assertEquals(b.trapCycles, v.trapCycles, "the bare trap cost is unchanged; the layer is counted apart");
        assertTrue(bare.hostLayer().isNone());
        assertTrue(!bare.equals(virt) && bare.equals(virt.withHostLayer(VirtualisedHost.NONE)));
    }
}
