package org.mmulab.kernel;

import java.util.ArrayList;
import java.util.List;

import org.mmulab.emulator.machine.Vcpu;
import org.mmulab.kernel.fs.File;
import org.mmulab.kernel.fs.FsException;
import org.mmulab.kernel.fs.WaitQueue;

/**
 * poll, ppoll, select and pselect6 (fs/select.c, Linux 6.x) for both ABIs. One pass asks every file
 * for its poll mask under the scheduler lock; when nothing is ready and the timeout has not passed, the
 * task queues itself on the wait queue of every pipe involved and blocks with the timeout as its
 * deadline (guest monotonic time), then runs the pass again when woken. A signal ends the wait with
 * EINTR; the timeout with 0 ready. The remaining time is written back where Linux writes it (select's
 * timeval, ppoll's and pselect6's timespec). A sigmask given to ppoll/pselect6 is in force while the
 * call waits; when a signal ends the wait it stays in force until that signal is delivered
 * ({@link #restore}), otherwise it is restored when the call returns.
 */
final class SysPoll {
    static final int POLLIN_SET = File.POLLRDNORM | File.POLLRDBAND | File.POLLIN | File.POLLHUP | File.POLLERR;
    static final int POLLOUT_SET = File.POLLWRBAND | File.POLLWRNORM | File.POLLOUT | File.POLLERR;
    static final int POLLEX_SET = File.POLLPRI;

    private final Kernel k;
    private final SysFile files;

    SysPoll(Kernel k, SysFile files) {
        this.k = k;
        this.files = files;
    }

    private long now(Vcpu cpu) {
        return k.machine().guestTime().monotonicNanos(cpu);
    }

    /** The result of one readiness pass: how many are ready, plus the files whose queues a wait would join. */
    private interface Pass {
        long run(List<File> waitOn) throws FsException;
    }

    /** Copies the results out once the wait is over (outside the scheduler lock). */
    private interface Finish {
        long finish(Vcpu cpu, long r);
    }

    /**
     * The common loop: run {@code pass}; if nothing is ready and the deadline is ahead, block on the
     * files' queues and run it again at the wake-up. {@code finish} completes the call (copies results
     * out), in the first call or in the continuation.
     */
    private long waitFor(Vcpu cpu, long deadline, Pass pass, Finish finish) {
        Task t = k.current();
        Sched s = k.sched();
        List<File> waitOn = new ArrayList<>();
        long n;
        synchronized (s.lock) {
            try {
                n = pass.run(waitOn);
            } catch (FsException e) {
                n = e.ret();
            }
            boolean timedOut = deadline != Long.MAX_VALUE && now(cpu) >= deadline;
            if (n == 0 && !timedOut && (t.killPending || SignalQueue.hasDeliverable(t))) {
                n = -Errno.ERESTARTNOHAND;
            } else if (n == 0 && !timedOut) {
                List<WaitQueue> queues = new ArrayList<>();
                for (File f : waitOn) {
                    if (f.readWait() != null && !queues.contains(f.readWait())) {
                        queues.add(f.readWait());
                    }
                    if (f.writeWait() != null && !queues.contains(f.writeWait())) {
                        queues.add(f.writeWait());
                    }
                }
                Task.Resume[] self = new Task.Resume[1];
                Runnable wake = () -> {
                    if (t.resume == self[0]) {
                        s.wakeLocked(t, 0);
                    }
                };
                self[0] = (kk, vcpu, task) -> {
                    synchronized (s.lock) {
                        for (WaitQueue q : queues) {
                            q.remove(wake);
                        }
                    }
                    if (task.wakeResult == -Errno.EINTR) {
                        return finish.finish(vcpu, -Errno.ERESTARTNOHAND);
                    }
                    long d = task.wakeResult == -Errno.ETIMEDOUT ? now(vcpu) : deadline;
                    return waitFor(vcpu, d, pass, finish);
                };
                for (WaitQueue q : queues) {
                    q.add(wake);
                }
                // waiting on the host's stdin is not a deadlock, even with every task blocked
                boolean host = waitOn.stream().anyMatch(f -> f instanceof org.mmulab.kernel.fs.ConsoleFile c && c.isInput());
                return s.blockLocked(t, self[0], deadline, host ? Sched.HOST_INPUT : "poll");
            }
        }
        return finish.finish(cpu, n);
    }

    /** A relative timeout in ns to an absolute deadline (MAX_VALUE: none). */
    private long deadline(Vcpu cpu, long ns) {
        if (ns < 0) {
            return Long.MAX_VALUE;
        }
        long n = now(cpu);
        return ns > Long.MAX_VALUE - n ? Long.MAX_VALUE : n + ns;
    }

    // ---- poll / ppoll ------------------------------------------------------------------------------

    long poll(Vcpu cpu, long fdsp, long nfds, int timeoutMs) {
        return doPoll(cpu, fdsp, nfds, deadline(cpu, timeoutMs < 0 ? -1 : timeoutMs * 1_000_000L), 0, false, -1, true);
    }

    /** ppoll(fds, nfds, tsp, sigmask, sigsetsize); {@code ts32}: old_timespec32. */
    long ppoll(Vcpu cpu, long fdsp, long nfds, long tsp, long sigmaskp, long sigsetsize, boolean ts32) {
        long ns, oldMask;
        try {
            ns = timeout(tsp, ts32);
            oldMask = setUserSigmask(sigmaskp, sigsetsize);
        } catch (FsException e) {
            return e.ret();
        }
        return doPoll(cpu, fdsp, nfds, deadline(cpu, ns), tsp, ts32, oldMask, false);
    }

    /** poll_select_set_timeout's input: a timespec as ns, -1 for none (NULL); EFAULT or EINVAL. */
    private long timeout(long tsp, boolean ts32) throws FsException {
        if (tsp == 0) {
            return -1;
        }
        Long v = readTimespec(tsp, ts32);
        if (v == null || v == -2) {
            throw new FsException(v == null ? Errno.EFAULT : Errno.EINVAL);
        }
        return v;
    }

    /** set_user_sigmask: the call's mask replaces the task's (KILL and STOP stay open); the old mask or -1. */
    private long setUserSigmask(long maskp, long size) throws FsException {
        if (maskp == 0) {
            return -1;
        }
        if (size != 8) {
            throw new FsException(Errno.EINVAL);
        }
        Long m = k.userAccess().getUser64(maskp);
        if (m == null) {
            throw new FsException(Errno.EFAULT);
        }
        long old = k.current().sigmask;
        k.current().sigmask = m & ~((1L << (Kernel.SIGKILL - 1)) | (1L << (Kernel.SIGSTOP - 1)));
        return old;
    }

    /** {@code restartBlock}: poll(2), whose -ERESTARTNOHAND becomes a restart block (do_restart_poll) to the same deadline. */
    private long doPoll(Vcpu cpu, long fdsp, long nfds, long deadline, long tsp, boolean ts32, long oldMask,
            boolean restartBlock) {
        if (Long.compareUnsigned(nfds, files.nofile()) > 0) {
            return restore(oldMask, -Errno.EINVAL);
        }
        int n = (int) nfds;
        byte[] b = new byte[n * 8];
        if (n > 0 && k.userAccess().copyFromUser(b, 0, fdsp, b.length) != 0) {
            return restore(oldMask, -Errno.EFAULT);
        }
        Pass pass = waitOn -> {
            int ready = 0;
            for (int i = 0; i < n; i++) {
                int fd = (int) Le.le32(b, i * 8);
                int events = (b[i * 8 + 4] & 0xff) | (b[i * 8 + 5] & 0xff) << 8;
                int rev = 0;
                if (fd >= 0) {
                    File f = files.files().peek(fd);
                    if (f == null) {
                        rev = File.POLLNVAL;
                    } else {
                        rev = f.poll() & (events | File.POLLERR | File.POLLHUP);
                        waitOn.add(f);
                    }
                }
                b[i * 8 + 6] = (byte) rev;
                b[i * 8 + 7] = (byte) (rev >>> 8);
                if (rev != 0) {
                    ready++;
                }
            }
            return ready;
        };
        return waitFor(cpu, deadline, pass, (vcpu, r) -> {
            if (restartBlock && r == -Errno.ERESTARTNOHAND) {
                r = SyscallRestart.setRestartFn(k.current(),
                        (kk, again, task) -> doPoll(again, fdsp, nfds, deadline, 0, false, -1, true));
            }
            return finishPoll(vcpu, r, b, fdsp, deadline, tsp, ts32, oldMask);
        });
    }

    private long finishPoll(Vcpu cpu, long r, byte[] b, long fdsp, long deadline, long tsp, boolean ts32, long oldMask) {
        if (r >= 0 && b.length > 0 && k.userAccess().copyToUser(fdsp, b, 0, b.length) != 0) {
            r = -Errno.EFAULT;
        }
        if (tsp != 0 && deadline != Long.MAX_VALUE) {
            writeTimespec(tsp, Math.max(0, deadline - now(cpu)), ts32);
        }
        return restore(oldMask, r);
    }

    /**
     * poll_select_finish's restore_saved_sigmask_unless(ret == -ERESTARTNOHAND): a call a signal
     * interrupted keeps its temporary mask until that signal is delivered (the handler's frame saves
     * the old mask, or the return without a handler restores it: {@link SyscallRestart}), so a signal
     * the temporary mask unblocked is taken; any other result restores the old mask now.
     */
    private long restore(long oldMask, long r) {
        if (oldMask != -1) {
            Task t = k.current();
            if (r == -Errno.ERESTARTNOHAND) {
                t.savedSigmask = oldMask;
            } else {
                t.sigmask = oldMask;
            }
        }
        return r;
    }

    // ---- select / pselect6 ---------------------------------------------------------------------------

    /** select(n, in, out, ex, tvp): timeval {sec, usec} of longs (compat: two s32). */
    long select(Vcpu cpu, int n, long inp, long outp, long exp, long tvp, boolean compat) {
        long ns = -1;
        if (tvp != 0) {
            byte[] t = new byte[compat ? 8 : 16];
            if (k.userAccess().copyFromUser(t, 0, tvp, t.length) != 0) {
                return -Errno.EFAULT;
            }
            long sec = compat ? (int) Le.le32(t, 0) : Le.le64(t, 0);
            long usec = compat ? (int) Le.le32(t, 4) : Le.le64(t, 8);
            if (sec < 0 || usec < 0) {
                return -Errno.EINVAL;
            }
            ns = sec >= Long.MAX_VALUE / 2_000_000_000L ? Long.MAX_VALUE / 2 : sec * 1_000_000_000L + Math.min(usec, 999_999_999L) * 1000;
        }
        return doSelect(cpu, n, inp, outp, exp, deadline(cpu, ns), tvp, compat, true, -1);
    }

    /** pselect6(n, in, out, ex, tsp, {sigmask*, size}); {@code ts32}: old_timespec32, {@code compat}: 32-bit words. */
    long pselect6(Vcpu cpu, int n, long inp, long outp, long exp, long tsp, long sigp, boolean compat, boolean ts32) {
        long ns, oldMask = -1;
        try {
            ns = timeout(tsp, ts32);
            if (sigp != 0) {
                byte[] d = new byte[compat ? 8 : 16];
                if (k.userAccess().copyFromUser(d, 0, sigp, d.length) != 0) {
                    return -Errno.EFAULT; // get_sigset_argpack
                }
                oldMask = setUserSigmask(compat ? Le.le32(d, 0) : Le.le64(d, 0), compat ? Le.le32(d, 4) : Le.le64(d, 8));
            }
        } catch (FsException e) {
            return e.ret();
        }
        return doSelect(cpu, n, inp, outp, exp, deadline(cpu, ns), tsp, ts32 || compat, false, oldMask);
    }

    private long doSelect(Vcpu cpu, int n, long inp, long outp, long exp, long deadline, long tp, boolean small,
            boolean timeval, long oldMask) {
        if (n < 0) {
            return restore(oldMask, -Errno.EINVAL);
        }
        n = (int) Math.min(n, files.nofile());
        int bytes = ((n + 63) / 64) * 8;
        long[] ptrs = {inp, outp, exp};
        byte[][] in = new byte[3][];
        for (int j = 0; j < 3; j++) {
            if (ptrs[j] != 0) {
                in[j] = new byte[bytes];
                int len = small ? ((n + 31) / 32) * 4 : bytes;
                if (k.userAccess().copyFromUser(in[j], 0, ptrs[j], len) != 0) {
                    return restore(oldMask, -Errno.EFAULT);
                }
            }
        }
        byte[][] out = new byte[3][bytes];
        int nn = n;
        Pass pass = waitOn -> {
            for (byte[] o : out) {
                java.util.Arrays.fill(o, (byte) 0);
            }
            int ready = 0;
            for (int fd = 0; fd < nn; fd++) {
                int bit = 1 << (fd & 7);
                boolean any = false;
                for (int j = 0; j < 3; j++) {
                    any |= in[j] != null && (in[j][fd >>> 3] & bit) != 0;
                }
                if (!any) {
                    continue;
                }
                File f = files.files().peek(fd);
                if (f == null) {
                    throw new FsException(Errno.EBADF);
                }
                waitOn.add(f);
                int m = f.poll();
                int[] sets = {POLLIN_SET, POLLOUT_SET, POLLEX_SET};
                for (int j = 0; j < 3; j++) {
                    if (in[j] != null && (in[j][fd >>> 3] & bit) != 0 && (m & sets[j]) != 0) {
                        out[j][fd >>> 3] |= (byte) bit;
                        ready++;
                    }
                }
            }
            return ready;
        };
        int fn = n;
        return waitFor(cpu, deadline, pass, (vcpu, r) -> finishSelect(vcpu, r, fn, ptrs, out, small, deadline, tp, timeval, oldMask));
    }

    private long finishSelect(Vcpu cpu, long r, int n, long[] ptrs, byte[][] out, boolean small, long deadline, long tp,
            boolean timeval, long oldMask) {
        if (r >= 0) {
            int len = small ? ((n + 31) / 32) * 4 : ((n + 63) / 64) * 8;
            for (int j = 0; j < 3; j++) {
                if (ptrs[j] != 0 && len > 0 && k.userAccess().copyToUser(ptrs[j], out[j], 0, len) != 0) {
                    return restore(oldMask, -Errno.EFAULT);
                }
            }
        }
        if (tp != 0 && deadline != Long.MAX_VALUE) {
            long left = Math.max(0, deadline - now(cpu));
            if (timeval) {
                byte[] t = new byte[small ? 8 : 16];
                if (small) {
                    Le.put32(t, 0, left / 1_000_000_000L);
                    Le.put32(t, 4, left % 1_000_000_000L / 1000);
                } else {
                    Le.put64(t, 0, left / 1_000_000_000L);
                    Le.put64(t, 8, left % 1_000_000_000L / 1000);
                }
                k.userAccess().copyToUser(tp, t, 0, t.length);
            } else {
                writeTimespec(tp, left, small);
            }
        }
        return restore(oldMask, r);
    }

    // ---- sigsuspend / pause ------------------------------------------------------------------------

    /**
     * rt_sigsuspend (kernel/signal.c): the mask is replaced until a signal is delivered, then restored
     * (after the handler's frame saved the old one); the result is -ERESTARTNOHAND (EINTR to a handler).
     * {@code mask} null: pause(), the mask unchanged.
     */
    long sigsuspend(Long mask) {
        Task t = k.current();
        if (mask != null) {
            t.savedSigmask = t.sigmask;
            t.sigmask = mask & ~((1L << (Kernel.SIGKILL - 1)) | (1L << (Kernel.SIGSTOP - 1)));
        }
        return waitSignal(t);
    }

    private long waitSignal(Task t) {
        Sched s = k.sched();
        synchronized (s.lock) {
            if (t.killPending || SignalQueue.hasDeliverable(t)) {
                return -Errno.ERESTARTNOHAND;
            }
            return s.blockLocked(t, (kk, vcpu, task) -> task.wakeResult != 0 ? -Errno.ERESTARTNOHAND : waitSignal(task),
                    Long.MAX_VALUE, "sigsuspend");
        }
    }

    long rtSigsuspend(long maskp, long size) {
        if (size != 8) {
            return -Errno.EINVAL;
        }
        Long m = k.userAccess().getUser64(maskp);
        return m == null ? -Errno.EFAULT : sigsuspend(m);
    }

    // ---- timespecs ------------------------------------------------------------------------------------

    /** A timespec in ns; null on a fault; -2 when invalid (negative or nsec out of range). */
    private Long readTimespec(long p, boolean ts32) {
        byte[] t = new byte[ts32 ? 8 : 16];
        if (k.userAccess().copyFromUser(t, 0, p, t.length) != 0) {
            return null;
        }
        long sec = ts32 ? (int) Le.le32(t, 0) : Le.le64(t, 0);
        long nsec = ts32 ? (int) Le.le32(t, 4) : Le.le64(t, 8);
        if (sec < 0 || nsec < 0 || nsec >= 1_000_000_000L) {
            return -2L;
        }
        return sec >= Long.MAX_VALUE / 2_000_000_000L ? Long.MAX_VALUE / 2 : sec * 1_000_000_000L + nsec;
    }

    private void writeTimespec(long p, long ns, boolean ts32) {
        byte[] t = new byte[ts32 ? 8 : 16];
        if (ts32) {
            Le.put32(t, 0, ns / 1_000_000_000L);
            Le.put32(t, 4, ns % 1_000_000_000L);
        } else {
            Le.put64(t, 0, ns / 1_000_000_000L);
            Le.put64(t, 8, ns % 1_000_000_000L);
        }
        k.userAccess().copyToUser(p, t, 0, t.length);
    }
}
