package org.mmulab.kernel;

import org.mmulab.emulator.cpu.CpuState;
import org.mmulab.emulator.machine.Vcpu;

/**
 * sigaltstack and the alternate-stack rules of signal delivery (kernel/signal.c do_sigaltstack,
 * __save_altstack, restore_altstack; include/linux/sched/signal.h on_sig_stack, sas_ss_flags;
 * arch/x86/kernel/signal.c get_sigframe). stack_t is {ss_sp, int ss_flags, size_t ss_size}: 24 bytes,
 * or 12 for compat. MINSIGSTKSZ is 2048 on x86.
 */
final class SigAltStack {
    static final int SS_ONSTACK = 1, SS_DISABLE = 2, SS_AUTODISARM = 1 << 31;
    static final long MINSIGSTKSZ = 2048, SA_ONSTACK = 0x08000000L;

    private SigAltStack() {
    }

    /** __on_sig_stack: sp inside (ss_sp, ss_sp + ss_size]. */
    static boolean within(Task t, long sp) {
        return Long.compareUnsigned(sp, t.sasSp) > 0 && Long.compareUnsigned(sp - t.sasSp, t.sasSize) <= 0;
    }

    /** on_sig_stack: never while SS_AUTODISARM is set. */
    static boolean onSigStack(Task t, long sp) {
        return (t.sasFlags & SS_AUTODISARM) == 0 && within(t, sp);
    }

    static int sasSsFlags(Task t, long sp) {
        if (t.sasSize == 0) {
            return SS_DISABLE;
        }
        return onSigStack(t, sp) ? SS_ONSTACK : 0;
    }

    /**
     * The stack pointer frame setup starts from (get_sigframe's first steps): below the red zone for a
     * 64-bit frame, or the top of the alternate stack when the handler has SA_ONSTACK and the task is
     * not already on it.
     */
    static long frameStart(Task t, long sp, long saFlags, boolean ia32) {
        long p = ia32 ? sp : sp - 128;
        if ((saFlags & SA_ONSTACK) != 0 && sasSsFlags(t, p) == 0) {
            p = t.sasSp + t.sasSize;
        }
        return p;
    }

    /** The overflow check at the end of get_sigframe: a frame that would leave the alternate stack fails. */
    static boolean overflows(Task t, long regsSp, long start, long frame) {
        boolean nested = onSigStack(t, regsSp);
        boolean entering = start == t.sasSp + t.sasSize && t.sasSize != 0 && !nested;
        return (nested || entering) && !within(t, frame);
    }

    /** __save_altstack into {@code b} at {@code off} (word 8 or 4), then SS_AUTODISARM's reset. */
    static void save(Task t, long regsSp, byte[] b, int off, int word) {
        int flags = sasSsFlags(t, regsSp) | (t.sasFlags & SS_AUTODISARM);
        if (word == 8) {
            Le.put64(b, off, t.sasSp);
            Le.put32(b, off + 8, flags);
            Le.put64(b, off + 16, t.sasSize);
        } else {
            Le.put32(b, off, t.sasSp);
            Le.put32(b, off + 4, flags);
            Le.put32(b, off + 8, t.sasSize);
        }
        if ((t.sasFlags & SS_AUTODISARM) != 0) {
            t.sasSp = 0;
            t.sasSize = 0;
            t.sasFlags = SS_DISABLE;
        }
    }

    /** restore_altstack: do_sigaltstack with the saved stack_t; every error but EFAULT is squashed. */
    static void restore(Task t, long sp, byte[] b, int off, int word) {
        long ssp = word == 8 ? Le.le64(b, off) : Le.le32(b, off);
        int flags = (int) Le.le32(b, off + (word == 8 ? 8 : 4));
        long size = word == 8 ? Le.le64(b, off + 16) : Le.le32(b, off + 8);
        set(t, sp, ssp, flags, size);
    }

    /** The "ss" half of do_sigaltstack; 0 or -errno. */
    private static long set(Task t, long sp, long ssp, int flags, long size) {
        if (onSigStack(t, sp)) {
            return -Errno.EPERM;
        }
        int mode = flags & ~SS_AUTODISARM;
        if (mode != SS_DISABLE && mode != SS_ONSTACK && mode != 0) {
            return -Errno.EINVAL;
        }
        if (mode == SS_DISABLE) {
            size = 0;
            ssp = 0;
        } else if (Long.compareUnsigned(size, MINSIGSTKSZ) < 0) {
            return -Errno.ENOMEM;
        }
        t.sasSp = ssp;
        t.sasSize = size;
        t.sasFlags = flags;
        return 0;
    }

    /** sigaltstack(uss, uoss) for the 64-bit ({@code compat} false) or compat stack_t. */
    static long sigaltstack(Kernel k, Vcpu cpu, long uss, long uoss, boolean compat) {
        Task t = k.current();
        int word = compat ? 4 : 8;
        int size = compat ? 12 : 24;
        long sp = cpu.state.gpr[CpuState.RSP];
        if (compat) {
            sp &= 0xffff_ffffL;
        }
        byte[] nw = null;
        if (uss != 0) {
            nw = new byte[size];
            if (k.userAccess().copyFromUser(nw, 0, uss, size) != 0) {
                return -Errno.EFAULT;
            }
        }
        byte[] old = new byte[size];
        if (word == 8) {
            Le.put64(old, 0, t.sasSp);
            Le.put32(old, 8, sasSsFlags(t, sp) | (t.sasFlags & SS_AUTODISARM));
            Le.put64(old, 16, t.sasSize);
        } else {
            Le.put32(old, 0, t.sasSp);
            Le.put32(old, 4, sasSsFlags(t, sp) | (t.sasFlags & SS_AUTODISARM));
            Le.put32(old, 8, t.sasSize);
        }
        if (nw != null) {
            long ssp = word == 8 ? Le.le64(nw, 0) : Le.le32(nw, 0);
            int flags = (int) Le.le32(nw, word == 8 ? 8 : 4);
            long ssize = word == 8 ? Le.le64(nw, 16) : Le.le32(nw, 8);
            long r = set(t, sp, ssp, flags, ssize);
            if (r != 0) {
                return r;
            }
        }
        if (uoss != 0 && k.userAccess().copyToUser(uoss, old, 0, size) != 0) {
            return -Errno.EFAULT;
        }
        return 0;
    }
}
