package org.mmulab.kernel;

import org.mmulab.emulator.cpu.CpuState;
import org.mmulab.emulator.cpu.Segments;
import org.mmulab.emulator.machine.Vcpu;

/**
 * Fault-signal delivery and rt_sigreturn for an i386 task, as arch/x86/kernel/signal_32.c does it
 * (ia32_setup_rt_frame, ia32_restore_sigcontext; layouts from arch/x86/include/asm/sigframe.h and
 * uapi/asm/sigcontext.h), for a 32-bit PAE kernel and for IA32_EMULATION under a 64-bit one alike.
 *
 * <p>Below the interrupted ESP (no red zone on i386): the FXSAVE image, 64-byte aligned, preceded by
 * the 112-byte legacy FSAVE header of struct _fpstate_32 (magic 0 = FXSR data follows), then for an
 * SA_SIGINFO handler struct rt_sigframe_ia32 {pretcode, sig, pinfo, puc, compat_siginfo_t info,
 * struct ucontext_ia32 uc, retcode[8]}, otherwise the old struct sigframe_ia32, placed so that
 * ESP + 4 is 16-byte aligned at the handler's first instruction. The handler gets sig (, &info, &uc)
 * on the stack and in EAX (, EDX, ECX) for regparm(3) callers. pretcode is
 * sa_restorer; without SA_RESTORER Linux returns through the vDSO's __kernel_rt_sigreturn, which
 * mmulab's images do not map, so such a handler gets SIGSEGV as a failed setup would.
 */
final class SignalsIa32 {
    static final int OFF_SIG = 4, OFF_PINFO = 8, OFF_PUC = 12, OFF_INFO = 16, INFO_SIZE = 128;
    static final int OFF_UC = OFF_INFO + INFO_SIZE, OFF_MCONTEXT = OFF_UC + 20, OFF_SIGMASK = OFF_UC + 108;
    static final int OFF_RETCODE = OFF_UC + 116, FRAME_SIZE = OFF_RETCODE + 8;
    /** struct _fpstate_32: the legacy FSAVE part before the FXSAVE image. */
    static final int FSAVE_HEADER = 112;
    /** struct sigcontext_32 register slots: di, si, bp, sp, bx, dx, cx, ax at offsets 16..44. */
    static final int[] SC_GPRS = {CpuState.RDI, CpuState.RSI, CpuState.RBP, CpuState.RSP, CpuState.RBX,
            CpuState.RDX, CpuState.RCX, CpuState.RAX};
    static final int SC_TRAPNO = 48, SC_ERR = 52, SC_IP = 56, SC_CS = 60, SC_FLAGS = 64, SC_SP_AT_SIGNAL = 68,
            SC_SS = 72, SC_FPSTATE = 76, SC_OLDMASK = 80, SC_CR2 = 84;
    /** struct sigframe_ia32 {pretcode, sig, sigcontext_32 sc, _fpstate_32 fpstate_unused (624), extramask, retcode[8]}. */
    static final int OLD_OFF_SC = 8, OLD_OFF_EXTRAMASK = OLD_OFF_SC + 88 + 624, OLD_OFF_RETCODE = OLD_OFF_EXTRAMASK + 4,
            OLD_FRAME_SIZE = OLD_OFF_RETCODE + 8;
    /** sigreturn / rt_sigreturn numbers in the ia32 table, for the (unused) retcode gdb looks for. */
    static final int NR32_SIGRETURN = 119, NR32_RT_SIGRETURN = 173;

    private SignalsIa32() {
    }

    /**
     * Builds the frame and enters the handler: rt_sigframe_ia32 for an SA_SIGINFO handler, the old
     * sigframe_ia32 otherwise (ia32_setup_frame, returned from by sigreturn #119), as setup_rt_frame
     * chooses for an ia32 frame. DELIVERED or SETUP_FAILED (see {@link Signals#deliverFault}).
     */
    static int setupFrame(Kernel k, Task t, Vcpu cpu, KSiginfo si, int trapno, long err, long[] act) {
        int sig = si.signo();
        long addr = si.addr();
        if ((act[1] & Signals.SA_RESTORER) == 0) {
            return Signals.SETUP_FAILED;
        }
        boolean rt = (act[1] & Signals.SA_SIGINFO) != 0;
        CpuState s = cpu.state;
        long esp = s.gpr[CpuState.RSP] & 0xffff_ffffL;
        long start = SigAltStack.frameStart(t, esp, act[1], true);
        long fx = (start - SigXstate.FRAME_FP_SIZE) & -64L; // XSAVE area + MAGIC2 (fpu__alloc_mathframe)
        long fpstate = fx - FSAVE_HEADER;
        int size = rt ? FRAME_SIZE : OLD_FRAME_SIZE;
        long frame = ((fpstate - size + 4) & -16L) - 4;
        if (frame < 0 || SigAltStack.overflows(t, esp, start, frame)) {
            return Signals.SETUP_FAILED;
        }
        byte[] b = new byte[size];
        Signals.put32(b, 0, (int) act[2]); // pretcode = sa_restorer
        Signals.put32(b, OFF_SIG, sig);
        int m;
        if (rt) {
            Signals.put32(b, OFF_PINFO, (int) (frame + OFF_INFO));
            Signals.put32(b, OFF_PUC, (int) (frame + OFF_UC));
            si.write(b, OFF_INFO, true); // compat_siginfo
            Signals.put32(b, OFF_UC, 1); // uc_flags = UC_FP_XSTATE
            SigAltStack.save(t, esp, b, OFF_UC + 8, 4); // uc_stack
            Signals.put64(b, OFF_SIGMASK, SyscallRestart.maskToSave(t));
            m = OFF_MCONTEXT;
            writeRetcode(b, OFF_RETCODE, false);
        } else {
            Signals.put32(b, OLD_OFF_EXTRAMASK, (int) (SyscallRestart.maskToSave(t) >>> 32));
            m = OLD_OFF_SC;
            writeRetcode(b, OLD_OFF_RETCODE, true);
        }
        writeSigcontext(k, t, s, b, m, trapno, err, addr, esp, fpstate);
        byte[] fp = new byte[FSAVE_HEADER + SigXstate.FRAME_FP_SIZE];
        // The FSAVE environment (32-bit words, high halves set) and ST0-7, as convert_from_fxsr writes it.
        org.mmulab.emulator.cpu.fpu.X87State x87 = s.fpu;
        Signals.put32(fp, 0, 0xffff0000 | x87.fcw);
        Signals.put32(fp, 4, 0xffff0000 | x87.statusWord());
        Signals.put32(fp, 8, 0xffff0000 | x87.tagWord());
        Signals.put32(fp, 12, (int) x87.fip);
        Signals.put32(fp, 16, x87.fop << 16);
        Signals.put32(fp, 20, (int) x87.fdp);
        for (int i = 0; i < 8; i++) {
            int p = x87.phys(i);
            Signals.put64(fp, 28 + 10 * i, x87.sig[p]);
            fp[28 + 10 * i + 8] = (byte) x87.se[p];
            fp[28 + 10 * i + 9] = (byte) (x87.se[p] >>> 8);
        }
        fp[108] = (byte) x87.statusWord(); // status
        fp[109] = (byte) (x87.statusWord() >>> 8);
        // magic (110) = 0: X86_FXSR_MAGIC, the FXSAVE image follows
        Signals.fxsaveImage(s, fp, FSAVE_HEADER, 8);
        SigXstate.extend(fp, FSAVE_HEADER, true);
        UserAccess ua = k.userAccess();
        if (ua.copyToUser(fpstate, fp, 0, fp.length) != 0 || ua.copyToUser(frame, b, 0, size) != 0) {
            return Signals.SETUP_FAILED;
        }
        s.gpr[CpuState.RAX] = sig;
        s.gpr[CpuState.RDX] = rt ? frame + OFF_INFO : 0;
        s.gpr[CpuState.RCX] = rt ? frame + OFF_UC : 0;
        s.gpr[CpuState.RSP] = frame;
        s.rip = act[0] & 0xffff_ffffL;
        return Signals.DELIVERED;
    }

    /** retcode: [popl %eax;] movl $__NR_(rt_)sigreturn, %eax; int $0x80 — kept for debuggers, as Linux does. */
    private static void writeRetcode(byte[] b, int off, boolean old) {
        int o = off;
        if (old) {
            b[o++] = 0x58;
        }
        b[o] = (byte) 0xb8;
        Signals.put32(b, o + 1, old ? NR32_SIGRETURN : NR32_RT_SIGRETURN);
        b[o + 5] = (byte) 0xcd;
        b[o + 6] = (byte) 0x80;
    }

    /** struct sigcontext_32 at {@code m} (ia32_setup_sigcontext). */
    private static void writeSigcontext(Kernel k, Task t, CpuState s, byte[] b, int m, int trapno, long err, long addr,
            long esp, long fpstate) {
        boolean pae = k.config().paging() == KernelConfig.PagingMode.PAE;
        int userCs = pae ? 0x73 : 0x23, userDs = pae ? 0x7b : 0x2b; // __USER_CS/__USER32_CS, __USER_DS
        int[] sel = s.segs.sel;
        Signals.put32(b, m, sel[Segments.GS]); // gs
        Signals.put32(b, m + 4, sel[Segments.FS]); // fs
        Signals.put32(b, m + 8, sel[Segments.ES]); // es
        Signals.put32(b, m + 12, sel[Segments.DS]); // ds
        for (int i = 0; i < SC_GPRS.length; i++) {
            Signals.put32(b, m + 16 + 4 * i, (int) s.gpr[SC_GPRS[i]]);
        }
        Signals.put32(b, m + SC_TRAPNO, trapno);
        Signals.put32(b, m + SC_ERR, (int) err);
        Signals.put32(b, m + SC_IP, (int) s.rip);
        Signals.put32(b, m + SC_CS, userCs);
        Signals.put32(b, m + SC_FLAGS, (int) s.getRflags());
        Signals.put32(b, m + SC_SP_AT_SIGNAL, (int) esp);
        Signals.put32(b, m + SC_SS, sel[Segments.SS] != 0 ? sel[Segments.SS] : userDs);
        Signals.put32(b, m + SC_FPSTATE, (int) fpstate);
        Signals.put32(b, m + SC_OLDMASK, (int) SyscallRestart.maskToSave(t));
        Signals.put32(b, m + SC_CR2, trapno == 14 ? (int) addr : 0);
    }

    /**
     * ia32 rt_sigreturn (#173, {@code rt} true) or sigreturn (#119): restores what {@link #setupFrame}
     * saved; returns the restored EAX, or null on a bad frame (the caller forces SIGSEGV).
     */
    static Long sigreturn(Kernel k, Task t, Vcpu cpu, boolean rt) {
        CpuState s = cpu.state;
        // The handler's RET popped pretcode; the old frame's restorer also popped sig (popl %eax).
        long frame = ((s.gpr[CpuState.RSP] & 0xffff_ffffL) - (rt ? 4 : 8)) & 0xffff_ffffL;
        int size = rt ? FRAME_SIZE : OLD_FRAME_SIZE;
        byte[] b = new byte[size];
        UserAccess ua = k.userAccess();
        if (ua.copyFromUser(b, 0, frame, size) != 0) {
            return null;
        }
        int m = rt ? OFF_MCONTEXT : OLD_OFF_SC;
        long fpstate = Signals.get32(b, m + SC_FPSTATE);
        byte[] fx = null;
        if (fpstate != 0) {
            fx = ((fpstate + FSAVE_HEADER) & 15) != 0 ? null : SigXstate.restoreImage(ua, fpstate + FSAVE_HEADER, s.xcr0);
            if (fx == null) {
                return null;
            }
        }
        long mask = rt ? Signals.get64(b, OFF_SIGMASK)
                : Signals.get32(b, m + SC_OLDMASK) | Signals.get32(b, OLD_OFF_EXTRAMASK) << 32;
        t.sigmask = mask & ~Signals.UNBLOCKABLE;
        t.restartBlock = null; // do_no_restart_syscall
        for (int i = 0; i < SC_GPRS.length; i++) {
            s.gpr[SC_GPRS[i]] = Signals.get32(b, m + 16 + 4 * i);
        }
        s.rip = Signals.get32(b, m + SC_IP);
        long flags = Signals.get32(b, m + SC_FLAGS);
        s.setRflags((s.getRflags() & ~Signals.FIX_EFLAGS) | (flags & Signals.FIX_EFLAGS));
        if (fx != null) {
            Signals.restoreFxsave(s, fx, 8);
        }
        // reload_segments: GS, FS, ES, DS from the sigcontext (| 3); one that cannot be loaded becomes null.
        int[] sregs = {Segments.GS, Segments.FS, Segments.ES, Segments.DS}; // sigcontext_32 order
        for (int i = 0; i < 4; i++) {
            int sel = (int) Signals.get32(b, m + 4 * i) & 0xffff | 3;
            if (sel != s.segs.sel[sregs[i]]) {
                Tls.reload(s, sregs[i], sel);
            }
        }
        if (rt) {
            SigAltStack.restore(t, s.gpr[CpuState.RSP] & 0xffff_ffffL, b, OFF_UC + 8, 4);
        }
        return s.gpr[CpuState.RAX];
    }
}
