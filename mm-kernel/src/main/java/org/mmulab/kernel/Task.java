package org.mmulab.kernel;

import org.mmulab.kernel.mm.AddressSpace;
import org.mmulab.kernel.mm.MmStruct;

/**
 * struct task_struct, reduced to what a single-threaded process needs today: ids, comm, the mm, the
 * executable it runs, signal dispositions, mask and pending signals ({@link SignalQueue}),
 * clear_child_tid, and how it ended.
 */
public final class Task {
    public static final int NSIG = 64;

    public final int pid;
    public String comm = "";
    public MmStruct mm;
    /** task_struct's vmacache (mm/vmacache.c, Linux 3.15-6.0): the VMA of the last page fault, checked by MmStruct.vmacacheValid. */
    org.mmulab.kernel.mm.VmArea vmacache;
    AddressSpace exe;
    /** struct k_sigaction per signal 1..64: handler, flags, restorer, mask. */
    final long[][] sigactions = new long[NSIG + 1][];
    long sigmask;
    /** Signals sent and not yet taken, one bit per signal (SignalQueue), and each one's si_code. */
    long pendingSignals;
    final int[] pendingCode = new int[NSIG + 1];
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

    /** signal->rlim (SysProc), created on first use from INIT_RLIMITS. */
    long[][] rlimits;
    /** fs->umask. */
    int umask = 0022;
    /** set_robust_list's head (recorded; walked at exit only by a futex implementation). */
    long robustList;
    /** The image's absolute path: what /proc/self/exe reads. */
    String exePath = "";
    /** sigaltstack: sas_ss_sp, sas_ss_size, sas_ss_flags (SS_AUTODISARM only). */
    long sasSp, sasSize;
    int sasFlags;

    Task(int pid) {
        this.pid = pid;
        for (int i = 0; i <= NSIG; i++) {
            sigactions[i] = new long[4];
        }
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
}
