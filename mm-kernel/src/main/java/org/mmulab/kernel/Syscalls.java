package org.mmulab.kernel;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

import org.mmulab.emulator.cpu.CpuState;
import org.mmulab.emulator.machine.Vcpu;
import org.mmulab.kernel.mm.MmStruct;
import org.mmulab.kernel.mm.Mmap;

/**
 * The x86-64 system-call table (arch/x86/entry/syscalls/syscall_64.tbl) for what guest images use.
 * Arguments in RDI, RSI, RDX, R10, R8, R9; the result or -errno in RAX. Semantics follow the Linux
 * implementations named on each method; fds 0-2 are pipes (stdin read-only, stdout/stderr write-only),
 * so terminal ioctls give -ENOTTY as on a pipe. Anything else is -ENOSYS and counted by number.
 */
public final class Syscalls {
    public static final int NR_READ = 0, NR_WRITE = 1, NR_CLOSE = 3, NR_MMAP = 9, NR_MPROTECT = 10, NR_MUNMAP = 11,
            NR_BRK = 12, NR_RT_SIGACTION = 13, NR_RT_SIGPROCMASK = 14, NR_RT_SIGRETURN = 15, NR_IOCTL = 16, NR_WRITEV = 20,
            NR_SCHED_YIELD = 24, NR_MADVISE = 28, NR_NANOSLEEP = 35, NR_GETPID = 39, NR_EXIT = 60, NR_UNAME = 63,
            NR_GETTIMEOFDAY = 96, NR_TIME = 201,
            NR_GETUID = 102, NR_GETGID = 104, NR_GETEUID = 107, NR_GETEGID = 108, NR_GETPPID = 110,
            NR_ARCH_PRCTL = 158, NR_GETTID = 186, NR_SET_TID_ADDRESS = 218, NR_CLOCK_GETTIME = 228,
            NR_EXIT_GROUP = 231;

    private static final int MAX_NR = 512;
    private static final long MAX_RW_COUNT = Integer.MAX_VALUE & ~4095L;
    private static final int CHUNK = 1 << 16;

    private final Kernel k;
    private final long[] counts = new long[MAX_NR];
    private final TreeMap<Long, Long> unknown = new TreeMap<>();
    private long total;
    /** The vCPU whose system call is being served (its clock is the one the time calls read). */
    private Vcpu currentCpu;

    Syscalls(Kernel k) {
        this.k = k;
    }

    public long total() {
        return total;
    }

    public TreeMap<Long, Long> unknownByNumber() {
        return new TreeMap<>(unknown);
    }

    public Map<String, Long> countsByName() {
        Map<String, Long> m = new LinkedHashMap<>();
        for (int i = 0; i < MAX_NR; i++) {
            if (counts[i] != 0 && name(i) != null) {
                m.put(name(i), counts[i]);
            }
        }
        for (int i = 0; i < MAX_NR32; i++) {
            if (counts32[i] != 0 && name32(i) != null) {
                m.put("ia32:" + name32(i), counts32[i]);
            }
        }
        return m;
    }

    static String name(int nr) {
        return switch (nr) {
            case NR_READ -> "read";
            case NR_WRITE -> "write";
            case NR_CLOSE -> "close";
            case NR_MMAP -> "mmap";
            case NR_MPROTECT -> "mprotect";
            case NR_MUNMAP -> "munmap";
            case NR_BRK -> "brk";
            case NR_RT_SIGACTION -> "rt_sigaction";
            case NR_RT_SIGPROCMASK -> "rt_sigprocmask";
            case NR_RT_SIGRETURN -> "rt_sigreturn";
            case NR_IOCTL -> "ioctl";
            case NR_WRITEV -> "writev";
            case NR_SCHED_YIELD -> "sched_yield";
            case NR_MADVISE -> "madvise";
            case NR_NANOSLEEP -> "nanosleep";
            case NR_GETPID -> "getpid";
            case NR_EXIT -> "exit";
            case NR_UNAME -> "uname";
            case NR_GETUID -> "getuid";
            case NR_GETGID -> "getgid";
            case NR_GETEUID -> "geteuid";
            case NR_GETEGID -> "getegid";
            case NR_GETPPID -> "getppid";
            case NR_ARCH_PRCTL -> "arch_prctl";
            case NR_GETTID -> "gettid";
            case NR_SET_TID_ADDRESS -> "set_tid_address";
            case NR_CLOCK_GETTIME -> "clock_gettime";
            case NR_GETTIMEOFDAY -> "gettimeofday";
            case NR_TIME -> "time";
            case NR_EXIT_GROUP -> "exit_group";
            default -> null;
        };
    }

    long dispatch(Vcpu cpu, boolean int80) {
        currentCpu = cpu;
        long[] r = cpu.state.gpr;
        long nr = r[CpuState.RAX];
        total++;
        if (int80) {
            return dispatchIa32(cpu, r);
        }
        if (nr >= 0 && nr < MAX_NR) {
            counts[(int) nr]++;
        }
        long a0 = r[CpuState.RDI], a1 = r[CpuState.RSI], a2 = r[CpuState.RDX], a3 = r[CpuState.R10],
                a4 = r[CpuState.R8], a5 = r[CpuState.R9];
        MmStruct mm = k.mm();
        UserAccess ua = k.userAccess();
        switch ((int) Math.min(Math.max(nr, -1), MAX_NR)) {
            case NR_READ:
                return read((int) a0, a1, a2);
            case NR_WRITE:
                return write((int) a0, a1, a2);
            case NR_WRITEV:
                return writev((int) a0, a1, (int) a2, 16);
            case NR_EXIT:
            case NR_EXIT_GROUP:
                k.doExit((int) (a0 & 0xff), 0);
                return 0;
            case NR_BRK:
                return k.mmap().brk(mm, a0);
            case NR_MMAP:
                return mmap(mm, a0, a1, (int) a2, (int) a3, (int) a4, a5);
            case NR_MUNMAP:
                return k.mmap().doMunmap(mm, a0, a1);
            case NR_MPROTECT:
                return k.mmap().mprotect(mm, a0, a1, (int) a2);
            case NR_MADVISE:
                return k.mmap().madvise(mm, a0, a1, (int) a2);
            case NR_CLOCK_GETTIME:
                return clockGettime((int) a0, a1, true);
            case NR_GETTIMEOFDAY:
                return gettimeofday(a0, true);
            case NR_TIME:
                return time(a0, true);
            case NR_NANOSLEEP:
                return nanosleep(a0, true);
            case NR_GETPID:
            case NR_GETTID:
                return k.task().pid;
            case NR_GETPPID:
                return 0;
            case NR_GETUID:
            case NR_GETGID:
            case NR_GETEUID:
            case NR_GETEGID:
                return k.config().uid();
            case NR_SCHED_YIELD:
                return 0;
            case NR_UNAME:
                return uname(a0, "x86_64");
            case NR_ARCH_PRCTL:
                return archPrctl(cpu, (int) a0, a1);
            case NR_SET_TID_ADDRESS:
                k.task().clearChildTid = a0;
                return k.task().pid;
            case NR_IOCTL:
                return ioctl((int) a0, (int) a1, a2);
            case NR_RT_SIGACTION:
                return rtSigaction((int) a0, a1, a2, a3, 8);
            case NR_RT_SIGPROCMASK:
                return rtSigprocmask((int) a0, a1, a2, a3);
            case NR_RT_SIGRETURN: {
                Long rax = Signals.rtSigreturn(k, k.task(), cpu);
                if (rax == null) {
                    k.forceSigFault(Kernel.SIGSEGV, null); // signal_fault: a bad frame
                    return 0;
                }
                return rax;
            }
            default:
                unknown.merge(nr, 1L, Long::sum);
                return -Errno.ENOSYS;
        }
    }

    // ---- ia32 (syscall_32.tbl) ------------------------------------------------------------------

    public static final int NR32_EXIT = 1, NR32_READ = 3, NR32_WRITE = 4, NR32_TIME = 13, NR32_GETPID = 20,
            NR32_GETUID = 24, NR32_BRK = 45, NR32_GETGID = 47, NR32_GETEUID = 49, NR32_GETEGID = 50, NR32_IOCTL = 54,
            NR32_GETPPID = 64, NR32_GETTIMEOFDAY = 78, NR32_OLD_MMAP = 90, NR32_MUNMAP = 91, NR32_UNAME = 122, NR32_MPROTECT = 125,
            NR32_LLSEEK = 140, NR32_WRITEV = 146, NR32_SCHED_YIELD = 158, NR32_NANOSLEEP = 162,
            NR32_SIGRETURN = 119, NR32_RT_SIGRETURN = 173, NR32_RT_SIGACTION = 174, NR32_RT_SIGPROCMASK = 175, NR32_MMAP2 = 192,
            NR32_GETUID32 = 199, NR32_GETGID32 = 200, NR32_GETEUID32 = 201, NR32_GETEGID32 = 202,
            NR32_MADVISE = 219, NR32_GETTID = 224, NR32_SET_THREAD_AREA = 243, NR32_GET_THREAD_AREA = 244,
            NR32_EXIT_GROUP = 252, NR32_SET_TID_ADDRESS = 258, NR32_CLOCK_GETTIME = 265,
            NR32_CLOCK_GETTIME64 = 403, NR32_CLOCK_NANOSLEEP_TIME64 = 407;
    private static final int MAX_NR32 = 512;
    private final long[] counts32 = new long[MAX_NR32];

    static String name32(int nr) {
        return switch (nr) {
            case NR32_EXIT -> "exit";
            case NR32_READ -> "read";
            case NR32_WRITE -> "write";
            case NR32_GETPID -> "getpid";
            case NR32_TIME -> "time";
            case NR32_GETTIMEOFDAY -> "gettimeofday";
            case NR32_GETUID -> "getuid";
            case NR32_BRK -> "brk";
            case NR32_GETGID -> "getgid";
            case NR32_GETEUID -> "geteuid";
            case NR32_GETEGID -> "getegid";
            case NR32_IOCTL -> "ioctl";
            case NR32_GETPPID -> "getppid";
            case NR32_OLD_MMAP -> "mmap";
            case NR32_MUNMAP -> "munmap";
            case NR32_UNAME -> "newuname";
            case NR32_MPROTECT -> "mprotect";
            case NR32_LLSEEK -> "_llseek";
            case NR32_WRITEV -> "writev";
            case NR32_SCHED_YIELD -> "sched_yield";
            case NR32_NANOSLEEP -> "nanosleep";
            case NR32_SIGRETURN -> "sigreturn";
            case NR32_RT_SIGRETURN -> "rt_sigreturn";
            case NR32_RT_SIGACTION -> "rt_sigaction";
            case NR32_RT_SIGPROCMASK -> "rt_sigprocmask";
            case NR32_MMAP2 -> "mmap2";
            case NR32_GETUID32 -> "getuid32";
            case NR32_GETGID32 -> "getgid32";
            case NR32_GETEUID32 -> "geteuid32";
            case NR32_GETEGID32 -> "getegid32";
            case NR32_MADVISE -> "madvise";
            case NR32_GETTID -> "gettid";
            case NR32_SET_THREAD_AREA -> "set_thread_area";
            case NR32_GET_THREAD_AREA -> "get_thread_area";
            case NR32_EXIT_GROUP -> "exit_group";
            case NR32_SET_TID_ADDRESS -> "set_tid_address";
            case NR32_CLOCK_GETTIME -> "clock_gettime";
            case NR32_CLOCK_GETTIME64 -> "clock_gettime64";
            case NR32_CLOCK_NANOSLEEP_TIME64 -> "clock_nanosleep_time64";
            default -> null;
        };
    }

    /**
     * INT 0x80: the ia32 table (arch/x86/entry/syscalls/syscall_32.tbl, do_int80_syscall_32) for the
     * same calls as the 64-bit table. Number in EAX, arguments in EBX, ECX, EDX, ESI, EDI, EBP
     * (zero-extended: pointers and sizes are 32-bit, as IA32_EMULATION gives even a 64-bit process);
     * the result is a long whose low 32 bits are EAX (negative errno). Compat layouts where they differ:
     * struct compat_iovec (8 bytes), old_timespec32 (two s32) for clock_gettime/nanosleep, the 64-bit
     * __kernel_timespec for the *_time64 calls, struct sigaction32 {handler, flags, restorer, mask},
     * mmap2's offset in pages, old mmap (#90) taking a struct mmap_arg_struct pointer. Unknown numbers
     * are -ENOSYS, counted as 0x1_0000_0000 + nr.
     *
     * <p>Signals to an ia32 task: a fault signal with a handler gets an rt_sigframe_ia32
     * (SA_SIGINFO) or the old sigframe_ia32 ({@link SignalsIa32}); rt_sigreturn (#173) and sigreturn
     * (#119) restore them.
     */
    private long dispatchIa32(Vcpu cpu, long[] r) {
        long nr = r[CpuState.RAX] & 0xffff_ffffL;
        long b = r[CpuState.RBX] & 0xffff_ffffL, c = r[CpuState.RCX] & 0xffff_ffffL, d = r[CpuState.RDX] & 0xffff_ffffL,
                si = r[CpuState.RSI] & 0xffff_ffffL, di = r[CpuState.RDI] & 0xffff_ffffL, bp = r[CpuState.RBP] & 0xffff_ffffL;
        if (nr < MAX_NR32 && name32((int) nr) != null) {
            counts32[(int) nr]++;
        }
        MmStruct mm = k.mm();
        return switch ((int) Math.min(nr, 1024)) {
            case NR32_EXIT, NR32_EXIT_GROUP -> {
                k.doExit((int) (b & 0xff), 0);
                yield 0;
            }
            case NR32_READ -> read((int) b, c, d);
            case NR32_WRITE -> write((int) b, c, d);
            case NR32_WRITEV -> writev((int) b, c, (int) d, 8);
            case NR32_GETPID, NR32_GETTID -> k.task().pid;
            case NR32_GETPPID -> 0;
            case NR32_GETUID, NR32_GETGID, NR32_GETEUID, NR32_GETEGID -> k.config().uid() & 0xffff;
            case NR32_GETUID32, NR32_GETGID32, NR32_GETEUID32, NR32_GETEGID32 -> k.config().uid();
            case NR32_SCHED_YIELD -> 0;
            case NR32_BRK -> k.mmap().brk(mm, b);
            case NR32_MMAP2 -> mmapPgoff(mm, b, c, (int) d, (int) si, (int) di, bp);
            case NR32_OLD_MMAP -> oldMmap(mm, b);
            case NR32_MUNMAP -> k.mmap().doMunmap(mm, b, c);
            case NR32_MPROTECT -> k.mmap().mprotect(mm, b, c, (int) d);
            case NR32_MADVISE -> k.mmap().madvise(mm, b, c, (int) d);
            case NR32_LLSEEK -> b <= 2 ? -Errno.ESPIPE : -Errno.EBADF; // fds 0-2 are pipes
            case NR32_IOCTL -> ioctl((int) b, (int) c, d);
            case NR32_UNAME -> uname(b, k.config().paging() == KernelConfig.PagingMode.PAE ? "i686" : "x86_64");
            case NR32_CLOCK_GETTIME -> clockGettime((int) b, c, false);
            case NR32_GETTIMEOFDAY -> gettimeofday(b, false);
            case NR32_TIME -> time(b, false);
            case NR32_CLOCK_GETTIME64 -> clockGettime((int) b, c, true);
            case NR32_NANOSLEEP -> nanosleep(b, false);
            case NR32_CLOCK_NANOSLEEP_TIME64 -> clockNanosleep64((int) b, (int) c, d);
            case NR32_SET_TID_ADDRESS -> {
                k.task().clearChildTid = b;
                yield k.task().pid;
            }
            case NR32_SET_THREAD_AREA -> setThreadArea(cpu, b);
            case NR32_GET_THREAD_AREA -> getThreadArea(b);
            case NR32_RT_SIGACTION -> rtSigaction((int) b, c, d, si, 4);
            case NR32_RT_SIGPROCMASK -> rtSigprocmask((int) b, c, d, si);
            case NR32_SIGRETURN, NR32_RT_SIGRETURN -> {
                Long eax = SignalsIa32.sigreturn(k, k.task(), cpu, nr == NR32_RT_SIGRETURN);
                if (eax == null) {
                    k.forceSigFault(Kernel.SIGSEGV, null); // signal_fault: a bad frame
                    yield 0;
                }
                yield eax;
            }
            default -> {
                unknown.merge(nr | (1L << 32), 1L, Long::sum);
                yield -Errno.ENOSYS;
            }
        }; // regs->ax gets the sign-extended long result; a 32-bit task only sees EAX
    }

    /** ia32 mmap_pgoff (mmap2): the offset is in pages, so no alignment check. */
    private long mmapPgoff(MmStruct mm, long addr, long len, int prot, int flags, int fd, long pgoff) {
        if ((flags & Mmap.MAP_ANONYMOUS) == 0) {
            return fd >= 0 && fd <= 2 ? -Errno.ENODEV : -Errno.EBADF;
        }
        return k.mmap().doMmap(mm, null, addr, len, prot, flags, pgoff, null);
    }

    /** old_mmap (#90): struct mmap_arg_struct {addr, len, prot, flags, fd, offset} of u32; offset page aligned. */
    private long oldMmap(MmStruct mm, long argp) {
        byte[] a = new byte[24];
        if (k.userAccess().copyFromUser(a, 0, argp, 24) != 0) {
            return -Errno.EFAULT;
        }
        long off = le32(a, 20);
        if ((off & 4095) != 0) {
            return -Errno.EINVAL;
        }
        return mmapPgoff(mm, le32(a, 0), le32(a, 4), (int) le32(a, 8), (int) le32(a, 12), (int) le32(a, 16), off >>> 12);
    }

    private static long le32(byte[] b, int o) {
        return (b[o] & 0xffL) | (b[o + 1] & 0xffL) << 8 | (b[o + 2] & 0xffL) << 16 | (b[o + 3] & 0xffL) << 24;
    }

    private static void put32(byte[] b, int o, long v) {
        for (int i = 0; i < 4; i++) {
            b[o + i] = (byte) (v >>> (8 * i));
        }
    }

    /** GDT_ENTRY_TLS_MIN: 12 on a 64-bit kernel (compat tasks), 6 on a 32-bit one. */
    int tlsEntryMin() {
        return k.config().paging() == KernelConfig.PagingMode.PAE ? 6 : 12;
    }

    /**
     * set_thread_area (arch/x86/kernel/tls.c do_set_thread_area): struct user_desc {entry_number,
     * base_addr, limit, flags}. entry_number -1 picks the first free TLS slot and writes it back. The
     * descriptor is kept per task; its base is also loaded into {@code CpuState.gsBase}, which the
     * interpreter uses as the %gs base in 32-bit mode — what the {@code mov %gs, (entry*8+3)} that i386
     * libcs issue right after the call would load. An empty descriptor (LDT_empty) frees the slot.
     */
    private long setThreadArea(Vcpu cpu, long uinfo) {
        byte[] u = new byte[16];
        if (k.userAccess().copyFromUser(u, 0, uinfo, 16) != 0) {
            return -Errno.EFAULT;
        }
        long entry = le32(u, 0);
        long base = le32(u, 4), limit = le32(u, 8), flags = le32(u, 12);
        Task t = k.task();
        int min = tlsEntryMin();
        int idx;
        if (entry == 0xffff_ffffL) {
            idx = -1;
            for (int i = 0; i < t.tls.length; i++) {
                if (t.tls[i] == null) {
                    idx = i;
                    break;
                }
            }
            if (idx < 0) {
                return -Errno.ESRCH;
            }
            put32(u, 0, min + idx);
            if (k.userAccess().copyToUser(uinfo, u, 0, 4) != 0) {
                return -Errno.EFAULT;
            }
        } else if (entry >= min && entry < min + t.tls.length) {
            idx = (int) (entry - min);
        } else {
            return -Errno.EINVAL;
        }
        // LDT_empty: base 0, limit 0, contents 0, read_exec_only 1, seg_32bit 0, limit_in_pages 0,
        // seg_not_present 1, useable 0 (flags bits: seg_32bit 0, contents 1-2, read_exec_only 3,
        // limit_in_pages 4, seg_not_present 5, useable 6).
        boolean empty = base == 0 && limit == 0 && (flags & 0x7f) == ((1 << 3) | (1 << 5));
        t.tls[idx] = empty ? null : new long[] {base, limit, flags};
        if (!empty) {
            cpu.state.gsBase = base;
        }
        return 0;
    }

    /** get_thread_area: fills struct user_desc for entry_number. */
    private long getThreadArea(long uinfo) {
        byte[] u = new byte[16];
        if (k.userAccess().copyFromUser(u, 0, uinfo, 4) != 0) {
            return -Errno.EFAULT;
        }
        long entry = le32(u, 0);
        int min = tlsEntryMin();
        Task t = k.task();
        if (entry < min || entry >= min + t.tls.length) {
            return -Errno.EINVAL;
        }
        long[] d = t.tls[(int) (entry - min)];
        if (d == null) {
            d = new long[] {0, 0, (1 << 3) | (1 << 5)};
        }
        put32(u, 4, d[0]);
        put32(u, 8, d[1]);
        put32(u, 12, d[2]);
        return k.userAccess().copyToUser(uinfo, u, 0, 16) == 0 ? 0 : -Errno.EFAULT;
    }

    /** clock_nanosleep_time64 (CLOCK_REALTIME/MONOTONIC; TIMER_ABSTIME is slept relative to now). */
    private long clockNanosleep64(int clk, int flags, long req) {
        if (clk != 0 && clk != 1 && clk != 7) {
            return clk == 2 || clk == 3 ? -Errno.EOPNOTSUPP : -Errno.EINVAL;
        }
        if ((flags & 1) == 0) {
            return nanosleep(req, true);
        }
        byte[] b = new byte[16];
        if (k.userAccess().copyFromUser(b, 0, req, 16) != 0) {
            return -Errno.EFAULT;
        }
        long sec = le64(b, 0), nsec = le64(b, 8);
        if (sec < 0 || nsec < 0 || nsec >= 1_000_000_000L) {
            return -Errno.EINVAL;
        }
        long nowNs = clk == 0 ? k.machine().guestTime().realtimeNanos(currentCpu)
                : k.machine().guestTime().monotonicNanos(currentCpu);
        long target = sec > Long.MAX_VALUE / 1_000_000_000L - 1 ? Long.MAX_VALUE : sec * 1_000_000_000L + nsec;
        return sleepNanos(Math.max(0, target - nowNs));
    }

    // ---- fds: 0 = stdin pipe (read end), 1/2 = stdout/stderr pipes (write ends) ----------------

    private OutputStream outFor(int fd) {
        return switch (fd) {
            case 1 -> k.config().stdout();
            case 2 -> k.config().stderr();
            default -> null;
        };
    }

    /** ksys_read on a pipe: blocks for at least one byte, returns what is available up to count. */
    private long read(int fd, long buf, long count) {
        if (fd != 0) {
            return fd == 1 || fd == 2 ? -Errno.EBADF : -Errno.EBADF;
        }
        if (count < 0) {
            return -Errno.EINVAL;
        }
        if (count == 0) {
            return 0;
        }
        if (buf < 0 || buf >= k.taskSize()) {
            return -Errno.EFAULT;
        }
        int n = (int) Math.min(count, CHUNK);
        // Fault the first destination page in before taking bytes from the pipe, so that a bad buffer
        // fails with -EFAULT without consuming input (pipe_read leaves the data in the pipe then).
        if (k.userAccess().translate(buf, true) < 0) {
            return -Errno.EFAULT;
        }
        byte[] b = new byte[n];
        InputStream in = k.config().stdin();
        int got;
        try {
            got = in.read(b, 0, n);
        } catch (IOException e) {
            return -Errno.EIO;
        }
        if (got <= 0) {
            return 0;
        }
        int notCopied = k.userAccess().copyToUser(buf, b, 0, got);
        if (notCopied == got) {
            return -Errno.EFAULT;
        }
        return got - notCopied;
    }

    /** ksys_write on a pipe. */
    private long write(int fd, long buf, long count) {
        OutputStream out = outFor(fd);
        if (out == null) {
            return -Errno.EBADF;
        }
        if (count < 0) {
            return -Errno.EINVAL;
        }
        count = Math.min(count, MAX_RW_COUNT);
        if (count == 0) {
            return 0;
        }
        if (buf < 0 || buf >= k.taskSize() || count > k.taskSize() - buf) {
            return -Errno.EFAULT;
        }
        long done = 0;
        byte[] b = new byte[(int) Math.min(count, CHUNK)];
        while (done < count) {
            int n = (int) Math.min(count - done, b.length);
            int notCopied = k.userAccess().copyFromUser(b, 0, buf + done, n);
            int ok = n - notCopied;
            try {
                out.write(b, 0, ok);
            } catch (IOException e) {
                return done > 0 ? done : -Errno.EPIPE;
            }
            done += ok;
            if (notCopied != 0) {
                break;
            }
        }
        try {
            out.flush();
        } catch (IOException ignored) {
            // nothing to report beyond the count
        }
        return done == 0 ? -Errno.EFAULT : done;
    }

    /**
     * do_writev: iovcnt up to UIO_MAXIOV (1024); a fault mid-way returns what was written.
     * {@code iovSize} 16 for struct iovec, 8 for struct compat_iovec.
     */
    private long writev(int fd, long iov, int iovcnt, int iovSize) {
        OutputStream out = outFor(fd);
        if (out == null) {
            return -Errno.EBADF;
        }
        if (iovcnt < 0 || iovcnt > 1024) {
            return -Errno.EINVAL;
        }
        if (iovcnt == 0) {
            return 0;
        }
        byte[] vec = new byte[iovSize * iovcnt];
        if (k.userAccess().copyFromUser(vec, 0, iov, vec.length) != 0) {
            return -Errno.EFAULT;
        }
        long[] base = new long[iovcnt];
        long[] len = new long[iovcnt];
        long totalLen = 0;
        for (int i = 0; i < iovcnt; i++) {
            base[i] = iovSize == 16 ? le64(vec, 16 * i) : le32(vec, 8 * i);
            len[i] = iovSize == 16 ? le64(vec, 16 * i + 8) : le32(vec, 8 * i + 4);
            if (len[i] < 0) {
                return -Errno.EINVAL;
            }
            if (len[i] > MAX_RW_COUNT - totalLen) {
                len[i] = MAX_RW_COUNT - totalLen;
            }
            totalLen += len[i];
        }
        long done = 0;
        for (int i = 0; i < iovcnt; i++) {
            if (len[i] == 0) {
                continue;
            }
            long w = write(fd, base[i], len[i]);
            if (w < 0) {
                return done > 0 ? done : w;
            }
            done += w;
            if (w < len[i]) {
                break;
            }
        }
        return done;
    }

    private static long le64(byte[] b, int o) {
        long v = 0;
        for (int i = 7; i >= 0; i--) {
            v = (v << 8) | (b[o + i] & 0xff);
        }
        return v;
    }

    /** ksys_mmap_pgoff: file mappings need a mappable fd; the only fds are pipes. */
    private long mmap(MmStruct mm, long addr, long len, int prot, int flags, int fd, long off) {
        if ((off & 4095) != 0) {
            return -Errno.EINVAL;
        }
        if ((flags & Mmap.MAP_ANONYMOUS) == 0) {
            return fd >= 0 && fd <= 2 ? -Errno.ENODEV : -Errno.EBADF;
        }
        return k.mmap().doMmap(mm, null, addr, len, prot, flags, off >>> 12, null);
    }

    // ---- time ---------------------------------------------------------------------------------

    /** clock_gettime into a __kernel_timespec (two s64, {@code ts64}) or an old_timespec32 (two s32). */
    private long clockGettime(int clk, long tp, boolean ts64) {
        long sec, nsec;
        switch (clk) {
            case 0, 5, 8, 11 -> { // REALTIME, REALTIME_COARSE, REALTIME_ALARM, TAI
                long t = k.machine().guestTime().realtimeNanos(currentCpu);
                sec = t / 1_000_000_000L;
                nsec = t % 1_000_000_000L;
            }
            case 1, 4, 6, 7, 9, 2, 3 -> { // MONOTONIC(_RAW/_COARSE), BOOTTIME(_ALARM), process/thread CPU time
                long t = k.machine().guestTime().monotonicNanos(currentCpu);
                sec = t / 1_000_000_000L;
                nsec = t % 1_000_000_000L;
            }
            default -> {
                return -Errno.EINVAL;
            }
        }
        byte[] b = new byte[ts64 ? 16 : 8];
        if (ts64) {
            put64(b, 0, sec);
            put64(b, 8, nsec);
        } else {
            put32(b, 0, sec); // y2038: truncated as the time32 call does
            put32(b, 4, nsec);
        }
        return k.userAccess().copyToUser(tp, b, 0, b.length) == 0 ? 0 : -Errno.EFAULT;
    }

    /** gettimeofday into a struct timeval of two longs ({@code wide}: 64-bit) or an old 32-bit one; tz ignored. */
    private long gettimeofday(long tv, boolean wide) {
        if (tv == 0) {
            return 0;
        }
        long t = k.machine().guestTime().realtimeNanos(currentCpu);
        long sec = t / 1_000_000_000L, usec = t % 1_000_000_000L / 1000;
        byte[] b = new byte[wide ? 16 : 8];
        if (wide) {
            put64(b, 0, sec);
            put64(b, 8, usec);
        } else {
            put32(b, 0, sec);
            put32(b, 4, usec);
        }
        return k.userAccess().copyToUser(tv, b, 0, b.length) == 0 ? 0 : -Errno.EFAULT;
    }

    /** time(tloc): seconds since the epoch (a 32-bit old_time_t for ia32), also stored at tloc if non-null. */
    private long time(long tloc, boolean wide) {
        long sec = k.machine().guestTime().realtimeNanos(currentCpu) / 1_000_000_000L;
        if (!wide) {
            sec = (int) sec;
        }
        if (tloc != 0) {
            byte[] b = new byte[wide ? 8 : 4];
            if (wide) {
                put64(b, 0, sec);
            } else {
                put32(b, 0, sec);
            }
            if (k.userAccess().copyToUser(tloc, b, 0, b.length) != 0) {
                return -Errno.EFAULT;
            }
        }
        return sec;
    }

    /** nanosleep with a __kernel_timespec ({@code ts64}) or an old_timespec32 request. */
    private long nanosleep(long req, boolean ts64) {
        byte[] b = new byte[ts64 ? 16 : 8];
        if (k.userAccess().copyFromUser(b, 0, req, b.length) != 0) {
            return -Errno.EFAULT;
        }
        long sec = ts64 ? le64(b, 0) : (int) le32(b, 0), nsec = ts64 ? le64(b, 8) : (int) le32(b, 4);
        if (sec < 0 || nsec < 0 || nsec >= 1_000_000_000L) {
            return -Errno.EINVAL;
        }
        return sleepNanos(sec > Long.MAX_VALUE / 1_000_000_000L - 1 ? Long.MAX_VALUE : sec * 1_000_000_000L + nsec);
    }

    /** Sleeps (host time) or advances the vCPU's virtual time (--deterministic): GuestTime.sleep. */
    private long sleepNanos(long total) {
        try {
            k.machine().guestTime().sleep(currentCpu, total);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -Errno.EINTR;
        }
        return 0;
    }

    private static void put64(byte[] b, int o, long v) {
        for (int i = 0; i < 8; i++) {
            b[o + i] = (byte) (v >>> (8 * i));
        }
    }

    // ---- identity -----------------------------------------------------------------------------

    /**
     * struct new_utsname: six 65-byte fields. machine is x86_64 for any task of a 64-bit kernel (a compat
     * task too, without the linux32 personality) and i686 for a 32-bit kernel.
     */
    private long uname(long buf, String machine) {
        String[] f = {"Linux", "mmulab", "6.6.0-mmulab", "#1 SMP PREEMPT_DYNAMIC", machine, "(none)"};
        byte[] b = new byte[65 * 6];
        for (int i = 0; i < 6; i++) {
            byte[] s = f[i].getBytes(StandardCharsets.US_ASCII);
            System.arraycopy(s, 0, b, 65 * i, Math.min(64, s.length));
        }
        return k.userAccess().copyToUser(buf, b, 0, b.length) == 0 ? 0 : -Errno.EFAULT;
    }

    /** do_arch_prctl_64: ARCH_SET_FS/GET_FS and the GS pair; anything else -EINVAL. */
    private long archPrctl(Vcpu cpu, int code, long addr) {
        switch (code) {
            case 0x1002: // ARCH_SET_FS
            case 0x1001: // ARCH_SET_GS
                if (addr < 0 || addr >= k.taskSize()) {
                    return -Errno.EPERM;
                }
                if (code == 0x1002) {
                    cpu.state.fsBase = addr;
                } else {
                    cpu.state.gsBase = addr;
                }
                return 0;
            case 0x1003: // ARCH_GET_FS
                return k.userAccess().putUser64(addr, cpu.state.fsBase) ? 0 : -Errno.EFAULT;
            case 0x1004: // ARCH_GET_GS
                return k.userAccess().putUser64(addr, cpu.state.gsBase) ? 0 : -Errno.EFAULT;
            default:
                return -Errno.EINVAL;
        }
    }

    /** ioctl on a pipe: FIONREAD works, every terminal request is -ENOTTY. */
    private long ioctl(int fd, int cmd, long arg) {
        if (fd < 0 || fd > 2) {
            return -Errno.EBADF;
        }
        if (cmd == 0x541b) { // FIONREAD
            int avail = 0;
            if (fd == 0) {
                try {
                    avail = k.config().stdin().available();
                } catch (IOException e) {
                    avail = 0;
                }
            }
            byte[] b = {(byte) avail, (byte) (avail >>> 8), (byte) (avail >>> 16), (byte) (avail >>> 24)};
            return k.userAccess().copyToUser(arg, b, 0, 4) == 0 ? 0 : -Errno.EFAULT;
        }
        return -Errno.ENOTTY; // TCGETS, TCSETS*, TCSBRK, TIOCGWINSZ, TIOCGPGRP...
    }

    // ---- signals (recorded) -------------------------------------------------------------------

    private static final long UNBLOCKABLE = (1L << (Kernel.SIGKILL - 1)) | (1L << (Kernel.SIGSTOP - 1));

    /**
     * rt_sigaction: struct sigaction {handler, flags, restorer, u64 mask} with {@code word}-byte
     * pointers and flags: 8 for the 64-bit ABI, 4 for compat struct sigaction32 (whose
     * compat_sigset_t is two u32 at offset 12, the same bytes as a little-endian u64).
     */
    private long rtSigaction(int sig, long act, long oact, long sigsetsize, int word) {
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
        Task t = k.task();
        long[] nw = null;
        if (act != 0) {
            byte[] b = new byte[size];
            if (k.userAccess().copyFromUser(b, 0, act, size) != 0) {
                return -Errno.EFAULT;
            }
            long wordMask = word == 8 ? -1L : 0xffff_ffffL;
            nw = new long[] {le64(b, 0) & wordMask, le64(b, word) & wordMask, le64(b, 2 * word) & wordMask,
                    le64(b, 3 * word) & ~UNBLOCKABLE};
        }
        long[] old = t.sigactions[sig].clone();
        if (nw != null) {
            t.sigactions[sig] = nw;
        }
        if (oact != 0) {
            byte[] b = new byte[size];
            // In order: a 4-byte word's put64 writes zeros into the next slot, which the next put rewrites.
            for (int i = 0; i < 3; i++) {
                put64(b, word * i, old[i]);
            }
            put64(b, 3 * word, old[3]);
            if (k.userAccess().copyToUser(oact, b, 0, size) != 0) {
                return -Errno.EFAULT;
            }
        }
        return 0;
    }

    private long rtSigprocmask(int how, long set, long oset, long sigsetsize) {
        if (sigsetsize != 8) {
            return -Errno.EINVAL;
        }
        Task t = k.task();
        long old = t.sigmask;
        if (set != 0) {
            Long nw = k.userAccess().getUser64(set);
            if (nw == null) {
                return -Errno.EFAULT;
            }
            long m = nw & ~UNBLOCKABLE;
            switch (how) {
                case 0 -> t.sigmask |= m;
                case 1 -> t.sigmask &= ~m;
                case 2 -> t.sigmask = m;
                default -> {
                    return -Errno.EINVAL;
                }
            }
        }
        if (oset != 0 && !k.userAccess().putUser64(oset, old)) {
            return -Errno.EFAULT;
        }
        return 0;
    }
}
