package org.mmulab.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.mmulab.kernel.mm.Mmap;

/**
 * The CPU-time clocks of kernel/time/posix-cpu-timers.c: CLOCK_PROCESS_CPUTIME_ID,
 * CLOCK_THREAD_CPUTIME_ID and the clock_getcpuclockid/pthread_getcpuclockid encodings, and their
 * resolution (clock_getres). Their value is the vCPU's busy time (modelled cycles), which a sleep does
 * not advance.
 */
class CpuClockTest {
    static final long EINVAL = -Errno.EINVAL;

    private static long timespec(Fixture f, long va) {
        return f.read64(va) * 1_000_000_000L + f.read64(va + 8);
    }

    private static long gettime(Fixture f, long clk, long ts) {
        long r = f.sys(Syscalls.NR_CLOCK_GETTIME, clk, ts);
        assertEquals(0, r, "clock " + clk);
        return timespec(f, ts);
    }

    @Test
    void processAndThreadClocksReadTheVcpusBusyTime() throws Exception {
        Fixture f = Fixture.booted();
        long ts = f.mmap(0, 4096, Mmap.PROT_READ | Mmap.PROT_WRITE, Mmap.MAP_PRIVATE | Mmap.MAP_ANONYMOUS);
        int pid = (int) f.sys(Syscalls.NR_GETPID);
        f.write64(ts, 0); // fault the page in: the kernel's fault handling is CPU time too
        assertTrue(SysTime.cpuTimeNanos(f.cpu) > 0, "exec and the faults charged cycles");
        long[] clocks = {2, 3, SysTime.makeCpuClock(0, SysTime.CPUCLOCK_SCHED, false),
                SysTime.makeCpuClock(0, SysTime.CPUCLOCK_PROF, false), SysTime.makeCpuClock(0, SysTime.CPUCLOCK_VIRT, false),
                SysTime.makeCpuClock(pid, SysTime.CPUCLOCK_SCHED, false), SysTime.makeCpuClock(0, SysTime.CPUCLOCK_SCHED, true),
                SysTime.makeCpuClock(pid, SysTime.CPUCLOCK_SCHED, true)};
        long last = 0;
        for (long clk : clocks) {
            long before = SysTime.cpuTimeNanos(f.cpu);
            long t = gettime(f, clk, ts);
            // The value is read inside the call, whose own copy_to_user is charged after it.
            assertTrue(t >= before && t <= SysTime.cpuTimeNanos(f.cpu) && t >= last, "clock " + clk + ": " + t);
            last = t;
        }
        assertEquals(-6, SysTime.makeCpuClock(0, SysTime.CPUCLOCK_SCHED, false), "clock_getcpuclockid(0)");
        // A 1 ms sleep moves CLOCK_MONOTONIC by 1 ms; CPU time only by the calls' own cost.
        f.write64(ts + 64, 0);
        f.write64(ts + 72, 1_000_000);
        long cpu0 = gettime(f, 2, ts);
        long mono0 = gettime(f, 1, ts);
        assertEquals(0, f.sys(Syscalls.NR_NANOSLEEP, ts + 64, 0));
        long cpu1 = gettime(f, 2, ts);
        assertTrue(cpu1 - cpu0 < 100_000, (cpu1 - cpu0) + " ns of CPU time");
        assertTrue(gettime(f, 1, ts) >= mono0 + 1_000_000);
    }

    @Test
    void invalidClockIdsAreEinval() throws Exception {
        Fixture f = Fixture.booted();
        long ts = f.mmap(0, 4096, Mmap.PROT_READ | Mmap.PROT_WRITE, Mmap.MAP_PRIVATE | Mmap.MAP_ANONYMOUS);
        long[] bad = {(~0L << 3) | 3, (~0L << 3) | 7, SysTime.makeCpuClock(999_999, SysTime.CPUCLOCK_SCHED, false),
                SysTime.makeCpuClock(999_999, SysTime.CPUCLOCK_SCHED, true), 10, 12, 1000};
        for (long clk : bad) {
            assertEquals(EINVAL, f.sys(Syscalls.NR_CLOCK_GETTIME, clk, ts), "clock " + clk);
            assertEquals(EINVAL, f.sys(Syscalls.NR_CLOCK_GETRES, clk, ts), "clock " + clk);
        }
        assertEquals(-Errno.EFAULT, f.sys(Syscalls.NR_CLOCK_GETTIME, 2, 16));
    }

    @Test
    void clockGetresMatchesLinux() throws Exception {
        Fixture f = Fixture.booted();
        long ts = f.mmap(0, 4096, Mmap.PROT_READ | Mmap.PROT_WRITE, Mmap.MAP_PRIVATE | Mmap.MAP_ANONYMOUS);
        long[][] expect = {{0, 1}, {1, 1}, {2, 1}, {3, 1}, {5, 4_000_000}, {6, 4_000_000}, {7, 1},
                {SysTime.makeCpuClock(0, SysTime.CPUCLOCK_SCHED, true), 1},
                {SysTime.makeCpuClock(0, SysTime.CPUCLOCK_PROF, false), 4_000_000}};
        for (long[] e : expect) {
            f.write64(ts, -1);
            assertEquals(0, f.sys(Syscalls.NR_CLOCK_GETRES, e[0], ts), "clock " + e[0]);
            assertEquals(e[1], timespec(f, ts), "clock " + e[0]);
        }
        assertEquals(0, f.sys(Syscalls.NR_CLOCK_GETRES, 2, 0), "a NULL timespec only validates the clock");
    }

    @Test
    void ia32CallsReadTheSameClocks() throws Exception {
        Fixture f = Fixture.booted32(KernelConfig.PagingMode.PAE);
        long ts = f.sys32(Syscalls.NR32_MMAP2, 0, 4096, 3, 0x22, -1, 0) & 0xffff_ffffL;
        f.write64(ts, 0);
        long before = SysTime.cpuTimeNanos(f.cpu);
        assertEquals(0, f.sys32(Syscalls.NR32_CLOCK_GETTIME64, 2, ts));
        long t = timespec(f, ts);
        assertTrue(t >= before && t <= SysTime.cpuTimeNanos(f.cpu), t + " in [" + before + ", now]");
        f.write64(ts, -1);
        assertEquals(0, f.sys32(Syscalls.NR32_CLOCK_GETTIME, SysTime.makeCpuClock(0, SysTime.CPUCLOCK_SCHED, true), ts));
        assertTrue(f.read32(ts + 4) >= t % 1_000_000_000L && f.read32(ts + 4) < 1_000_000_000L, "old_timespec32 nsec");
        assertEquals(t / 1_000_000_000L, f.read32(ts), "old_timespec32 sec");
        assertEquals(0, f.sys32(Syscalls.NR32_CLOCK_GETRES, 3, ts));
        assertEquals(1, f.read32(ts + 4));
        assertEquals(0, f.sys32(Syscalls.NR32_CLOCK_GETRES_TIME64, 5, ts));
        assertEquals(4_000_000, f.read64(ts + 8));
    }

    /** clock_gettime(CLOCK_PROCESS_CPUTIME_ID, 0x403010); write(1, 0x403010, 16); a 1000-step loop; again; exit(0). */
    private static final String READ_AND_PRINT = "b8e4000000" + "bf02000000" + "be10304000" + "0f05"
            + "b801000000" + "bf01000000" + "be10304000" + "ba10000000" + "0f05";

    private static byte[] guestRun(long seed) throws Exception {
        String loop = "b9e8030000" + "ffc9" + "75fc"; // mov ecx,1000; dec ecx; jnz -4
        String code = READ_AND_PRINT + loop + READ_AND_PRINT + "b83c000000" + "31ff" + "0f05";
        byte[] b = new byte[code.length() / 2];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) Integer.parseInt(code.substring(2 * i, 2 * i + 2), 16);
        }
        Fixture f = new Fixture(64L << 20);
        if (seed >= 0) {
            f.machine.setDeterministic(seed);
        }
        f.exec(TestElf.standard(b, new byte[16], 0).build());
        assertEquals(0, f.kernel.run(), f.stderr());
        return f.out.toByteArray();
    }

    @Test
    void aGuestReadsTheSameCpuTimesInEveryRunAndTheyGrowWithItsWork() throws Exception {
        byte[] first = guestRun(1);
        assertEquals(32, first.length);
        java.nio.ByteBuffer bb = java.nio.ByteBuffer.wrap(first).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        long t0 = bb.getLong(0) * 1_000_000_000L + bb.getLong(8);
        long t1 = bb.getLong(16) * 1_000_000_000L + bb.getLong(24);
        assertTrue(t0 > 0 && t1 > t0, t0 + " then " + t1);
        assertTrue(t1 - t0 >= 2000 * 1_000_000_000L / 4_000_000_000L, "2000+ instructions at 4 GHz at least");
        org.junit.jupiter.api.Assertions.assertArrayEquals(first, guestRun(1), "--deterministic, same seed");
        org.junit.jupiter.api.Assertions.assertArrayEquals(first, guestRun(2), "CPU time does not depend on the seed");
        org.junit.jupiter.api.Assertions.assertArrayEquals(first, guestRun(-1), "nor on host time: cycles are modelled");
    }
}
