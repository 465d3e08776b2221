package org.mmulab.kernel;

import org.mmulab.emulator.cpu.CpuState;
import org.mmulab.kernel.mm.AddressSpace;
import org.mmulab.kernel.mm.MmStruct;

/**
 * struct task_struct (include/linux/sched.h, Linux 6.x), reduced to what the guest images need: one
 * thread of a thread group ({@link SignalStruct}), with its tid, the mm it runs in (shared by CLONE_VM),
 * the signal actions (a table shared by CLONE_SIGHAND), its own signal mask and pending set
 * ({@link SignalQueue}), clear_child_tid and the robust-futex list, TLS descriptors, and its saved
 * user registers while it is not on a vCPU (thread.regs plus the FPU state: {@link #regs}).
 *
 * <p>Scheduler state (kernel/sched/core.c lite, {@link Sched}): a task is RUNNING on a vCPU or on the run
 * queue, BLOCKED with a {@link Resume} continuation that completes its system call when it is woken,
 * or DEAD. A blocked task holds no Java stack: the vCPU that blocked it went on with another task.
 */
public final class Task {
    public static final int NSIG = 64;

    /** Scheduler states: runnable (on a vCPU or queued), blocked in a system call, exited. */
    static final int RUNNING = 0, BLOCKED = 1, DEAD = 2;

    /** The rest of a blocking system call, run on the vCPU that picks the task up after its wake-up. */
    @FunctionalInterface
    interface Resume {
        /** The syscall's result, or {@link Sched#BLOCK} to wait again (the continuation stays set). */
        long resume(Kernel k, org.mmulab.emulator.machine.Vcpu cpu, Task t);
    }

    /** The thread id (the pid for a group leader). */
    public final int pid;
    /** The thread group (process) this thread belongs to. */
    final SignalStruct sig;
    public String comm = "";
    public MmStruct mm;
    /** task_struct's vmacache (mm/vmacache.c, Linux 3.15-6.0): the VMA of the last page fault, checked by MmStruct.vmacacheValid. */
    org.mmulab.kernel.mm.VmArea vmacache;
    AddressSpace exe;
    /** struct sighand_struct: k_sigaction per signal 1..64 (handler, flags, restorer, mask); shared by CLONE_SIGHAND. */
    long[][] sigactions;
    long sigmask;
    /** Signals sent to this thread and not yet taken (task_struct.pending; the process's are in {@link SignalStruct}). */
    final SigPending pending = new SigPending();
    /** real_blocked: the mask rt_sigtimedwait replaced while it waits (its set unblocked), else 0. */
    long realBlocked;
    long clearChildTid;
    boolean exited;
    /** Status a shell reports: exit code, or 128 + signal. */
    int exitStatus;
    /** The signal that killed it, or 0. */
    int termSignal;
    /** Set by an allocation failure in kernel context: the OOM killer's SIGKILL, acted on at return. */
    boolean oomKillPending;
    /**
     * Why exec failed after the point of no return for a reason other than running out of frames (an
     * ENOMEM/EFAULT from mapping the image or building the stack): bprm_execve then forces SIGSEGV.
     */
    String execFailure;
    /** An i386 (ELF32) process: TIF_IA32 / in_ia32_syscall. */
    boolean ia32;
    /** thread.tls_array: set_thread_area's raw TLS descriptors (GDT_ENTRY_TLS_MIN..MAX), 0 = empty. */
    final long[] tls = new long[Tls.TLS_ENTRIES];

    /** files_struct: the fd table (shared by CLONE_FILES, copied by fork). */
    public org.mmulab.kernel.fs.FdTable files;
    /** fs_struct: root and working directory (shared by CLONE_FS). */
    public org.mmulab.kernel.fs.FsContext fs;
    /** The mask sigsuspend/ppoll replaced, restored when the call returns (set_restore_sigmask), or -1. */
    long savedSigmask = -1;
    /** orig_ax: the number of the system call the task is in (for restarting it), -1 outside one. */
    long origAx = -1;
    /**
     * restart_block.fn: how restart_syscall resumes the call a signal interrupted with
     * -ERESTART_RESTARTBLOCK (a sleep to the same expiry); null is do_no_restart_syscall (-EINTR).
     */
    Resume restartBlock;
    /** fs->umask. */
    int umask = 0022;
    /** set_robust_list's head and its length (walked at exit by {@link Futex#exitRobustList}). */
    long robustList, robustListLen;
    /** The image's absolute path: what /proc/self/exe reads. */
    String exePath = "";
    /** mm->exe_file: what following /proc/self/exe opens (null: follow exePath as text). */
    org.mmulab.kernel.fs.Dentry exeDentry;
    /** sigaltstack: sas_ss_sp, sas_ss_size, sas_ss_flags (SS_AUTODISARM only). */
    long sasSp, sasSize;
    int sasFlags;

    // ---- scheduler (guarded by Sched's lock) ------------------------------------------------------

    /** RUNNING, BLOCKED or DEAD. */
    int state = RUNNING;
    /** The user registers while the task is off every vCPU (saved at a context switch). */
    final CpuState regs = new CpuState();
    /** The id of the vCPU running the task, or -1 (queued, blocked or dead). */
    int onCpu = -1;
    /** The continuation of the system call the task is blocked in (or was woken from), or null. */
    Resume resume;
    /** What a waker left for {@link #resume} (a futex wake: 0; a timeout: -ETIMEDOUT; a signal: -EINTR). */
    long wakeResult;
    /** Absolute deadline (ns of the guest's monotonic clock) of a timed block, or Long.MAX_VALUE. */
    long deadline = Long.MAX_VALUE;
    /** The block may be cut short by a signal (TASK_INTERRUPTIBLE: futex wait, wait4; not a vfork parent). */
    boolean interruptible;
    /** What the task waits for, for the deadlock report. */
    String waitingFor = "";
    /** SIGKILL from a group exit or a fatal signal elsewhere in the group: the task exits at its next kernel entry. */
    volatile boolean killPending;
    /** A vfork child: the parent blocked until this task exits (mm_release's vfork_done). */
    Task vforkParent;
    /** CPU time spent on a vCPU before the last switch-in (se.sum_exec_runtime), in ns of the vCPU's cycles. */
    long cpuNanos;
    /** The vCPU's CPU time (ns) when the task was last switched in. */
    long onCpuSinceNanos;
    /** sched_setaffinity's mask (bit per vCPU); every vCPU by default. */
    long cpusAllowed = -1L;

    // ---- fault-loop detection (per task: the same fault retried without progress is a kernel bug) ----

    long lastFaultAddr = -1, lastFaultRip = -1, lastFaultErr = -1, lastFaultInstructions = -1;
    int repeatedFaults;

    Task(int pid, SignalStruct sig) {
        this.pid = pid;
        this.sig = sig;
        this.sigactions = new long[NSIG + 1][];
        for (int i = 0; i <= NSIG; i++) {
            sigactions[i] = new long[4];
        }
    }

    /** The thread-group id: what getpid returns. */
    public int tgid() {
        return sig.tgid;
    }

    /** Whether this is an i386 (ELF32) process. */
    public boolean ia32() {
        return ia32;
    }

    public int exitStatus() {
        return exitStatus;
    }

    public int termSignal() {
        return termSignal;
    }

    public boolean exited() {
        return exited;
    }

    public long sigmask() {
        return sigmask;
    }

    /** The recorded handler address (SIG_DFL 0, SIG_IGN 1) for {@code sig}. */
    public long sigHandler(int sig) {
        return sigactions[sig][0];
    }

    @Override
    public String toString() {
        return comm + "[" + pid + "]";
    }
}
