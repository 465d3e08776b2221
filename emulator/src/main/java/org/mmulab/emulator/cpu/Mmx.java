package org.mmulab.emulator.cpu;

import static org.mmulab.emulator.cpu.SoftFloat.F32;
import static org.mmulab.emulator.cpu.SoftFloat.F64;

import org.mmulab.emulator.cpu.fpu.X87State;
import org.mmulab.emulator.mmu.Mmu;

/**
 * MMX technology (the {@link Op#MMX} group; SDM Vol. 1 ch. 9, Vol. 2 entries MOVD/MOVQ ... EMMS, and the
 * 64-bit forms of the SSE/SSE2/SSSE3 integer instructions): the eight MMX registers are the 64-bit
 * significands of the x87 physical registers R0-R7 ({@link X87State#sig}), so FSAVE/FXSAVE/XSAVE and
 * signal frames carry them with no code of their own.
 *
 * <p>Every instruction here first applies the checks of SDM Vol. 3A §13.x / Vol. 1 Table 9-3 in order:
 * CR0.EM = 1 is #UD, CR0.TS = 1 is #NM, a pending unmasked x87 exception (FSW.ES) is #MF. Then the x87
 * to MMX transition (Vol. 1 §9.5.1): TOP = 0 and every tag valid; a write to MMi sets the sign/exponent
 * field of Ri to all ones. EMMS empties every tag instead. The exceptions: CVTPI2PS and CVTPI2PD with a
 * memory source touch no x87 state (Vol. 2 CVTPI2PD: "no transition to MMX technology ... no x87 FPU
 * exceptions") and follow only the SSE rules.
 *
 * <p>The lane arithmetic is {@link SsePacked#binary64} and {@link Ssse3#op64}, the same code the XMM
 * forms run on each 64-bit half. Sub-operation ids: the constants below; the SSE2 binary ids
 * {@link Sse#BIN}..{@link Sse#PSLLQ}; {@link #SSSE3} + the 0F 38 opcode byte (PALIGNR: + 0F).
 */
final class Mmx {
    static final int MOVD_LD = 1, MOVQ_LDG = 2, MOVD_ST = 3, MOVQ_STG = 4, MOVQ_LD = 5, MOVQ_ST = 6,
            MOVNTQ = 7, EMMS = 8, PSHUFW = 9, PINSRW = 10, PEXTRW = 11, PMOVMSKB = 12, MASKMOVQ = 13,
            MOVQ2DQ = 14, MOVDQ2Q = 15, CVTPI2PS = 16, CVTPS2PI = 17, CVTTPS2PI = 18, CVTPI2PD = 19,
            CVTPD2PI = 20, CVTTPD2PI = 21;
    /** 0F 71-73 /r ib shifts: SHIFT_I + 3 * (0 word, 1 dword, 2 qword) + (0 logical right, 1 arithmetic right, 2 left). */
    static final int SHIFT_I = 32;
    /** SSSE3 MMX forms: SSSE3 + the 0F 38 opcode byte; PALIGNR (0F 3A 0F) is SSSE3 + 0F. */
    static final int SSSE3 = 128, PALIGNR = SSSE3 + 0x0f;

    private Mmx() {
    }

    /**
     * Decoder: the MMX id of 0F {@code b} under mandatory prefix {@code pfx} (0 none, 1 66, 2 F2, 3 F3),
     * -1 when the opcode is not an MMX form; {@link #SHIFT_I} for the 0F 71-73 groups (ModRM.reg picks).
     */
    static int decode(int b, int pfx, boolean rexW) {
        if (pfx == 1) {
            return b == 0x2a ? CVTPI2PD : b == 0x2c ? CVTTPD2PI : b == 0x2d ? CVTPD2PI : -1;
        }
        if (pfx != 0) {
            return b != 0xd6 ? -1 : pfx == 3 ? MOVQ2DQ : MOVDQ2Q;
        }
        switch (b) {
            case 0x2a: return CVTPI2PS;
            case 0x2c: return CVTTPS2PI;
            case 0x2d: return CVTPS2PI;
            case 0x6e: return rexW ? MOVQ_LDG : MOVD_LD;
            case 0x7e: return rexW ? MOVQ_STG : MOVD_ST;
            case 0x6f: return MOVQ_LD;
            case 0x7f: return MOVQ_ST;
            case 0x70: return PSHUFW;
            case 0x71: case 0x72: case 0x73: return SHIFT_I;
            case 0x77: return EMMS;
            case 0xc4: return PINSRW;
            case 0xc5: return PEXTRW;
            case 0xd7: return PMOVMSKB;
            case 0xe7: return MOVNTQ;
            case 0xf7: return MASKMOVQ;
            case 0x6c: case 0x6d: return -1; // PUNPCKLQDQ/PUNPCKHQDQ exist only with 66
            default:
                return b >= 0x60 ? SseMaps.packed66(b) : -1;
        }
    }

    /** The 0F 71/72/73 /reg shift (no prefix), or -1 for a reg value with no MMX form (#UD). */
    static int shiftGroup(int b, int reg) {
        int k = reg == 2 ? 0 : reg == 4 ? 1 : reg == 6 ? 2 : -1;
        if (k < 0 || (b == 0x73 && k == 1)) {
            return -1;
        }
        return SHIFT_I + 3 * (b - 0x71) + k;
    }

    /** Forms that need a memory operand (#UD with a register). */
    static boolean needsMem(int op) {
        return op == MOVNTQ;
    }

    /** Forms that need a register operand (#UD with memory). */
    static boolean needsReg(int op) {
        return op == MASKMOVQ || op == PEXTRW || op == PMOVMSKB || op == MOVQ2DQ || op == MOVDQ2Q;
    }

    static boolean hasImm(int op) {
        return op == PSHUFW || op == PINSRW || op == PEXTRW;
    }

    /** The SSSE3 0F 38 opcode bytes that have an MMX form (SDM Vol. 2 Table A-4). */
    static boolean ssse3Byte(int b) {
        return b <= 0x0b || (b >= 0x1c && b <= 0x1e);
    }

    /** #UD (CR0.EM), #NM (CR0.TS), #MF (pending x87 exception), in the SDM's order. */
    static void checks(CpuState s) {
        DeviceNotAvailable.simd(s);
        X87Exec.pending(s, s.fpu);
    }

    /** The x87-to-MMX transition: TOP = 0, all tags valid. */
    static void enter(X87State f) {
        f.top = 0;
        f.valid = 0xff;
    }

    /** Writes MMi: the significand of Ri, with the sign/exponent field set to all ones. */
    static void set(X87State f, int i, long v) {
        f.sig[i] = v;
        f.se[i] = 0xffff;
    }

    static void exec(Interpreter it) {
        CpuState s = it.state();
        X87State f = s.fpu;
        int op = it.curSub();
        boolean mem = it.curHasMem();
        boolean x87 = !((op == CVTPI2PS || op == CVTPI2PD) && mem);
        if (x87) {
            checks(s);
        }
        if (op == EMMS) {
            f.valid = 0;
            return;
        }
        if (x87) {
            enter(f);
        }
        int d = it.curReg() & 7;
        if (op >= SSSE3) {
            long b = src64(it, f);
            set(f, d, Ssse3.op64(op - SSSE3, f.sig[d], b, (int) it.curImm() & 0xff));
            return;
        }
        if (op >= Sse.BIN) {
            long b = src64(it, f);
            set(f, d, SsePacked.binary64(op, f.sig[d], b));
            return;
        }
        if (op >= SHIFT_I) {
            int k = op - SHIFT_I;
            int e = it.curRm() & 7;
            int width = k < 3 ? 16 : k < 6 ? 32 : 64;
            set(f, e, SsePacked.shiftLanes(f.sig[e], width, k % 3, it.curImm() & 0xff));
            return;
        }
        Mmu m = it.mmu();
        long[] x = s.xmm;
        switch (op) {
            case MOVD_LD -> set(f, d, it.readOperand(2) & 0xffff_ffffL);
            case MOVQ_LDG -> set(f, d, it.readOperand(3));
            case MOVD_ST -> it.writeOperand(2, f.sig[d] & 0xffff_ffffL);
            case MOVQ_STG -> it.writeOperand(3, f.sig[d]);
            case MOVQ_LD -> set(f, d, src64(it, f));
            case MOVQ_ST, MOVNTQ -> {
                if (mem) {
                    m.write64(it.curEa(), f.sig[d]);
                } else {
                    set(f, it.curRm() & 7, f.sig[d]);
                }
            }
            case PSHUFW -> {
                long v = src64(it, f);
                int imm = (int) it.curImm();
                long r = 0;
                for (int i = 0; i < 4; i++) {
                    r |= ((v >>> (16 * ((imm >>> (2 * i)) & 3))) & 0xffff) << (16 * i);
                }
                set(f, d, r);
            }
            case PINSRW -> {
                long w = it.readOperand(1) & 0xffff;
                int sh = 16 * ((int) it.curImm() & 3);
                set(f, d, (f.sig[d] & ~(0xffffL << sh)) | (w << sh));
            }
            case PEXTRW -> it.setGpr(it.curReg(), 3,
                    (f.sig[it.curRm() & 7] >>> (16 * ((int) it.curImm() & 3))) & 0xffff);
            case PMOVMSKB -> it.setGpr(it.curReg(), 3, SseExec.msb8(f.sig[it.curRm() & 7]));
            case MASKMOVQ -> SseExec.maskedStore(it, SseExec.msb8(f.sig[it.curRm() & 7]), f.sig[d], 0);
            case MOVQ2DQ -> {
                int xd = 2 * it.curReg();
                x[xd] = f.sig[it.curRm() & 7];
                x[xd + 1] = 0;
            }
            case MOVDQ2Q -> set(f, d, x[2 * it.curRm()]);
            default -> convert(it, f, op);
        }
    }

    /** CVTPI2PS, CVTPI2PD, CVT(T)PS2PI, CVT(T)PD2PI under MXCSR ({@link SseCvt}; #XM before any write). */
    private static void convert(Interpreter it, X87State f, int op) {
        CpuState s = it.state();
        SoftFloat sf = it.sf;
        sf.begin(s.mxcsr);
        long[] x = s.xmm;
        int d = it.curReg() & 7;
        switch (op) {
            case CVTPI2PS -> {
                long v = src64(it, f);
                long r = SseCvt.fromInt(sf, F32, (int) v) | (SseCvt.fromInt(sf, F32, (int) (v >>> 32)) << 32);
                sf.commit(s);
                x[2 * it.curReg()] = r;
            }
            case CVTPI2PD -> {
                long v = src64(it, f);
                int xd = 2 * it.curReg();
                x[xd] = Double.doubleToRawLongBits((int) v); // exact: no flags
                x[xd + 1] = Double.doubleToRawLongBits((int) (v >>> 32));
            }
            case CVTPS2PI, CVTTPS2PI -> {
                boolean tr = op == CVTTPS2PI;
                long v = it.curHasMem() ? it.mmu().read64(it.curEa()) : x[2 * it.curRm()];
                long r = SseCvt.toInt(sf, F32, v & 0xffff_ffffL, tr, false)
                        | (SseCvt.toInt(sf, F32, v >>> 32, tr, false) << 32);
                sf.commit(s);
                set(f, d, r);
            }
            case CVTPD2PI, CVTTPD2PI -> {
                boolean tr = op == CVTTPD2PI;
                long[] t = it.scratch128;
                SseExec.src128(it, true, t);
                long r = SseCvt.toInt(sf, F64, t[0], tr, false) | (SseCvt.toInt(sf, F64, t[1], tr, false) << 32);
                sf.commit(s);
                set(f, d, r);
            }
            default -> throw it.undefinedOpcode();
        }
    }

    /** The 64-bit source: MM(rm) or m64 (no alignment rule for MMX memory operands). */
    private static long src64(Interpreter it, X87State f) {
        return it.curHasMem() ? it.mmu().read64(it.curEa()) : f.sig[it.curRm() & 7];
    }
}
