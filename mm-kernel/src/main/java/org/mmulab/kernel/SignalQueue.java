package org.mmulab.kernel;

import java.util.ArrayList;
import java.util.List;

import org.mmulab.emulator.machine.Vcpu;

/**
 * Sending signals, after kernel/signal.c (Linux 6.x): kill(2) to a process (pid &gt; 0; 0 and -pgid:
 * the one process group, which holds every process; -1: every process but init and the caller),
 * tkill(2) and tgkill(2) to one thread. A process-directed signal is queued on a thread that does not
 * block it (the leader first, as complete_signal prefers the main thread), else on the leader. A signal
 * whose disposition ignores it is dropped at once (sig_ignored). The pending set is one bit per signal,
 * as for non-realtime signals: a second send while pending is merged. A target blocked interruptibly
 * (futex wait, wait4) is woken with -EINTR to take the signal; one running on another vCPU is
 * interrupted so it takes it at its next instruction boundary.
 *
 * <p>At the return to user mode the lowest-numbered pending signal that is not blocked is taken
 * (get_signal): a handler runs on a frame built by {@link Signals#deliverFault} (siginfo si_code
 * SI_USER or SI_TKILL, si_pid, si_uid), an ignored signal is dropped, and the default action of the
 * rest kills the whole thread group with 128 + signal, as a shell reports it (so glibc's and musl's
 * raise(SIGABRT) in abort() gives status 134). Job-control stops have no job control to stop for and
 * are dropped like ignored signals. A pending signal that becomes unblocked (rt_sigprocmask,
 * sigreturn) is taken at the return from that call.
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

    /** kill(2). */
    static long kill(Kernel k, int pid, int sig) {
        if (sig < 0 || sig > Task.NSIG) {
            return -Errno.EINVAL;
        }
        Task self = k.current();
        Sched sched = k.sched();
        List<Integer> cpus = new ArrayList<>();
        long r;
        synchronized (sched.lock) {
            if (pid > 0) {
                Task t = sched.findTaskLocked(pid);
                if (t == null) {
                    return -Errno.ESRCH;
                }
                sendToProcessLocked(k, t.sig, sig, SI_USER, self.tgid(), cpus);
                r = 0;
            } else if (pid == Integer.MIN_VALUE) {
                return -Errno.ESRCH;
            } else {
                SignalStruct init = k.initProcess();
                int pgrp = pid == 0 ? self.sig.pgid : -pid; // 0: the caller's group; < -1: group -pid
                int n = 0;
                for (SignalStruct s : sched.processesLocked()) {
                    if (pid == -1 && (s == init || s == self.sig) || pid != -1 && s.pgid != pgrp) {
                        continue;
                    }
                    sendToProcessLocked(k, s, sig, SI_USER, self.tgid(), cpus);
                    n++;
                }
                r = n > 0 ? 0 : -Errno.ESRCH;
            }
        }
        k.interruptCpus(cpus);
        return r;
    }

    /** tkill(2). */
    static long tkill(Kernel k, int tid, int sig) {
        if (tid <= 0) {
            return -Errno.EINVAL;
        }
        return sendToThread(k, -1, tid, sig);
    }

    /** tgkill(2). */
    static long tgkill(Kernel k, int tgid, int tid, int sig) {
        if (tgid <= 0 || tid <= 0) {
            return -Errno.EINVAL;
        }
        return sendToThread(k, tgid, tid, sig);
    }

    private static long sendToThread(Kernel k, int tgid, int tid, int sig) {
        if (sig < 0 || sig > Task.NSIG) {
            return -Errno.EINVAL;
        }
        Sched sched = k.sched();
        List<Integer> cpus = new ArrayList<>();
        synchronized (sched.lock) {
            Task t = sched.findTaskLocked(tid);
            if (t == null || (tgid > 0 && t.tgid() != tgid)) {
                return -Errno.ESRCH;
            }
            sendLocked(k, t, sig, SI_TKILL, k.current().tgid(), cpus);
        }
        k.interruptCpus(cpus);
        return 0;
    }

    /** Is {@code sig} ignored by {@code t}'s disposition (sig_ignored: not when blocked)? */
    private static boolean ignored(Task t, int sig) {
        if (sig == Kernel.SIGKILL || (t.sigmask & bit(sig)) != 0) {
            return false;
        }
        long h = t.sigactions[sig][0];
        return h == Signals.SIG_IGN || (h == Signals.SIG_DFL && (bit(sig) & KERNEL_IGNORE) != 0);
    }

    /** A process-directed signal (kill, SIGCHLD): queued on a thread that does not block it. */
    static void sendToProcessLocked(Kernel k, SignalStruct s, int sig, int code, int sender, List<Integer> cpus) {
        if (s.threads.isEmpty()) {
            return; // a zombie: nothing to signal
        }
        Task target = s.threads.get(0);
        if (sig != 0 && (target.sigmask & bit(sig)) != 0) {
            for (Task t : s.threads) {
                if ((t.sigmask & bit(sig)) == 0) {
                    target = t;
                    break;
                }
            }
        }
        sendLocked(k, target, sig, code, sender, cpus);
    }

    /**
     * send_signal + signal_wake_up for one thread ({@code sender}: the si_pid the handler sees); signal 0
     * only checks that the target exists.
     */
    static void sendLocked(Kernel k, Task t, int sig, int code, int sender, List<Integer> cpus) {
        if (sig == 0 || t.exited || ignored(t, sig)) {
            return;
        }
        t.pendingSignals |= bit(sig);
        t.pendingCode[sig] = code;
        t.pendingPid[sig] = sender;
        if ((t.sigmask & ~Signals.UNBLOCKABLE & bit(sig)) != 0) {
            return;
        }
        if (t.state == Task.BLOCKED) {
            if (t.interruptible || sig == Kernel.SIGKILL) {
                k.sched().wakeLocked(t, -Errno.EINTR);
            }
        } else if (t.onCpu >= 0) {
            cpus.add(t.onCpu);
        }
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
    static void deliverPending(Kernel k, Vcpu cpu, Task t) {
        while (!t.exited && hasDeliverable(t)) {
            long ready = t.pendingSignals & ~(t.sigmask & ~Signals.UNBLOCKABLE);
            int sig = Long.numberOfTrailingZeros(ready) + 1;
            t.pendingSignals &= ~bit(sig);
            long handler = t.sigactions[sig][0];
            if (sig != Kernel.SIGKILL && sig != Kernel.SIGSTOP && handler != Signals.SIG_DFL) {
                if (handler == Signals.SIG_IGN) {
                    continue;
                }
                SyscallRestart.beforeHandler(t, cpu.state, t.sigactions[sig][1]);
                long who = (t.pendingPid[sig] & 0xffff_ffffL) | (long) k.config().uid() << 32; // si_pid, si_uid
                int r = Signals.deliverFault(k, t, cpu, sig, t.pendingCode[sig], who, 0, 0);
                SyscallRestart.afterHandler(t);
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
