package org.mmulab.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;
import org.mmulab.emulator.cpu.CpuState;

/**
 * System-call restart after a signal (arch/x86/kernel/signal.c arch_do_signal_or_restart and
 * handle_signal, kernel/time/hrtimer.c hrtimer_nanosleep_restart, futex_wait's restart, sys_poll's
 * do_restart_poll), under --deterministic so that sleeps pass in virtual time. A parent sleeps, its
 * forked child signals it. Before, an interrupted nanosleep or poll returned EINTR even when no
 * handler ran (SIGSTOP), and an untimed futex wait returned EINTR instead of restarting.
 */
class SyscallRestartTest {
    static final int RW = 3, ANON = 0x22, SIGUSR1 = 10;
    static final long SEC = 1_000_000_000L, AT = 0x401002;

    private static Fixture boot() throws Exception {
        Fixture f = new Fixture(64L << 20);
        f.machine.setDeterministic(7);
        f.exec(TestElf.standard(Fixture.CODE, "x".getBytes(StandardCharsets.UTF_8), 0).build());
        return f;
    }

    private static long now(Fixture f) {
        return f.kernel.machine().guestTime().monotonicNanos(f.cpu);
    }

    /**
     * The parent makes {@code nr(args)} at {@link #AT} (it blocks); the child sleeps 3 s, sends the
     * parent {@code sig} and exits. Returns with the parent back on the vCPU.
     */
    private static Task interrupt(Fixture f, long buf, int sig, long nr, long... args) {
        Task parent = f.kernel.current();
        long pid = f.sys(SysClone.NR_FORK);
        assertTrue(pid > 0);
        f.cpu.state.rip = AT;
        f.sys(nr, args);
        assertEquals(pid, f.kernel.current().pid, "the parent blocked, the child runs");
        f.write64(buf + 64, 3);
        f.write64(buf + 72, 0);
        assertEquals(0, f.sys(Syscalls.NR_NANOSLEEP, buf + 64, 0));
        assertEquals(0, f.sys(SignalQueue.NR_KILL, parent.pid, sig));
        f.sys(Syscalls.NR_EXIT_GROUP, 0);
        assertSame(parent, f.kernel.current());
        return parent;
    }

    @Test
    void aNanosleepAStopInterruptsSleepsOnThroughRestartSyscallToTheSameDeadline() throws Exception {
        Fixture f = boot();
        long buf = f.mmap(0, 4096, RW, ANON);
        f.write64(buf, 10);
        f.write64(buf + 8, 0);
        long t0 = now(f);
        interrupt(f, buf, Kernel.SIGSTOP, Syscalls.NR_NANOSLEEP, buf, buf + 16);
        assertEquals(SyscallRestart.NR_RESTART_SYSCALL, f.cpu.state.gpr[CpuState.RAX], "RAX = __NR_restart_syscall");
        assertEquals(AT - 2, f.cpu.state.rip, "back over the syscall instruction");
        long rem = f.read64(buf + 16) * SEC + f.read64(buf + 24);
        assertTrue(rem > 6 * SEC + SEC * 9 / 10 && rem <= 7 * SEC, "rem: 7 s of the 10 were left, less the child's calls: " + rem);
        f.cpu.state.rip = AT; // the syscall instruction runs again
        assertEquals(0, f.sys(SyscallRestart.NR_RESTART_SYSCALL), "the sleep completes");
        long slept = now(f) - t0;
        assertTrue(slept >= 10 * SEC && slept < 10 * SEC + SEC / 10, "to the first deadline, not 3 + 10 s: " + slept);
        assertEquals(-Errno.EINTR, f.sys(SyscallRestart.NR_RESTART_SYSCALL), "no restart block left: EINTR");
    }

    @Test
    void aHandlerGetsEintrFromNanosleepEvenWithSaRestart() throws Exception {
        Fixture f = boot();
        long buf = f.mmap(0, 4096, RW, ANON);
        f.write64(buf + 128, 0x401000);
        f.write64(buf + 136, SyscallRestart.SA_RESTART | Signals.SA_RESTORER);
        f.write64(buf + 144, 0x401001);
        f.write64(buf + 152, 0);
        assertEquals(0, f.sys(Syscalls.NR_RT_SIGACTION, SIGUSR1, buf + 128, 0, 8));
        f.write64(buf, 10);
        f.write64(buf + 8, 0);
        interrupt(f, buf, SIGUSR1, Syscalls.NR_NANOSLEEP, buf, 0);
        assertEquals(0x401000, f.cpu.state.rip, "the handler runs");
        f.cpu.state.gpr[CpuState.RSP] += 8;
        f.sys(Syscalls.NR_RT_SIGRETURN);
        assertEquals(AT, f.cpu.state.rip);
        assertEquals(-Errno.EINTR, f.cpu.state.gpr[CpuState.RAX], "ERESTART_RESTARTBLOCK is EINTR for a handler");
        assertEquals(-Errno.EINTR, f.sys(SyscallRestart.NR_RESTART_SYSCALL), "sigreturn dropped the restart block");
    }

    @Test
    void anUntimedFutexWaitRestartsItselfAndATimedOneThroughRestartSyscall() throws Exception {
        Fixture f = boot();
        long buf = f.mmap(0, 4096, RW, ANON);
        int wait = Futex.FUTEX_WAIT | Futex.FUTEX_PRIVATE_FLAG;
        interrupt(f, buf, Kernel.SIGSTOP, Futex.NR_FUTEX, buf + 256, wait, 0, 0, 0, 0);
        assertEquals(Futex.NR_FUTEX, f.cpu.state.gpr[CpuState.RAX], "ERESTARTSYS without a handler: the same call");
        assertEquals(AT - 2, f.cpu.state.rip);

        f.write64(buf, 10);
        f.write64(buf + 8, 0);
        long t0 = now(f);
        interrupt(f, buf, Kernel.SIGSTOP, Futex.NR_FUTEX, buf + 256, wait, 0, buf, 0, 0);
        assertEquals(SyscallRestart.NR_RESTART_SYSCALL, f.cpu.state.gpr[CpuState.RAX], "a timed wait: restart block");
        f.cpu.state.rip = AT;
        assertEquals(-Errno.ETIMEDOUT, f.sys(SyscallRestart.NR_RESTART_SYSCALL));
        long waited = now(f) - t0;
        assertTrue(waited >= 10 * SEC && waited < 10 * SEC + SEC / 10, "the first expiry: " + waited);
    }

    @Test
    void pollRestartsToItsDeadlineAndAbsoluteSleepsRunAgain() throws Exception {
        Fixture f = boot();
        long buf = f.mmap(0, 4096, RW, ANON);
        long t0 = now(f);
        interrupt(f, buf, Kernel.SIGSTOP, 7, 0, 0, 10_000);
        assertEquals(SyscallRestart.NR_RESTART_SYSCALL, f.cpu.state.gpr[CpuState.RAX], "poll: restart block");
        f.cpu.state.rip = AT;
        assertEquals(0, f.sys(SyscallRestart.NR_RESTART_SYSCALL), "poll times out");
        long waited = now(f) - t0;
        assertTrue(waited >= 10 * SEC && waited < 10 * SEC + SEC / 10, "the first deadline: " + waited);

        f.write64(buf, now(f) / SEC + 10); // clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME)
        f.write64(buf + 8, 0);
        interrupt(f, buf, Kernel.SIGSTOP, Syscalls.NR_CLOCK_NANOSLEEP, 1, 1, buf, 0);
        assertEquals(Syscalls.NR_CLOCK_NANOSLEEP, f.cpu.state.gpr[CpuState.RAX], "ERESTARTNOHAND: the call again");
        assertEquals(AT - 2, f.cpu.state.rip);
    }

    @Test
    void ia32RestartSyscallIsNumberZero() throws Exception {
        Fixture f = Fixture.booted32(KernelConfig.PagingMode.PAE);
        f.machine.setDeterministic(7);
        long buf = f.sys32(192, 0, 4096, RW, ANON, -1, 0); // mmap2
        Task parent = f.kernel.current();
        long pid = f.sys32(SysClone.NR32_FORK);
        f.cpu.state.rip = AT;
        f.writeBytes(buf, new byte[] {10, 0, 0, 0, 0, 0, 0, 0}); // old_timespec32 {10, 0}
        f.sys32(Syscalls.NR32_NANOSLEEP, buf, 0);
        assertEquals(pid, f.kernel.current().pid);
        f.sys32(SignalQueue.NR32_KILL, parent.pid, Kernel.SIGSTOP);
        f.sys32(Syscalls.NR32_EXIT_GROUP, 0);
        assertSame(parent, f.kernel.current());
        assertEquals(SyscallRestart.NR32_RESTART_SYSCALL, f.cpu.state.gpr[CpuState.RAX]);
        assertEquals(AT - 2, f.cpu.state.rip);
        f.cpu.state.rip = AT;
        assertEquals(0, f.sys32(SyscallRestart.NR32_RESTART_SYSCALL), "the sleep completes");
    }
}
