package org.mmulab.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;
import org.mmulab.emulator.cpu.CpuState;

/**
 * kill/tkill/tgkill aimed at the caller (SignalQueue): what raise() and abort() in glibc and musl do.
 * Before, these were -ENOSYS: raise(SIGUSR1) returned without running the handler and abort() ended
 * in a SIGSEGV from its fallback instead of status 134.
 */
class SignalQueueTest {
    static final int RW = 3, ANON = 0x22, SIGUSR1 = 10;
    static final long HANDLER = 0x401000, RESTORER = 0x401001, SA_RESTORER = 0x04000000L, SA_SIGINFO = 4;

    private static Fixture boot() throws Exception {
        Fixture f = new Fixture(64L << 20);
        f.exec(TestElf.standard(Fixture.CODE, "x".getBytes(StandardCharsets.UTF_8), 0).build());
        return f;
    }

    private static void install(Fixture f, int sig) {
        long act = f.mmap(0, 4096, RW, ANON);
        f.write64(act, HANDLER);
        f.write64(act + 8, SA_RESTORER | SA_SIGINFO);
        f.write64(act + 16, RESTORER);
        f.write64(act + 24, 0);
        assertEquals(0, f.sys(Syscalls.NR_RT_SIGACTION, sig, act, 0, 8));
    }

    /** The handler's RET pops pretcode; the restorer then makes rt_sigreturn. */
    private static void returnFromHandler(Fixture f) {
        f.cpu.state.gpr[CpuState.RSP] += 8;
        f.sys(Syscalls.NR_RT_SIGRETURN);
    }

    @Test
    void tgkillToSelfRunsTheHandlerAtTheReturnFromTheCall() throws Exception {
        Fixture f = boot();
        install(f, SIGUSR1);
        long pid = f.kernel.task().pid;
        f.cpu.state.rip = 0x401234;
        assertEquals(0, f.sys(SignalQueue.NR_TGKILL, pid, pid, SIGUSR1));
        assertEquals(HANDLER, f.cpu.state.rip, "the handler runs");
        assertEquals(SIGUSR1, f.cpu.state.gpr[CpuState.RDI]);
        long frame = f.cpu.state.gpr[CpuState.RSP];
        assertEquals(RESTORER, f.read64(frame), "pretcode");
        long info = f.cpu.state.gpr[CpuState.RSI];
        assertEquals(SIGUSR1, (int) f.read64(info), "si_signo");
        assertEquals(SignalQueue.SI_TKILL, (int) (f.read64(info + 8) & 0xffff_ffffL), "si_code");
        assertEquals(pid, (int) f.read64(info + 16), "si_pid");
        // rt_sigreturn back to the instruction after the syscall, with its result
        returnFromHandler(f);
        assertEquals(0x401234, f.cpu.state.rip);
        assertEquals(0, f.cpu.state.gpr[CpuState.RAX]);
        assertFalse(f.kernel.task().exited());
    }

    @Test
    void aBlockedSignalWaitsUntilItIsUnblocked() throws Exception {
        Fixture f = boot();
        install(f, SIGUSR1);
        long set = f.mmap(0, 4096, RW, ANON);
        f.write64(set, 1L << (SIGUSR1 - 1));
        assertEquals(0, f.sys(Syscalls.NR_RT_SIGPROCMASK, 0, set, 0, 8)); // SIG_BLOCK
        f.cpu.state.rip = 0x401234;
        assertEquals(0, f.sys(SignalQueue.NR_TKILL, f.kernel.task().pid, SIGUSR1));
        assertEquals(0x401234, f.cpu.state.rip, "blocked: stays pending");
        assertEquals(0, f.sys(SignalQueue.NR_TKILL, f.kernel.task().pid, SIGUSR1), "merged while pending");
        assertEquals(0, f.sys(Syscalls.NR_RT_SIGPROCMASK, 1, set, 0, 8)); // SIG_UNBLOCK
        assertEquals(HANDLER, f.cpu.state.rip, "delivered at the return from sigprocmask");
        returnFromHandler(f);
        assertEquals(0x401234, f.cpu.state.rip, "delivered once");
    }

    @Test
    void theDefaultActionKillsAndIgnoredSignalsAreDropped() throws Exception {
        Fixture f = boot();
        long pid = f.kernel.task().pid;
        assertEquals(0, f.sys(SignalQueue.NR_KILL, pid, 0), "signal 0: the target exists");
        assertEquals(-3, f.sys(SignalQueue.NR_KILL, pid + 1, SIGUSR1), "ESRCH: no other process");
        assertEquals(-3, f.sys(SignalQueue.NR_TGKILL, pid, pid + 1, SIGUSR1));
        assertEquals(-22, f.sys(SignalQueue.NR_TKILL, 0, SIGUSR1));
        assertEquals(-22, f.sys(SignalQueue.NR_KILL, pid, 65));
        assertEquals(0, f.sys(SignalQueue.NR_KILL, pid, SignalQueue.SIGCHLD), "ignored by default");
        assertEquals(0, f.sys(SignalQueue.NR_KILL, 0, SignalQueue.SIGWINCH));
        assertFalse(f.kernel.task().exited());
        f.sys(SignalQueue.NR_TGKILL, pid, pid, Kernel.SIGABRT);
        assertTrue(f.kernel.task().exited());
        assertEquals(134, f.kernel.task().exitStatus(), "abort(): 128 + SIGABRT");
        assertTrue(f.stderr().contains("Aborted"), f.stderr());
    }

    @Test
    void ia32RaiseGoesThroughTheSameQueue() throws Exception {
        Fixture f = Fixture.booted32(KernelConfig.PagingMode.PAE);
        long pid = f.kernel.task().pid;
        assertEquals(-3, f.sys32(SignalQueue.NR32_TGKILL, pid, pid + 1, SIGUSR1));
        f.sys32(SignalQueue.NR32_TGKILL, pid, pid, Kernel.SIGABRT);
        assertTrue(f.kernel.task().exited());
        assertEquals(134, f.kernel.task().exitStatus());
    }
}
