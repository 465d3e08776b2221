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
        for (String bad : new String[] {"", "1", "1,2,3", "-1,5", "a,b", "1,", "200000000,1", "auto"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> VirtualisedHost.parse(bad), bad);
            assertTrue(e.getMessage().startsWith("--virt-layer: ") && !e.getMessage().contains("\n"), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> new VirtualisedHost(-1, 0, "x"));
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
