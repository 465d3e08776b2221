package org.mmulab.kernel;

import org.mmulab.emulator.cpu.CpuState;
import org.mmulab.emulator.machine.Vcpu;
import org.mmulab.kernel.mm.MmStruct;

/**
 * clone, fork and vfork after kernel/fork.c (copy_process, kernel_clone) and arch/x86/kernel/process.c
 * (copy_thread), Linux 6.x. The child gets a copy of the caller's user registers with RAX = 0 (and the
 * new stack pointer if one is given), the caller's signal mask and TLS; it shares the mm (CLONE_VM) or
 * gets a copy made by the mm's fork ({@link Kernel#dupMm}: COW), shares the signal actions
 * (CLONE_SIGHAND) or copies them, and joins the caller's thread group (CLONE_THREAD) or starts a new
 * process whose parent is the caller (or the caller's parent: CLONE_PARENT).
 *
 * <p>Checks as copy_process: CLONE_THREAD needs CLONE_SIGHAND, CLONE_SIGHAND needs CLONE_VM, an exit
 * signal above 64 and any flag outside {@link #SUPPORTED} (namespaces, pidfds, CLONE_IO,
 * CLONE_CLEAR_SIGHAND...) are -EINVAL, CLONE_PARENT from init is -EINVAL, and a fork that cannot copy
 * the mm for lack of memory is -ENOMEM. clone3 is -ENOSYS: glibc 2.34+ then falls back to clone.
 *
 * <p>The x86-64 argument order is (flags, newsp, parent_tid, child_tid, tls); i386 has
 * CONFIG_CLONE_BACKWARDS: (flags, newsp, parent_tid, tls, child_tid), and its CLONE_SETTLS takes a
 * struct user_desc (set_thread_area for the child) where a 64-bit task's is the new FS base.
 */
final class SysClone {
    static final long CSIGNAL = 0xff, CLONE_VM = 0x100, CLONE_FS = 0x200, CLONE_FILES = 0x400, CLONE_SIGHAND = 0x800,
            CLONE_VFORK = 0x4000, CLONE_PARENT = 0x8000, CLONE_THREAD = 0x10000, CLONE_SYSVSEM = 0x40000,
            CLONE_SETTLS = 0x80000, CLONE_PARENT_SETTID = 0x100000, CLONE_CHILD_CLEARTID = 0x200000,
            CLONE_DETACHED = 0x400000, CLONE_UNTRACED = 0x800000, CLONE_CHILD_SETTID = 0x1000000;
    /** What mmulab implements; CLONE_DETACHED and CLONE_UNTRACED are accepted and ignored, as by Linux. */
    static final long SUPPORTED = CSIGNAL | CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_VFORK | CLONE_PARENT
            | CLONE_THREAD | CLONE_SYSVSEM | CLONE_SETTLS | CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID | CLONE_DETACHED
            | CLONE_UNTRACED | CLONE_CHILD_SETTID;
    static final int NR_CLONE = 56, NR_FORK = 57, NR_VFORK = 58, NR_CLONE3 = 435;
    static final int NR32_FORK = 2, NR32_CLONE = 120, NR32_VFORK = 190, NR32_CLONE3 = 435;
    /** TASK_SIZE_MAX of x86-64 (4-level): ARCH_SET_FS refuses a base at or above it. */
    static final long TASK_SIZE_MAX = (1L << 47) - 4096;

    private final Kernel k;
    private final Sched sched;

    SysClone(Kernel k, Sched sched) {
        this.k = k;
        this.sched = sched;
    }

    /** fork(): clone with SIGCHLD and nothing shared. */
    long fork(Vcpu cpu) {
        return clone(cpu, Kernel.SIGCHLD_FLAGS, 0, 0, 0, 0);
    }

    /** vfork(): CLONE_VFORK | CLONE_VM | SIGCHLD; the parent sleeps until the child exits or execs. */
    long vfork(Vcpu cpu) {
        return clone(cpu, CLONE_VFORK | CLONE_VM | Kernel.SIGCHLD_FLAGS, 0, 0, 0, 0);
    }

    /** kernel_clone with the legacy clone's arguments (flags' upper 32 bits are ignored). */
    long clone(Vcpu cpu, long rawFlags, long newsp, long ptid, long ctid, long tls) {
        long flags = rawFlags & 0xffff_ffffL;
        Task cur = k.current();
        int exitSignal = (int) (flags & CSIGNAL);
        if ((flags & ~SUPPORTED) != 0 || exitSignal > Task.NSIG) {
            return -Errno.EINVAL;
        }
        if ((flags & CLONE_THREAD) != 0 && (flags & CLONE_SIGHAND) == 0) {
            return -Errno.EINVAL;
        }
        if ((flags & CLONE_SIGHAND) != 0 && (flags & CLONE_VM) == 0) {
            return -Errno.EINVAL;
        }
        boolean thread = (flags & CLONE_THREAD) != 0;
        if ((flags & CLONE_PARENT) != 0 && !thread && cur.sig.parent == null) {
            return -Errno.EINVAL; // init (SIGNAL_UNKILLABLE) cannot make siblings
        }
        if ((flags & CLONE_SETTLS) != 0 && !cur.ia32 && Long.compareUnsigned(tls, TASK_SIZE_MAX) >= 0) {
            return -Errno.EPERM; // do_arch_prctl_64(ARCH_SET_FS)
        }
        int tid = sched.allocPid();
        SignalStruct s = thread ? cur.sig : new SignalStruct(tid);
        Task c = new Task(tid, s);
        CpuState r = c.regs;
        r.copyFrom(cpu.state);
        r.gpr[CpuState.RAX] = 0;
        if (newsp != 0) {
            r.gpr[CpuState.RSP] = cur.ia32 ? newsp & 0xffff_ffffL : newsp;
        }
        c.ia32 = cur.ia32;
        c.comm = cur.comm;
        c.exePath = cur.exePath;
        c.exeDentry = cur.exeDentry;
        c.umask = cur.umask;
        c.sigmask = cur.sigmask;
        c.cpusAllowed = cur.cpusAllowed;
        System.arraycopy(cur.tls, 0, c.tls, 0, c.tls.length);
        if ((flags & CLONE_SIGHAND) != 0) {
            c.sigactions = cur.sigactions;
        } else {
            for (int i = 0; i <= Task.NSIG; i++) {
                c.sigactions[i] = cur.sigactions[i].clone();
            }
        }
        if ((flags & (CLONE_VM | CLONE_VFORK)) != CLONE_VM) {
            c.sasSp = cur.sasSp; // copy_process: a thread sharing the mm starts without the alternate stack
            c.sasSize = cur.sasSize;
            c.sasFlags = cur.sasFlags;
        }
        if ((flags & CLONE_SETTLS) != 0) {
            if (cur.ia32) {
                long rv = Tls.setThreadArea(k, c, r, tls & 0xffff_ffffL, false);
                if (rv != 0) {
                    return rv;
                }
            } else {
                r.fsBase = tls;
            }
        }
        MmStruct mm = cur.mm;
        if ((flags & CLONE_VM) == 0 && mm != null) {
            mm = k.dupMm(mm);
            if (mm == null) {
                return -Errno.ENOMEM;
            }
        }
        c.mm = mm;
        c.files = cur.files == null ? null : (flags & CLONE_FILES) != 0 ? cur.files.share() : cur.files.dup();
        c.fs = cur.fs == null ? null : (flags & CLONE_FS) != 0 ? cur.fs : cur.fs.copy();
        c.exe = cur.exe;
        if (c.exe != null) {
            c.exe.acquire();
        }
        if ((flags & CLONE_CHILD_CLEARTID) != 0) {
            c.clearChildTid = ctid;
        }
        if ((flags & CLONE_CHILD_SETTID) != 0) {
            // schedule_tail: the child writes its tid in its own address space when it first runs.
            c.resume = (kk, vcpu, t) -> {
                kk.userAccess().copyToUser(ctid, le32(t.pid), 0, 4);
                return 0;
            };
        }
        if ((flags & CLONE_PARENT_SETTID) != 0) {
            k.userAccess().copyToUser(ptid, le32(tid), 0, 4); // a fault is ignored, as by kernel_clone
        }
        long ret = tid;
        synchronized (sched.lock) {
            s.threads.add(c);
            if (!thread) {
                s.leader = c;
                s.exitSignal = exitSignal;
                s.rlimits = deepCopy(cur.sig.rlimits);
                s.pgid = cur.sig.pgid;
                s.sid = cur.sig.sid;
                SignalStruct parent = (flags & CLONE_PARENT) != 0 ? cur.sig.parent : cur.sig;
                s.parent = parent;
                parent.children.add(s);
            }
            sched.attachLocked(c, -1);
            if ((flags & CLONE_VFORK) != 0) {
                c.vforkParent = cur;
                ret = sched.blockLocked(cur, (kk, vcpu, t) -> tid, Long.MAX_VALUE, "vfork child " + tid, false);
            }
        }
        k.kickIdle();
        return ret;
    }

    private static long[][] deepCopy(long[][] a) {
        if (a == null) {
            return null;
        }
        long[][] b = new long[a.length][];
        for (int i = 0; i < a.length; i++) {
            b[i] = a[i].clone();
        }
        return b;
    }

    static byte[] le32(long v) {
        byte[] b = new byte[4];
        Le.put32(b, 0, v);
        return b;
    }
}
