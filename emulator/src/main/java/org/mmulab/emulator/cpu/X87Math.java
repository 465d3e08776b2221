package org.mmulab.emulator.cpu;

import org.mmulab.emulator.cpu.fpu.Fx80;
import org.mmulab.emulator.cpu.fpu.Fx80Ops;
import org.mmulab.emulator.cpu.fpu.Fx80Trans;
import org.mmulab.emulator.cpu.fpu.X87State;

/**
 * The D9 register-form x87 instructions (SDM Vol. 3A table A-10 "D9 opcode map when ModR/M byte is
 * outside 00H-BFH"): FLD ST(i), FXCH, FNOP, FCHS, FABS, FTST, FXAM, the constants FLD1/FLDL2T/FLDL2E/
 * FLDPI/FLDLG2/FLDLN2/FLDZ (rounded per RC from 128-bit values, SDM §8.3.8), F2XM1, FYL2X, FPTAN,
 * FPATAN, FXTRACT, FPREM1, FDECSTP, FINCSTP, FPREM, FYL2XP1, FSQRT, FSINCOS, FRNDINT, FSCALE, FSIN,
 * FCOS. Stack discipline and exception commit are {@link X87Exec}'s.
 */
final class X87Math {
    /** FLD1, FLDL2T, FLDL2E, FLDPI, FLDLG2, FLDLN2: exponent, significand and the next 64 bits. */
    private static final int[] CONST_SE = {0x3fff, 0x4000, 0x3fff, 0x4000, 0x3ffd, 0x3ffe};
    private static final long[] CONST_HI = {0x8000_0000_0000_0000L, 0xD49A784BCD1B8AFEL, 0xB8AA3B295C17F0BBL,
        0xC90FDAA22168C234L, 0x9A209A84FBCFF798L, 0xB17217F7D1CF79ABL};
    private static final long[] CONST_LO = {0, 0x492BF6FF4DAFDB4CL, 0xBE87FED0691D3E88L, 0xC4C6628B80DC1CD1L,
        0x8F8959AC0B7C9178L, 0xC9E3B39803F2F6AFL};

    private X87Math() {
    }

    static void d9(Interpreter it, X87State f, Fx80 u, int reg, int i) {
        switch (reg) {
            case 0 -> { // FLD ST(i)
                if (f.empty(i)) {
                    if (X87Exec.stackFault(f, u, !f.empty(7))) {
                        f.push(Fx80.INDEF_SE, Fx80.INDEF_SIG);
                    }
                } else {
                    X87Exec.push(f, u, f.stSe(i), f.stSig(i));
                }
            }
            case 1 -> X87Exec.fxch(f, u, i);
            case 2 -> {
                if (i != 0) {
                    throw it.undefinedOpcode();
                }
            }
            case 3 -> fstp(f, u, i);
            case 4 -> misc(it, f, u, i);
            case 5 -> {
                if (i == 7) {
                    throw it.undefinedOpcode();
                }
                constant(f, u, i);
            }
            case 6 -> group6(f, u, i);
            default -> group7(f, u, i);
        }
    }

    private static void fstp(X87State f, Fx80 u, int i) {
        if (f.empty(0)) {
            X87Exec.underflow(f, u, i, 1);
            return;
        }
        f.setSt(i, f.stSe(0), f.stSig(0));
        X87Exec.setC1(f, false);
        f.pop();
    }

    private static void misc(Interpreter it, X87State f, Fx80 u, int i) {
        switch (i) {
            case 0, 1 -> { // FCHS, FABS
                if (f.empty(0)) {
                    X87Exec.underflow(f, u, 0, 0);
                    return;
                }
                int se = f.stSe(0);
                f.setSt(0, i == 0 ? se ^ 0x8000 : se & 0x7fff, f.stSig(0));
                X87Exec.setC1(f, false);
            }
            case 4 -> { // FTST
                if (f.empty(0)) {
                    if (X87Exec.stackFault(f, u, false)) {
                        X87Exec.compareResult(it, f, 2, false);
                    }
                    return;
                }
                int r = Fx80Ops.compare(u, f.stSe(0), f.stSig(0), 0, 0, false);
                if (X87Exec.commit(f, u)) {
                    X87Exec.compareResult(it, f, r, false);
                }
            }
            case 5 -> { // FXAM
                int p = f.phys(0);
                int se = f.se[p];
                int cls;
                if (f.empty(0)) {
                    cls = 5;
                } else {
                    cls = switch (Fx80.classify(se, f.sig[p])) {
                        case Fx80.UNSUPPORTED -> 0;
                        case Fx80.QNAN, Fx80.SNAN -> 1;
                        case Fx80.NORMAL -> 2;
                        case Fx80.INF -> 3;
                        case Fx80.ZERO -> 4;
                        default -> 6;
                    };
                }
                X87Exec.setCc(f, cls & 4, cls & 2, cls & 1);
                X87Exec.setC1(f, (se & 0x8000) != 0);
            }
            default -> throw it.undefinedOpcode();
        }
    }

    private static void constant(X87State f, Fx80 u, int i) {
        if (i == 6) {
            X87Exec.push(f, u, 0, 0); // FLDZ
            return;
        }
        int k = i == 0 ? 0 : i;
        long hi = CONST_HI[k], lo = CONST_LO[k];
        // Rounded per RC from the internal value, without PE (SDM §8.3.8 and the FLD1.. page).
        int rc = f.fcw >>> 10 & 3;
        boolean up = switch (rc) {
            case Fx80.RC_NEAREST -> lo < 0 && (lo != Long.MIN_VALUE || (hi & 1) != 0);
            case Fx80.RC_UP -> lo != 0;
            default -> false;
        };
        X87Exec.push(f, u, CONST_SE[k], up ? hi + 1 : hi);
    }

    /** Operation on ST(0) (and ST(1) for two-operand forms) with the standard stack checks. */
    private static boolean needs(X87State f, Fx80 u, int regs, int dst, int pops) {
        if (f.empty(0) || (regs > 1 && f.empty(1))) {
            X87Exec.underflow(f, u, dst, pops);
            return false;
        }
        return true;
    }

    private static void group6(X87State f, Fx80 u, int i) {
        Fx80Trans t = f.trans;
        switch (i) {
            case 0 -> { // F2XM1
                if (needs(f, u, 1, 0, 0)) {
                    t.f2xm1(f.stSe(0), f.stSig(0));
                    X87Exec.result(f, u, 0, 0);
                }
            }
            case 1 -> { // FYL2X
                if (needs(f, u, 2, 1, 1)) {
                    t.yl2x(f.stSe(1), f.stSig(1), f.stSe(0), f.stSig(0));
                    X87Exec.result(f, u, 1, 1);
                }
            }
            case 2 -> pushing(f, u, 2);
            case 3 -> { // FPATAN
                if (needs(f, u, 2, 1, 1)) {
                    t.atan2(f.stSe(1), f.stSig(1), f.stSe(0), f.stSig(0));
                    X87Exec.result(f, u, 1, 1);
                }
            }
            case 4 -> pushing(f, u, 4);
            case 5 -> prem(f, u, true);
            case 6 -> { // FDECSTP
                f.top = (f.top - 1) & 7;
                X87Exec.setC1(f, false);
            }
            default -> { // FINCSTP
                f.top = (f.top + 1) & 7;
                X87Exec.setC1(f, false);
            }
        }
    }

    private static void group7(X87State f, Fx80 u, int i) {
        Fx80Trans t = f.trans;
        switch (i) {
            case 0 -> prem(f, u, false);
            case 1 -> { // FYL2XP1
                if (needs(f, u, 2, 1, 1)) {
                    t.yl2xp1(f.stSe(1), f.stSig(1), f.stSe(0), f.stSig(0));
                    X87Exec.result(f, u, 1, 1);
                }
            }
            case 2 -> { // FSQRT
                if (needs(f, u, 1, 0, 0)) {
                    u.sqrt(f.stSe(0), f.stSig(0));
                    X87Exec.result(f, u, 0, 0);
                }
            }
            case 3 -> pushing(f, u, 3);
            case 4 -> { // FRNDINT
                if (needs(f, u, 1, 0, 0)) {
                    Fx80Ops.roundInt(u, f.stSe(0), f.stSig(0));
                    X87Exec.result(f, u, 0, 0);
                }
            }
            case 5 -> { // FSCALE
                if (needs(f, u, 2, 0, 0)) {
                    Fx80Ops.scale(u, f.stSe(0), f.stSig(0), f.stSe(1), f.stSig(1));
                    X87Exec.result(f, u, 0, 0);
                }
            }
            default -> { // FSIN (6), FCOS (7)
                if (!needs(f, u, 1, 0, 0)) {
                    return;
                }
                int se = f.stSe(0);
                long sig = f.stSig(0);
                if (Fx80Trans.outOfRange(se, sig) && Fx80.classify(se, sig) != Fx80.INF) {
                    f.fsw |= X87State.C2;
                    return;
                }
                t.trig(se, sig, i == 6 ? 0 : 1);
                if (X87Exec.commit(f, u)) {
                    f.fsw &= ~X87State.C2;
                    f.setSt(0, u.rSe, u.rSig);
                    X87Exec.setC1(f, u.c1);
                }
            }
        }
    }

    /** FPREM (ieee false) / FPREM1: C2 = incomplete, C0/C3/C1 = quotient bits 2/1/0. */
    private static void prem(X87State f, Fx80 u, boolean ieee) {
        if (!needs(f, u, 2, 0, 0)) {
            return;
        }
        Fx80Ops.rem(u, f.stSe(0), f.stSig(0), f.stSe(1), f.stSig(1), ieee);
        if (X87Exec.commit(f, u)) {
            f.setSt(0, u.rSe, u.rSig);
            int q = u.quot;
            X87Exec.setCc(f, q & 2, u.partial ? 1 : 0, q & 4);
            X87Exec.setC1(f, (q & 1) != 0);
        }
    }

    /** FPTAN (2), FSINCOS (3), FXTRACT (4): replace ST(0) and push a second result. */
    private static void pushing(X87State f, Fx80 u, int kind) {
        if (f.empty(0)) {
            if (X87Exec.stackFault(f, u, false)) {
                f.setSt(0, Fx80.INDEF_SE, Fx80.INDEF_SIG);
                if (f.empty(7)) {
                    f.push(Fx80.INDEF_SE, Fx80.INDEF_SIG);
                }
            }
            return;
        }
        if (!f.empty(7)) {
            if (X87Exec.stackFault(f, u, true)) {
                f.setSt(0, Fx80.INDEF_SE, Fx80.INDEF_SIG);
                f.push(Fx80.INDEF_SE, Fx80.INDEF_SIG);
            }
            return;
        }
        int se = f.stSe(0);
        long sig = f.stSig(0);
        if (kind != 4 && Fx80Trans.outOfRange(se, sig) && Fx80.classify(se, sig) != Fx80.INF) {
            f.fsw |= X87State.C2;
            return;
        }
        int keepSe;
        long keepSig;
        int pushSe;
        long pushSig;
        if (kind == 4) {
            Fx80Ops.extract(u, se, sig);
            keepSe = u.xSe; // exponent stays in ST(1)
            keepSig = u.xSig;
            pushSe = u.rSe;
            pushSig = u.rSig;
        } else if (kind == 2) {
            f.trans.trig(se, sig, 2);
            keepSe = u.rSe;
            keepSig = u.rSig;
            int c = Fx80.classify(keepSe, keepSig);
            boolean nan = c == Fx80.QNAN || c == Fx80.SNAN;
            pushSe = nan ? keepSe : Fx80.BIAS;
            pushSig = nan ? keepSig : Fx80.INT_BIT;
        } else {
            f.trans.trig(se, sig, 3);
            keepSe = u.rSe;
            keepSig = u.rSig;
            pushSe = u.xSe;
            pushSig = u.xSig;
        }
        if (X87Exec.commit(f, u)) {
            f.fsw &= ~X87State.C2;
            f.setSt(0, keepSe, keepSig);
            f.push(pushSe, pushSig);
            X87Exec.setC1(f, u.c1);
        }
    }
}
