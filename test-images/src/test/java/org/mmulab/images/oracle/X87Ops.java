package org.mmulab.images.oracle;

/**
 * The x87 part of {@link X86Insn}'s tables: for an escape opcode D8-DF (and FWAIT, 9B) with its ModRM
 * byte, which condition codes C0-C3 of the FPU status word the instruction writes and which of them
 * it leaves undefined, per the Intel SDM Vol. 2 instruction pages, "FPU Flags Affected":
 * <ul>
 * <li>C1 defined, C0 C2 C3 undefined ({@link #ARITH}): FADD FSUB(R) FMUL FDIV(R) and their P/I forms,
 *     FLD (all forms), FLD1/FLDL2T/FLDL2E/FLDPI/FLDLG2/FLDLN2/FLDZ, FILD, FBLD, FST(P), FIST(P),
 *     FISTTP, FBSTP, FXCH, FCHS, FABS, FCMOVcc, FINCSTP, FDECSTP, F2XM1, FYL2X, FYL2XP1, FPATAN,
 *     FXTRACT, FSQRT, FRNDINT, FSCALE</li>
 * <li>C1 C2 defined, C0 C3 undefined ({@link #TRIG}): FSIN, FCOS, FSINCOS, FPTAN (C2 = operand out of
 *     range)</li>
 * <li>all four defined ({@link #DEFINED}): FCOM/FCOMP/FCOMPP, FUCOM/FUCOMP/FUCOMPP, FICOM/FICOMP, FTST,
 *     FXAM, FPREM, FPREM1, FNINIT and FNSAVE (cleared), FLDENV, FRSTOR, FXRSTOR, XRSTOR (loaded)</li>
 * <li>all four undefined ({@link #UNDEFINED}): FLDCW, FNSTCW, FNSTENV, FNSTSW, FNCLEX, FFREE, FFREEP,
 *     FNOP (and the 287 no-ops FENI, FDISI, FSETPM), FWAIT</li>
 * <li>C1 defined, C0 C2 C3 not affected ({@link #COMI}): FCOMI, FCOMIP, FUCOMI, FUCOMIP (which define
 *     ZF PF CF instead)</li>
 * <li>nothing ({@link #NONE}): FXSAVE, XSAVE, and encodings that are not x87 instructions</li>
 * </ul>
 * The undocumented aliases (D9 D8-DF FSTP1, DC D0-DF FCOM2/FCOMP3, DD C8-CF FXCH4, DE D0-D7 FCOMP5,
 * DF C8-CF FXCH7, DF D0-DF FSTP8/9) behave as the instructions they alias.
 */
final class X87Ops {
    static final int C0 = 1 << 8, C1 = 1 << 9, C2 = 1 << 10, C3 = 1 << 14, CC = C0 | C1 | C2 | C3;

    /** Classes: {written, undefined} condition codes. */
    static final int NONE = 0, ARITH = 1, TRIG = 2, DEFINED = 3, UNDEFINED = 4, COMI = 5;
    private static final int[] WRITTEN = { 0, CC, CC, CC, CC, C1 };
    private static final int[] UNDEF = { 0, C0 | C2 | C3, C0 | C3, 0, CC, 0 };

    /** What an x87 instruction stores to memory, for following an inexact value there. */
    static final int STORE_NONE = 0, STORE_F32 = 1, STORE_F64 = 2, STORE_ST0 = 3, STORE_ALL = 4;

    private X87Ops() {
    }

    /** The class of {@code insn} ({@link #ARITH} ...); FXRSTOR and XRSTOR load all four codes. */
    static int classify(X86Insn insn) {
        return insn.map() >= 0 ? classify(insn.map(), insn.opcode(), insn.modrm()) : NONE;
    }

    /** FSW condition codes (C0-C3) {@code insn} leaves undefined. */
    static int undefinedCc(X86Insn insn) {
        return UNDEF[classify(insn)];
    }

    /** FSW condition codes (C0-C3) {@code insn} writes, defined or not. */
    static int writtenCc(X86Insn insn) {
        return WRITTEN[classify(insn)];
    }

    /** {@link #transcendentalResult(int, int)} of {@code insn}. */
    static int transcendentalResult(X86Insn insn) {
        return insn.map() == 0 ? transcendentalResult(insn.opcode(), insn.modrm()) : 0;
    }

    /** {@link #store(int, int, int)} of {@code insn}. */
    static int store(X86Insn insn) {
        return insn.map() >= 0 ? store(insn.map(), insn.opcode(), insn.modrm()) : STORE_NONE;
    }

    /**
     * Where {@code insn} stores the status word, condition codes included: 0 for FNSTSW m16, 4 for
     * FNSTENV and FNSAVE (offset of FSW in their image in 32- and 64-bit mode), -1 for anything else
     * (FNSTSW AX is {@link #isFnstswAx}).
     */
    static int statusWordStoreOffset(X86Insn insn) {
        int m = insn.modrm();
        if (insn.map() != 0 || m < 0 || m >= 0xc0) {
            return -1;
        }
        int reg = (m >> 3) & 7, op = insn.opcode();
        return op == 0xdd && reg == 7 ? 0 : (op == 0xd9 || op == 0xdd) && reg == 6 ? 4 : -1;
    }

    /**
     * True for the instructions that clear or load the FSW exception flags: FNCLEX, FNINIT, FNSAVE,
     * FLDENV, FRSTOR, FXRSTOR, XRSTOR.
     */
    static boolean clearsExceptions(X86Insn insn) {
        int m = insn.modrm(), op = insn.opcode();
        if (m < 0) {
            return false;
        }
        int reg = (m >> 3) & 7;
        boolean mem = m < 0xc0;
        if (insn.map() == 1) {
            return op == 0xae && mem && (reg == 1 || reg == 5);
        }
        return insn.map() == 0 && ((op == 0xdb && (m == 0xe2 || m == 0xe3)) || (op == 0xd9 && mem && reg == 4)
                || (op == 0xdd && mem && (reg == 4 || reg == 6)));
    }

    /** FNSTSW AX (DF E0): the status word into AX. */
    static boolean isFnstswAx(X86Insn insn) {
        return insn.map() == 0 && insn.opcode() == 0xdf && insn.modrm() == 0xe0;
    }

    static int written(int cls) {
        return WRITTEN[cls];
    }

    static int undefined(int cls) {
        return UNDEF[cls];
    }

    /** The class of the instruction with opcode {@code op} in {@code map} (0 one-byte, 1 0F) and ModRM {@code m}. */
    static int classify(int map, int op, int m) {
        if (map == 1 && op == 0xae && m >= 0 && m < 0xc0) {
            int r = (m >> 3) & 7;
            return r == 1 || r == 5 ? DEFINED : NONE; // FXRSTOR, XRSTOR load them
        }
        return map == 0 ? classify(op, m) : NONE;
    }

    /** The class of escape {@code esc} (0xD8-0xDF) with ModRM {@code m}; FWAIT is {@code esc} 0x9B. */
    static int classify(int esc, int m) {
        if (esc == 0x9b) {
            return UNDEFINED;
        }
        if (m < 0) {
            return NONE;
        }
        int reg = (m >> 3) & 7;
        boolean mem = m < 0xc0;
        switch (esc) {
            case 0xd8, 0xdc:
                return reg == 2 || reg == 3 ? DEFINED : ARITH;
            case 0xda, 0xde:
                if (mem) {
                    return reg == 2 || reg == 3 ? DEFINED : ARITH;
                }
                if (esc == 0xda) {
                    return m < 0xe0 ? ARITH : m == 0xe9 ? DEFINED : NONE;
                }
                return reg == 2 || m == 0xd9 ? DEFINED : reg == 3 ? NONE : ARITH;
            case 0xd9:
                if (mem) {
                    return switch (reg) {
                        case 0, 2, 3 -> ARITH;
                        case 4 -> DEFINED;
                        case 5, 6, 7 -> UNDEFINED;
                        default -> NONE;
                    };
                }
                if (m < 0xd0 || (m >= 0xd8 && m < 0xe0)) {
                    return ARITH; // FLD ST(i), FXCH, FSTP1
                }
                return switch (m) {
                    case 0xd0 -> UNDEFINED;
                    case 0xe0, 0xe1, 0xe8, 0xe9, 0xea, 0xeb, 0xec, 0xed, 0xee, 0xf0, 0xf1, 0xf3, 0xf4, 0xf6, 0xf7, 0xf9,
                            0xfa, 0xfc, 0xfd -> ARITH;
                    case 0xe4, 0xe5, 0xf5, 0xf8 -> DEFINED;
                    case 0xf2, 0xfb, 0xfe, 0xff -> TRIG;
                    default -> NONE;
                };
            case 0xdb:
                if (mem) {
                    return reg == 4 || reg == 6 ? NONE : ARITH;
                }
                if (m < 0xe0) {
                    return ARITH; // FCMOVNcc
                }
                if (m >= 0xe8 && m < 0xf8) {
                    return COMI;
                }
                return switch (m) {
                    case 0xe0, 0xe1, 0xe2, 0xe4 -> UNDEFINED;
                    case 0xe3 -> DEFINED;
                    default -> NONE;
                };
            case 0xdd:
                if (mem) {
                    return switch (reg) {
                        case 0, 1, 2, 3 -> ARITH;
                        case 4, 6 -> DEFINED;
                        case 7 -> UNDEFINED;
                        default -> NONE;
                    };
                }
                return m < 0xc8 ? UNDEFINED : m < 0xe0 ? ARITH : m < 0xf0 ? DEFINED : NONE;
            case 0xdf:
                if (mem) {
                    return ARITH;
                }
                if (m < 0xc8 || m == 0xe0) {
                    return UNDEFINED; // FFREEP, FNSTSW AX
                }
                return m < 0xe0 ? ARITH : m >= 0xe8 && m < 0xf8 ? COMI : NONE;
            default:
                return NONE;
        }
    }

    /**
     * The stack positions (after the instruction retires) that hold the result of a transcendental
     * instruction mmulab rounds correctly and hardware within about 1 ulp: bit i = ST(i). FSIN, FCOS,
     * F2XM1: ST(0); FYL2X, FYL2XP1, FPATAN: ST(0) after their pop; FPTAN: ST(1) (ST(0) is the 1.0
     * pushed); FSINCOS: ST(0) (cosine) and ST(1) (sine). 0 for every other instruction.
     */
    static int transcendentalResult(int esc, int m) {
        if (esc != 0xd9) {
            return 0;
        }
        return switch (m) {
            case 0xf0, 0xf1, 0xf3, 0xf9, 0xfe, 0xff -> 1;
            case 0xf2 -> 2;
            case 0xfb -> 3;
            default -> 0;
        };
    }

    /** What the instruction stores to memory from the x87 registers (see STORE_*). */
    static int store(int map, int esc, int m) {
        if (m < 0 || m >= 0xc0 || map > 1) {
            return STORE_NONE;
        }
        int reg = (m >> 3) & 7;
        if (map == 1) { // FXSAVE, XSAVE, XSAVEOPT: every register
            return esc == 0xae && (reg == 0 || reg == 4 || reg == 6) ? STORE_ALL : STORE_NONE;
        }
        return switch (esc) {
            case 0xd9 -> reg == 2 || reg == 3 ? STORE_F32 : STORE_NONE;
            case 0xdd -> reg == 2 || reg == 3 ? STORE_F64 : reg == 1 ? STORE_ST0 : reg == 6 ? STORE_ALL : STORE_NONE;
            case 0xdb -> reg == 1 || reg == 2 || reg == 3 || reg == 7 ? STORE_ST0 : STORE_NONE;
            case 0xdf -> reg == 1 || reg == 2 || reg == 3 || reg == 6 || reg == 7 ? STORE_ST0 : STORE_NONE;
            default -> STORE_NONE;
        };
    }
}
