package org.mmulab.kernel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import org.junit.jupiter.api.Test;
import org.mmulab.emulator.machine.GuestTime;
import org.mmulab.emulator.machine.TimingMode;
import org.mmulab.emulator.timing.VcpuClock;
import org.mmulab.kernel.mm.Mmap;

/**
 * {@code --deterministic}: the guest clocks follow the vCPU's virtual time, nanosleep advances it, AT_RANDOM
 * comes from the seed; and the kernel's work (page-table accesses, zeroing, locks) is charged to the vCPU.
 */
class VirtualTimeTest {
    private static Fixture deterministic(long seed) throws ExecFormatException {
        Fixture f = new Fixture(64L << 20);
        f.machine.setDeterministic(seed);
        f.exec(TestElf.standard(Fixture.CODE, "data".getBytes(StandardCharsets.UTF_8), 10000).build());
        return f;
    }

    private static long buffer(Fixture f) {
        long buf = f.sys(Syscalls.NR_MMAP, 0, 4096, Mmap.PROT_READ | Mmap.PROT_WRITE, Mmap.MAP_PRIVATE | Mmap.MAP_ANONYMOUS, -1, 0);
        assertTrue(buf > 0);
        return buf;
    }

    @Test
    void clocksFollowVirtualTimeAndNanosleepAdvancesIt() throws ExecFormatException {
        Fixture f = deterministic(5);
        long buf = buffer(f);
        f.write64(buf, 0);
        long before = f.cpu.virtualNanos();
        assertEquals(0, f.sys(Syscalls.NR_CLOCK_GETTIME, 1, buf));
        long mono = f.read64(buf) * 1_000_000_000L + f.read64(buf + 8);
        assertTrue(mono >= before && mono <= f.cpu.virtualNanos(), before + " <= " + mono + " <= " + f.cpu.virtualNanos());

        f.write64(buf + 16, 2);
        f.write64(buf + 24, 500_000_000L);
        long idle = f.cpu.clock().idleCycles();
        long t0 = f.cpu.virtualNanos();
        assertEquals(0, f.sys(Syscalls.NR_NANOSLEEP, buf + 16, 0));
        assertEquals(10_000_000_000L, f.cpu.clock().idleCycles() - idle, "2.5 s at 4 GHz");
        long slept = f.cpu.virtualNanos() - t0;
        assertTrue(slept >= 2_500_000_000L && slept < 2_500_000_000L + 1_000_000, "slept " + slept);

        assertEquals(0, f.sys(Syscalls.NR_CLOCK_GETTIME, 0, buf));
        assertEquals(GuestTime.VIRTUAL_EPOCH_SECONDS + 2, f.read64(buf), "REALTIME starts at the virtual epoch");
        assertEquals(GuestTime.VIRTUAL_EPOCH_SECONDS + 2, f.sys(Syscalls.NR_TIME, 0));
        assertEquals(0, f.sys(Syscalls.NR_GETTIMEOFDAY, buf, 0));
        assertEquals(GuestTime.VIRTUAL_EPOCH_SECONDS + 2, f.read64(buf));
        assertTrue(f.read64(buf + 8) >= 500_000 && f.read64(buf + 8) < 1_000_000, "microseconds");
        assertEquals(f.cpu.tsc(), f.cpu.state.tscSource.getAsLong(), "RDTSC reads the virtual TSC");
    }

    private static byte[] atRandom(Fixture f) {
        byte[] b = new byte[16];
        for (int i = 0; i < 16; i++) {
            b[i] = (byte) f.machine.memory().read8(f.touch(f.kernel.lastLoaded.randomAddr() + i, false));
        }
        return b;
    }

    @Test
    void atRandomComesFromTheSeed() throws ExecFormatException {
        byte[] a = atRandom(deterministic(42));
        byte[] b = atRandom(deterministic(42));
        byte[] c = atRandom(deterministic(43));
        Fixture plain = Fixture.booted();
        System.out.println("AT_RANDOM seeds 42, 42, 43: " + Arrays.toString(a) + " " + Arrays.toString(c));
        assertArrayEquals(a, b);
        assertFalse(Arrays.equals(a, c));
        assertFalse(Arrays.equals(a, atRandom(plain)));
        assertArrayEquals(atRandom(plain), atRandom(Fixture.booted()), "without --deterministic: fixed, as with ASLR off");
    }

    @Test
    void aFaultChargesTheKernelsPageTableWorkZeroingAndLocks() throws ExecFormatException {
        Fixture f = new Fixture(64L << 20);
        f.machine.configureTiming(TimingMode.CYCLE);
        f.exec(TestElf.standard(Fixture.CODE, "data".getBytes(StandardCharsets.UTF_8), 10000).build());
        long buf = buffer(f);
        VcpuClock c = f.cpu.clock();
        long cycles = f.cpu.cycles(), loads = c.kernelLoads, stores = c.kernelStores, lines = c.kernelBulkLines;
        long locks = c.lockAcquires, faults = c.pageFaults, minor = c.minorFaults;
        f.write64(buf, 1); // write fault on an untouched anonymous page: a zeroed frame, a new PTE
        assertEquals(faults + 1, c.pageFaults);
        assertEquals(minor + 1, c.minorFaults);
        assertTrue(c.kernelLoads > loads, "page-table reads");
        assertTrue(c.kernelStores > stores, "the PTE write");
        assertTrue(c.kernelBulkLines >= lines + 64, "the zeroed frame, per line");
        assertTrue(c.lockAcquires > locks, "the PTE lock");
        assertEquals(0, c.lockContended);
        assertTrue(f.cpu.cycles() - cycles > 64, "charged: " + (f.cpu.cycles() - cycles));
    }
}
