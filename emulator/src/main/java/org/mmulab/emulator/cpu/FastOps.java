package org.mmulab.emulator.cpu;

/**
 * Decode-time specialisation of the commonest instruction forms for {@link Interpreter#run}'s inline
 * fast path. When an instruction is cached in a {@link DecodedPage}, {@link #classify} packs a <em>fast
 * word</em>: a fast id naming one exact form (operation, operand size, register or immediate source),
 * its registers, length and operand size (memory operands keep their decoded mem/disp words), so the run loop executes it with one switch and no field
 * decoding, instead of the generic {@link Op} id whose group method re-derives size, kind and operand
 * kind from the info word on every execution (and whose nested switches share one indirect branch).
 * Id 0 ({@link #GENERIC}) means "run the generic path". Only forms with no segment override, no LOCK,
 * 32/64-bit operands and at most one flat memory operand qualify; everything else stays generic, so the
 * group methods remain the reference semantics and the fast cases must match them exactly (the CPU
 * vectors, the oracle and the image suite run both).
 *
 * <p>Fast word layout: bits 0-7 id, 8-12 register A (destination), 13-17 register B (source, or the
 * condition code of a Jcc), 18-21 instruction length, 22-23 operand size (2 = 32, 3 = 64 bits), 24
 * 32-bit address size; bit 31 is {@link DecodedPage#FALL}, set by the cache, not here.
 */
final class FastOps {
    static final int ID_MASK = 0xff, A_SHIFT = 8, B_SHIFT = 13, LEN_SHIFT = 18, SIZE_SHIFT = 22;
    static final int A32 = 1 << 24;

    static final int GENERIC = 0,
            ADD64_R = 1,
            ADD64_I = 2,
            ADD32_R = 3,
            ADD32_I = 4,
            OR64_R = 5,
            OR64_I = 6,
            OR32_R = 7,
            OR32_I = 8,
            AND64_R = 9,
            AND64_I = 10,
            AND32_R = 11,
            AND32_I = 12,
            SUB64_R = 13,
            SUB64_I = 14,
            SUB32_R = 15,
            SUB32_I = 16,
            XOR64_R = 17,
            XOR64_I = 18,
            XOR32_R = 19,
            XOR32_I = 20,
            CMP64_R = 21,
            CMP64_I = 22,
            CMP32_R = 23,
            CMP32_I = 24,
            TEST64_R = 25,
            TEST64_I = 26,
            TEST32_R = 27,
            TEST32_I = 28,
            MOV64_R = 29, MOV32_R = 30, MOV64_I = 31, MOV32_I = 32,
            LEA64 = 33, LEA32 = 34, LOAD64 = 35, LOAD32 = 36, STORE64 = 37, STORE32 = 38,
            JCC = 39, JMP = 40, PUSH = 41, POP = 42, CALL = 43, RET = 44,
            INC64 = 45, INC32 = 46, DEC64 = 47, DEC32 = 48,
            SHL64 = 49, SHL32 = 50, SHR64 = 51, SHR32 = 52, SAR64 = 53, SAR32 = 54,
            NOP = 55;

    private FastOps() {
    }

    /** ALU kind (0 ADD .. 8 TEST) to the first of its four ids (64-bit reg, 64-bit imm, 32-bit reg, 32-bit imm). */
    private static final int[] ALU_BASE = {ADD64_R, OR64_R, -1, -1, AND64_R, SUB64_R, XOR64_R, CMP64_R, TEST64_R};

    /**
     * The fast word for a decoded instruction, or {@link #GENERIC} (0). {@code m32}: decoded for 32-bit
     * mode (CALL then pushes the operand size rather than always 8 bytes).
     */
    static int classify(int op, int info, long imm, boolean m32) {
        int len = info & Decoder.LEN_MASK;
        int sz = (info >>> Decoder.SIZE_SHIFT) & 3;
        int reg = (info >>> Decoder.REG_SHIFT) & 31;
        int rm = (info >>> Decoder.RM_SHIFT) & 31;
        int sub = (info >>> Decoder.SUB_SHIFT) & 0xff;
        boolean hasMem = (info & Decoder.HASMEM) != 0;
        boolean plain = ((info >>> Decoder.SEG_SHIFT) & 3) == 0 && (info & Decoder.LOCK) == 0
                && ((info >>> Decoder.REP_SHIFT) & 3) == 0;
        if (!plain) {
            return GENERIC;
        }
        boolean wide = sz >= 2; // 32/64-bit operand: registers 0-15 only, no partial-register merges
        int id;
        int a = 0, b = 0;
        switch (op) {
            case Op.NOP:
                id = NOP;
                break;
            case Op.ALU_EG:
            case Op.ALU_GE:
            case Op.ALU_EI:
                if (!wide || hasMem || sub >= ALU_BASE.length || ALU_BASE[sub] < 0) {
                    return GENERIC;
                }
                id = ALU_BASE[sub] + (op == Op.ALU_EI ? 1 : 0) + (sz == 2 ? 2 : 0);
                a = op == Op.ALU_GE ? reg : rm;
                b = op == Op.ALU_GE ? rm : reg;
                break;
            case Op.MOV_EG:
            case Op.MOV_GE:
                if (!wide) {
                    return GENERIC;
                }
                if (hasMem) {
                    id = op == Op.MOV_GE ? (sz == 3 ? LOAD64 : LOAD32) : (sz == 3 ? STORE64 : STORE32);
                    a = reg;
                } else {
                    id = sz == 3 ? MOV64_R : MOV32_R;
                    a = op == Op.MOV_GE ? reg : rm;
                    b = op == Op.MOV_GE ? rm : reg;
                }
                break;
            case Op.MOV_RI:
            case Op.MOV_EI:
                if (!wide || hasMem) {
                    return GENERIC;
                }
                id = sz == 3 ? MOV64_I : MOV32_I;
                a = rm;
                break;
            case Op.LEA:
                if (!wide) {
                    return GENERIC;
                }
                id = sz == 3 ? LEA64 : LEA32;
                a = reg;
                break;
            case Op.JCC:
                id = JCC;
                b = sub;
                break;
            case Op.JMP:
                id = JMP;
                break;
            case Op.PUSH_R:
                if (!wide) {
                    return GENERIC;
                }
                id = PUSH;
                a = rm;
                break;
            case Op.POP_R:
                if (!wide) {
                    return GENERIC;
                }
                id = POP;
                a = rm;
                break;
            case Op.CALL:
                if (m32 && !wide) {
                    return GENERIC; // 16-bit call: IP wraps at 64 KiB
                }
                id = CALL;
                sz = m32 ? sz : 3;
                break;
            case Op.RET:
                if (!wide) {
                    return GENERIC;
                }
                id = RET;
                break;
            case Op.UNARY:
                if (!wide || hasMem || sub > 1) {
                    return GENERIC;
                }
                id = sub == 0 ? (sz == 3 ? INC64 : INC32) : (sz == 3 ? DEC64 : DEC32);
                a = rm;
                break;
            case Op.SHIFT_I: {
                int count = (int) imm & (sz == 3 ? 63 : 31);
                if (!wide || hasMem || count == 0 || sub < 4) {
                    return GENERIC; // count 0 leaves flags alone; rotates stay generic
                }
                id = sub == 5 ? SHR64 : sub == 7 ? SAR64 : SHL64;
                id += sz == 2 ? 1 : 0;
                a = rm; // the count is the immediate, masked at run time
                break;
            }
            default:
                return GENERIC;
        }
        return id | a << A_SHIFT | b << B_SHIFT | len << LEN_SHIFT | sz << SIZE_SHIFT
                | ((info & Decoder.ASZ32) != 0 ? A32 : 0);
    }
}
