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
    /** SIG_KERNEL_COREDUMP_MASK: SIGQUIT, SIGILL, SIGTRAP, SIGABRT, SIGBUS, SIGFPE, SIGSEGV, SIGXCPU, SIGXFSZ, SIGSYS. */
    static final long KERNEL_COREDUMP = bit(3) | bit(Kernel.SIGILL) | bit(Kernel.SIGTRAP) | bit(Kernel.SIGABRT)
            | bit(Kernel.SIGBUS) | bit(Kernel.SIGFPE) | bit(Kernel.SIGSEGV) | bit(24) | bit(25) | bit(31);

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

    /** Is {@code sig} ignored by {@code t}'s disposition (sig_ignored: not when blocked or awaited)? */
    private static boolean ignored(Task t, int sig) {
        if (sig == Kernel.SIGKILL || ((t.sigmask | t.realBlocked) & bit(sig)) != 0) {
            return false;
        }
        long h = t.sigactions[sig][0];
        return h == Signals.SIG_IGN || (h == Signals.SIG_DFL && (bit(sig) & KERNEL_IGNORE) != 0);
    }

    /** A process-directed signal (kill, SIGCHLD) with kill's info: see {@link #sendToProcessLocked(Kernel, SignalStruct, KSiginfo, List)}. */
    static void sendToProcessLocked(Kernel k, SignalStruct s, int sig, int code, int sender, List<Integer> cpus) {
        sendToProcessLocked(k, s, sig == 0 ? null : KSiginfo.kill(sig, code, sender, k.config().uid()), cpus);
    }

    /**
     * __send_signal(PIDTYPE_TGID): the signal joins the process's shared_pending for
     * {@link #completeSignalLocked} to find a thread for. {@code si} null: signal 0, only the existence
     * check.
     */
    static void sendToProcessLocked(Kernel k, SignalStruct s, KSiginfo si, List<Integer> cpus) {
        if (s.threads.isEmpty() || si == null) {
            return; // a zombie: nothing to signal
        }
        Task p = s.leader != null && !s.leader.exited ? s.leader : s.threads.get(0);
        if (!ignored(p, si.signo()) && s.sharedPending.add(si)) {
            completeSignalLocked(k, p, si.signo(), true, cpus);
        }
    }

    /**
     * send_signal + complete_signal for one thread ({@code sender}: the si_pid the handler sees); signal 0
     * only checks that the target exists.
     */
    static void sendLocked(Kernel k, Task t, int sig, int code, int sender, List<Integer> cpus) {
        if (sig == 0 || t.exited || ignored(t, sig)) {
            return;
        }
        if (t.pending.add(KSiginfo.kill(sig, code, sender, k.config().uid()))) {
            completeSignalLocked(k, t, sig, false, cpus);
        }
    }

    /**
     * complete_signal: the thread to wake for a signal just queued for {@code p} (its process's queue
     * when {@code group}): {@code p} if it wants it, else for a process signal the next thread that does in
     * a round-robin from curr_target (a thread in sigsuspend or rt_sigtimedwait for it counts, as its
     * mask then lets it through); when none does, it waits in the queue for a thread that unblocks it. A
     * signal that will kill the process (default action, not a core-dump signal, not awaited by
     * rt_sigtimedwait) takes the whole group down at once: SIGNAL_GROUP_EXIT and SIGKILL to every thread,
     * so no thread goes on running while a slower one gets to the signal.
     */
    private static void completeSignalLocked(Kernel k, Task p, int sig, boolean group, List<Integer> cpus) {
        SignalStruct s = p.sig;
        Task t = null;
        if (wantsSignal(p, sig)) {
            t = p;
        } else if (group && s.threads.size() > 1) {
            int start = Math.max(0, s.threads.indexOf(s.currTarget));
            for (int i = 0; i < s.threads.size(); i++) {
                Task u = s.threads.get((start + i) % s.threads.size());
                if (wantsSignal(u, sig)) {
                    t = u;
                    s.currTarget = u;
                    break;
                }
            }
        }
        if (t == null) {
            return;
        }
        boolean fatal = (bit(sig) & (KERNEL_IGNORE | KERNEL_STOP)) == 0 && p.sigactions[sig][0] == Signals.SIG_DFL;
        if (fatal && !s.groupExit && (t.realBlocked & bit(sig)) == 0 && (bit(sig) & KERNEL_COREDUMP) == 0) {
            k.exits().groupKillLocked(s, sig, cpus);
            return;
        }
        signalWakeUpLocked(k, t, sig, cpus);
    }

    /**
     * wants_signal: not blocked, not exiting, and (SIGKILL, or running now, or with no other signal
     * pending for it: TIF_SIGPENDING before this send).
     */
    private static boolean wantsSignal(Task t, int sig) {
        if ((t.sigmask & bit(sig)) != 0 || t.exited || t.killPending) {
            return false;
        }
        long others = (t.pending.signal | t.sig.sharedPending.signal) & ~bit(sig);
        return sig == Kernel.SIGKILL || t.onCpu >= 0 || (others & ~(t.sigmask & ~Signals.UNBLOCKABLE)) == 0;
    }

    /**
     * retarget_shared_pending: process-directed signals {@code t} has just blocked are handed to the
     * other threads that do not block them (each woken once), so they are not left waiting on {@code t}.
     */
    static void retargetSharedLocked(Kernel k, Task t, long newlyBlocked, List<Integer> cpus) {
        long retarget = t.sig.sharedPending.signal & newlyBlocked;
        for (Task u : t.sig.threads) {
            if (retarget == 0) {
                break;
            }
            long take = retarget & ~u.sigmask;
            if (u == t || u.exited || take == 0) {
                continue;
            }
            retarget &= ~take;
            signalWakeUpLocked(k, u, Long.numberOfTrailingZeros(take) + 1, cpus);
        }
    }

    /** signal_wake_up: a blocked thread that does not block {@code sig} is woken, a running one interrupted. */
    private static void signalWakeUpLocked(Kernel k, Task t, int sig, List<Integer> cpus) {
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

    /** The pending signals, the thread's and its process's, that {@code t} does not block (the TIF_SIGPENDING test). */
    static long deliverable(Task t) {
        return (t.pending.signal | t.sig.sharedPending.signal) & ~(t.sigmask & ~Signals.UNBLOCKABLE);
    }

    /** Whether the task has a pending signal it does not block. */
    static boolean hasDeliverable(Task t) {
        return deliverable(t) != 0;
    }

    /**
     * dequeue_signal: the lowest-numbered signal in {@code mask} from the thread's own queue, else from
     * the process's shared queue; null when neither holds one. Under the scheduler's lock.
     */
    static KSiginfo dequeueLocked(Task t, long mask) {
        int sig = t.pending.next(mask);
        if (sig != 0) {
            return t.pending.take(sig);
        }
        sig = t.sig.sharedPending.next(mask);
        return sig == 0 ? null : t.sig.sharedPending.take(sig);
    }

    /**
     * get_signal + handle_signal at the return to user mode: takes pending signals in order until one
     * runs a handler or kills the task; the registers are the ones user mode resumes with (the
     * syscall's result is in RAX), so the handler's frame saves them and sigreturn restores them.
     */
    static void deliverPending(Kernel k, Vcpu cpu, Task t) {
        while (!t.exited) {
            KSiginfo si;
            synchronized (k.sched().lock) {
                si = dequeueLocked(t, ~(t.sigmask & ~Signals.UNBLOCKABLE));
            }
            if (si == null) {
                return;
            }
            int sig = si.signo();
            long handler = t.sigactions[sig][0];
            if (sig != Kernel.SIGKILL && sig != Kernel.SIGSTOP && handler != Signals.SIG_DFL) {
                if (handler == Signals.SIG_IGN) {
                    continue;
                }
                SyscallRestart.beforeHandler(t, cpu.state, t.sigactions[sig][1]);
                int r = Signals.deliver(k, t, cpu, si, 0, 0);
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
