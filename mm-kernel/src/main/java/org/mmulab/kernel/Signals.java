package org.mmulab.kernel;

import org.mmulab.emulator.cpu.CpuState;
import org.mmulab.emulator.machine.Vcpu;

/**
 * Delivery of synchronous fault signals to a user handler and rt_sigreturn, as arch/x86/kernel/signal.c
 * and signal_64.c do it for a 64-bit task (x64_setup_rt_frame, get_sigframe, restore_sigcontext):
 * below the 128-byte red zone (or at the top of the sigaltstack for an SA_ONSTACK handler,
 * {@link SigAltStack}), the 64-byte aligned XSAVE image with its sw_reserved and MAGIC2
 * ({@link SigXstate}), then the rt_sigframe
 * {pretcode = sa_restorer, struct ucontext, struct siginfo} aligned so that RSP+8 is 16-byte aligned,
 * RDI = signo, RSI = &info, RDX = &uc, RAX = 0, RIP = handler; blocked |= sa_mask (| sig unless
 * SA_NODEFER), SA_RESETHAND resets the action. A 64-bit handler must have SA_RESTORER, as on Linux.
 * kernel/signal.c force_sig_info_to_task: a fault signal that is blocked or ignored takes its default
 * action instead. An i386 task gets the ia32 frame of {@link SignalsIa32}.
 */
final class Signals {
    static final long SA_RESTORER = 0x04000000L, SA_NODEFER = 0x40000000L, SA_RESETHAND = 0x80000000L,
            SA_SIGINFO = 4;
    static final long SIG_DFL = 0, SIG_IGN = 1;
    // si_code values for SIGSEGV/SIGILL/SIGFPE/SIGBUS.
    static final int SEGV_MAPERR = 1, SEGV_ACCERR = 2, ILL_ILLOPN = 2, FPE_INTDIV = 1, BUS_ADRERR = 2;

    static final int FXSAVE_SIZE = 512;
    static final int UC_SIZE = 304, SIGINFO_SIZE = 128, FRAME_SIZE = 8 + UC_SIZE + SIGINFO_SIZE;
    static final int OFF_UC = 8, OFF_MCONTEXT = OFF_UC + 40, OFF_SIGMASK = OFF_UC + 296, OFF_INFO = OFF_UC + UC_SIZE;
    /** sigcontext order: r8..r15, rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp. */
    static final int[] SC_GPRS = {CpuState.R8, CpuState.R9, CpuState.R10, CpuState.R11, CpuState.R12, CpuState.R13,
            CpuState.R14, CpuState.R15, CpuState.RDI, CpuState.RSI, CpuState.RBP, CpuState.RBX, CpuState.RDX,
            CpuState.RAX, CpuState.RCX, CpuState.RSP};
    /** FIX_EFLAGS: the flags sigreturn may change (AC OF DF TF SF ZF AF PF CF RF). */
    static final long FIX_EFLAGS = CpuState.AC | CpuState.OF | CpuState.DF | CpuState.TF | CpuState.SF | CpuState.ZF
            | CpuState.AF | CpuState.PF | CpuState.CF | (1L << 16);

    static final long UNBLOCKABLE = (1L << (Kernel.SIGKILL - 1)) | (1L << (Kernel.SIGSTOP - 1));

    private Signals() {
    }

    /** Outcomes of {@link #deliverFault}. */
    static final int DELIVERED = 0, DEFAULT_ACTION = 1, SETUP_FAILED = 2;

    /**
     * Tries to run the task's handler for a fault signal: DELIVERED, DEFAULT_ACTION (no handler,
     * ignored or blocked), or SETUP_FAILED (no SA_RESTORER, or the frame could not be written: Linux's
     * signal_setup_done then forces SIGSEGV).
     */
    static int deliverFault(Kernel k, Task t, Vcpu cpu, int sig, int code, long addr, int trapno, long err) {
        return deliver(k, t, cpu, KSiginfo.fault(sig, code, addr), trapno, err);
    }

    /** {@link #deliverFault} with the signal's whole info (a queued kill or SIGCHLD, or a fault). */
    static int deliver(Kernel k, Task t, Vcpu cpu, KSiginfo si, int trapno, long err) {
        int sig = si.signo();
        long addr = si.addr();
        long[] act = t.sigactions[sig];
        long handler = act[0];
        long bit = 1L << (sig - 1);
        if (handler == SIG_DFL || handler == SIG_IGN || (t.sigmask & bit) != 0) {
            // force_sig_info_to_task: blocked or ignored fault signals are unblocked and reset.
            if ((t.sigmask & bit) != 0 || handler == SIG_IGN) {
                act[0] = SIG_DFL;
                t.sigmask &= ~bit;
            }
            return DEFAULT_ACTION;
        }
        if (t.ia32) {
            return finishDelivery(k, t, cpu.state, sig, act,
                    SignalsIa32.setupFrame(k, t, cpu, si, trapno, err, act));
        }
        if ((act[1] & SA_RESTORER) == 0) {
            return SETUP_FAILED;
        }
        CpuState s = cpu.state;
        UserAccess ua = k.userAccess();
        // get_sigframe
        long regsSp = s.gpr[CpuState.RSP];
        long start = SigAltStack.frameStart(t, regsSp, act[1], false); // red zone, or the alternate stack
        long fx = (start - SigXstate.FRAME_FP_SIZE) & -64L; // fpu__alloc_mathframe: XSAVE area + MAGIC2
        long sp = fx - FRAME_SIZE;
        sp = (sp & -16L) - 8; // align_sigframe
        long frame = sp;
        if (SigAltStack.overflows(t, regsSp, start, frame)) {
            return SETUP_FAILED;
        }
        byte[] b = new byte[FRAME_SIZE];
        put64(b, 0, act[2]); // pretcode = sa_restorer
        put64(b, OFF_UC, 1 | 2 | 4); // UC_FP_XSTATE | UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS
        put64(b, OFF_UC + 8, 0); // uc_link
        SigAltStack.save(t, regsSp, b, OFF_UC + 16, 8); // uc_stack
        int m = OFF_MCONTEXT;
        for (int i = 0; i < SC_GPRS.length; i++) {
            put64(b, m + 8 * i, s.gpr[SC_GPRS[i]]);
        }
        put64(b, m + 128, s.rip);
        put64(b, m + 136, s.getRflags());
        put16(b, m + 144, 0x33); // cs
        put16(b, m + 150, 0x2b); // ss
        put64(b, m + 152, err);
        put64(b, m + 160, trapno);
        put64(b, m + 168, SyscallRestart.maskToSave(t)); // oldmask
        put64(b, m + 176, trapno == 14 ? addr : 0); // cr2
        put64(b, m + 184, fx); // fpstate
        put64(b, OFF_SIGMASK, SyscallRestart.maskToSave(t));
        si.write(b, OFF_INFO, false);
        byte[] fxsave = new byte[SigXstate.FRAME_FP_SIZE];
        fxsaveImage(s, fxsave, 0, 16);
        SigXstate.extend(fxsave, 0, false);
        // The siginfo is copied only for SA_SIGINFO handlers (x64_setup_rt_frame); otherwise whatever
        // was on the stack stays there.
        int len = (act[1] & SA_SIGINFO) != 0 ? FRAME_SIZE : OFF_INFO;
        if (ua.copyToUser(fx, fxsave, 0, fxsave.length) != 0 || ua.copyToUser(frame, b, 0, len) != 0) {
            return SETUP_FAILED;
        }
        s.gpr[CpuState.RDI] = sig;
        s.gpr[CpuState.RSI] = frame + OFF_INFO;
        s.gpr[CpuState.RDX] = frame + OFF_UC;
        s.gpr[CpuState.RAX] = 0;
        s.gpr[CpuState.RSP] = frame;
        s.rip = handler;
        return finishDelivery(k, t, s, sig, act, DELIVERED);
    }

    /**
     * What every arch's frame setup is followed by (signal_setup_done): on success clear DF, TF and RF
     * for the handler, block sa_mask and the signal itself (unless SA_NODEFER), honour SA_RESETHAND.
     */
    private static int finishDelivery(Kernel k, Task t, CpuState s, int sig, long[] act, int setup) {
        if (setup != DELIVERED) {
            return setup;
        }
        long bit = 1L << (sig - 1);
        s.setRflags(s.getRflags() & ~(CpuState.DF | CpuState.TF | (1L << 16)));
        s.fpu.init(); // the handler starts with a fresh x87 state (fpu__clear_user_states)
        t.sigmask |= act[3];
        if ((act[1] & SA_NODEFER) == 0) {
            t.sigmask |= bit;
        }
        t.sigmask &= ~UNBLOCKABLE;
        if ((act[1] & SA_RESETHAND) != 0) {
            act[0] = SIG_DFL;
        }
        k.signalsDelivered++;
        return DELIVERED;
    }

    /** rt_sigreturn: restores the context saved by {@link #deliverFault}; returns the restored RAX, or null on a bad frame. */
    static Long rtSigreturn(Kernel k, Task t, Vcpu cpu) {
        CpuState s = cpu.state;
        long frame = s.gpr[CpuState.RSP] - 8; // the handler's RET popped pretcode
        byte[] b = new byte[FRAME_SIZE];
        UserAccess ua = k.userAccess();
        if (ua.copyFromUser(b, 0, frame, FRAME_SIZE) != 0) {
            return null;
        }
        int m = OFF_MCONTEXT;
        long fx = get64(b, m + 184);
        byte[] fxsave = null;
        if (fx != 0) {
            fxsave = (fx & 63) != 0 ? null : SigXstate.restoreImage(ua, fx, s.xcr0);
            if (fxsave == null) {
                return null;
            }
        }
        t.sigmask = get64(b, OFF_SIGMASK) & ~UNBLOCKABLE;
        t.restartBlock = null; // restore_sigcontext: current->restart_block.fn = do_no_restart_syscall
        for (int i = 0; i < SC_GPRS.length; i++) {
            s.gpr[SC_GPRS[i]] = get64(b, m + 8 * i);
        }
        s.rip = get64(b, m + 128);
        long flags = get64(b, m + 136);
        s.setRflags((s.getRflags() & ~FIX_EFLAGS) | (flags & FIX_EFLAGS));
        if (fxsave != null) {
            restoreFxsave(s, fxsave, 16);
        }
        SigAltStack.restore(t, s.gpr[CpuState.RSP], b, OFF_UC + 16, 8);
        return s.gpr[CpuState.RAX];
    }

    /**
     * The FXSAVE image (legacy region, as copy_fpstate_to_sigframe writes it) of the x87 state, MXCSR
     * and the first {@code xmmRegs} XMM registers at {@code off}.
     */
    static void fxsaveImage(CpuState s, byte[] b, int off, int xmmRegs) {
        org.mmulab.emulator.cpu.fpu.X87State f = s.fpu;
        put16(b, off, f.fcw);
        put16(b, off + 2, f.statusWord());
        b[off + 4] = (byte) f.abridgedTag();
        put16(b, off + 6, f.fop);
        put64(b, off + 8, f.fip);
        put64(b, off + 16, f.fdp);
        put32(b, off + 24, s.mxcsr);
        put32(b, off + 28, 0xffff); // MXCSR_MASK
        for (int i = 0; i < 8; i++) {
            int p = f.phys(i);
            put64(b, off + 32 + 16 * i, f.sig[p]);
            put16(b, off + 40 + 16 * i, f.se[p]);
        }
        for (int i = 0; i < 2 * xmmRegs; i++) {
            put64(b, off + 160 + 8 * i, s.xmm[i]);
        }
    }

    /** Restores the x87 state, MXCSR and the first {@code xmmRegs} XMM registers from an FXSAVE image. */
    static void restoreFxsave(CpuState s, byte[] fx, int xmmRegs) {
        org.mmulab.emulator.cpu.fpu.X87State f = s.fpu;
        f.fcw = ((int) get64(fx, 0) & 0x1f3f) | 0x40;
        f.setStatusWord((int) (get64(fx, 0) >>> 16) & 0xffff);
        f.valid = fx[4] & 0xff;
        f.fop = (int) (get64(fx, 0) >>> 48) & 0x7ff;
        f.fip = get64(fx, 8);
        f.fdp = get64(fx, 16);
        for (int i = 0; i < 8; i++) {
            int p = f.phys(i);
            f.sig[p] = get64(fx, 32 + 16 * i);
            f.se[p] = (int) get64(fx, 40 + 16 * i) & 0xffff;
        }
        f.updateSummary();
        s.mxcsr = (int) get64(fx, 24) & 0xffff;
        for (int i = 0; i < 2 * xmmRegs; i++) {
            s.xmm[i] = get64(fx, 160 + 8 * i);
        }
    }

    static void put64(byte[] b, int o, long v) {
        for (int i = 0; i < 8; i++) {
            b[o + i] = (byte) (v >>> (8 * i));
        }
    }

    static void put32(byte[] b, int o, int v) {
        for (int i = 0; i < 4; i++) {
            b[o + i] = (byte) (v >>> (8 * i));
        }
    }

    static void put16(byte[] b, int o, int v) {
        b[o] = (byte) v;
        b[o + 1] = (byte) (v >>> 8);
    }

    static long get32(byte[] b, int o) {
        return get64(b, o) & 0xffff_ffffL;
    }

    static long get64(byte[] b, int o) {
        long v = 0;
        for (int i = 7; i >= 0; i--) {
            v = (v << 8) | (b[o + i] & 0xff);
        }
        return v;
    }
}
