package org.mmulab.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.mmulab.emulator.cpu.CpuState;

/**
 * Process-directed signals in a threaded process (kernel/signal.c complete_signal, dequeue_signal,
 * do_sigtimedwait) and SIGCHLD's siginfo (do_notify_parent), on one vCPU through the trap entry. Before,
 * kill(pid) was queued on one thread chosen at send time (so a thread unblocking it later never saw it),
 * rt_sigtimedwait/rt_sigpending were -ENOSYS, SIGCHLD's siginfo had no si_status, and a parent with a
 * SIGCHLD handler and SA_NOCLDWAIT got no signal.
 */
class ProcessSignalTest {
    static final int RW = 3, ANON = 0x22, SIGUSR1 = 10, SIG_BLOCK = 0, SIG_UNBLOCK = 1;
    static final long HANDLER = 0x401000, RESTORER = 0x401001, SA_RESTORER = 0x04000000L, SA_SIGINFO = 4,
            SA_NOCLDWAIT = 2;

    private static long install(Fixture f, int sig, long flags) {
        long act = f.mmap(0, 4096, RW, ANON);
        f.write64(act, HANDLER);
        f.write64(act + 8, SA_RESTORER | SA_SIGINFO | flags);
        f.write64(act + 16, RESTORER);
        f.write64(act + 24, 0);
        assertEquals(0, f.sys(Syscalls.NR_RT_SIGACTION, sig, act, 0, 8));
        return act;
    }

    private static void sigprocmask(Fixture f, int how, long set, long bits) {
        f.write64(set, bits);
        assertEquals(0, f.sys(Syscalls.NR_RT_SIGPROCMASK, how, set, 0, 8));
    }

    @Test
    void aSignalEveryThreadBlockedGoesToTheFirstThreadThatUnblocksIt() throws Exception {
        Fixture f = ThreadTest.boot();
        Task main = f.kernel.current();
        install(f, SIGUSR1, 0);
        long page = f.mmap(0, 4096, RW, ANON);
        long set = page + 256;
        sigprocmask(f, SIG_BLOCK, set, 1L << (SIGUSR1 - 1)); // the thread inherits the mask
        ThreadTest.spawn(f, page, 0, 0);
        f.cpu.state.rip = 0x401234;
        assertEquals(0, f.sys(SignalQueue.NR_KILL, main.pid, SIGUSR1));
        assertEquals(0x401234, f.cpu.state.rip, "blocked everywhere: it waits in the process's queue");
        assertEquals(0, f.sys(SysSignal.NR_RT_SIGPENDING, set, 8));
        assertEquals(1L << (SIGUSR1 - 1), f.read64(set), "rt_sigpending shows the shared signal");
        assertEquals(0, f.sys(Syscalls.NR_SCHED_YIELD), "the thread runs");
        Task thread = f.kernel.current();
        assertNotEquals(main, thread);
        f.cpu.state.rip = 0x401500;
        sigprocmask(f, SIG_UNBLOCK, set, 1L << (SIGUSR1 - 1));
        assertSame(thread, f.kernel.current());
        assertEquals(HANDLER, f.cpu.state.rip, "the thread that unblocked it takes it");
        assertEquals(SIGUSR1, f.cpu.state.gpr[CpuState.RDI]);
        long info = f.cpu.state.gpr[CpuState.RSI];
        assertEquals(SignalQueue.SI_USER, (int) f.read64(info + 8), "si_code SI_USER");
        assertEquals(main.pid, (int) f.read64(info + 16), "si_pid: the sender");
        assertEquals(0, (main.pending.signal | main.sig.sharedPending.signal) & (1L << (SIGUSR1 - 1)), "taken once");
    }

    @Test
    void aThreadInSigtimedwaitTakesTheProcessSignal() throws Exception {
        Fixture f = ThreadTest.boot();
        Task main = f.kernel.current();
        long page = f.mmap(0, 4096, RW, ANON);
        long set = page + 256, info = page + 512, ts = page + 1024;
        sigprocmask(f, SIG_BLOCK, set, 1L << (SIGUSR1 - 1));
        f.write64(ts, 0);
        f.write64(ts + 8, 0);
        assertEquals(-Errno.EAGAIN, f.sys(SysSignal.NR_RT_SIGTIMEDWAIT, set, info, ts, 8), "a zero timeout polls");
        ThreadTest.spawn(f, page, 0, 0);
        assertEquals(0, f.sys(Syscalls.NR_SCHED_YIELD));
        Task waiter = f.kernel.current();
        f.cpu.state.rip = 0x401600;
        // sigwait(): the thread sleeps with SIGUSR1 unblocked; the main thread, which blocks it, runs
        f.sys(SysSignal.NR_RT_SIGTIMEDWAIT, set, info, 0, 8);
        assertSame(main, f.kernel.current());
        assertEquals(0, f.sys(SignalQueue.NR_KILL, main.pid, SIGUSR1));
        f.sys(Syscalls.NR_SCHED_YIELD);
        assertSame(waiter, f.kernel.current());
        assertEquals(0x401600, f.cpu.state.rip, "no handler runs: sigwait returns the signal");
        assertEquals(SIGUSR1, f.cpu.state.gpr[CpuState.RAX]);
        assertEquals(SIGUSR1, (int) f.read64(info), "si_signo");
        assertEquals(SignalQueue.SI_USER, (int) f.read64(info + 8));
        assertEquals(main.pid, (int) f.read64(info + 16), "si_pid");
        assertEquals(1L << (SIGUSR1 - 1), waiter.sigmask(), "the blocked mask is back");
        assertEquals(0, main.sig.sharedPending.signal, "dequeued");
        assertEquals(-Errno.EINVAL, f.sys(SysSignal.NR_RT_SIGTIMEDWAIT, set, info, 0, 4), "sigsetsize");
        f.write64(ts + 8, 1_000_000_000L);
        assertEquals(-Errno.EINVAL, f.sys(SysSignal.NR_RT_SIGTIMEDWAIT, set, info, ts, 8), "tv_nsec out of range");
        assertEquals(-Errno.EFAULT, f.sys(SysSignal.NR_RT_SIGTIMEDWAIT, set, info, 16, 8), "unreadable timeout");
        assertEquals(-Errno.EFAULT, f.sys(SysSignal.NR_RT_SIGTIMEDWAIT, 16, info, 0, 8), "unreadable set");
        assertEquals(-Errno.EFAULT, f.sys(SysSignal.NR_RT_SIGPENDING, 16, 8));
    }

    /**
     * The child runs for {@code cpuMillis} ms of its vCPU's cycles, then exits with {@code code} (or is
     * killed by {@code sig}); returns the parent's siginfo address.
     */
    private static long childDies(Fixture f, Task parent, int code, int sig, long cpuMillis) {
        long pid = f.sys(SysClone.NR_FORK);
        f.sys(Syscalls.NR_SCHED_YIELD);
        assertEquals(pid, f.kernel.current().pid);
        f.cpu.clock().charge(f.cpu.clock().model().frequencyHz() / 1000 * cpuMillis);
        if (sig != 0) {
            f.sys(SignalQueue.NR_KILL, pid, sig);
        } else {
            f.sys(Syscalls.NR_EXIT_GROUP, code);
        }
        assertSame(parent, f.kernel.current());
        assertEquals(HANDLER, f.cpu.state.rip, "the SIGCHLD handler runs as the parent goes back to user mode");
        assertEquals(SignalQueue.SIGCHLD, f.cpu.state.gpr[CpuState.RDI]);
        long info = f.cpu.state.gpr[CpuState.RSI];
        assertEquals(pid, (int) f.read64(info + 16), "si_pid");
        f.cpu.state.gpr[CpuState.RSP] += 8;
        f.sys(Syscalls.NR_RT_SIGRETURN);
        return info;
    }

    @Test
    void sigchldCarriesTheChildsStatus() throws Exception {
        Fixture f = ForkWaitTest.boot(64L << 20);
        Task parent = f.kernel.current();
        install(f, SignalQueue.SIGCHLD, 0);
        long info = childDies(f, parent, 7, 0, 1500);
        assertEquals(SysExit.CLD_EXITED, (int) f.read64(info + 8), "si_code CLD_EXITED");
        assertEquals(7, (int) f.read64(info + 24), "si_status: the exit code");
        long utime = f.read64(info + 32);
        assertTrue(utime >= 150 && utime < 153, "si_utime: the child's 1.5 s in USER_HZ ticks, not the parent's: " + utime);
        assertEquals(0, f.read64(info + 40), "si_stime: no user/system split");
        info = childDies(f, parent, 0, Kernel.SIGSEGV, 0);
        assertEquals(SysExit.CLD_KILLED, (int) f.read64(info + 8), "si_code CLD_KILLED");
        assertEquals(Kernel.SIGSEGV, (int) f.read64(info + 24), "si_status: the signal");
    }

    @Test
    void saNocldwaitReapsButTheHandlerStillRuns() throws Exception {
        Fixture f = ForkWaitTest.boot(64L << 20);
        Task parent = f.kernel.current();
        install(f, SignalQueue.SIGCHLD, SA_NOCLDWAIT);
        long info = childDies(f, parent, 3, 0, 0);
        assertEquals(3, (int) f.read64(info + 24));
        assertEquals(-Errno.ECHILD, ForkWaitTest.wait4(f, -1, 0, 0), "reaped automatically");
    }

    @Test
    void aFatalSignalKillsTheGroupAtOnceEvenAVforkParent() throws Exception {
        Fixture f = ForkWaitTest.boot(64L << 20);
        Task init = f.kernel.current();
        long page = f.mmap(0, 4096, RW, ANON);
        long p = f.sys(SysClone.NR_FORK);
        ForkWaitTest.wait4(f, p, page, 0); // init waits; P runs
        Task parent = f.kernel.current();
        assertEquals(p, parent.pid);
        f.sys(SysClone.NR_VFORK); // P sleeps until its vfork child execs or exits (not interruptible)
        Task child = f.kernel.current();
        assertNotEquals(parent, child);
        assertEquals(0, f.sys(SignalQueue.NR_KILL, p, 15)); // SIGTERM, default action
        assertEquals(0, f.sys(Syscalls.NR_SCHED_YIELD));
        assertSame(child, f.kernel.current(), "the vfork child goes on");
        assertEquals(true, parent.exited(), "SIGTERM killed P at once, out of its vfork wait");
        assertEquals(128 + 15, parent.exitStatus());
        f.sys(Syscalls.NR_EXIT_GROUP, 0);
        assertSame(init, f.kernel.current());
        assertEquals(p, f.cpu.state.gpr[CpuState.RAX], "init reaps P");
        assertEquals(15, f.read32(page), "WTERMSIG 15");
    }
}
