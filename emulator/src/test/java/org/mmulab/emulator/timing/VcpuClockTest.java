package org.mmulab.emulator.timing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Kernel-work charging in both modes, traps, locks, IPIs, the histogram and virtual-time conversions. */
class VcpuClockTest {
    static final TimingModel T = TimingModel.SKYLAKE;

    @Test
    void fastModeChargesFixedL1Prices() {
        VcpuClock c = new VcpuClock(T, null);
        c.kernelLoad(0x1000);
        c.kernelStore(0x1000);
        c.kernelBulk(0x2000, 4096);
        assertEquals(2L * T.l1d().latency() + 64L * T.bulkLine(CacheHierarchy.L1), c.cycles());
        assertEquals(64, c.kernelBulkLines);
    }

    @Test
    void cycleModeGoesThroughTheCachesColdThenWarm() {
        VcpuClock c = new VcpuClock(T, T.buildCaches());
        c.kernelLoad(0x1000);
        assertEquals(T.memoryLatency(), c.cycles(), "cold line: DRAM");
        c.kernelStore(0x1008);
        assertEquals(T.memoryLatency() + T.l1d().latency(), c.cycles(), "same line: L1D");
        long before = c.cycles();
        c.kernelBulk(0x10_0000, 4096);
        assertEquals(64L * T.bulkLine(CacheHierarchy.MEMORY), c.cycles() - before, "zeroing a cold frame streams from DRAM");
        before = c.cycles();
        c.kernelCopy(0x10_0000, 0x20_0020, 4096); // source warm in L1D, destination cold and unaligned: 65 lines
        assertEquals(64L * T.bulkLine(CacheHierarchy.L1) + 65L * T.bulkLine(CacheHierarchy.MEMORY), c.cycles() - before);
    }

    @Test
    void trapsLocksAndIpisHaveTheirDocumentedCosts() {
        VcpuClock a = new VcpuClock(T, null);
        VcpuClock b = new VcpuClock(T, null);
        a.exceptionEntry();
        a.exceptionExit();
        a.syscallEntry();
        a.syscallExit();
        assertEquals(T.exceptionEntry() + T.exceptionExit() + T.syscallEntry() + T.syscallExit(), a.cycles());
        assertEquals(1, a.exceptions);
        assertEquals(1, a.syscalls);
        long before = a.cycles();
        a.lockAcquired(false);
        a.lockReleased();
        a.lockAcquired(true);
        a.lockReleased();
        assertEquals(2L * T.lockAcquire() + 2L * T.lockRelease() + T.lockHandoff(), a.cycles() - before);
        assertEquals(2, a.lockAcquires);
        assertEquals(1, a.lockContended);
        before = a.cycles();
        a.ipiSent();
        b.ipiReceived();
        assertEquals(T.ipiSend() + T.ipiAckWait(), a.cycles() - before);
        assertEquals(T.ipiReceive(), b.cycles());
        assertEquals(1, b.ipisReceived());
    }

    @Test
    void faultLatencyHistogramUsesLog2Buckets() {
        VcpuClock c = new VcpuClock(T, null);
        c.recordFault(1);
        c.recordFault(1023);
        c.recordFault(1024);
        c.recordFault(2047);
        c.recordFault(1L << 50);
        assertEquals(1, c.faultHistogram(0));
        assertEquals(1, c.faultHistogram(9));
        assertEquals(2, c.faultHistogram(10));
        assertEquals(1, c.faultHistogram(VcpuClock.HISTOGRAM_BUCKETS - 1), "open-ended last bucket");
        assertEquals(5, c.faultsTimed());
        assertEquals(1L << 50, c.faultCyclesMax());
    }

    @Test
    void idleAdvancesVirtualTimeNotCycles() {
        VcpuClock c = new VcpuClock(T, null);
        c.idle(T.nanosToCycles(1_500_000_000L));
        assertEquals(0, c.cycles());
        assertEquals(6_000_000_000L, c.idleCycles());
        assertEquals(1_500_000_000L, T.cyclesToNanos(c.idleCycles()));
        assertEquals(3, T.cyclesToNanos(13), "rounds down");
        long big = Long.MAX_VALUE / 2;
        assertTrue(T.cyclesToNanos(big) > 0, "no overflow");
    }
}
