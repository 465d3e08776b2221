package org.mmulab.kernel;

import org.mmulab.emulator.machine.Vcpu;

/**
 * Signals a process sends itself, after kernel/signal.c (Linux 6.x) for a single-threaded process:
 * kill(2) (pid = the caller, 0, -1 or -pgid), tkill(2) and tgkill(2) aimed at the caller make the
 * signal pending (send_signal: one bit per signal, as for non-realtime signals; a second send while
 * pending is merged); any other target is -ESRCH. At the return to user mode after a syscall the
 * lowest-numbered pending signal that is not blocked is taken (get_signal): a handler runs on a frame
 * built by {@link Signals#deliverFault} (siginfo si_code SI_USER or SI_TKILL, si_pid, si_uid), an
 * ignored signal is dropped, and the default action of the rest terminates the process with 128 +
 * signal, as a shell reports it (so glibc's and musl's raise(SIGABRT) in abort() gives status 134).
 * Job-control stops have nothing to stop for here (no parent, no terminal) and are dropped like
 * ignored signals. A pending signal that becomes unblocked (rt_sigprocmask, sigreturn) is taken at
 * the return from that call.
 */
final class SignalQueue {
    static final int NR_KILL = 62, NR_TKILL = 200, NR_TGKILL = 234;
    static final int NR32_KILL = 37, NR32_TKILL = 238, NR32_TGKILL = 270;
    /** siginfo si_code of kill(2) and of tkill/tgkill (include/uapi/asm-generic/siginfo.h). */
    static final int SI_USER = 0, SI_TKILL = -6;
    static final int SIGCHLD = 17, SIGCONT = 18, SIGTSTP = 20, SIGTTIN = 21, SIGTTOU = 22, SIGURG = 23, SIGWINCH = 28;
    /** SIG_KERNEL_IGNORE_MASK and SIG_KERNEL_STOP_MASK (include/linux/signal.h). */
    static final long KERNEL_IGNORE = bit(SIGCHLD) | bit(SIGCONT) | bit(SIGURG) | bit(SIGWINCH),
            KERNEL_STOP = bit(Kernel.SIGSTOP) | bit(SIGTSTP) | bit(SIGTTIN) | bit(SIGTTOU);

    private SignalQueue() {
    }

    static long bit(int sig) {
        return 1L << (sig - 1);
    }

    /** kill(2): only the caller itself exists to be signalled. */
    static long kill(Kernel k, int pid, int sig) {
        int self = k.task().pid;
        if (pid != self && pid != 0 && pid != -1 && pid != -self) {
            return -Errno.ESRCH;
        }
        return send(k, sig, SI_USER);
    }

    /** tkill(2). */
    static long tkill(Kernel k, int tid, int sig) {
        if (tid <= 0) {
            return -Errno.EINVAL;
        }
        return tid == k.task().pid ? send(k, sig, SI_TKILL) : -Errno.ESRCH;
    }

    /** tgkill(2). */
    static long tgkill(Kernel k, int tgid, int tid, int sig) {
        if (tgid <= 0 || tid <= 0) {
            return -Errno.EINVAL;
        }
        int self = k.task().pid;
        return tgid == self && tid == self ? send(k, sig, SI_TKILL) : -Errno.ESRCH;
    }

    /** do_send_sig_info to the caller: signal 0 only checks that the target exists. */
    private static long send(Kernel k, int sig, int code) {
        if (sig < 0 || sig > Task.NSIG) {
            return -Errno.EINVAL;
        }
        if (sig == 0) {
            return 0;
        }
        Task t = k.task();
        t.pendingSignals |= bit(sig);
        t.pendingCode[sig] = code;
        return 0;
    }

    /** Whether the task has a pending signal it does not block (the TIF_SIGPENDING test). */
    static boolean hasDeliverable(Task t) {
        return (t.pendingSignals & ~(t.sigmask & ~Signals.UNBLOCKABLE)) != 0;
    }

    /**
     * get_signal + handle_signal at the return to user mode: takes pending signals in order until one
     * runs a handler or kills the task; the registers are the ones user mode resumes with (the
     * syscall's result is in RAX), so the handler's frame saves them and sigreturn restores them.
     */
    static void deliverPending(Kernel k, Vcpu cpu) {
        Task t = k.task();
        while (!t.exited && hasDeliverable(t)) {
            long ready = t.pendingSignals & ~(t.sigmask & ~Signals.UNBLOCKABLE);
            int sig = Long.numberOfTrailingZeros(ready) + 1;
            t.pendingSignals &= ~bit(sig);
            long handler = t.sigactions[sig][0];
            if (sig != Kernel.SIGKILL && sig != Kernel.SIGSTOP && handler != Signals.SIG_DFL) {
                if (handler == Signals.SIG_IGN) {
                    continue;
                }
                long who = (k.task().pid & 0xffff_ffffL) | (long) k.config().uid() << 32; // si_pid, si_uid
                int r = Signals.deliverFault(k, t, cpu, sig, t.pendingCode[sig], who, 0, 0);
                if (r == Signals.SETUP_FAILED) {
                    k.forceSigFault(Kernel.SIGSEGV, null); // signal_setup_done -> force_sigsegv
                }
                return;
            }
            if ((bit(sig) & (KERNEL_IGNORE | KERNEL_STOP)) != 0) {
                continue;
            }
            k.forceSigFault(sig, null);
            return;
        }
    }
}
