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
            case NR_EXIT_GROUP -> "exit_group";
            default -> null;
        };
    }

    long dispatch(Vcpu cpu, boolean int80) {
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
                return writev((int) a0, a1, (int) a2);
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
                return clockGettime((int) a0, a1);
            case NR_NANOSLEEP:
                return nanosleep(a0, a1);
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
                return uname(a0);
            case NR_ARCH_PRCTL:
                return archPrctl(cpu, (int) a0, a1);
            case NR_SET_TID_ADDRESS:
                k.task().clearChildTid = a0;
                return k.task().pid;
            case NR_IOCTL:
                return ioctl((int) a0, (int) a1, a2);
            case NR_RT_SIGACTION:
                return rtSigaction((int) a0, a1, a2, a3);
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

    /**
     * INT 0x80: the ia32 table (syscall_32.tbl) with EBX, ECX, EDX, ESI, EDI, EBP zero-extended, as
     * IA32_EMULATION gives even a 64-bit process. Only the basics for now; the rest arrives with ELF32/PAE
     * guests. Unknown ia32 numbers are counted as 0x1_0000_0000 + nr.
     */
    private long dispatchIa32(Vcpu cpu, long[] r) {
        long nr = r[CpuState.RAX] & 0xffff_ffffL;
        long b = r[CpuState.RBX] & 0xffff_ffffL, c = r[CpuState.RCX] & 0xffff_ffffL, d = r[CpuState.RDX] & 0xffff_ffffL;
        return switch ((int) Math.min(nr, 1024)) {
            case 1, 252 -> { // exit, exit_group
                k.doExit((int) (b & 0xff), 0);
                yield 0;
            }
            case 3 -> read((int) b, c, (int) d & 0xffff_ffffL);
            case 4 -> write((int) b, c, (int) d & 0xffff_ffffL);
            case 20, 224 -> k.task().pid; // getpid, gettid
            case 45 -> k.mmap().brk(k.mm(), b);
            default -> {
                unknown.merge(nr | (1L << 32), 1L, Long::sum);
                yield -Errno.ENOSYS;
            }
        }; // regs->ax gets the sign-extended long result; a 32-bit task only sees EAX

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

    /** do_writev: iovcnt up to UIO_MAXIOV (1024); a fault mid-way returns what was written. */
    private long writev(int fd, long iov, int iovcnt) {
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
        byte[] vec = new byte[16 * iovcnt];
        if (k.userAccess().copyFromUser(vec, 0, iov, vec.length) != 0) {
            return -Errno.EFAULT;
        }
        long[] base = new long[iovcnt];
        long[] len = new long[iovcnt];
        long totalLen = 0;
        for (int i = 0; i < iovcnt; i++) {
            base[i] = le64(vec, 16 * i);
            len[i] = le64(vec, 16 * i + 8);
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

    private long clockGettime(int clk, long tp) {
        long sec, nsec;
        switch (clk) {
            case 0, 5, 8, 11 -> { // REALTIME, REALTIME_COARSE, REALTIME_ALARM, TAI
                java.time.Instant now = java.time.Instant.now();
                sec = now.getEpochSecond();
                nsec = now.getNano();
            }
            case 1, 4, 6, 7, 9, 2, 3 -> { // MONOTONIC(_RAW/_COARSE), BOOTTIME(_ALARM), process/thread CPU time
                long t = System.nanoTime() - k.startNanos;
                sec = t / 1_000_000_000L;
                nsec = t % 1_000_000_000L;
            }
            default -> {
                return -Errno.EINVAL;
            }
        }
        byte[] b = new byte[16];
        put64(b, 0, sec);
        put64(b, 8, nsec);
        return k.userAccess().copyToUser(tp, b, 0, 16) == 0 ? 0 : -Errno.EFAULT;
    }

    private long nanosleep(long req, long rem) {
        byte[] b = new byte[16];
        if (k.userAccess().copyFromUser(b, 0, req, 16) != 0) {
            return -Errno.EFAULT;
        }
        long sec = le64(b, 0), nsec = le64(b, 8);
        if (sec < 0 || nsec < 0 || nsec >= 1_000_000_000L) {
            return -Errno.EINVAL;
        }
        try {
            long ms = sec > Long.MAX_VALUE / 1000 ? Long.MAX_VALUE : sec * 1000 + nsec / 1_000_000;
            Thread.sleep(ms, (int) (nsec % 1_000_000));
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

    /** struct new_utsname: six 65-byte fields. */
    private long uname(long buf) {
        String[] f = {"Linux", "mmulab", "6.6.0-mmulab", "#1 SMP PREEMPT_DYNAMIC", "x86_64", "(none)"};
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

    /** rt_sigaction: struct k_sigaction {handler, flags, restorer, mask}. */
    private long rtSigaction(int sig, long act, long oact, long sigsetsize) {
        if (sigsetsize != 8) {
            return -Errno.EINVAL;
        }
        if (sig < 1 || sig > Task.NSIG) {
            return -Errno.EINVAL;
        }
        if (act != 0 && (sig == Kernel.SIGKILL || sig == Kernel.SIGSTOP)) {
            return -Errno.EINVAL;
        }
        Task t = k.task();
        long[] nw = null;
        if (act != 0) {
            byte[] b = new byte[32];
            if (k.userAccess().copyFromUser(b, 0, act, 32) != 0) {
                return -Errno.EFAULT;
            }
            nw = new long[] {le64(b, 0), le64(b, 8), le64(b, 16), le64(b, 24) & ~UNBLOCKABLE};
        }
        long[] old = t.sigactions[sig].clone();
        if (nw != null) {
            t.sigactions[sig] = nw;
        }
        if (oact != 0) {
            byte[] b = new byte[32];
            for (int i = 0; i < 4; i++) {
                put64(b, 8 * i, old[i]);
            }
            if (k.userAccess().copyToUser(oact, b, 0, 32) != 0) {
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
