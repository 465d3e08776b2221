package org.mmulab.kernel;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

import org.mmulab.emulator.cpu.CpuState;
import org.mmulab.emulator.machine.Vcpu;
import org.mmulab.kernel.mm.MmStruct;
import org.mmulab.kernel.mm.Mmap;

/**
 * The x86-64 and ia32 system-call tables (arch/x86/entry/syscalls/syscall_64.tbl, syscall_32.tbl) for
 * what guest images use. Arguments in RDI, RSI, RDX, R10, R8, R9; the result or -errno in RAX. The
 * tables dispatch by subsystem as Linux's do: files to {@link SysFsTable} (the VFS: fs/read_write.c,
 * fs/open.c, fs/namei.c, fs/pipe.c, fs/select.c, fs/exec.c; fds 0-2 of the first process are the
 * console as pipes, so terminal ioctls give -ENOTTY as on a pipe), clocks and
 * sleeps to {@link SysTime} (kernel/time/), memory to {@link Mmap} (mm/), signal calls to {@link SysSignal}
 * and the rest (identity, arch_prctl, TLS) here. Anything else is -ENOSYS and counted by
 * number.
 */
public final class Syscalls {
    public static final int NR_READ = 0, NR_WRITE = 1, NR_CLOSE = 3, NR_MMAP = 9, NR_MPROTECT = 10, NR_MUNMAP = 11,
            NR_BRK = 12, NR_RT_SIGACTION = 13, NR_RT_SIGPROCMASK = 14, NR_RT_SIGRETURN = 15, NR_IOCTL = 16, NR_WRITEV = 20,
            NR_SCHED_YIELD = 24, NR_MADVISE = 28, NR_NANOSLEEP = 35, NR_GETPID = 39, NR_EXIT = 60, NR_UNAME = 63,
            NR_GETTIMEOFDAY = 96, NR_TIME = 201, NR_CLOCK_GETRES = 229,
            NR_GETUID = 102, NR_GETGID = 104, NR_GETEUID = 107, NR_GETEGID = 108, NR_GETPPID = 110,
            NR_ARCH_PRCTL = 158, NR_GETTID = 186, NR_SET_TID_ADDRESS = 218, NR_CLOCK_GETTIME = 228,
            NR_EXIT_GROUP = 231, NR_CLOCK_NANOSLEEP = 230;

    private static final int MAX_NR = 512;

    private final Kernel k;
    private final SysFsTable fs;
    private final SysTime time;
    private final SysProc proc;
    private final SysSignal signals;
    /** Per-number counts; updated by every vCPU, so atomic. */
    private final AtomicLongArray counts = new AtomicLongArray(MAX_NR);
    private final TreeMap<Long, Long> unknown = new TreeMap<>();
    private final AtomicLong total = new AtomicLong();

    Syscalls(Kernel k) {
        this.k = k;
        this.fs = new SysFsTable(k);
        this.time = new SysTime(k);
        this.proc = new SysProc(k);
        this.signals = new SysSignal(k);
    }

    SysFsTable fsTable() {
        return fs;
    }

    public long total() {
        return total.get();
    }

    public TreeMap<Long, Long> unknownByNumber() {
        synchronized (unknown) {
            return new TreeMap<>(unknown);
        }
    }

    private void countUnknown(long nr) {
        synchronized (unknown) {
            unknown.merge(nr, 1L, Long::sum);
        }
    }

    public Map<String, Long> countsByName() {
        Map<String, Long> m = new LinkedHashMap<>();
        for (int i = 0; i < MAX_NR; i++) {
            if (counts.get(i) != 0 && name(i) != null) {
                m.put(name(i), counts.get(i));
            }
        }
        for (int i = 0; i < MAX_NR32; i++) {
            if (counts32.get(i) != 0 && name32(i) != null) {
                m.put("ia32:" + name32(i), counts32.get(i));
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
            case NR_CLOCK_GETRES -> "clock_getres";
            case NR_CLOCK_NANOSLEEP -> "clock_nanosleep";
            case NR_GETTIMEOFDAY -> "gettimeofday";
            case NR_TIME -> "time";
            case NR_EXIT_GROUP -> "exit_group";
            case SyscallRestart.NR_RESTART_SYSCALL -> "restart_syscall";
            case SysSignal.NR_RT_SIGPENDING -> "rt_sigpending";
            case SysSignal.NR_RT_SIGTIMEDWAIT -> "rt_sigtimedwait";
            default -> SysFsTable.name64(nr) != null ? SysFsTable.name64(nr) : SysProc.name64(nr);
        };
    }

    /**
     * The 64-bit entry (arch/x86/entry/syscall_64.c do_syscall_64): the number is an {@code int}, so the
     * upper half of RAX is ignored, and it indexes the table as an unsigned int; anything past the table
     * (including -1, and the x32 numbers: no CONFIG_X86_X32_ABI) is -ENOSYS.
     */
    long dispatch(Vcpu cpu, boolean int80) {
        long[] r = cpu.state.gpr;
        total.incrementAndGet();
        if (int80) {
            return dispatchIa32(cpu, r);
        }
        int nr = (int) r[CpuState.RAX];
        if (nr >= 0 && nr < MAX_NR) {
            counts.incrementAndGet(nr);
        }
        long a0 = r[CpuState.RDI], a1 = r[CpuState.RSI], a2 = r[CpuState.RDX], a3 = r[CpuState.R10],
                a4 = r[CpuState.R8], a5 = r[CpuState.R9];
        MmStruct mm = k.mm();
        UserAccess ua = k.userAccess();
        switch (nr) {
            case NR_READ:
                return fs.read((int) a0, a1, a2);
            case NR_WRITE:
                return fs.write((int) a0, a1, a2);
            case NR_WRITEV:
                return fs.writev((int) a0, a1, a2, 16);
            case NR_CLOSE:
                return fs.close((int) a0);
            case NR_EXIT:
                k.doExitThread((int) (a0 & 0xff));
                return 0;
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
                return time.clockGettime(cpu, (int) a0, a1, true);
            case NR_CLOCK_GETRES:
                return time.clockGetres((int) a0, a1, true);
            case NR_GETTIMEOFDAY:
                return time.gettimeofday(cpu, a0, true);
            case NR_TIME:
                return time.time(cpu, a0, true);
            case NR_NANOSLEEP:
                return time.nanosleep(cpu, a0, a1, true);
            case NR_CLOCK_NANOSLEEP: // glibc's nanosleep and sleep(1) call clock_nanosleep
                return time.clockNanosleep64(cpu, (int) a0, (int) a1, a2, a3, true);
            case NR_GETPID:
                return k.current().tgid();
            case NR_GETTID:
                return k.current().pid;
            case NR_GETPPID:
                return getppid();
            case NR_GETUID:
            case NR_GETGID:
            case NR_GETEUID:
            case NR_GETEGID:
                return k.config().uid();
            case NR_SCHED_YIELD:
                return schedYield();
            case NR_UNAME:
                return uname(a0, "x86_64");
            case NR_ARCH_PRCTL:
                return archPrctl(cpu, (int) a0, a1);
            case NR_SET_TID_ADDRESS:
                k.current().clearChildTid = a0;
                return k.current().pid;
            case SysClone.NR_CLONE:
                return k.clones().clone(cpu, a0, a1, a2, a3, a4);
            case SysClone.NR_FORK:
                return k.clones().fork(cpu);
            case SysClone.NR_VFORK:
                return k.clones().vfork(cpu);
            case SysClone.NR_CLONE3:
                return -Errno.ENOSYS; // glibc 2.34+ falls back to clone
            case SysExit.NR_WAIT4:
                return k.exits().wait4(cpu, (int) a0, a1, (int) a2, a3, false);
            case SysExit.NR_WAITID:
                return k.exits().waitid(cpu, (int) a0, (int) a1, a2, (int) a3, a4, false);
            case Futex.NR_FUTEX:
                return k.futex().futex(cpu, a0, (int) a1, (int) a2, a3, a4, (int) a5, true);
            case NR_IOCTL:
                return fs.ioctl((int) a0, (int) a1, a2);
            case NR_RT_SIGACTION:
                return signals.rtSigaction((int) a0, a1, a2, a3, 8);
            case NR_RT_SIGPROCMASK:
                return signals.rtSigprocmask((int) a0, a1, a2, a3);
            case SyscallRestart.NR_RESTART_SYSCALL:
                return SyscallRestart.restartSyscall(k, cpu, k.current());
            case SysSignal.NR_RT_SIGPENDING:
                return signals.rtSigpending(a0, a1);
            case SysSignal.NR_RT_SIGTIMEDWAIT:
                return signals.rtSigtimedwait(cpu, a0, a1, a2, a3, false, true);
            case NR_RT_SIGRETURN: {
                Long rax = Signals.rtSigreturn(k, k.current(), cpu);
                if (rax == null) {
                    k.forceSigFault(Kernel.SIGSEGV, null); // signal_fault: a bad frame
                    return 0;
                }
                return rax;
            }
            // mm/mremap.c, mincore.c, mlock.c (vma-ops): mremap, mincore, mlock, munlock, mlockall, munlockall, mlock2
            case 25:
                return k.mmap().mremap(mm, a0, a1, a2, (int) a3, a4);
            case 27:
                return k.mmap().mincoreOps().mincore(mm, a0, a1, a2, (va, b, n) -> ua.copyToUser(va, b, 0, n) == 0);
            case 149:
                return k.mmap().mlockOps().mlock(mm, a0, a1, 0);
            case 150:
                return k.mmap().mlockOps().munlock(mm, a0, a1);
            case 151:
                return k.mmap().mlockOps().mlockall(mm, (int) a0);
            case 152:
                return k.mmap().mlockOps().munlockall(mm);
            case 325:
                return k.mmap().mlockOps().mlock(mm, a0, a1, (int) a2);
            case 310, 311: // process_vm_readv/writev of any task
                return SysProcessVm.rw(k, mm, (int) a0, a1, a2, a3, a4, a5, nr == 311, false); // pid_t
            default: {
                long rv = fs.dispatch64(cpu, nr, a0, a1, a2, a3, a4, a5);
                if (rv == SysProc.NOT_HANDLED) {
                    rv = proc.dispatch64(cpu, nr, a0, a1, a2, a3, a4);
                }
                if (rv != SysProc.NOT_HANDLED) {
                    return rv;
                }
                countUnknown(nr);
                return -Errno.ENOSYS;
            }
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
            NR32_EXIT_GROUP = 252, NR32_SET_TID_ADDRESS = 258, NR32_CLOCK_GETTIME = 265, NR32_CLOCK_GETRES = 266,
            NR32_CLOCK_GETTIME64 = 403, NR32_CLOCK_GETRES_TIME64 = 406, NR32_CLOCK_NANOSLEEP_TIME64 = 407,
            NR32_CLOCK_NANOSLEEP = 267;
    private static final int MAX_NR32 = 512;
    private final AtomicLongArray counts32 = new AtomicLongArray(MAX_NR32);

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
            case NR32_CLOCK_GETRES -> "clock_getres";
            case NR32_CLOCK_GETRES_TIME64 -> "clock_getres_time64";
            case NR32_CLOCK_NANOSLEEP_TIME64 -> "clock_nanosleep_time64";
            case NR32_CLOCK_NANOSLEEP -> "clock_nanosleep";
            case SyscallRestart.NR32_RESTART_SYSCALL -> "restart_syscall";
            case SysSignal.NR32_RT_SIGPENDING -> "rt_sigpending";
            case SysSignal.NR32_RT_SIGTIMEDWAIT -> "rt_sigtimedwait";
            case SysSignal.NR32_RT_SIGTIMEDWAIT_TIME64 -> "rt_sigtimedwait_time64";
            default -> SysFsTable.name32(nr) != null ? SysFsTable.name32(nr) : SysProc.name32(nr);
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
            counts32.incrementAndGet((int) nr);
        }
        MmStruct mm = k.mm();
        return switch ((int) Math.min(nr, 1024)) {
            case NR32_EXIT -> {
                k.doExitThread((int) (b & 0xff));
                yield 0;
            }
            case NR32_EXIT_GROUP -> {
                k.doExit((int) (b & 0xff), 0);
                yield 0;
            }
            case SysClone.NR32_CLONE -> k.clones().clone(cpu, b, c, d, di, si); // CLONE_BACKWARDS: tls before child_tid
            case SysClone.NR32_FORK -> k.clones().fork(cpu);
            case SysClone.NR32_VFORK -> k.clones().vfork(cpu);
            case SysClone.NR32_CLONE3 -> -Errno.ENOSYS;
            case SysExit.NR32_WAITPID -> k.exits().wait4(cpu, (int) b, c, (int) d, 0, true);
            case SysExit.NR32_WAIT4 -> k.exits().wait4(cpu, (int) b, c, (int) d, si, true);
            case SysExit.NR32_WAITID -> k.exits().waitid(cpu, (int) b, (int) c, d, (int) si, di, true);
            case Futex.NR32_FUTEX -> k.futex().futex(cpu, b, (int) c, (int) d, si, di, (int) bp, false);
            case Futex.NR32_FUTEX_TIME64 -> k.futex().futex(cpu, b, (int) c, (int) d, si, di, (int) bp, true);
            case NR32_READ -> fs.read((int) b, c, d);
            case NR32_WRITE -> fs.write((int) b, c, d);
            case NR32_WRITEV -> fs.writev((int) b, c, d, 8);
            case NR32_GETPID -> k.current().tgid();
            case NR32_GETTID -> k.current().pid;
            case NR32_GETPPID -> getppid();
            case NR32_GETUID, NR32_GETGID, NR32_GETEUID, NR32_GETEGID -> k.config().uid() & 0xffff;
            case NR32_GETUID32, NR32_GETGID32, NR32_GETEUID32, NR32_GETEGID32 -> k.config().uid();
            case NR32_SCHED_YIELD -> schedYield();
            case NR32_BRK -> k.mmap().brk(mm, b);
            case NR32_MMAP2 -> mmapPgoff(mm, b, c, (int) d, (int) si, (int) di, bp);
            case NR32_OLD_MMAP -> oldMmap(mm, b);
            case NR32_MUNMAP -> k.mmap().doMunmap(mm, b, c);
            case NR32_MPROTECT -> k.mmap().mprotect(mm, b, c, (int) d);
            case NR32_MADVISE -> k.mmap().madvise(mm, b, c, (int) d);
            // vma-ops: mremap, mincore, mlock, munlock, mlockall, munlockall, mlock2
            case 163 -> k.mmap().mremap(mm, b, c, d, (int) si, di);
            case 218 -> k.mmap().mincoreOps().mincore(mm, b, c, d,
                    (va, buf, n) -> k.userAccess().copyToUser(va, buf, 0, n) == 0);
            case 150 -> k.mmap().mlockOps().mlock(mm, b, c, 0);
            case 151 -> k.mmap().mlockOps().munlock(mm, b, c);
            case 152 -> k.mmap().mlockOps().mlockall(mm, (int) b);
            case 153 -> k.mmap().mlockOps().munlockall(mm);
            case 376 -> k.mmap().mlockOps().mlock(mm, b, c, (int) d);
            case 347, 348 -> SysProcessVm.rw(k, mm, (int) b, c, d, si, di, bp, nr == 348, true);
            case NR32_LLSEEK -> fs.llseek32((int) b, c, d, si, (int) di);
            case NR32_IOCTL -> fs.ioctl((int) b, (int) c, d);
            case NR32_UNAME -> uname(b, k.config().paging() == KernelConfig.PagingMode.PAE ? "i686" : "x86_64");
            case NR32_CLOCK_GETTIME -> time.clockGettime(cpu, (int) b, c, false);
            case NR32_CLOCK_GETRES -> time.clockGetres((int) b, c, false);
            case NR32_GETTIMEOFDAY -> time.gettimeofday(cpu, b, false);
            case NR32_TIME -> time.time(cpu, b, false);
            case NR32_CLOCK_GETTIME64 -> time.clockGettime(cpu, (int) b, c, true);
            case NR32_CLOCK_GETRES_TIME64 -> time.clockGetres((int) b, c, true);
            case NR32_NANOSLEEP -> time.nanosleep(cpu, b, c, false);
            case NR32_CLOCK_NANOSLEEP_TIME64 -> time.clockNanosleep64(cpu, (int) b, (int) c, d, si, true);
            case NR32_CLOCK_NANOSLEEP -> time.clockNanosleep64(cpu, (int) b, (int) c, d, si, false); // old_timespec32
            case NR32_SET_TID_ADDRESS -> {
                k.current().clearChildTid = b;
                yield k.current().pid;
            }
            case NR32_SET_THREAD_AREA -> Tls.setThreadArea(k, cpu, b, false);
            case NR32_GET_THREAD_AREA -> Tls.getThreadArea(k, b);
            case NR32_RT_SIGACTION -> signals.rtSigaction((int) b, c, d, si, 4);
            case NR32_RT_SIGPROCMASK -> signals.rtSigprocmask((int) b, c, d, si);
            case SyscallRestart.NR32_RESTART_SYSCALL -> SyscallRestart.restartSyscall(k, cpu, k.current());
            case SysSignal.NR32_RT_SIGPENDING -> signals.rtSigpending(b, c);
            case SysSignal.NR32_RT_SIGTIMEDWAIT -> signals.rtSigtimedwait(cpu, b, c, d, si, true, false);
            case SysSignal.NR32_RT_SIGTIMEDWAIT_TIME64 -> signals.rtSigtimedwait(cpu, b, c, d, si, true, true);
            case NR32_SIGRETURN, NR32_RT_SIGRETURN -> {
                Long eax = SignalsIa32.sigreturn(k, k.current(), cpu, nr == NR32_RT_SIGRETURN);
                if (eax == null) {
                    k.forceSigFault(Kernel.SIGSEGV, null); // signal_fault: a bad frame
                    yield 0;
                }
                yield eax;
            }
            default -> {
                long rv = nr < MAX_NR32 ? fs.dispatch32(cpu, (int) nr, b, c, d, si, di, bp) : SysProc.NOT_HANDLED;
                if (rv == SysProc.NOT_HANDLED && nr < MAX_NR32) {
                    rv = proc.dispatch32(cpu, (int) nr, b, c, d, si, di);
                }
                if (rv != SysProc.NOT_HANDLED) {
                    yield rv;
                }
                countUnknown(nr | (1L << 32));
                yield -Errno.ENOSYS;
            }
        }; // regs->ax gets the sign-extended long result; a 32-bit task only sees EAX
    }

    /** ia32 mmap_pgoff (mmap2): the offset is in pages, so no alignment check. */
    private long mmapPgoff(MmStruct mm, long addr, long len, int prot, int flags, int fd, long pgoff) {
        if ((flags & Mmap.MAP_ANONYMOUS) == 0) {
            return fs.files().maps.mmapFile(mm, addr, len, prot, flags, fd, pgoff);
        }
        return k.mmap().doMmap(mm, null, addr, len, prot, flags, pgoff, null);
    }

    /** old_mmap (#90): struct mmap_arg_struct {addr, len, prot, flags, fd, offset} of u32; offset page aligned. */
    private long oldMmap(MmStruct mm, long argp) {
        byte[] a = new byte[24];
        if (k.userAccess().copyFromUser(a, 0, argp, 24) != 0) {
            return -Errno.EFAULT;
        }
        long off = Le.le32(a, 20);
        if ((off & 4095) != 0) {
            return -Errno.EINVAL;
        }
        return mmapPgoff(mm, Le.le32(a, 0), Le.le32(a, 4), (int) Le.le32(a, 8), (int) Le.le32(a, 12), (int) Le.le32(a, 16), off >>> 12);
    }

    /** ksys_mmap_pgoff: a file mapping goes through the fd's page cache ({@link SysFile#mmapFile}). */
    private long mmap(MmStruct mm, long addr, long len, int prot, int flags, int fd, long off) {
        if ((off & 4095) != 0) {
            return -Errno.EINVAL;
        }
        if ((flags & Mmap.MAP_ANONYMOUS) == 0) {
            return fs.files().maps.mmapFile(mm, addr, len, prot, flags, fd, off >>> 12);
        }
        return k.mmap().doMmap(mm, null, addr, len, prot, flags, off >>> 12, null);
    }

    // ---- identity -----------------------------------------------------------------------------

    /** getppid: the parent process's tgid; 0 for init (its parent is outside the pid namespace). */
    private long getppid() {
        synchronized (k.sched().lock) {
            SignalStruct p = k.current().sig.parent;
            return p == null ? 0 : p.tgid;
        }
    }

    /** sched_yield: the task goes to the back of the run queue at the return from the call. */
    private long schedYield() {
        if (k.sched().hasQueued()) {
            k.ctx().needResched = true;
        }
        return 0;
    }

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
}
