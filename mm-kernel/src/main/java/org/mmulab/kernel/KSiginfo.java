package org.mmulab.kernel;

/**
 * struct kernel_siginfo of a queued signal (include/linux/signal_types.h, Linux 6.x) and its copy to
 * user space (kernel/signal.c copy_siginfo_to_user, copy_siginfo_to_user32): signo, si_code, and the
 * union member siginfo_layout picks for it. {@link #KILL}: _kill {si_pid, si_uid} (kill, tkill,
 * tgkill); {@link #CHLD}: _sigchld {si_pid, si_uid, si_status, si_utime, si_stime} (do_notify_parent);
 * {@link #FAULT}: _sigfault {si_addr}. On x86-64 the union starts at byte 16 (padded to 8) and
 * clock_t is 8 bytes; in the ia32 compat_siginfo it starts at byte 12 and compat_clock_t is 4 bytes.
 */
record KSiginfo(int layout, int signo, int code, long addr, int pid, int uid, int status, long utime, long stime) {
    static final int KILL = 0, CHLD = 1, FAULT = 2;

    /** kill/tkill/tgkill's info: SI_USER or SI_TKILL with the sender's tgid and uid. */
    static KSiginfo kill(int signo, int code, int pid, int uid) {
        return new KSiginfo(KILL, signo, code, 0, pid, uid, 0, 0, 0);
    }

    /** do_notify_parent's info: CLD_EXITED/CLD_KILLED/CLD_DUMPED, the child's tgid, uid, status and times (clock_t ticks). */
    static KSiginfo chld(int signo, int code, int pid, int uid, int status, long utime, long stime) {
        return new KSiginfo(CHLD, signo, code, 0, pid, uid, status, utime, stime);
    }

    /** force_sig_fault's info: the faulting address. */
    static KSiginfo fault(int signo, int code, long addr) {
        return new KSiginfo(FAULT, signo, code, addr, 0, 0, 0, 0, 0);
    }

    /** copy_siginfo_to_user (64-bit, {@code compat} false) or copy_siginfo_to_user32 at {@code off} of {@code b}. */
    void write(byte[] b, int off, boolean compat) {
        Le.put32(b, off, signo);
        Le.put32(b, off + 4, 0); // si_errno
        Le.put32(b, off + 8, code);
        int u = off + (compat ? 12 : 16);
        if (layout == FAULT) {
            if (compat) {
                Le.put32(b, u, addr);
            } else {
                Le.put64(b, u, addr);
            }
            return;
        }
        Le.put32(b, u, pid);
        Le.put32(b, u + 4, uid);
        if (layout == CHLD) {
            Le.put32(b, u + 8, status);
            if (compat) {
                Le.put32(b, u + 12, utime);
                Le.put32(b, u + 16, stime);
            } else {
                Le.put64(b, u + 16, utime);
                Le.put64(b, u + 24, stime);
            }
        }
    }
}
