package org.mmulab.kernel;

import org.mmulab.emulator.machine.GuestTime;
import org.mmulab.emulator.machine.Vcpu;

/**
 * The time system calls, after kernel/time/posix-timers.c (clock_gettime, clock_getres,
 * clock_nanosleep and clockid_to_kclock), kernel/time/posix-cpu-timers.c (the CPU-time clocks),
 * kernel/time/time.c (gettimeofday, time) and kernel/time/hrtimer.c (nanosleep), Linux 6.x. Every clock
 * reads the vCPU serving the call through {@link GuestTime}: host time, or virtual time under
 * {@code --deterministic}.
 *
 * <p>CPU-time clocks: CLOCK_PROCESS_CPUTIME_ID (2), CLOCK_THREAD_CPUTIME_ID (3) and the negative ids
 * of clock_getcpuclockid/pthread_getcpuclockid, {@code (~pid << 3) | perthread << 2 | which} with which
 * = PROF 0, VIRT 1, SCHED 2 (which 3 with perthread 0 is CLOCKFD, a posix-clock fd: none exist here,
 * EINVAL). pid 0 is the caller; otherwise it must name the caller's process (or, per-thread, its
 * thread: the single task's tid is its pid), else EINVAL. The value is the time the vCPU spent
 * executing: its modelled cycles (instructions, walks and the kernel's charges, never idle time or a
 * sleep) at the timing model's frequency. The process is the only thing that runs on its vCPU, so this
 * is both its process and its thread CPU time; user and system time are not told apart, so PROF and
 * VIRT read the same as SCHED. Cycles are a function of the instruction stream, so these clocks are
 * deterministic in every mode.
 */
final class SysTime {
    /** CPUCLOCK_* (include/linux/posix-timers_types.h). */
    static final int CPUCLOCK_PROF = 0, CPUCLOCK_VIRT = 1, CPUCLOCK_SCHED = 2, CPUCLOCK_MAX = 3,
            CPUCLOCK_PERTHREAD_MASK = 4, CPUCLOCK_CLOCK_MASK = 3, CLOCKFD = 3, CLOCKFD_MASK = 7;
    /** TICK_NSEC for HZ=250: the resolution of tick-based clocks (COARSE, PROF, VIRT). */
    static final long TICK_NSEC = 4_000_000L;
    private static final long NSEC_PER_SEC = 1_000_000_000L;

    private final Kernel k;

    SysTime(Kernel k) {
        this.k = k;
    }

    private GuestTime time() {
        return k.machine().guestTime();
    }

    /** MAKE_PROCESS_CPUCLOCK(pid, which) / MAKE_THREAD_CPUCLOCK(tid, which). */
    static int makeCpuClock(int pid, int which, boolean thread) {
        return (~pid << 3) | which | (thread ? CPUCLOCK_PERTHREAD_MASK : 0);
    }

    /**
     * pid_for_clock (posix-cpu-timers.c): is this CPU-time clock one the caller may read? The clock's
     * pid is 0 (the caller) or the caller's own pid/tid; which must be below CPUCLOCK_MAX.
     */
    private boolean cpuClockValid(int clk) {
        if ((clk & CPUCLOCK_CLOCK_MASK) >= CPUCLOCK_MAX) {
            return false;
        }
        int upid = ~(clk >> 3);
        return upid == 0 || upid == k.current().pid || upid == k.current().tgid();
    }

    /** The caller's CPU time in ns (see the class comment). */
    static long cpuTimeNanos(Vcpu cpu) {
        return cpu.clock().model().cyclesToNanos(cpu.cycles());
    }

    /**
     * The clock's current value in ns, or a negative errno: -EINVAL for an id with no clock
     * (clockid_to_kclock NULL, a CLOCKFD id, an invalid CPU clock).
     */
    private long clockNanos(Vcpu cpu, int clk) {
        if (clk < 0) {
            if ((clk & CLOCKFD_MASK) == CLOCKFD || !cpuClockValid(clk)) {
                return -Errno.EINVAL;
            }
            return cpuTimeNanos(cpu);
        }
        return switch (clk) {
            case 0, 5, 8, 11 -> time().realtimeNanos(cpu); // REALTIME, REALTIME_COARSE, REALTIME_ALARM, TAI
            case 1, 4, 6, 7, 9 -> time().monotonicNanos(cpu); // MONOTONIC(_RAW/_COARSE), BOOTTIME(_ALARM)
            case 2, 3 -> cpuTimeNanos(cpu); // PROCESS_CPUTIME_ID, THREAD_CPUTIME_ID
            default -> -Errno.EINVAL; // 10 (the removed CLOCK_SGI_CYCLE) and anything past CLOCK_TAI
        };
    }

    /** The clock's resolution in ns (clock_getres), or -EINVAL. */
    private long clockResolution(int clk) {
        if (clk < 0) {
            if ((clk & CLOCKFD_MASK) == CLOCKFD || !cpuClockValid(clk)) {
                return -Errno.EINVAL;
            }
            // posix_cpu_clock_getres: TICK_NSEC, but 1 ns for the scheduler's clock
            return (clk & CPUCLOCK_CLOCK_MASK) == CPUCLOCK_SCHED ? 1 : TICK_NSEC;
        }
        return switch (clk) {
            case 0, 1, 4, 7, 8, 9, 11 -> 1; // hrtimer_resolution with high-resolution timers
            case 5, 6 -> TICK_NSEC; // the COARSE clocks: LOW_RES_NSEC
            case 2, 3 -> 1; // CPUCLOCK_SCHED
            default -> -Errno.EINVAL;
        };
    }

    /** Stores a timespec: __kernel_timespec (two s64, {@code ts64}) or old_timespec32 (two s32). */
    private long putTimespec(long tp, long ns, boolean ts64) {
        long sec = ns / NSEC_PER_SEC, nsec = ns % NSEC_PER_SEC;
        byte[] b = new byte[ts64 ? 16 : 8];
        if (ts64) {
            Le.put64(b, 0, sec);
            Le.put64(b, 8, nsec);
        } else {
            Le.put32(b, 0, sec); // y2038: truncated as the time32 call does
            Le.put32(b, 4, nsec);
        }
        return k.userAccess().copyToUser(tp, b, 0, b.length) == 0 ? 0 : -Errno.EFAULT;
    }

    /** clock_gettime into a __kernel_timespec ({@code ts64}) or an old_timespec32. */
    long clockGettime(Vcpu cpu, int clk, long tp, boolean ts64) {
        long ns = clockNanos(cpu, clk);
        return ns < 0 ? ns : putTimespec(tp, ns, ts64);
    }

    /** clock_getres: the resolution; a NULL tp only validates the clock. */
    long clockGetres(int clk, long tp, boolean ts64) {
        long res = clockResolution(clk);
        if (res < 0 || tp == 0) {
            return res < 0 ? res : 0;
        }
        return putTimespec(tp, res, ts64);
    }

    /** gettimeofday into a struct timeval of two longs ({@code wide}: 64-bit) or an old 32-bit one; tz ignored. */
    long gettimeofday(Vcpu cpu, long tv, boolean wide) {
        if (tv == 0) {
            return 0;
        }
        long t = time().realtimeNanos(cpu);
        long sec = t / NSEC_PER_SEC, usec = t % NSEC_PER_SEC / 1000;
        byte[] b = new byte[wide ? 16 : 8];
        if (wide) {
            Le.put64(b, 0, sec);
            Le.put64(b, 8, usec);
        } else {
            Le.put32(b, 0, sec);
            Le.put32(b, 4, usec);
        }
        return k.userAccess().copyToUser(tv, b, 0, b.length) == 0 ? 0 : -Errno.EFAULT;
    }

    /** time(tloc): seconds since the epoch (a 32-bit old_time_t for ia32), also stored at tloc if non-null. */
    long time(Vcpu cpu, long tloc, boolean wide) {
        long sec = time().realtimeNanos(cpu) / NSEC_PER_SEC;
        if (!wide) {
            sec = (int) sec;
        }
        if (tloc != 0) {
            byte[] b = new byte[wide ? 8 : 4];
            if (wide) {
                Le.put64(b, 0, sec);
            } else {
                Le.put32(b, 0, sec);
            }
            if (k.userAccess().copyToUser(tloc, b, 0, b.length) != 0) {
                return -Errno.EFAULT;
            }
        }
        return sec;
    }

    /**
     * nanosleep with a __kernel_timespec ({@code ts64}) or an old_timespec32 request; the time left is
     * written to {@code rem} (if not 0) when a signal ends the sleep (hrtimer_nanosleep).
     */
    long nanosleep(Vcpu cpu, long req, long rem, boolean ts64) {
        long ns = readRequest(req, ts64);
        if (ns < 0) {
            return ns;
        }
        long now = time().monotonicNanos(cpu);
        return sleepUntil(cpu, ns > Long.MAX_VALUE - now ? Long.MAX_VALUE : now + ns, rem, ts64, false);
    }

    /**
     * clock_nanosleep (CLOCK_REALTIME/MONOTONIC/BOOTTIME): relative as nanosleep; TIMER_ABSTIME sleeps
     * until the clock reads the target (the deadline kept on the monotonic clock; rem is not written).
     */
    long clockNanosleep64(Vcpu cpu, int clk, int flags, long req, long rem, boolean ts64) {
        if (clk != 0 && clk != 1 && clk != 7) {
            return clk == 2 || clk == 3 ? -Errno.EOPNOTSUPP : -Errno.EINVAL;
        }
        if ((flags & 1) == 0) {
            return nanosleep(cpu, req, rem, ts64);
        }
        long target = readRequest(req, ts64);
        if (target < 0) {
            return target;
        }
        long mono = time().monotonicNanos(cpu);
        long nowNs = clk == 0 ? time().realtimeNanos(cpu) : mono;
        long left = Math.max(0, target - nowNs);
        return sleepUntil(cpu, left > Long.MAX_VALUE - mono ? Long.MAX_VALUE : mono + left, 0, ts64, true);
    }

    /** get_timespec64 + timespec64_valid of a sleep request: ns (saturated), or -EFAULT / -EINVAL. */
    private long readRequest(long req, boolean ts64) {
        return readRequest(k.userAccess(), req, ts64);
    }

    /** {@link #readRequest(long, boolean)} through {@code ua} (also rt_sigtimedwait's timeout). */
    static long readRequest(UserAccess ua, long req, boolean ts64) {
        byte[] b = new byte[ts64 ? 16 : 8];
        if (ua.copyFromUser(b, 0, req, b.length) != 0) {
            return -Errno.EFAULT;
        }
        long sec = ts64 ? Le.le64(b, 0) : (int) Le.le32(b, 0), nsec = ts64 ? Le.le64(b, 8) : (int) Le.le32(b, 4);
        if (sec < 0 || nsec < 0 || nsec >= NSEC_PER_SEC) {
            return -Errno.EINVAL;
        }
        return sec > Long.MAX_VALUE / NSEC_PER_SEC - 1 ? Long.MAX_VALUE : sec * NSEC_PER_SEC + nsec;
    }

    /**
     * do_nanosleep as a scheduler continuation: the task blocks with {@code deadline} (guest monotonic
     * ns) as its timeout, so its vCPU runs other tasks meanwhile (or, under --deterministic, lets its
     * virtual clock idle forward); the timeout ends it with 0. A signal ends it with the time left in
     * {@code rem} and -ERESTART_RESTARTBLOCK, whose restart block (hrtimer_nanosleep_restart) sleeps on
     * to the same deadline; an absolute sleep ({@code abs}) returns -ERESTARTNOHAND instead and is
     * simply run again (hrtimer_nanosleep).
     */
    private long sleepUntil(Vcpu cpu, long deadline, long rem, boolean ts64, boolean abs) {
        Task t = k.current();
        Sched s = k.sched();
        synchronized (s.lock) {
            if (t.killPending || SignalQueue.hasDeliverable(t)) {
                return interrupted(t, cpu, deadline, rem, ts64, abs);
            }
            return s.blockLocked(t, (kk, vcpu, task) -> task.wakeResult == -Errno.EINTR
                    ? interrupted(task, vcpu, deadline, rem, ts64, abs)
                    : task.wakeResult == -Errno.ETIMEDOUT ? 0 : sleepUntil(vcpu, deadline, rem, ts64, abs),
                    deadline, "nanosleep");
        }
    }

    private long interrupted(Task t, Vcpu cpu, long deadline, long rem, boolean ts64, boolean abs) {
        if (abs) {
            return -Errno.ERESTARTNOHAND;
        }
        if (rem != 0) {
            long left = deadline == Long.MAX_VALUE ? Long.MAX_VALUE : Math.max(0, deadline - time().monotonicNanos(cpu));
            byte[] b = new byte[ts64 ? 16 : 8];
            if (ts64) {
                Le.put64(b, 0, left / NSEC_PER_SEC);
                Le.put64(b, 8, left % NSEC_PER_SEC);
            } else {
                Le.put32(b, 0, left / NSEC_PER_SEC);
                Le.put32(b, 4, left % NSEC_PER_SEC);
            }
            if (k.userAccess().copyToUser(rem, b, 0, b.length) != 0) {
                return -Errno.EFAULT;
            }
        }
        return SyscallRestart.setRestartFn(t, (kk, vcpu, task) -> sleepUntil(vcpu, deadline, rem, ts64, false));
    }
}
