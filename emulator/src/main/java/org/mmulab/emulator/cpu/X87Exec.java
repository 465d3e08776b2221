package org.mmulab.emulator.cpu;

import static org.mmulab.emulator.cpu.fpu.Fx80.DE;
import static org.mmulab.emulator.cpu.fpu.Fx80.IE;
import static org.mmulab.emulator.cpu.fpu.Fx80.OE;
import static org.mmulab.emulator.cpu.fpu.Fx80.UE;
import static org.mmulab.emulator.cpu.fpu.Fx80.ZE;

import org.mmulab.emulator.cpu.fpu.Fx80;
import org.mmulab.emulator.cpu.fpu.Fx80Ops;
import org.mmulab.emulator.cpu.fpu.Fx80Convert;
import org.mmulab.emulator.cpu.fpu.X87State;
import org.mmulab.emulator.mmu.Mmu;

/**
 * x87 FPU instructions, opcodes D8-DF and FWAIT (the {@link Op#X87} group; SDM Vol. 1 ch. 8, Vol. 2
 * instruction pages, Vol. 3A §A opcode map table A-7..A-22 for the escape opcodes). The decoder puts
 * the escape's low three bits and ModRM.reg in {@code sub} ({@code (opcode & 7) << 3 | reg}) and the
 * 11-bit FOP (escape low bits and the whole ModRM byte) in {@code imm}.
 *
 * <p>This file holds dispatch, the stack discipline (#IS: IE+SF with C1 = 1 on overflow, 0 on
 * underflow; masked response is the real indefinite), exception commit and #MF, loads/stores and the
 * basic arithmetic and compares; {@link X87Math} the remaining ST(0) operations (transcendentals,
 * FPREM, FSCALE...), {@link X87Env} the environment and FXSAVE images.
 *
 * <p>Exceptions: each instruction ORs the flags it raises into FSW. An unmasked one sets ES and B;
 * unmasked IE, DE or ZE leave the destination and the stack unchanged, unmasked OE/UE deliver the
 * biased result to a register and store nothing to memory (SDM §4.9.2, §8.5). The next waiting x87
 * instruction (all but FNINIT, FNCLEX, FNSTCW, FNSTSW, FNSTENV, FNSAVE, and FXSAVE/FXRSTOR) or FWAIT
 * then raises #MF at its own address, before it changes anything. FOP/FIP/FDP are updated by every
 * non-control instruction (FOP as with FOP compatibility enabled); FCS/FDS read as 0 (CPUID leaf 7
 * EBX bit 13 semantics).
 */
final class X87Exec {
    /** {@code sub} of FWAIT (9B). */
    static final int FWAIT = 0x40;

    private X87Exec() {
    }

    static void exec(Interpreter it) {
        CpuState s = it.state();
        X87State f = s.fpu;
        int sub = it.curSub();
        if (sub == FWAIT) {
            DeviceNotAvailable.fwait(s);
            pending(s, f);
            return;
        }
        int opc = sub >>> 3, reg = sub & 7;
        int fop = (int) it.curImm() & 0x7ff;
        Fx80 u = f.unit;
        u.cw = f.fcw;
        u.flags = 0;
        u.c1 = false;
        if (it.curHasMem()) {
            if ((opc == 1 && reg == 1) || (opc == 3 && (reg == 4 || reg == 6)) || (opc == 5 && reg == 5)) {
                throw it.undefinedOpcode();
            }
            DeviceNotAvailable.x87(s);
            if ((opc == 1 && reg >= 4) || (opc == 5 && (reg == 4 || reg >= 6))) {
                X87Env.control(it, f, opc, reg);
                return;
            }
            pending(s, f);
            long ea = it.curEa();
            f.fdp = ea;
            f.fip = s.rip;
            f.fop = fop;
            memOp(it, f, u, opc, reg, ea);
        } else {
            DeviceNotAvailable.x87(s);
            int i = fop & 7;
            if (opc == 3 && reg == 4) {
                switch (i) {
                    case 2 -> { // FNCLEX
                        f.fsw &= ~(0x3f | X87State.SF | X87State.ES | X87State.B);
                    }
                    case 3 -> f.init(); // FNINIT
                    case 0, 1, 4 -> {
                        // FENI, FDISI, FSETPM: no-ops since the 80387
                    }
                    default -> throw it.undefinedOpcode();
                }
                return;
            }
            if (opc == 7 && reg == 4) {
                if (i != 0) {
                    throw it.undefinedOpcode();
                }
                it.setGpr(CpuState.RAX, 1, f.statusWord()); // FNSTSW AX
                return;
            }
            pending(s, f);
            f.fip = s.rip;
            f.fop = fop;
            regOp(it, f, u, opc, reg, i);
        }
    }

    /** Raises #MF for a pending unmasked exception (FSW.ES) before a waiting instruction. */
    static void pending(CpuState s, X87State f) {
        if ((f.fsw & X87State.ES) != 0) {
            throw GuestFault.raise(s, Vectors.MF, 0);
        }
    }

    /**
     * Merges the unit's exception flags into FSW; false when an unmasked IE, DE or ZE forbids writing
     * the result (and the stack change).
     */
    static boolean commit(X87State f, Fx80 u) {
        int fl = u.flags;
        f.fsw |= fl;
        int unm = fl & ~f.fcw & 0x3f;
        if (unm != 0) {
            f.fsw |= X87State.ES | X87State.B;
        }
        return (unm & (IE | DE | ZE)) == 0;
    }

    /** Like {@link #commit}, for a memory destination: unmasked OE/UE also suppress the store. */
    static boolean commitStore(X87State f, Fx80 u) {
        boolean ok = commit(f, u);
        return ok && (u.flags & ~f.fcw & (OE | UE)) == 0;
    }

    static void setC1(X87State f, boolean v) {
        f.fsw = v ? f.fsw | X87State.C1 : f.fsw & ~X87State.C1;
    }

    static void setCc(X87State f, int c3, int c2, int c0) {
        f.fsw = (f.fsw & ~(X87State.C0 | X87State.C2 | X87State.C3)) | (c3 != 0 ? X87State.C3 : 0)
                | (c2 != 0 ? X87State.C2 : 0) | (c0 != 0 ? X87State.C0 : 0);
    }

    /** Stack fault (#IS): IE and SF; C1 = 1 for overflow, 0 for underflow. True when masked. */
    static boolean stackFault(X87State f, Fx80 u, boolean overflow) {
        u.flags |= IE;
        f.fsw |= X87State.SF;
        commit(f, u);
        setC1(f, overflow);
        return (f.fcw & IE) != 0;
    }

    /** Push with the overflow check: ST(7) must be empty. */
    static void push(X87State f, Fx80 u, int se, long sig) {
        if (!f.empty(7)) {
            if (stackFault(f, u, true)) {
                f.push(Fx80.INDEF_SE, Fx80.INDEF_SIG);
            }
            return;
        }
        if (commit(f, u)) {
            f.push(se, sig);
            setC1(f, u.c1);
        }
    }

    /** Writes the unit's result to ST(dst) after a successful commit, sets C1, pops {@code pops} times. */
    static void result(X87State f, Fx80 u, int dst, int pops) {
        if (!commit(f, u)) {
            return;
        }
        f.setSt(dst, u.rSe, u.rSig);
        setC1(f, u.c1);
        for (int k = 0; k < pops; k++) {
            f.pop();
        }
    }

    /** Masked stack-underflow response for an operation writing ST(dst): the indefinite, then pops. */
    static void underflow(X87State f, Fx80 u, int dst, int pops) {
        if (stackFault(f, u, false)) {
            f.setSt(dst, Fx80.INDEF_SE, Fx80.INDEF_SIG);
            for (int k = 0; k < pops; k++) {
                f.pop();
            }
        }
    }

    /** FADD/FMUL/FSUB/FSUBR/FDIV/FDIVR by ModRM.reg: 4 is st - o, 5 o - st, 6 st / o, 7 o / st. */
    static void arith(Fx80 u, int reg, int stSe, long stSig, int oSe, long oSig) {
        switch (reg) {
            case 0 -> u.add(stSe, stSig, oSe, oSig, false);
            case 1 -> u.mul(stSe, stSig, oSe, oSig);
            case 4 -> u.add(stSe, stSig, oSe, oSig, true);
            case 5 -> u.add(oSe, oSig, stSe, stSig, true);
            case 6 -> u.div(stSe, stSig, oSe, oSig);
            default -> u.div(oSe, oSig, stSe, stSig);
        }
    }

    private static void regOp(Interpreter it, X87State f, Fx80 u, int opc, int reg, int i) {
        switch (opc) {
            case 0 -> {
                if (reg == 2 || reg == 3) {
                    fcomReg(it, f, u, i, false, reg - 2, false);
                } else {
                    arithReg(f, u, reg, i, 0, 0);
                }
            }
            case 1 -> X87Math.d9(it, f, u, reg, i);
            case 2, 3 -> {
                if (reg < 4) {
                    fcmov(it, f, u, i, opc == 3, reg);
                } else if (opc == 2 && reg == 5 && i == 1) {
                    fcomReg(it, f, u, 1, true, 2, false); // FUCOMPP
                } else if (opc == 3 && (reg == 5 || reg == 6)) {
                    fcomReg(it, f, u, i, reg == 5, 0, true); // FUCOMI / FCOMI
                } else {
                    throw it.undefinedOpcode();
                }
            }
            case 4 -> {
                if (reg == 2 || reg == 3) {
                    fcomReg(it, f, u, i, false, reg - 2, false);
                } else {
                    arithReg(f, u, reg, i, i, 0);
                }
            }
            case 5 -> {
                switch (reg) {
                    case 0 -> f.valid &= ~(1 << f.phys(i)); // FFREE
                    case 1 -> fxch(f, u, i);
                    case 2, 3 -> fstReg(f, u, i, reg - 2);
                    case 4, 5 -> fcomReg(it, f, u, i, true, reg - 4, false);
                    default -> throw it.undefinedOpcode();
                }
            }
            case 6 -> {
                if (reg == 2) {
                    fcomReg(it, f, u, i, false, 1, false);
                } else if (reg == 3) {
                    if (i != 1) {
                        throw it.undefinedOpcode();
                    }
                    fcomReg(it, f, u, 1, false, 2, false); // FCOMPP
                } else {
                    arithReg(f, u, reg, i, i, 1);
                }
            }
            default -> {
                switch (reg) {
                    case 0 -> { // FFREEP
                        f.valid &= ~(1 << f.phys(i));
                        f.pop();
                    }
                    case 1 -> fxch(f, u, i);
                    case 2, 3 -> fstReg(f, u, i, 1);
                    case 5, 6 -> fcomReg(it, f, u, i, reg == 5, 1, true); // FUCOMIP / FCOMIP
                    default -> throw it.undefinedOpcode();
                }
            }
        }
    }

    private static void arithReg(X87State f, Fx80 u, int reg, int i, int dst, int pops) {
        if (f.empty(0) || f.empty(i)) {
            underflow(f, u, dst, pops);
            return;
        }
        arith(u, reg, f.stSe(0), f.stSig(0), f.stSe(i), f.stSig(i));
        result(f, u, dst, pops);
    }

    static void fxch(X87State f, Fx80 u, int i) {
        if (f.empty(0) || f.empty(i)) {
            if (!stackFault(f, u, false)) {
                return;
            }
            if (f.empty(0)) {
                f.setSt(0, Fx80.INDEF_SE, Fx80.INDEF_SIG);
            }
            if (f.empty(i)) {
                f.setSt(i, Fx80.INDEF_SE, Fx80.INDEF_SIG);
            }
        }
        int e = f.stSe(0);
        long m = f.stSig(0);
        f.setSt(0, f.stSe(i), f.stSig(i));
        f.setSt(i, e, m);
        setC1(f, false);
    }

    private static void fstReg(X87State f, Fx80 u, int i, int pops) {
        if (f.empty(0)) {
            underflow(f, u, i, pops);
            return;
        }
        f.setSt(i, f.stSe(0), f.stSig(0));
        setC1(f, false);
        if (pops != 0) {
            f.pop();
        }
    }

    private static void fcmov(Interpreter it, X87State f, Fx80 u, int i, boolean negate, int kind) {
        // DA: B, E, BE, U; DB: NB, NE, NBE, NU (condition codes 2, 4, 6, 10 and their negations).
        int cc = kind == 3 ? 10 : 2 + 2 * kind;
        boolean take = it.state().flags.cond(negate ? cc + 1 : cc);
        if (f.empty(0) || f.empty(i)) {
            if (stackFault(f, u, false) && take) {
                f.setSt(0, Fx80.INDEF_SE, Fx80.INDEF_SIG);
            }
            return;
        }
        if (take) {
            f.setSt(0, f.stSe(i), f.stSig(i));
        }
        setC1(f, false);
    }

    /** FCOM family against ST(i): pops 0-2; {@code eflags}: FCOMI/FUCOMI set ZF/PF/CF instead of C3/C2/C0. */
    private static void fcomReg(Interpreter it, X87State f, Fx80 u, int i, boolean quiet, int pops, boolean eflags) {
        if (f.empty(0) || f.empty(i)) {
            if (stackFault(f, u, false)) {
                compareResult(it, f, 2, eflags);
                popN(f, pops);
            }
            return;
        }
        int r = Fx80Ops.compare(u, f.stSe(0), f.stSig(0), f.stSe(i), f.stSig(i), quiet);
        if (commit(f, u)) {
            compareResult(it, f, r, eflags);
            popN(f, pops);
        }
    }

    static void popN(X87State f, int n) {
        for (int k = 0; k < n; k++) {
            f.pop();
        }
    }

    /** -1 less, 0 equal, 1 greater, 2 unordered into C3/C2/C0 (C1 = 0) or ZF/PF/CF (OF, SF, AF cleared). */
    static void compareResult(Interpreter it, X87State f, int r, boolean eflags) {
        int z = r == 0 || r == 2 ? 1 : 0, p = r == 2 ? 1 : 0, c = r == -1 || r == 2 ? 1 : 0;
        setC1(f, false);
        if (eflags) {
            long v = (z != 0 ? CpuState.ZF : 0) | (p != 0 ? CpuState.PF : 0) | (c != 0 ? CpuState.CF : 0);
            it.state().flags.setBits(CpuState.ZF | CpuState.PF | CpuState.CF | CpuState.OF | CpuState.SF | CpuState.AF, v);
        } else {
            setCc(f, z, p, c);
        }
    }

    // ------------------------------------------------------------------------------------------
    // Memory forms

    private static void memOp(Interpreter it, X87State f, Fx80 u, int opc, int reg, long ea) {
        Mmu m = it.mmu();
        switch (opc) {
            case 0, 2, 4, 6 -> {
                // Arithmetic/compare with m32fp, m32int, m64fp, m16int.
                switch (opc) {
                    case 0 -> Fx80Convert.fromF32(u, m.read32(ea));
                    case 2 -> Fx80Convert.fromInt(u, m.read32(ea));
                    case 4 -> Fx80Convert.fromF64(u, m.read64(ea));
                    default -> Fx80Convert.fromInt(u, (short) m.read16(ea));
                }
                int oSe = u.rSe;
                long oSig = u.rSig;
                if (f.empty(0)) {
                    if (reg == 2 || reg == 3) {
                        if (stackFault(f, u, false)) {
                            compareResult(it, f, 2, false);
                            popN(f, reg - 2);
                        }
                    } else {
                        underflow(f, u, 0, 0);
                    }
                    return;
                }
                if (reg == 2 || reg == 3) {
                    int r = Fx80Ops.compare(u, f.stSe(0), f.stSig(0), oSe, oSig, false);
                    if (commit(f, u)) {
                        compareResult(it, f, r, false);
                        popN(f, reg - 2);
                    }
                    return;
                }
                arith(u, reg, f.stSe(0), f.stSig(0), oSe, oSig);
                result(f, u, 0, 0);
            }
            case 1 -> {
                if (reg == 0) {
                    int v = m.read32(ea);
                    if (!f.empty(7)) {
                        push(f, u, 0, 0);
                        return;
                    }
                    Fx80Convert.fromF32(u, v);
                    push(f, u, u.rSe, u.rSig);
                } else {
                    storeFp(it, f, u, ea, 2, reg - 2); // FST/FSTP m32
                }
            }
            case 3 -> {
                switch (reg) {
                    case 0 -> pushInt(f, u, m.read32(ea));
                    case 1 -> storeInt(f, u, m, ea, 32, true, 1);
                    case 2, 3 -> storeInt(f, u, m, ea, 32, false, reg - 2);
                    case 5 -> { // FLD m80: raw
                        long sig = m.read64(ea);
                        int se = m.read16(ea + 8);
                        push(f, u, se, sig);
                    }
                    default -> storeFp(it, f, u, ea, 3, 1); // FSTP m80
                }
            }
            case 5 -> {
                switch (reg) {
                    case 0 -> {
                        long v = m.read64(ea);
                        if (!f.empty(7)) {
                            push(f, u, 0, 0);
                            return;
                        }
                        Fx80Convert.fromF64(u, v);
                        push(f, u, u.rSe, u.rSig);
                    }
                    case 1 -> storeInt(f, u, m, ea, 64, true, 1);
                    default -> storeFp(it, f, u, ea, 4, reg - 2); // FST/FSTP m64
                }
            }
            default -> {
                switch (reg) {
                    case 0 -> pushInt(f, u, (short) m.read16(ea));
                    case 1 -> storeInt(f, u, m, ea, 16, true, 1);
                    case 2, 3 -> storeInt(f, u, m, ea, 16, false, reg - 2);
                    case 4 -> { // FBLD
                        long lo = m.read64(ea);
                        int hi = m.read16(ea + 8);
                        Fx80Convert.fromBcd(u, lo, hi);
                        push(f, u, u.rSe, u.rSig);
                    }
                    case 5 -> pushInt(f, u, m.read64(ea));
                    case 6 -> fbstp(f, u, m, ea);
                    default -> storeInt(f, u, m, ea, 64, false, 1);
                }
            }
        }
    }

    private static void pushInt(X87State f, Fx80 u, long v) {
        Fx80Convert.fromInt(u, v);
        push(f, u, u.rSe, u.rSig);
    }

    /** Checks that the 10-byte operand at ea is writable on both pages before the first byte is written. */
    private static void probe10(Mmu m, long ea) {
        if ((ea & 0xfff) > 0xff6) {
            m.translateWrite(ea);
            m.translateWrite(ea + 9);
        }
    }

    /** FST/FSTP m32 (kind 2), m64 (kind 4), FSTP m80 (kind 3). */
    private static void storeFp(Interpreter it, X87State f, Fx80 u, long ea, int kind, int pops) {
        Mmu m = it.mmu();
        if (f.empty(0)) {
            if ((f.fcw & IE) != 0) {
                writeFp(m, ea, kind, kind == 2 ? Fx80Convert.F32_INDEF & 0xffff_ffffL : Fx80Convert.F64_INDEF,
                        Fx80.INDEF_SE, Fx80.INDEF_SIG);
            }
            if (stackFault(f, u, false)) {
                popN(f, pops);
            }
            return;
        }
        int se = f.stSe(0);
        long sig = f.stSig(0);
        long v = 0;
        if (kind == 2) {
            v = Fx80Convert.toF32(u, se, sig) & 0xffff_ffffL;
        } else if (kind == 4) {
            v = Fx80Convert.toF64(u, se, sig);
        }
        if ((u.flags & ~f.fcw & (IE | OE | UE)) != 0) {
            commit(f, u); // nothing stored, nothing popped: the #MF handler sees the operand
            return;
        }
        writeFp(m, ea, kind, v, se, sig);
        commit(f, u);
        setC1(f, u.c1);
        popN(f, pops);
    }

    private static void writeFp(Mmu m, long ea, int kind, long v, int se, long sig) {
        if (kind == 2) {
            m.write32(ea, (int) v);
        } else if (kind == 4) {
            m.write64(ea, v);
        } else {
            probe10(m, ea);
            m.write64(ea, sig);
            m.write16(ea + 8, se);
        }
    }

    private static void writeInt(Mmu m, long ea, int bits, long v) {
        switch (bits) {
            case 16 -> m.write16(ea, (int) v);
            case 32 -> m.write32(ea, (int) v);
            default -> m.write64(ea, v);
        }
    }

    /** FIST/FISTP/FISTTP to a {@code bits}-wide integer. */
    private static void storeInt(X87State f, Fx80 u, Mmu m, long ea, int bits, boolean truncate, int pops) {
        if (f.empty(0)) {
            if ((f.fcw & IE) != 0) {
                writeInt(m, ea, bits, 1L << (bits - 1));
            }
            if (stackFault(f, u, false)) {
                popN(f, pops);
            }
            return;
        }
        long v = Fx80Convert.toInt(u, f.stSe(0), f.stSig(0), bits, truncate);
        if ((u.flags & ~f.fcw & IE) != 0) {
            commit(f, u);
            return;
        }
        writeInt(m, ea, bits, v);
        commit(f, u);
        setC1(f, u.c1);
        popN(f, pops);
    }

    private static void fbstp(X87State f, Fx80 u, Mmu m, long ea) {
        if (f.empty(0)) {
            if ((f.fcw & IE) != 0) {
                probe10(m, ea);
                m.write64(ea, Fx80Convert.BCD_INDEF_LO);
                m.write16(ea + 8, Fx80Convert.BCD_INDEF_HI);
            }
            if (stackFault(f, u, false)) {
                f.pop();
            }
            return;
        }
        Fx80Convert.toBcd(u, f.stSe(0), f.stSig(0));
        if ((u.flags & ~f.fcw & IE) != 0) {
            commit(f, u);
            return;
        }
        probe10(m, ea);
        m.write64(ea, u.xSig);
        m.write16(ea + 8, u.xSe);
        commit(f, u);
        setC1(f, u.c1);
        f.pop();
    }
}
