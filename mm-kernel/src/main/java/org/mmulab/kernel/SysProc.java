package org.mmulab.kernel;

import java.security.SecureRandom;
import java.util.SplittableRandom;

import org.mmulab.emulator.machine.Vcpu;
import org.mmulab.kernel.mm.MmStruct;

/**
 * The process-wide calls static glibc and musl make at startup and for stdio, for both ABIs, after
 * Linux 6.x: resource limits (kernel/sys.c getrlimit, setrlimit, prlimit64, compat ugetrlimit and old
 * getrlimit with their infinity clamps), umask, sysinfo, times, getrusage (kernel/sys.c),
 * getgroups (kernel/groups.c; no supplementary groups), set_robust_list (kernel/futex/syscalls.c),
 * rseq (-ENOSYS: a kernel without CONFIG_RSEQ; glibc 2.35+ then runs with __rseq_size 0 and musl
 * never registers), getrandom (drivers/char/random.c: the seeded stream under --deterministic, the
 * host's SecureRandom otherwise), sched_getaffinity (kernel/sched/core.c: one bit per vCPU) and getcpu.
 */
final class SysProc {
    /** Returned by the dispatchers for a number they do not handle. */
    static final long NOT_HANDLED = Long.MIN_VALUE;
    static final int RLIM_NLIMITS = 16, RLIMIT_STACK = 3, RLIMIT_NOFILE = 7;
    static final long RLIM_INFINITY = -1L, COMPAT_RLIM_INFINITY = 0xffff_ffffL, COMPAT_RLIM_OLD_INFINITY = 0x7fff_ffffL;
    /** sysctl_nr_open (fs/file.c). */
    static final long NR_OPEN = 1 << 20;
    static final long USER_HZ = 100;

    private final Kernel k;
    private SplittableRandom seeded;
    private SecureRandom host;

    SysProc(Kernel k) {
        this.k = k;
    }

    /** INIT_RLIMITS (include/asm-generic/resource.h) for a machine with {@code ramPages} pages. */
    static long[][] initRlimits(long ramPages) {
        long maxThreads = Math.max(20, ramPages / 4); // fork_init: totalram / (8 * THREAD_SIZE / PAGE_SIZE), 16K stacks
        long nproc = maxThreads / 2;
        long inf = RLIM_INFINITY;
        return new long[][] {
            {inf, inf}, {inf, inf}, {inf, inf}, {8L << 20, inf}, {0, inf}, {inf, inf}, // CPU FSIZE DATA STACK CORE RSS
            {nproc, nproc}, {1024, 4096}, {8L << 20, 8L << 20}, {inf, inf}, {inf, inf}, // NPROC NOFILE MEMLOCK AS LOCKS
            {nproc, nproc}, {819200, 819200}, {0, 0}, {0, 0}, {inf, inf}, // SIGPENDING MSGQUEUE NICE RTPRIO RTTIME
        };
    }

    static String name64(int nr) {
        return switch (nr) {
            case SysClone.NR_CLONE -> "clone";
            case SysClone.NR_FORK -> "fork";
            case SysClone.NR_VFORK -> "vfork";
            case SysExit.NR_WAIT4 -> "wait4";
            case Futex.NR_FUTEX -> "futex";
            case 203 -> "sched_setaffinity";
            case SysExit.NR_WAITID -> "waitid";
            case SysClone.NR_CLONE3 -> "clone3";
            case SignalQueue.NR_KILL -> "kill";
            case SignalQueue.NR_TKILL -> "tkill";
            case SignalQueue.NR_TGKILL -> "tgkill";
            case 95 -> "umask";
            case 97 -> "getrlimit";
            case 98 -> "getrusage";
            case 99 -> "sysinfo";
            case 100 -> "times";
            case 115 -> "getgroups";
            case 131 -> "sigaltstack";
            case 160 -> "setrlimit";
            case 204 -> "sched_getaffinity";
            case 273 -> "set_robust_list";
            case 302 -> "prlimit64";
            case 309 -> "getcpu";
            case 318 -> "getrandom";
            case 334 -> "rseq";
            default -> null;
        };
    }

    static String name32(int nr) {
        return switch (nr) {
            case 43 -> "times";
            case SysClone.NR32_FORK -> "fork";
            case SysExit.NR32_WAITPID -> "waitpid";
            case SysExit.NR32_WAIT4 -> "wait4";
            case SysClone.NR32_CLONE -> "clone";
            case SysClone.NR32_VFORK -> "vfork";
            case Futex.NR32_FUTEX -> "futex";
            case 241 -> "sched_setaffinity";
            case SysExit.NR32_WAITID -> "waitid";
            case Futex.NR32_FUTEX_TIME64 -> "futex_time64";
            case SysClone.NR32_CLONE3 -> "clone3";
            case SignalQueue.NR32_KILL -> "kill";
            case SignalQueue.NR32_TKILL -> "tkill";
            case SignalQueue.NR32_TGKILL -> "tgkill";
            case 60 -> "umask";
            case 75 -> "setrlimit";
            case 76 -> "getrlimit";
            case 77 -> "getrusage";
            case 80 -> "getgroups";
            case 116 -> "sysinfo";
            case 186 -> "sigaltstack";
            case 191 -> "ugetrlimit";
            case 205 -> "getgroups32";
            case 242 -> "sched_getaffinity";
            case 311 -> "set_robust_list";
            case 318 -> "getcpu";
            case 340 -> "prlimit64";
            case 355 -> "getrandom";
            case 386 -> "rseq";
            default -> null;
        };
    }

    long dispatch64(Vcpu cpu, int nr, long a0, long a1, long a2, long a3, long a4) {
        return switch (nr) {
            case SignalQueue.NR_KILL -> SignalQueue.kill(k, (int) a0, (int) a1);
            case SignalQueue.NR_TKILL -> SignalQueue.tkill(k, (int) a0, (int) a1);
            case SignalQueue.NR_TGKILL -> SignalQueue.tgkill(k, (int) a0, (int) a1, (int) a2);
            case 95 -> umask((int) a0);
            case 97 -> getrlimit((int) a0, a1, 8);
            case 160 -> setrlimit((int) a0, a1, 8);
            case 302 -> prlimit64((int) a0, (int) a1, a2, a3);
            case 98 -> getrusage(cpu, (int) a0, a1, false);
            case 99 -> sysinfo(cpu, a0, false);
            case 100 -> times(cpu, a0, false);
            case 115 -> getgroups((int) a0);
            case 131 -> SigAltStack.sigaltstack(k, cpu, a0, a1, false);
            case 203 -> schedSetaffinity((int) a0, a1, a2);
            case 204 -> schedGetaffinity((int) a0, a1, a2, 8);
            case 273 -> setRobustList(a0, a1, 24);
            case 309 -> getcpu(cpu, a0, a1);
            case 318 -> getrandom(a0, a1, (int) a2);
            case 334 -> -Errno.ENOSYS;
            default -> NOT_HANDLED;
        };
    }

    long dispatch32(Vcpu cpu, int nr, long b, long c, long d, long si, long di) {
        return switch (nr) {
            case SignalQueue.NR32_KILL -> SignalQueue.kill(k, (int) b, (int) c);
            case SignalQueue.NR32_TKILL -> SignalQueue.tkill(k, (int) b, (int) c);
            case SignalQueue.NR32_TGKILL -> SignalQueue.tgkill(k, (int) b, (int) c, (int) d);
            case 60 -> umask((int) b);
            case 76 -> getrlimit((int) b, c, -4);
            case 191 -> getrlimit((int) b, c, 4);
            case 75 -> setrlimit((int) b, c, 4);
            case 340 -> prlimit64((int) b, (int) c, d, si);
            case 77 -> getrusage(cpu, (int) b, c, true);
            case 116 -> sysinfo(cpu, b, true);
            case 43 -> times(cpu, b, true);
            case 80 -> getgroups((int) b);
            case 205 -> getgroups((int) b);
            case 186 -> SigAltStack.sigaltstack(k, cpu, b, c, true);
            case 241 -> schedSetaffinity((int) b, c, d);
            case 242 -> schedGetaffinity((int) b, c, d, 4);
            case 311 -> setRobustList(b, c, 12);
            case 318 -> getcpu(cpu, b, c);
            case 355 -> getrandom(b, c, (int) d);
            case 386 -> -Errno.ENOSYS;
            default -> NOT_HANDLED;
        };
    }

    // ---- limits -------------------------------------------------------------------------------

    private long[][] rlimits() {
        SignalStruct s = k.current().sig;
        if (s.rlimits == null) {
            s.rlimits = initRlimits(k.memory().frames().frameCount());
        }
        MmStruct mm = k.current().mm;
        if (mm != null) {
            s.rlimits[RLIMIT_STACK][0] = mm.stackRlimit;
        }
        return s.rlimits;
    }

    /**
     * getrlimit: {@code word} 8 = struct rlimit of unsigned long; 4 = compat ugetrlimit (u32, values
     * above 0xffffffff clamp to COMPAT_RLIM_INFINITY); -4 = the old i386 getrlimit (clamp to 0x7fffffff).
     */
    private long getrlimit(int res, long p, int word) {
        if (res < 0 || res >= RLIM_NLIMITS) {
            return -Errno.EINVAL;
        }
        long[] r = rlimits()[res];
        byte[] b = new byte[2 * Math.abs(word)];
        for (int i = 0; i < 2; i++) {
            long v = r[i];
            if (word == 8) {
                Le.put64(b, 8 * i, v);
            } else {
                long cap = word == 4 ? COMPAT_RLIM_INFINITY : COMPAT_RLIM_OLD_INFINITY;
                Le.put32(b, 4 * i, Long.compareUnsigned(v, cap) > 0 ? cap : v);
            }
        }
        return k.userAccess().copyToUser(p, b, 0, b.length) == 0 ? 0 : -Errno.EFAULT;
    }

    /** setrlimit: struct rlimit (8) or compat_rlimit (4, COMPAT_RLIM_INFINITY meaning infinity). */
    private long setrlimit(int res, long p, int word) {
        if (res < 0 || res >= RLIM_NLIMITS) {
            return -Errno.EINVAL;
        }
        byte[] b = new byte[2 * word];
        if (k.userAccess().copyFromUser(b, 0, p, b.length) != 0) {
            return -Errno.EFAULT;
        }
        long cur = word == 8 ? Le.le64(b, 0) : Le.le32(b, 0), max = word == 8 ? Le.le64(b, 8) : Le.le32(b, 4);
        if (word == 4) {
            cur = cur == COMPAT_RLIM_INFINITY ? RLIM_INFINITY : cur;
            max = max == COMPAT_RLIM_INFINITY ? RLIM_INFINITY : max;
        }
        return doPrlimit(res, new long[] {cur, max}, null);
    }

    /** do_prlimit: cur &lt;= max, raising max needs CAP_SYS_RESOURCE (uid 0), NOFILE max &lt;= nr_open. */
    private long doPrlimit(int res, long[] nw, long[] old) {
        if (res < 0 || res >= RLIM_NLIMITS) {
            return -Errno.EINVAL;
        }
        long[] r = rlimits()[res];
        if (nw != null) {
            if (Long.compareUnsigned(nw[0], nw[1]) > 0) {
                return -Errno.EINVAL;
            }
            if (res == RLIMIT_NOFILE && Long.compareUnsigned(nw[1], NR_OPEN) > 0) {
                return -Errno.EPERM;
            }
            if (Long.compareUnsigned(nw[1], r[1]) > 0 && k.config().uid() != 0) {
                return -Errno.EPERM;
            }
        }
        if (old != null) {
            old[0] = r[0];
            old[1] = r[1];
        }
        if (nw != null) {
            r[0] = nw[0];
            r[1] = nw[1];
            if (res == RLIMIT_STACK && k.current().mm != null) {
                k.current().mm.stackRlimit = nw[0];
            }
        }
        return 0;
    }

    /** prlimit64(pid, resource, new, old): struct rlimit64 (two u64); pid 0 or the caller's. */
    private long prlimit64(int pid, int res, long nwp, long oldp) {
        if (pid != 0 && pid != k.current().pid && pid != k.current().tgid()) {
            return -Errno.ESRCH;
        }
        long[] nw = null;
        if (nwp != 0) {
            byte[] b = new byte[16];
            if (k.userAccess().copyFromUser(b, 0, nwp, 16) != 0) {
                return -Errno.EFAULT;
            }
            nw = new long[] {Le.le64(b, 0), Le.le64(b, 8)};
        }
        long[] old = oldp != 0 ? new long[2] : null;
        long r = doPrlimit(res, nw, old);
        if (r != 0 || old == null) {
            return r;
        }
        byte[] b = new byte[16];
        Le.put64(b, 0, old[0]);
        Le.put64(b, 8, old[1]);
        return k.userAccess().copyToUser(oldp, b, 0, 16) == 0 ? 0 : -Errno.EFAULT;
    }

    // ---- identity and accounting ----------------------------------------------------------------

    private long umask(int mask) {
        Task t = k.current();
        int old = t.umask;
        t.umask = mask & 0777;
        return old;
    }

    /** getgroups: no supplementary groups (ngroups 0); a negative size is -EINVAL. */
    private long getgroups(int size) {
        return size < 0 ? -Errno.EINVAL : 0;
    }

    private long setRobustList(long head, long len, int size) {
        if (len != size) {
            return -Errno.EINVAL;
        }
        k.current().robustList = head;
        k.current().robustListLen = len;
        return 0;
    }

    private long getcpu(Vcpu cpu, long cpup, long nodep) {
        if (cpup != 0 && k.userAccess().copyToUser(cpup, le32(cpu.id()), 0, 4) != 0) {
            return -Errno.EFAULT;
        }
        if (nodep != 0 && k.userAccess().copyToUser(nodep, le32(0), 0, 4) != 0) {
            return -Errno.EFAULT;
        }
        return 0;
    }

    private static byte[] le32(long v) {
        byte[] b = new byte[4];
        Le.put32(b, 0, v);
        return b;
    }

    /** Ticks of USER_HZ in {@code ns}. */
    static long ticks(long ns) {
        return ns / (1_000_000_000L / USER_HZ);
    }

    /** times: struct tms {utime, stime, cutime, cstime}; returns jiffies-like ticks since boot. */
    private long times(Vcpu cpu, long buf, boolean compat) {
        long cpuNs = SysTime.cpuTimeNanos(cpu);
        if (buf != 0) {
            int w = compat ? 4 : 8;
            byte[] b = new byte[4 * w];
            if (compat) {
                Le.put32(b, 0, ticks(cpuNs));
            } else {
                Le.put64(b, 0, ticks(cpuNs));
            }
            if (k.userAccess().copyToUser(buf, b, 0, b.length) != 0) {
                return -Errno.EFAULT;
            }
        }
        long t = ticks(k.machine().guestTime().monotonicNanos(cpu));
        return compat ? (int) t : t;
    }

    /**
     * getrusage(RUSAGE_SELF 0 / THREAD 1 / CHILDREN -1): utime = the vCPU's cycles as time, stime 0,
     * ru_maxrss = hiwater RSS in KiB, ru_minflt = page faults; children: all zero.
     */
    private long getrusage(Vcpu cpu, int who, long p, boolean compat) {
        if (who != 0 && who != 1 && who != -1) {
            return -Errno.EINVAL;
        }
        int w = compat ? 4 : 8;
        byte[] b = new byte[18 * w];
        if (who != -1) {
            long ns = SysTime.cpuTimeNanos(cpu);
            put(b, 0, w, ns / 1_000_000_000L);
            put(b, w, w, ns % 1_000_000_000L / 1000);
            MmStruct mm = k.current().mm;
            put(b, 4 * w, w, mm == null ? 0 : mm.hiwaterRss() * 4); // ru_maxrss
            put(b, 8 * w, w, k.memory().stats.faults.get()); // ru_minflt
        }
        return k.userAccess().copyToUser(p, b, 0, b.length) == 0 ? 0 : -Errno.EFAULT;
    }

    private static void put(byte[] b, int off, int w, long v) {
        if (w == 8) {
            Le.put64(b, off, v);
        } else {
            Le.put32(b, off, v);
        }
    }

    /**
     * sysinfo: struct sysinfo (112 bytes) or compat_sysinfo (64): uptime, loads 0, RAM in pages of
     * mem_unit (the page size, so the compat fields fit as do_compat_sysinfo scales them), no swap,
     * one process.
     */
    private long sysinfo(Vcpu cpu, long p, boolean compat) {
        long uptime = k.machine().guestTime().monotonicNanos(cpu) / 1_000_000_000L;
        long total = k.memory().frames().frameCount(), free = k.memory().frames().freePages();
        int w = compat ? 4 : 8;
        byte[] b = new byte[compat ? 64 : 112];
        put(b, 0, w, uptime);
        int o = w * 4; // after uptime and loads[3]
        // do_sysinfo: byte units (mem_unit 1) when they fit; compat shifts back to pages when 32 bits do not.
        boolean pages = compat && total * 4096 > 0xffff_ffffL;
        long unit = pages ? 4096 : 1;
        long scale = pages ? 1 : 4096;
        put(b, o, w, total * scale);
        put(b, o + w, w, free * scale);
        int procs = o + 6 * w;
        b[procs] = 1; // procs (u16)
        int unitOff = compat ? procs + 4 + 2 * w : procs + 8 + 2 * w;
        Le.put32(b, unitOff, unit);
        return k.userAccess().copyToUser(p, b, 0, b.length) == 0 ? 0 : -Errno.EFAULT;
    }

    // ---- misc ------------------------------------------------------------------------------------

    /**
     * getrandom(buf, count, flags): flags beyond GRND_NONBLOCK|GRND_RANDOM|GRND_INSECURE, or INSECURE
     * with RANDOM, are -EINVAL; count is capped at INT_MAX; a fault after some bytes returns the count.
     */
    private long getrandom(long buf, long count, int flags) {
        if ((flags & ~7) != 0 || (flags & 6) == 6) {
            return -Errno.EINVAL;
        }
        long n = Math.min(count, Integer.MAX_VALUE);
        byte[] chunk = new byte[(int) Math.min(n, 4096)];
        long done = 0;
        while (done < n) {
            int len = (int) Math.min(chunk.length, n - done);
            fill(chunk, len);
            if (k.userAccess().copyToUser(buf + done, chunk, 0, len) != 0) {
                return done > 0 ? done : -Errno.EFAULT;
            }
            done += len;
        }
        return done;
    }

    private void fill(byte[] b, int len) {
        if (k.machine().guestTime().isVirtual()) {
            if (seeded == null) {
                seeded = new SplittableRandom(k.randomSeed() ^ 0x67657472616e64L); // --seed, apart from AT_RANDOM's stream
            }
            for (int i = 0; i < len; i++) {
                b[i] = (byte) seeded.nextInt();
            }
        } else {
            if (host == null) {
                host = new SecureRandom();
            }
            byte[] r = new byte[len];
            host.nextBytes(r);
            System.arraycopy(r, 0, b, 0, len);
        }
    }

    /**
     * sched_getaffinity(pid, len, mask): len in bits must cover nr_cpu_ids and be a multiple of the
     * word size; writes cpumask_size() bytes (nr_cpu_ids rounded up to longs) with one bit per vCPU.
     */
    private long schedGetaffinity(int pid, long len, long mask, int word) {
        Task t = affinityTarget(pid);
        if (t == null) {
            return -Errno.ESRCH;
        }
        int cpus = k.machine().vcpus().size();
        if (len * 8 < cpus || (len & (word - 1)) != 0) {
            return -Errno.EINVAL;
        }
        int size = (cpus + 63) / 64 * 8;
        int ret = (int) Math.min(len, size);
        byte[] b = new byte[ret];
        for (int i = 0; i < cpus; i++) {
            if (i >= 64 || (t.cpusAllowed & (1L << i)) != 0) {
                b[i >>> 3] |= (byte) (1 << (i & 7));
            }
        }
        return k.userAccess().copyToUser(mask, b, 0, ret) == 0 ? ret : -Errno.EFAULT;
    }

    /** The task a sched_*affinity pid names: 0 is the caller, else any live thread. */
    private Task affinityTarget(int pid) {
        if (pid == 0) {
            return k.current();
        }
        if (pid < 0) {
            return null;
        }
        synchronized (k.sched().lock) {
            return k.sched().findTaskLocked(pid);
        }
    }

    /**
     * sched_setaffinity(pid, len, mask): the mask is cut to the vCPUs that exist (cpu_active_mask); an
     * empty result is -EINVAL, a negative pid or an unknown one -ESRCH, an unreadable mask -EFAULT. A
     * task moved off its current vCPU moves at its next return to user mode.
     */
    private long schedSetaffinity(int pid, long len, long mask) {
        Task t = affinityTarget(pid);
        if (t == null) {
            return -Errno.ESRCH;
        }
        int n = (int) Math.min(Math.max(len, 0), 8);
        byte[] b = new byte[8];
        if (n > 0 && k.userAccess().copyFromUser(b, 0, mask, n) != 0) {
            return -Errno.EFAULT;
        }
        int cpus = k.machine().vcpus().size();
        long m = Le.le64(b, 0) & (cpus >= 64 ? -1L : (1L << cpus) - 1);
        if (m == 0) {
            return -Errno.EINVAL;
        }
        t.cpusAllowed = m;
        if (t == k.current() && (m & (1L << k.ctx().cpu.id())) == 0) {
            k.ctx().needResched = true; // migrate: back on the run queue, picked by an allowed vCPU
        }
        return 0;
    }
}
