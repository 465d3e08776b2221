package org.mmulab.kernel;

import org.mmulab.emulator.cpu.CpuState;

/**
 * System-call restart after a signal (arch/x86/kernel/signal.c handle_signal and
 * arch_do_signal_or_restart, Linux 6.x). A call a signal interrupts while it waits returns one of the
 * kernel-internal codes: -ERESTARTSYS (pipe read/write, wait4), -ERESTARTNOHAND (poll, select),
 * -ERESTARTNOINTR. When a handler is about to run: ERESTARTSYS restarts if the handler has SA_RESTART,
 * else becomes EINTR; ERESTARTNOHAND becomes EINTR; ERESTARTNOINTR restarts. When no handler runs (the
 * signal was ignored, or only stopped the wait), all three restart. Restarting is RAX = orig_ax and
 * RIP back over the 2-byte {@code syscall} / {@code int 0x80}, so the call runs again on return to user
 * mode. {@link Task#origAx} is the call's number while the task is in a system call, -1 otherwise.
 *
 * <p>-ERESTART_RESTARTBLOCK (nanosleep, clock_nanosleep, futex wait with a timeout, poll) becomes
 * EINTR for a handler, even with SA_RESTART; without one the call is replaced by restart_syscall
 * (219 on x86-64, 0 in the ia32 table), which runs {@link Task#restartBlock}: the sleep goes on to the
 * expiry it had, rather than starting again with its whole timeout. sigreturn clears the block, so a
 * restart_syscall after a handler is -EINTR (do_no_restart_syscall).
 */
final class SyscallRestart {
    static final long SA_RESTART = 0x1000_0000L;
    static final int NR_RESTART_SYSCALL = 219, NR32_RESTART_SYSCALL = 0;

    private SyscallRestart() {
    }

    private static boolean restartable(long ax) {
        return ax == -Errno.ERESTARTSYS || ax == -Errno.ERESTARTNOINTR || ax == -Errno.ERESTARTNOHAND
                || ax == -Errno.ERESTART_RESTARTBLOCK;
    }

    private static void restart(Task t, CpuState s) {
        s.gpr[CpuState.RAX] = t.origAx;
        s.rip -= 2;
    }

    /** restore_saved_sigmask: the mask sigsuspend replaced comes back (before a frame saves it). */
    private static void restoreSigmask(Task t) {
        if (t.savedSigmask != -1) {
            t.sigmask = t.savedSigmask;
            t.savedSigmask = -1;
        }
    }

    /** sigmask_to_save: what a signal frame records for sigreturn (the mask sigsuspend replaced, if any). */
    static long maskToSave(Task t) {
        return t.savedSigmask != -1 ? t.savedSigmask : t.sigmask;
    }

    /** A handler's frame now holds the saved mask: sigreturn restores it (clear_restore_sigmask). */
    static void afterHandler(Task t) {
        t.savedSigmask = -1;
    }

    /** handle_signal's check, before the handler's frame saves the registers. */
    static void beforeHandler(Task t, CpuState s, long saFlags) {
        if (t.origAx < 0) {
            return;
        }
        long ax = t.ia32 ? (int) s.gpr[CpuState.RAX] : s.gpr[CpuState.RAX];
        if (ax == -Errno.ERESTARTNOINTR || ax == -Errno.ERESTARTSYS && (saFlags & SA_RESTART) != 0) {
            restart(t, s);
        } else if (restartable(ax)) {
            s.gpr[CpuState.RAX] = -Errno.EINTR;
        }
        t.origAx = -1;
    }

    /** Back to user mode without a handler: an interrupted call runs again. */
    static void noHandler(Task t, CpuState s) {
        restoreSigmask(t);
        if (t.origAx < 0) {
            return;
        }
        long ax = t.ia32 ? (int) s.gpr[CpuState.RAX] : s.gpr[CpuState.RAX];
        if (ax == -Errno.ERESTART_RESTARTBLOCK) {
            s.gpr[CpuState.RAX] = t.ia32 ? NR32_RESTART_SYSCALL : NR_RESTART_SYSCALL;
            s.rip -= 2;
        } else if (restartable(ax)) {
            restart(t, s);
        }
        t.origAx = -1;
    }

    /** A call's restart block (set_restart_fn): what restart_syscall runs; returns -ERESTART_RESTARTBLOCK. */
    static long setRestartFn(Task t, Task.Resume fn) {
        t.restartBlock = fn;
        return -Errno.ERESTART_RESTARTBLOCK;
    }

    /** sys_restart_syscall: the interrupted call's restart block, once; -EINTR when there is none. */
    static long restartSyscall(Kernel k, org.mmulab.emulator.machine.Vcpu cpu, Task t) {
        Task.Resume fn = t.restartBlock;
        t.restartBlock = null;
        return fn == null ? -Errno.EINTR : fn.resume(k, cpu, t);
    }
}
