package org.mmulab.kernel;

import java.util.ArrayList;
import java.util.List;

import org.mmulab.emulator.machine.Vcpu;

/**
 * The signal system calls of kernel/signal.c (Linux 6.x), both ABIs: rt_sigaction (do_sigaction, which
 * drops pending signals whose new action ignores them), rt_sigprocmask (__set_task_blocked, which hands a
 * process-directed signal the caller now blocks to another thread: retarget_shared_pending),
 * rt_sigpending (the thread's and the process's pending sets, masked by blocked), and rt_sigtimedwait
 * (do_sigtimedwait: take a pending signal of the set; else unblock the set, remembering the mask in
 * real_blocked, and sleep until one comes, another signal interrupts (-EINTR) or the timeout passes
 * (-EAGAIN)). Delivery itself is {@link SignalQueue}.
 */
final class SysSignal {
    static final int NR_RT_SIGPENDING = 127, NR_RT_SIGTIMEDWAIT = 128;
    static final int NR32_RT_SIGPENDING = 176, NR32_RT_SIGTIMEDWAIT = 177, NR32_RT_SIGTIMEDWAIT_TIME64 = 421;
    private static final long UNBLOCKABLE = Signals.UNBLOCKABLE;

    private final Kernel k;

    SysSignal(Kernel k) {
        this.k = k;
    }

    /**
     * rt_sigaction: struct sigaction {handler, flags, restorer, u64 mask} with {@code word}-byte
     * pointers and flags: 8 for the 64-bit ABI, 4 for compat struct sigaction32 (whose
     * compat_sigset_t is two u32 at offset 12, the same bytes as a little-endian u64).
     */
    long rtSigaction(int sig, long act, long oact, long sigsetsize, int word) {
        if (sigsetsize != 8) {
            return -Errno.EINVAL;
        }
        if (sig < 1 || sig > Task.NSIG) {
            return -Errno.EINVAL;
        }
        if (act != 0 && (sig == Kernel.SIGKILL || sig == Kernel.SIGSTOP)) {
            return -Errno.EINVAL;
        }
        int size = 3 * word + 8;
        Task t = k.current();
        long[] nw = null;
        if (act != 0) {
            byte[] b = new byte[size];
            if (k.userAccess().copyFromUser(b, 0, act, size) != 0) {
                return -Errno.EFAULT;
            }
            long wordMask = word == 8 ? -1L : 0xffff_ffffL;
            nw = new long[] {Le.le64(b, 0) & wordMask, Le.le64(b, word) & wordMask, Le.le64(b, 2 * word) & wordMask,
                    Le.le64(b, 3 * word) & ~UNBLOCKABLE};
        }
        long[] old = t.sigactions[sig].clone();
        if (nw != null) {
            t.sigactions[sig] = nw;
            boolean ignores = nw[0] == Signals.SIG_IGN
                    || nw[0] == Signals.SIG_DFL && (SignalQueue.bit(sig) & SignalQueue.KERNEL_IGNORE) != 0;
            if (ignores) { // sig_handler_ignored: flush it from the process's and every thread's queue
                synchronized (k.sched().lock) {
                    t.sig.sharedPending.flush(SignalQueue.bit(sig));
                    for (Task u : t.sig.threads) {
                        u.pending.flush(SignalQueue.bit(sig));
                    }
                }
            }
        }
        if (oact != 0) {
            byte[] b = new byte[size];
            // In order: a 4-byte word's put64 writes zeros into the next slot, which the next put rewrites.
            for (int i = 0; i < 3; i++) {
                Le.put64(b, word * i, old[i]);
            }
            Le.put64(b, 3 * word, old[3]);
            if (k.userAccess().copyToUser(oact, b, 0, size) != 0) {
                return -Errno.EFAULT;
            }
        }
        return 0;
    }

    long rtSigprocmask(int how, long set, long oset, long sigsetsize) {
        if (sigsetsize != 8) {
            return -Errno.EINVAL;
        }
        Task t = k.current();
        long old = t.sigmask;
        if (set != 0) {
            Long nw = k.userAccess().getUser64(set);
            if (nw == null) {
                return -Errno.EFAULT;
            }
            long m = nw & ~UNBLOCKABLE;
            long mask;
            switch (how) {
                case 0 -> mask = old | m;
                case 1 -> mask = old & ~m;
                case 2 -> mask = m;
                default -> {
                    return -Errno.EINVAL;
                }
            }
            List<Integer> cpus = new ArrayList<>();
            synchronized (k.sched().lock) {
                t.sigmask = mask;
                SignalQueue.retargetSharedLocked(k, t, mask & ~old, cpus);
            }
            k.interruptCpus(cpus);
        }
        if (oset != 0 && !k.userAccess().putUser64(oset, old)) {
            return -Errno.EFAULT;
        }
        return 0;
    }

    /** rt_sigpending: the blocked signals pending for the thread or its process. */
    long rtSigpending(long setp, long sigsetsize) {
        if (sigsetsize != 8) {
            return -Errno.EINVAL;
        }
        Task t = k.current();
        long set;
        synchronized (k.sched().lock) {
            set = (t.pending.signal | t.sig.sharedPending.signal) & t.sigmask;
        }
        return k.userAccess().putUser64(setp, set) ? 0 : -Errno.EFAULT;
    }

    /**
     * rt_sigtimedwait(set, info, timeout, sigsetsize); {@code compat}: a compat_siginfo; {@code ts64}: a
     * __kernel_timespec timeout (else old_timespec32). A zero timeout polls.
     */
    long rtSigtimedwait(Vcpu cpu, long setp, long infop, long tsp, long sigsetsize, boolean compat, boolean ts64) {
        if (sigsetsize != 8) {
            return -Errno.EINVAL;
        }
        Long these = k.userAccess().getUser64(setp);
        if (these == null) {
            return -Errno.EFAULT;
        }
        long deadline = Long.MAX_VALUE;
        if (tsp != 0) {
            long ns = SysTime.readRequest(k.userAccess(), tsp, ts64);
            if (ns < 0) {
                return ns; // -EFAULT or -EINVAL
            }
            long now = k.machine().guestTime().monotonicNanos(cpu);
            deadline = ns > Long.MAX_VALUE - now ? Long.MAX_VALUE : now + ns;
        }
        return sigtimedwait(cpu, k.current(), these & ~UNBLOCKABLE, infop, compat, deadline);
    }

    private long sigtimedwait(Vcpu cpu, Task t, long set, long infop, boolean compat, long deadline) {
        Sched s = k.sched();
        KSiginfo si;
        synchronized (s.lock) {
            si = SignalQueue.dequeueLocked(t, set);
            if (si == null) {
                if (deadline != Long.MAX_VALUE && k.machine().guestTime().monotonicNanos(cpu) >= deadline) {
                    return -Errno.EAGAIN;
                }
                if (t.killPending || SignalQueue.hasDeliverable(t)) {
                    return -Errno.EINTR; // another signal is pending: the sleep ends at once
                }
                t.realBlocked = t.sigmask;
                t.sigmask &= ~set;
                return s.blockLocked(t, (kk, vcpu, task) -> {
                    KSiginfo got;
                    synchronized (s.lock) {
                        task.sigmask = task.realBlocked;
                        task.realBlocked = 0;
                        got = SignalQueue.dequeueLocked(task, set);
                    }
                    if (got != null) {
                        return copyOut(got, infop, compat);
                    }
                    return task.wakeResult == -Errno.ETIMEDOUT ? -Errno.EAGAIN : -Errno.EINTR;
                }, deadline, "rt_sigtimedwait");
            }
        }
        return copyOut(si, infop, compat);
    }

    /** The signal number, after copying its siginfo (128 bytes in both ABIs) to {@code infop} if set. */
    private long copyOut(KSiginfo si, long infop, boolean compat) {
        if (infop != 0) {
            byte[] b = new byte[Signals.SIGINFO_SIZE];
            si.write(b, 0, compat);
            if (k.userAccess().copyToUser(infop, b, 0, b.length) != 0) {
                return -Errno.EFAULT;
            }
        }
        return si.signo();
    }
}
