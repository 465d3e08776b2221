package org.mmulab.emulator.cpu;

/**
 * Decode-time specialisation of the commonest instruction forms for {@link Interpreter#run}'s inline
 * fast path. When an instruction is cached in a {@link DecodedPage}, {@link #classify} packs a <em>fast
 * word</em>: a fast id naming one operation, its registers, length, operand size and source kind (memory operands keep their decoded mem/disp words), so the run loop executes it with one switch and no field
 * decoding, instead of the generic {@link Op} id whose group method re-derives size, kind and operand
 * kind from the info word on every execution (and whose nested switches share one indirect branch).
 * Id 0 ({@link #GENERIC}) means "run the generic path". Register forms (ALU, MOV, LEA, shifts and
 * rotates by an immediate, INC/DEC, IMUL, MOVZX/MOVSX, SETcc, CMOVcc) and branches with no prefix that
 * changes their meaning and (except SETcc) 32/64-bit operands run inline in the loop; the memory forms
 * listed below run in one out-of-line method; everything else stays generic, so the group methods remain
 * the reference semantics and the fast cases must match them exactly ({@code FastFormsTest} runs every
 * form with and without fast forms; the CPU vectors, the oracle and the image suite run both).
 *
 * <p>Memory forms (MOV loads/stores, MOVZX/MOVSX loads, ALU with a memory operand, PUSH/POP, CALL/RET)
 * are not inlined in the run loop: inlining the MMU's access paths at each of their cases doubled the
 * compiled size of {@code run} and made C2 take 1.4-2.2 s to compile it on the 2-core benchmark machine,
 * and every not-yet-seen case is an uncommon trap that recompiles the whole loop; on real images
 * ({@code compute 64}) that cost more than the faster loads gained (measured: 6.4 MIPS with them vs 13.8
 * without, against 11.3 before any fast path). They share one case of the loop's switch that calls
 * {@code Interpreter.fastMem} (too large for C2 to inline), which takes the operands from the fast word
 * instead of re-deriving them from the info word: memBranch gained ~25% and {@code compute 64} stayed
 * where it was.
 *
 * <p>Fast word layout: bits 0-7 id, 8-12 register A (destination), 13-17 register B (source, or the
 * condition code of a Jcc), 18-21 instruction length, 22-23 operand size (2 = 32, 3 = 64 bits), 24
 * 32-bit address size, 25 {@link #IMM}, 26-29 {@link #X_SHIFT extra field}, 28 {@link #X_SIGN}, 30
 * {@link #TO_REG}; bit 31 is {@link DecodedPage#FALL}, set by the cache, not here.
 */
public final class FastOps {
    public static final int ID_MASK = 0xff, A_SHIFT = 8, B_SHIFT = 13, LEN_SHIFT = 18, SIZE_SHIFT = 22;
    public static final int A32 = 1 << 24;

    /** Source is the immediate (imm array), not register B. */
    public static final int IMM = 1 << 25;

    // One id per operation; operand size (32/64) and register/immediate source are fields of the word,
    // so the run loop's switch (and the JIT's compile of it) stays small.
    public static final int GENERIC = 0,
            ADD = 1, OR = 2, AND = 3, SUB = 4, XOR = 5, CMP = 6, TEST = 7,
            MOV = 8, LEA = 9, JCC = 10, JMP = 11, INC = 12, DEC = 13, SHL = 14, SHR = 15, SAR = 16, NOP = 17,
            ROL = 18, ROR = 19, IMUL = 20, MOVX = 21, SETCC = 22, CMOVCC = 23,
            // Memory forms: the run loop sends all of them to one out-of-line method (Interpreter.fastMem).
            LOAD = 24, LOADX = 25, STORE = 26, ALUM = 27, PUSH = 28, POP = 29, CALL = 30, RET = 31;

    /** {@link #ALUM}: the destination is register A (ALU r, m); else memory (ALU m, r/imm). */
    public static final int TO_REG = 1 << 30;

    /**
     * Extra field, bits 26-29: the condition code of CMOVcc; the ALU kind (0-8) of ALUM; for MOVX and LOADX the source width (bits 26-27: 0 byte,
     * 1 word, 2 dword) and bit 28 set for sign extension.
     */
    public static final int X_SHIFT = 26, X_SIGN = 1 << 28;

    private FastOps() {
    }

    /** {@link #tierCall}: not run from compiled code (the trace ends before it; the interpreter runs it). */
    public static final int CALL_NONE = 0;
    /** {@link #tierCall}: the next RIP is always the fall-through. */
    public static final int CALL_STRAIGHT = 1;
    /** {@link #tierCall}: a conditional branch (JCC forms FastOps leaves generic, JrCXZ, LOOP). */
    public static final int CALL_MAY_BRANCH = 2;
    /** {@link #tierCall}: an unconditional transfer (indirect JMP/CALL, RET imm, prefixed JMP/CALL/RET). */
    public static final int CALL_BRANCH = 3;

    /**
     * How the translation tier may run decoded op {@code op} when it has no bytecode translation of it:
     * by calling the interpreter's own implementation ({@code Interpreter.execForTier}, Bochs's handler
     * call, QEMU's helpers) from the compiled block, or not at all ({@link #CALL_NONE}). Callable are the
     * ops whose group method returns {@code Exit.BUDGET} on every path, reads no state a block keeps out
     * of the interpreter (the retired count, the decoded page) and changes nothing but registers, flags,
     * guest memory, SSE/x87 state and the next RIP. Not callable: SYSCALL, INT n, INT3, privileged
     * instructions, #UD, far RET, segment loads, XSAVE family, CPUID (serializes the code cache), RDTSC
     * (reads the retired count) and POPF (may set TF, whose single-step trap the vCPU loop delivers).
     */
    public static int tierCall(int op) {
        switch (op) {
            case Op.JCC:
            case Op.JRCXZ:
            case Op.LOOP:
                return CALL_MAY_BRANCH;
            case Op.JMP:
            case Op.CALL:
            case Op.RET:
            case Op.JMP_E:
            case Op.CALL_E:
            case Op.RET_I:
                return CALL_BRANCH;
            case Op.UD:
            case Op.POPF:
            case Op.RETF:
            case Op.CPUID:
            case Op.RDTSC:
            case Op.SYSCALL:
            case Op.INT3:
            case Op.INT_N:
            case Op.PRIV:
            case Op.SEG:
            case Op.XSTATE:
                return CALL_NONE;
            default:
                return op > 0 && op < Op.COUNT ? CALL_STRAIGHT : CALL_NONE;
        }
    }

    /** Length in bytes of a decoded instruction, from its info word. */
    public static int length(int info) {
        return info & Decoder.LEN_MASK;
    }

    /** ALU kind (0 ADD .. 8 TEST) to its id; ADC and SBB (2, 3) stay generic. */
    private static final int[] ALU_ID = {ADD, OR, -1, -1, AND, SUB, XOR, CMP, TEST};

    /** The fast word for a decoded instruction, or {@link #GENERIC} (0). */
    static int classify(int op, int info, long imm) {
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
                if (wide && hasMem && sub <= 8) {
                    id = ALUM | sub << X_SHIFT | (op == Op.ALU_EI ? IMM : 0) | (op == Op.ALU_GE ? TO_REG : 0);
                    a = reg; // register operand (destination of ALU r, m; source of ALU m, r)
                    break;
                }
                if (!wide || hasMem || sub >= ALU_ID.length || ALU_ID[sub] < 0) {
                    return GENERIC;
                }
                id = ALU_ID[sub] | (op == Op.ALU_EI ? IMM : 0);
                a = op == Op.ALU_GE ? reg : rm;
                b = op == Op.ALU_GE ? rm : reg;
                break;
            case Op.MOV_EG:
            case Op.MOV_GE:
                if (!wide) {
                    return GENERIC;
                }
                if (hasMem) { // loads and stores: out of line (see the class comment)
                    id = op == Op.MOV_GE ? LOAD : STORE;
                    a = reg;
                    break;
                }
                id = MOV;
                a = op == Op.MOV_GE ? reg : rm;
                b = op == Op.MOV_GE ? rm : reg;
                break;
            case Op.MOV_RI:
            case Op.MOV_EI:
                if (!wide) {
                    return GENERIC;
                }
                if (hasMem) {
                    id = STORE | IMM;
                    break;
                }
                id = MOV | IMM;
                a = rm;
                break;
            case Op.LEA:
                if (!wide) {
                    return GENERIC;
                }
                id = LEA;
                a = reg;
                break;
            case Op.JCC:
                id = JCC;
                b = sub;
                break;
            case Op.JMP:
                id = JMP;
                break;
            case Op.UNARY:
                if (!wide || hasMem || sub > 1) {
                    return GENERIC;
                }
                id = sub == 0 ? INC : DEC;
                a = rm;
                break;
            case Op.SHIFT_I: {
                int count = (int) imm & (sz == 3 ? 63 : 31);
                if (!wide || hasMem || count == 0 || sub == 2 || sub == 3) {
                    return GENERIC; // count 0 leaves flags alone; RCL/RCR stay generic
                }
                id = sub == 0 ? ROL : sub == 1 ? ROR : sub == 5 ? SHR : sub == 7 ? SAR : SHL;
                a = rm; // the count is the immediate, masked at run time
                break;
            }
            case Op.IMUL_GE:
            case Op.IMUL_GEI:
                if (!wide || hasMem) {
                    return GENERIC;
                }
                // IMUL r, r/m: A = A * B; IMUL r, r/m, imm: A = B * imm.
                id = IMUL | (op == Op.IMUL_GEI ? IMM : 0);
                a = reg;
                b = rm;
                break;
            case Op.MOVZX_B:
            case Op.MOVZX_W:
            case Op.MOVSX_B:
            case Op.MOVSX_W:
            case Op.MOVSXD: {
                if (!wide || (!hasMem && rm >= 16)) {
                    return GENERIC; // rm 16-19: AH, CH, DH, BH
                }
                int w = op == Op.MOVZX_B || op == Op.MOVSX_B ? 0 : op == Op.MOVSXD ? 2 : 1;
                boolean sign = op == Op.MOVSX_B || op == Op.MOVSX_W || (op == Op.MOVSXD && sz == 3);
                id = (hasMem ? LOADX : MOVX) | w << X_SHIFT | (sign ? X_SIGN : 0);
                a = reg;
                b = rm;
                break;
            }
            case Op.SETCC:
                if (hasMem || rm >= 16) {
                    return GENERIC;
                }
                id = SETCC;
                a = rm;
                b = sub;
                break;
            case Op.CMOVCC:
                if (!wide || hasMem) {
                    return GENERIC;
                }
                id = CMOVCC | sub << X_SHIFT;
                a = reg;
                b = rm;
                break;
            case Op.PUSH_R:
            case Op.POP_R:
            case Op.CALL:
            case Op.RET:
                if (!wide) {
                    return GENERIC;
                }
                id = op == Op.PUSH_R ? PUSH : op == Op.POP_R ? POP : op == Op.CALL ? CALL : RET;
                a = rm; // PUSH/POP's register (unused by CALL/RET)
                break;
            default:
                return GENERIC;
        }
        return id | a << A_SHIFT | b << B_SHIFT | len << LEN_SHIFT | sz << SIZE_SHIFT
                | ((info & Decoder.ASZ32) != 0 ? A32 : 0);
    }
}
