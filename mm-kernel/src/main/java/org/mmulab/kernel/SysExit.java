package org.mmulab.kernel;

import java.util.ArrayList;
import java.util.List;

import org.mmulab.emulator.machine.Vcpu;
import org.mmulab.kernel.mm.MmStruct;

/**
 * Thread and process exit and the waits for them, after kernel/exit.c (do_exit, do_group_exit,
 * exit_notify, do_wait, wait4, waitid) and kernel/fork.c's mm_release, Linux 6.x.
 *
 * <p>A thread's exit: clear_child_tid (write 0, futex wake) while other tasks share the mm, the robust
 * futex list, the vfork parent's wake-up, then mmput (the last user tears the mm down) and, for the
 * last thread of its process, exit_notify: children go to init, the parent gets the exit signal
 * (SIGCHLD) and its waiters are woken, unless it ignores SIGCHLD or set SA_NOCLDWAIT (then the child
 * is reaped at once). exit_group and a fatal signal set SIGNAL_GROUP_EXIT and kill every other thread:
 * each one exits at its next kernel entry (a blocked one is woken for that; one running on another
 * vCPU is interrupted). When init (the first process) dies, every other task is killed
 * (zap_pid_ns_processes: mmulab's guest is the init of its own pid namespace); when the last task is
 * gone the machine stops.
 *
 * <p>wait4 and waitid: children whose exit signal is not SIGCHLD are "clone" children, waited for only
 * with __WCLONE or __WALL. rusage is written as zeros (no per-child accounting). No children at all is
 * -ECHILD; WNOHANG with none exited returns 0; otherwise the caller blocks and the wait is re-run when
 * a child exits.
 */
final class SysExit {
    static final int WNOHANG = 1, WUNTRACED = 2, WSTOPPED = 2, WEXITED = 4, WCONTINUED = 8, WNOWAIT = 0x0100_0000,
            WNOTHREAD = 0x2000_0000, WALL = 0x4000_0000, WCLONE = 0x8000_0000;
    static final int P_ALL = 0, P_PID = 1, P_PGID = 2, P_PIDFD = 3;
    static final int CLD_EXITED = 1, CLD_KILLED = 2, CLD_DUMPED = 3;
    static final int NR_WAIT4 = 61, NR_WAITID = 247, NR32_WAITPID = 7, NR32_WAIT4 = 114, NR32_WAITID = 284;
    /** SA_NOCLDWAIT (include/uapi/asm-generic/signal-defs.h). */
    static final long SA_NOCLDWAIT = 2;

    private final Kernel k;
    private final Sched sched;

    SysExit(Kernel k, Sched sched) {
        this.k = k;
        this.sched = sched;
    }

    // ---- exit -----------------------------------------------------------------------------------

    /**
     * do_group_exit: the group exits with {@code status} (a shell's view: code or 128 + signal) and
     * {@code sig}; every other thread is killed; then the caller exits.
     */
    void groupExit(Task t, int status, int sig) {
        List<Integer> cpus = new ArrayList<>();
        synchronized (sched.lock) {
            SignalStruct s = t.sig;
            if (!s.groupExit) {
                s.groupExit = true;
                s.exitStatus = status;
                s.termSignal = sig;
            }
            killOthersLocked(s, t, cpus);
        }
        k.interruptCpus(cpus);
        exitThread(t, status, sig);
    }

    /** zap_other_threads: SIGKILL to every thread of {@code s} but {@code self}. */
    void killOthersLocked(SignalStruct s, Task self, List<Integer> cpusToInterrupt) {
        for (Task u : s.threads) {
            if (u != self) {
                killLocked(u, cpusToInterrupt);
            }
        }
    }

    /**
     * complete_signal's kill of the whole group for a fatal signal: SIGNAL_GROUP_EXIT with status
     * 128 + {@code sig}, SIGKILL to every thread. For init a shell would report the signal, as
     * {@link Kernel#forceSigFault} does.
     */
    void groupKillLocked(SignalStruct s, int sig, List<Integer> cpus) {
        s.groupExit = true;
        s.exitStatus = 128 + sig;
        s.termSignal = sig;
        for (Task u : s.threads) {
            killLocked(u, cpus);
        }
        if (s == k.initProcess()) {
            k.stderrLine(Kernel.signalMessage(sig));
        }
    }

    /** SIGKILL to one task: it exits at its next kernel entry. */
    void killLocked(Task u, List<Integer> cpusToInterrupt) {
        u.killPending = true;
        if (!sched.wakeLocked(u, -Errno.EINTR) && u.onCpu >= 0) {
            cpusToInterrupt.add(u.onCpu);
        }
    }

    /** do_exit of the current task {@code t} (on its own vCPU, its mm loaded). */
    void exitThread(Task t, int status, int sig) {
        if (t.exited) {
            return;
        }
        exitMm(t);
        if (t.files != null) {
            t.files.release(); // exit_files: the last user closes every fd (pipe ends: EOF for readers)
            t.files = null;
        }
        List<Integer> cpus = new ArrayList<>();
        boolean stop;
        synchronized (sched.lock) {
            SignalStruct s = t.sig;
            if (s.groupExit) {
                status = s.exitStatus;
                sig = s.termSignal;
            }
            Vcpu here = k.ctx().cpu;
            if (t.onCpu == here.id()) {
                Sched.accountLocked(t, here); // do_exit on the task's own vCPU: its time up to now
            }
            s.exitedCpuNanos += t.cpuNanos; // __exit_signal
            t.exited = true;
            t.exitStatus = status;
            t.termSignal = sig;
            t.killPending = false;
            s.threads.remove(t);
            sched.detachLocked(t);
            if (s.threads.isEmpty()) {
                processDiedLocked(s, status, sig, cpus);
            }
            stop = sched.stopping;
        }
        k.interruptCpus(cpus);
        if (stop) {
            k.stopMachine();
        }
    }

    /** exit_mm + mm_release: clear_child_tid, robust list, vfork, then mmput. */
    private void exitMm(Task t) {
        Futex f = k.futex();
        if (t.mm != null) {
            f.exitRobustList(t);
            f.clearChildTid(t);
        }
        synchronized (sched.lock) {
            Task p = t.vforkParent;
            if (p != null) {
                t.vforkParent = null;
                sched.wakeLocked(p, 0);
            }
        }
        MmStruct mm = t.mm;
        if (mm != null) {
            boolean last = sched.mmput(mm);
            t.mm = null;
            if (last) {
                k.teardownMm(t, mm);
            }
        }
        if (t.exe != null) {
            t.exe.releaseUser();
            t.exe = null;
        }
    }

    /** exit_notify for the last thread of {@code s}. */
    private void processDiedLocked(SignalStruct s, int status, int sig, List<Integer> cpus) {
        if (!s.groupExit) {
            s.exitStatus = status;
            s.termSignal = sig;
        }
        s.zombie = true;
        if (s.leader != null) {
            s.leader.exitStatus = s.exitStatus;
            s.leader.termSignal = s.termSignal;
            s.leader.exited = true;
        }
        SignalStruct init = k.initProcess();
        boolean initAlive = init != null && init != s && !init.zombie;
        for (SignalStruct c : s.children) {
            if (initAlive) {
                c.parent = init; // forget_original_parent: reparented to init
                init.children.add(c);
                if (c.zombie) {
                    wakeWaitersLocked(init);
                }
            } else {
                c.parent = null;
            }
        }
        s.children.clear();
        SignalStruct parent = s.parent;
        if (parent == null) {
            // init died: zap_pid_ns_processes kills everyone else.
            for (Task u : sched.liveTasksLocked()) {
                killLocked(u, cpus);
            }
            return;
        }
        Task anyParentThread = parent.threads.isEmpty() ? parent.leader : parent.threads.get(0);
        long[] act = anyParentThread == null ? null : anyParentThread.sigactions[SignalQueue.SIGCHLD];
        // do_notify_parent: a parent ignoring SIGCHLD or with SA_NOCLDWAIT reaps automatically; only
        // SIG_IGN suppresses the signal (a handler with SA_NOCLDWAIT still runs).
        int notify = s.exitSignal;
        boolean autoreap = act != null && notify == SignalQueue.SIGCHLD
                && (act[0] == Signals.SIG_IGN || (act[1] & SA_NOCLDWAIT) != 0);
        if (autoreap) {
            parent.children.remove(s);
            if (act[0] == Signals.SIG_IGN) {
                notify = 0;
            }
        }
        if (notify != 0 && !parent.zombie) {
            SignalQueue.sendToProcessLocked(k, parent, childInfo(notify, s), cpus);
        }
        wakeWaitersLocked(parent);
    }

    /**
     * do_notify_parent's siginfo: CLD_KILLED with the signal, or CLD_EXITED with the exit code, in
     * si_status. CLD_DUMPED (exit_code & 0x80) needs a core dump, which mmulab never writes (as Linux with
     * RLIMIT_CORE 0). si_utime: the CPU time of all the process's threads in clock_t ticks (USER_HZ
     * 100); mmulab does not split user from system time, so all of it is user time and si_stime is 0.
     */
    private KSiginfo childInfo(int sig, SignalStruct s) {
        boolean killed = s.termSignal != 0;
        return KSiginfo.chld(sig, killed ? CLD_KILLED : CLD_EXITED, s.tgid, k.config().uid(),
                killed ? s.termSignal & 0x7f : s.exitStatus & 0xff, SysProc.ticks(s.exitedCpuNanos), 0);
    }

    private void wakeWaitersLocked(SignalStruct p) {
        for (Task w : p.waiters) {
            sched.wakeLocked(w, 0);
        }
        p.waiters.clear();
    }

    // ---- wait -----------------------------------------------------------------------------------

    /** The outcome of one do_wait pass. */
    private record Reaped(int pid, int waitStatus, int exitStatus, int termSignal) {
    }

    /** wait4(pid, wstatus, options, rusage); {@code compat}: the 72-byte compat rusage. */
    long wait4(Vcpu cpu, int pid, long statusp, int options, long rusage, boolean compat) {
        if ((options & ~(WNOHANG | WUNTRACED | WCONTINUED | WNOTHREAD | WCLONE | WALL)) != 0) {
            return -Errno.EINVAL;
        }
        if (pid == Integer.MIN_VALUE) {
            return -Errno.ESRCH; // INT_MIN cannot be negated into a pgid
        }
        int who = pid == 0 ? -k.current().sig.pgid : pid; // 0: the caller's process group; < -1: that group
        return doWait(k.current(), who, options | WEXITED, statusp, 0, rusage, compat, false);
    }

    /** waitid(idtype, id, infop, options, rusage). */
    long waitid(Vcpu cpu, int idtype, int id, long infop, int options, long rusage, boolean compat) {
        if ((options & ~(WNOHANG | WNOWAIT | WEXITED | WSTOPPED | WCONTINUED | WNOTHREAD | WCLONE | WALL)) != 0) {
            return -Errno.EINVAL;
        }
        if ((options & (WEXITED | WSTOPPED | WCONTINUED)) == 0) {
            return -Errno.EINVAL;
        }
        int pid;
        switch (idtype) {
            case P_ALL -> pid = -1;
            case P_PID -> {
                if (id <= 0) {
                    return -Errno.EINVAL;
                }
                pid = id;
            }
            case P_PGID -> {
                if (id < 0) {
                    return -Errno.EINVAL;
                }
                pid = id == 0 ? -k.current().sig.pgid : -id;
            }
            default -> {
                return -Errno.EINVAL; // P_PIDFD: no pidfds
            }
        }
        return doWait(k.current(), pid, options, 0, infop, rusage, compat, true);
    }

    private long doWait(Task t, int pid, int options, long statusp, long infop, long rusage, boolean compat, boolean waitid) {
        Reaped r;
        synchronized (sched.lock) {
            SignalStruct me = t.sig;
            boolean any = false;
            SignalStruct found = null;
            for (SignalStruct c : me.children) {
                if (pid > 0 && c.tgid != pid || pid < -1 && c.pgid != -pid) {
                    continue;
                }
                boolean cloneChild = c.exitSignal != SignalQueue.SIGCHLD;
                if ((options & WALL) == 0 && cloneChild != ((options & WCLONE) != 0)) {
                    continue;
                }
                any = true;
                if (c.zombie && (options & WEXITED) != 0) {
                    found = c;
                    break;
                }
            }
            if (!any) {
                return -Errno.ECHILD;
            }
            if (found == null) {
                if ((options & WNOHANG) != 0) {
                    r = null;
                } else if (t.killPending) {
                    return -Errno.EINTR;
                } else {
                    me.waiters.add(t);
                    return sched.blockLocked(t,
                            (kk, vcpu, task) -> task.wakeResult == -Errno.EINTR ? -Errno.ERESTARTSYS
                                    : task.wakeResult != 0 ? task.wakeResult
                                    : doWait(task, pid, options, statusp, infop, rusage, compat, waitid),
                            Long.MAX_VALUE, pid > 0 ? "wait for child " + pid : "wait for any child");
                }
            } else {
                if (!waitid || (options & WNOWAIT) == 0) {
                    me.children.remove(found);
                }
                r = new Reaped(found.tgid, found.waitStatus(), found.exitStatus, found.termSignal);
            }
        }
        UserAccess ua = k.userAccess();
        if (rusage != 0 && ua.clearUser(rusage, compat ? 72 : 144) != 0) {
            return -Errno.EFAULT;
        }
        if (waitid) {
            if (infop != 0 && ua.copyToUser(infop, siginfo(r, compat, k.config().uid()), 0, compat ? 24 : 32) != 0) {
                return -Errno.EFAULT;
            }
            return 0;
        }
        if (r == null) {
            return 0;
        }
        if (statusp != 0 && ua.copyToUser(statusp, SysClone.le32(r.waitStatus()), 0, 4) != 0) {
            return -Errno.EFAULT;
        }
        return r.pid();
    }

    /** The part of struct siginfo waitid fills: signo, errno, code, pid, uid, status (all zero for none). */
    private static byte[] siginfo(Reaped r, boolean compat, int uid) {
        byte[] b = new byte[48]; // the whole _sigchld; the caller copies the fields waitid writes
        if (r != null) {
            boolean killed = r.termSignal() != 0;
            KSiginfo.chld(SignalQueue.SIGCHLD, killed ? CLD_KILLED : CLD_EXITED, r.pid(), uid,
                    killed ? r.termSignal() : r.exitStatus() & 0xff, 0, 0).write(b, 0, compat);
        }
        return b;
    }
}
