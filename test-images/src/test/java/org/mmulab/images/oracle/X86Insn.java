package org.mmulab.images.oracle;

/**
 * Just enough x86 decoding for the oracle: prefixes, opcode map and opcode, the ModRM reg field
 * and the position of an 8-bit immediate after ModRM. It classifies an instruction by the RFLAGS
 * bits the SDM leaves undefined for it (which the comparator does not compare), recognises REP
 * string instructions (which ptrace reports once per iteration) and SYSCALL.
 *
 * <p>Undefined flags per the Intel SDM, Vol. 2 (instruction pages, "Flags Affected"):
 * <ul>
 * <li>MUL, IMUL (all forms): SF ZF AF PF</li>
 * <li>DIV, IDIV: CF OF SF ZF AF PF</li>
 * <li>AND, OR, XOR, TEST: AF</li>
 * <li>BSF, BSR: CF OF SF AF PF; TZCNT, LZCNT (F3-prefixed): OF SF AF PF</li>
 * <li>BT, BTS, BTR, BTC: OF SF AF PF</li>
 * <li>SHL/SAL, SHR, SAR with a masked count c != 0: AF; OF when c != 1; CF when c >= operand size (8/16-bit)</li>
 * <li>ROL, ROR, RCL, RCR with a masked count c != 0: OF when c != 1</li>
 * <li>SHLD, SHRD with a masked count c != 0: AF; OF when c != 1; all six when c > operand size</li>
 * <li>32-bit only: DAA, DAS: OF; AAA, AAS: OF SF ZF PF; AAM, AAD: OF AF CF</li>
 * </ul>
 * Defined by the x86-64-v2 instructions (all six written, none undefined): POPCNT, PTEST (ZF CF, the
 * rest cleared), PCMPESTRI/ESTRM/ISTRI/ISTRM (CF ZF SF OF, AF PF cleared), (U)COMISS/SD; CMPXCHG8B/16B
 * write ZF only; CRC32, MOVBE and every other SSE instruction write none.
 * A count of zero leaves the flags unchanged, so nothing is masked then.
 *
 * <p>x87 (escape opcodes D8-DF, FWAIT): the condition codes C0-C3 each instruction writes and leaves
 * undefined are tabulated in {@link X87Ops} (which reads this decoding); FCOMI/FCOMIP/FUCOMI/FUCOMIP write ZF PF CF (OF SF AF
 * cleared); FCMOVcc reads CF, ZF or PF.
 */
public final class X86Insn {
    public static final long CF = 1, PF = 1 << 2, AF = 1 << 4, ZF = 1 << 6, SF = 1 << 7, OF = 1 << 11;
    public static final long ARITH = CF | PF | AF | ZF | SF | OF;

    private final byte[] b;
    private final boolean longMode;
    private boolean decoded;
    private int rep; // 0, 0xf2 or 0xf3: the last of them
    private boolean opsize16;
    private boolean addrsize; // 67 seen
    private int rex;
    private int seg;
    private int map = -1; // 0 one-byte, 1 0F, 2 0F38, 3 0F3A; -1 unknown/VEX/EVEX
    private int opcode = -1;
    private int modrmPos = -1;

    private X86Insn(byte[] bytes, boolean longMode) {
        this.b = bytes;
        this.longMode = longMode;
        decode();
    }

    /** Decodes the instruction starting at {@code bytes[0]} (up to 15 bytes; fewer is tolerated). */
    public static X86Insn decode(byte[] bytes, boolean longMode) {
        return new X86Insn(bytes, longMode);
    }

    private int at(int i) {
        return i < b.length ? b[i] & 0xff : -1;
    }

    private void decode() {
        int p = 0;
        for (; p < 15; p++) {
            int x = at(p);
            if (x < 0) {
                return;
            }
            if (x == 0xf2 || x == 0xf3) {
                rep = x;
                rex = 0;
            } else if (x == 0x66) {
                opsize16 = true;
                rex = 0;
            } else if (x == 0x67) {
                addrsize = true;
                rex = 0;
            } else if (x == 0xf0) {
                rex = 0;
            } else if (x == 0x2e || x == 0x36 || x == 0x3e || x == 0x26 || x == 0x64 || x == 0x65) {
                seg = x;
                rex = 0;
            } else if (longMode && x >= 0x40 && x <= 0x4f) {
                rex = x;
            } else {
                break;
            }
        }
        int x = at(p);
        if (x < 0) {
            return;
        }
        if (x == 0xc4 || x == 0xc5 || x == 0x62 || x == 0x8f) {
            int next = at(p + 1);
            if (longMode || (next >= 0 && (next & 0xc0) == 0xc0)) {
                if (x != 0x8f || (next >= 0 && (next & 0x38) != 0)) {
                    decoded = true; // VEX/EVEX/XOP: not classified
                    return;
                }
            }
        }
        if (x == 0x0f) {
            int y = at(p + 1);
            if (y < 0) {
                return;
            }
            if (y == 0x38 || y == 0x3a) {
                map = y == 0x38 ? 2 : 3;
                opcode = at(p + 2);
                modrmPos = p + 3;
            } else {
                map = 1;
                opcode = y;
                modrmPos = p + 2;
            }
        } else {
            map = 0;
            opcode = x;
            modrmPos = p + 1;
        }
        decoded = opcode >= 0;
    }

    public boolean decoded() {
        return decoded;
    }

    /** REP/REPE/REPNE-prefixed MOVS, CMPS, STOS, LODS, SCAS, INS, OUTS. */
    public boolean isRepString() {
        if (map != 0 || rep == 0) {
            return false;
        }
        return (opcode >= 0xa4 && opcode <= 0xa7) || (opcode >= 0xaa && opcode <= 0xaf)
                || (opcode >= 0x6c && opcode <= 0x6f);
    }

    public boolean isSyscall() {
        return map == 1 && opcode == 0x05;
    }

    private int reg() {
        int m = at(modrmPos);
        return m < 0 ? -1 : (m >> 3) & 7;
    }

    private boolean wide() {
        return (rex & 8) != 0;
    }

    private int operandBits(boolean byteForm) {
        if (byteForm) {
            return 8;
        }
        return wide() ? 64 : opsize16 ? 16 : 32;
    }

    /** Position just past ModRM, SIB and displacement; -1 when the bytes run out. */
    private int afterModrm() {
        int m = at(modrmPos);
        if (m < 0) {
            return -1;
        }
        int mod = m >> 6, rm = m & 7;
        int p = modrmPos + 1;
        boolean addr16 = !longMode && addrsize;
        if (mod == 3) {
            return p;
        }
        if (addr16) {
            if (mod == 0 && rm == 6) {
                p += 2;
            } else if (mod == 1) {
                p += 1;
            } else if (mod == 2) {
                p += 2;
            }
            return p;
        }
        if (rm == 4) {
            int sib = at(p++);
            if (sib < 0) {
                return -1;
            }
            if (mod == 0 && (sib & 7) == 5) {
                p += 4;
            }
        }
        if (mod == 0 && rm == 5) {
            p += 4;
        } else if (mod == 1) {
            p += 1;
        } else if (mod == 2) {
            p += 4;
        }
        return p;
    }

    private int imm8() {
        int p = afterModrm();
        return p < 0 ? -1 : at(p);
    }

    /**
     * The RFLAGS bits this instruction leaves undefined. {@code rcxBefore} is RCX before the
     * instruction (for counts in CL). Returns 0 for instructions that define every flag they
     * touch, and for anything not decoded (so nothing is masked by mistake).
     */
    public long undefinedFlags(long rcxBefore) {
        if (!decoded || map < 0) {
            return 0;
        }
        int r = reg();
        if (map == 0) {
            switch (opcode) {
                case 0x69, 0x6b:
                    return SF | ZF | AF | PF;
                case 0xf6, 0xf7:
                    return switch (r) {
                        case 0, 1 -> AF;
                        case 4, 5 -> SF | ZF | AF | PF;
                        case 6, 7 -> ARITH;
                        default -> 0;
                    };
                case 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25,
                        0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x84, 0x85, 0xa8, 0xa9:
                    return AF;
                case 0x80, 0x81, 0x83:
                    return r == 1 || r == 4 || r == 6 ? AF : 0;
                case 0x82:
                    return !longMode && (r == 1 || r == 4 || r == 6) ? AF : 0;
                case 0xd0, 0xd1:
                    return shiftGroup(r, 1, opcode == 0xd0);
                case 0xd2, 0xd3:
                    return shiftGroup(r, (int) (rcxBefore & 0xff), opcode == 0xd2);
                case 0xc0, 0xc1: {
                    int imm = imm8();
                    return imm < 0 ? 0 : shiftGroup(r, imm, opcode == 0xc0);
                }
                case 0x27, 0x2f:
                    return longMode ? 0 : OF;
                case 0x37, 0x3f:
                    return longMode ? 0 : OF | SF | ZF | PF;
                case 0xd4, 0xd5:
                    return longMode ? 0 : OF | AF | CF;
                default:
                    return 0;
            }
        }
        if (map == 1) {
            switch (opcode) {
                case 0xaf:
                    return SF | ZF | AF | PF;
                case 0xbc, 0xbd:
                    return rep == 0xf3 ? OF | SF | AF | PF : CF | OF | SF | AF | PF;
                case 0xa3, 0xab, 0xb3, 0xbb:
                    return OF | SF | AF | PF;
                case 0xba:
                    return r >= 4 ? OF | SF | AF | PF : 0;
                case 0xa4, 0xac: {
                    int imm = imm8();
                    return imm < 0 ? 0 : doubleShift(imm);
                }
                case 0xa5, 0xad:
                    return doubleShift((int) (rcxBefore & 0xff));
                default:
                    return 0;
            }
        }
        return 0;
    }

    /**
     * The arithmetic flags this instruction certainly writes (defined or not). The comparator keeps
     * an undefined flag "don't care" until an instruction writes it again: real hardware leaves some
     * value there and later flag-preserving instructions (MOV, Jcc...) carry it along. Instructions
     * not listed here count as writing nothing, which only keeps a don't-care flag longer.
     */
    public long writtenFlags(long rcxBefore) {
        if (!decoded || map < 0) {
            return 0;
        }
        int r = reg();
        if (map == 0) {
            if (opcode < 0x40 && (opcode & 7) < 6) {
                return ARITH; // ADD OR ADC SBB AND SUB XOR CMP
            }
            switch (opcode) {
                case 0x69, 0x6b, 0x80, 0x81, 0x83, 0x84, 0x85, 0xa8, 0xa9, 0xa6, 0xa7, 0xae, 0xaf, 0x9d:
                    return ARITH;
                case 0x82:
                    return longMode ? 0 : ARITH;
                case 0x9e: // SAHF
                    return CF | PF | AF | ZF | SF;
                case 0xdb, 0xdf: { // FCOMI, FUCOMI (and the popping forms): ZF PF CF, the rest cleared
                    int m = at(modrmPos);
                    return m >= 0xe8 && m < 0xf8 ? ARITH : 0;
                }
                case 0xf6, 0xf7:
                    return r == 2 ? 0 : ARITH; // NOT writes none; TEST NEG MUL IMUL DIV IDIV all
                case 0xfe, 0xff:
                    return r <= 1 ? ARITH & ~CF : 0; // INC, DEC
                case 0xd0, 0xd1:
                    return shiftWritten(r, 1);
                case 0xd2, 0xd3:
                    return shiftWritten(r, (int) (rcxBefore & 0xff));
                case 0xc0, 0xc1: {
                    int imm = imm8();
                    return imm < 0 ? 0 : shiftWritten(r, imm);
                }
                default:
                    return 0;
            }
        }
        if (map == 1) {
            switch (opcode) {
                case 0xaf, 0xbc, 0xbd, 0xb0, 0xb1, 0xc0, 0xc1:
                    return ARITH; // IMUL, BSF/BSR/TZCNT/LZCNT, CMPXCHG, XADD
                case 0xb8:
                    return rep == 0xf3 ? ARITH : 0; // POPCNT
                case 0xa3, 0xab, 0xb3, 0xbb:
                    return CF | OF | SF | AF | PF; // BT*: ZF unaffected
                case 0xba:
                    return r >= 4 ? CF | OF | SF | AF | PF : 0;
                case 0xa4, 0xac: {
                    int imm = imm8();
                    return imm < 0 || (imm & (wide() ? 0x3f : 0x1f)) == 0 ? 0 : ARITH;
                }
                case 0xa5, 0xad:
                    return (rcxBefore & (wide() ? 0x3f : 0x1f)) == 0 ? 0 : ARITH;
                case 0x2e, 0x2f: // UCOMISS/COMISS (and SD with 66): ZF PF CF set, OF SF AF cleared
                    return ARITH;
                case 0xc7:
                    return r == 1 ? ZF : 0; // CMPXCHG8B/16B
                default:
                    return 0;
            }
        }
        if (map == 2 && opsize16 && rep == 0 && opcode == 0x17) {
            return ARITH; // PTEST
        }
        if (map == 3 && opsize16 && opcode >= 0x60 && opcode <= 0x63) {
            return ARITH; // PCMPESTRM, PCMPESTRI, PCMPISTRM, PCMPISTRI
        }
        return 0;
    }

    private long shiftWritten(int r, int rawCount) {
        int count = rawCount & (wide() ? 0x3f : 0x1f);
        if (count == 0 || r < 0) {
            return 0;
        }
        return r >= 4 ? ARITH : CF | OF;
    }

    private long shiftGroup(int r, int rawCount, boolean byteForm) {
        int count = rawCount & (wide() ? 0x3f : 0x1f);
        if (count == 0 || r < 0) {
            return 0;
        }
        long m = 0;
        if (count != 1) {
            m |= OF;
        }
        if (r >= 4) { // SHL, SHR, SAL, SAR
            m |= AF;
            if (count >= operandBits(byteForm)) {
                m |= CF;
            }
        }
        return m;
    }

    private long doubleShift(int rawCount) {
        int count = rawCount & (wide() ? 0x3f : 0x1f);
        if (count == 0) {
            return 0;
        }
        if (count > operandBits(false)) {
            return ARITH;
        }
        return AF | (count != 1 ? OF : 0);
    }

    /** How an instruction carries RFLAGS into a register, memory or control flow (see {@link #flagUse()}). */
    public enum FlagUse {
        /** Reads no flag the comparator tracks. */
        NONE,
        /** Jcc: the condition decides RIP. */
        BRANCH,
        /** SETcc: the condition becomes a byte. */
        SETCC,
        /** CMOVcc: the condition decides whether the destination is replaced. */
        CMOVCC,
        /** ADC, SBB, RCL, RCR: CF is an input of the result and of the flags written. */
        CARRY_IN,
        /** LAHF: SF ZF AF PF CF into AH. */
        LAHF,
        /** PUSHF: RFLAGS onto the stack. */
        PUSHF,
        /** POPF: RFLAGS from the stack. */
        POPF,
        /** POP into a general-purpose register (a value PUSHF may have pushed). */
        POP,
        /** SYSCALL: RFLAGS into R11. */
        SYSCALL,
        /** SAHF: AH into SF ZF AF PF CF. */
        SAHF,
        /** FCMOVcc: the condition decides whether ST(0) is replaced. */
        FCMOVCC
    }

    /** Which way this instruction moves flag values somewhere else, if any. */
    public FlagUse flagUse() {
        if (!decoded || map < 0) {
            return FlagUse.NONE;
        }
        if (map == 0) {
            if (opcode >= 0x70 && opcode <= 0x7f) {
                return FlagUse.BRANCH;
            }
            if ((opcode >= 0x10 && opcode <= 0x15) || (opcode >= 0x18 && opcode <= 0x1d)) {
                return FlagUse.CARRY_IN;
            }
            int r = reg();
            switch (opcode) {
                case 0x80, 0x81, 0x83, 0xc0, 0xc1, 0xd0, 0xd1, 0xd2, 0xd3:
                    return r == 2 || r == 3 ? FlagUse.CARRY_IN : FlagUse.NONE;
                case 0x9f:
                    return FlagUse.LAHF;
                case 0x9e:
                    return FlagUse.SAHF;
                case 0xda, 0xdb: {
                    int m = at(modrmPos);
                    return m >= 0xc0 && m < 0xe0 ? FlagUse.FCMOVCC : FlagUse.NONE;
                }
                case 0x9c:
                    return FlagUse.PUSHF;
                case 0x9d:
                    return FlagUse.POPF;
                case 0x8f:
                    return r == 0 ? FlagUse.POP : FlagUse.NONE;
                default:
                    return opcode >= 0x58 && opcode <= 0x5f ? FlagUse.POP : FlagUse.NONE;
            }
        }
        if (map == 1) {
            if (opcode >= 0x80 && opcode <= 0x8f) {
                return FlagUse.BRANCH;
            }
            if (opcode >= 0x90 && opcode <= 0x9f) {
                return FlagUse.SETCC;
            }
            if (opcode >= 0x40 && opcode <= 0x4f) {
                return FlagUse.CMOVCC;
            }
            if (opcode == 0x05) {
                return FlagUse.SYSCALL;
            }
        }
        return FlagUse.NONE;
    }

    /** The arithmetic flags the instruction reads (the condition of Jcc/SETcc/CMOVcc, CF of ADC...). */
    public long flagsRead() {
        return switch (flagUse()) {
            case BRANCH, SETCC, CMOVCC -> conditionFlags(opcode & 0xf);
            case CARRY_IN -> CF;
            case FCMOVCC -> switch ((at(modrmPos) >> 3) & 3) {
                case 0 -> CF; // FCMOVB / FCMOVNB
                case 1 -> ZF; // FCMOVE / FCMOVNE
                case 2 -> CF | ZF; // FCMOVBE / FCMOVNBE
                default -> PF; // FCMOVU / FCMOVNU
            };
            case LAHF -> CF | PF | AF | ZF | SF;
            case PUSHF, SYSCALL -> ARITH;
            default -> 0;
        };
    }

    /** The flags condition code {@code cc} tests (SDM Vol. 1 appendix B, table B-1). */
    static long conditionFlags(int cc) {
        return switch (cc >> 1) {
            case 0 -> OF;
            case 1 -> CF;
            case 2 -> ZF;
            case 3 -> CF | ZF;
            case 4 -> SF;
            case 5 -> PF;
            case 6 -> SF | OF;
            default -> ZF | SF | OF;
        };
    }

    /**
     * The general-purpose register (0-15, RAX..R15) a SETcc, CMOVcc, carry-in, LAHF or POP writes; -1 for a
     * memory destination or any other instruction. Byte registers AH..BH map to RAX..RBX (see {@link #destMask()}).
     */
    public int destGpr() {
        int enc = destEncoding();
        return enc >= 0 && destByteForm() && rex == 0 && enc >= 4 && enc < 8 ? enc - 4 : enc;
    }

    /** The bits of {@link #destGpr()} written: a byte (bits 7:0, or 15:8 for AH..BH and LAHF) or all. */
    public long destMask() {
        if (flagUse() == FlagUse.LAHF) {
            return 0xff00;
        }
        if (!destByteForm()) {
            return -1L;
        }
        int enc = destEncoding();
        return rex == 0 && enc >= 4 && enc < 8 ? 0xff00 : 0xff;
    }

    /** The destination's register number as encoded (REX extension applied), -1 when not a register. */
    private int destEncoding() {
        int m = at(modrmPos);
        boolean regDirect = m >= 0 && (m >> 6) == 3;
        int rmReg = m < 0 ? -1 : (m & 7) | ((rex & 1) << 3);
        int regReg = m < 0 ? -1 : ((m >> 3) & 7) | ((rex & 4) << 1);
        switch (flagUse()) {
            case LAHF:
                return 0;
            case POP:
                return map == 0 && opcode != 0x8f ? (opcode & 7) | ((rex & 1) << 3) : regDirect ? rmReg : -1;
            case CMOVCC:
                return regReg;
            case CARRY_IN:
                if (map == 0 && opcode < 0x20) {
                    int form = opcode & 7; // 0/1 r/m,reg  2/3 reg,r/m  4/5 AL/eAX,imm
                    return form >= 4 ? 0 : form >= 2 ? regReg : regDirect ? rmReg : -1;
                }
                return regDirect ? rmReg : -1;
            case SETCC:
                return regDirect ? rmReg : -1;
            default:
                return -1;
        }
    }

    /** True when the destination is a byte register (SETcc, and the 8-bit ADC/SBB/RCL/RCR forms). */
    private boolean destByteForm() {
        FlagUse u = flagUse();
        if (u == FlagUse.SETCC) {
            return true;
        }
        if (u != FlagUse.CARRY_IN) {
            return false;
        }
        return opcode < 0x20 ? (opcode & 1) == 0 : opcode == 0x80 || opcode == 0xc0 || opcode == 0xd0 || opcode == 0xd2;
    }

    /** Bytes PUSHF/POPF/POP move: 2 with an operand-size prefix, else the stack width. */
    public int stackOperandBytes() {
        return opsize16 ? 2 : longMode ? 8 : 4;
    }

    /**
     * Flags whose value depends on a CPU feature the host and mmulab's CPU model do not share:
     * F3 0F BC is TZCNT on a CPU with BMI1 (the host) and BSF on one without (mmulab's model does not
     * advertise BMI1; the SDM says the encoding then executes as BSF). gcc -O2 emits "rep bsf" for
     * __builtin_ctz because both give the same result for a non-zero source; the flags differ (TZCNT:
     * CF = source was zero, ZF = result is zero; BSF: ZF = source was zero, the rest undefined). The
     * destination is still compared. F3 0F BD is LZCNT on both (mmulab advertises ABM).
     */
    public long modelDependentFlags() {
        if (decoded && map == 1 && rep == 0xf3 && opcode == 0xbc) {
            return ARITH;
        }
        return 0;
    }

    // Decoded fields for the x87 tables (X87Ops) and memory operands (MemOperand): map() is -1 when not decoded,
    // modrm() -1 when the bytes end first, segmentPrefix() the last of 26 2E 36 3E 64 65 or 0.
    // @formatter:off
    int map() { return decoded ? map : -1; }
    int opcode() { return opcode; }
    int modrm() { return at(modrmPos); }
    int modrmPos() { return modrmPos; }
    int byteAt(int i) { return at(i); }
    int rex() { return rex; }
    boolean longMode() { return longMode; }
    boolean addressSizePrefix() { return addrsize; }
    boolean operandSizePrefix() { return opsize16; }
    int segmentPrefix() { return seg; }
    // @formatter:on

    /** Names of the flags in {@code mask}, e.g. "SF ZF AF PF". */
    public static String flagNames(long mask) {
        StringBuilder sb = new StringBuilder();
        String[] names = { "CF", "PF", "AF", "ZF", "SF", "OF" };
        long[] bits = { CF, PF, AF, ZF, SF, OF };
        for (int i = 0; i < bits.length; i++) {
            if ((mask & bits[i]) != 0) {
                sb.append(sb.length() == 0 ? "" : " ").append(names[i]);
            }
        }
        return sb.length() == 0 ? "none" : sb.toString();
    }
}
