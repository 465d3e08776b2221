package org.mmulab.emulator.cpu;

/**
 * Dense decoded-operation ids: the decoder maps x86 opcode bytes (plus prefixes and ModRM.reg) to one
 * of these, and the interpreter switches on them. A {@code sub} field in the decoded info word carries
 * the variant (ALU kind, condition code, shift kind...).
 */
final class Op {
    static final int UD = 0, NOP = 1,
            ALU_EG = 2, ALU_GE = 3, ALU_EI = 4,
            MOV_EG = 5, MOV_GE = 6, MOV_EI = 7, MOV_RI = 8, MOV_AO = 9, MOV_OA = 10,
            MOVZX_B = 11, MOVZX_W = 12, MOVSX_B = 13, MOVSX_W = 14, MOVSXD = 15, LEA = 16,
            PUSH_R = 17, POP_R = 18, PUSH_I = 19, PUSH_E = 20, POP_E = 21, PUSHF = 22, POPF = 23,
            SAHF = 24, LAHF = 25, XCHG_EG = 26,
            UNARY = 27, MULDIV = 28, IMUL_GE = 29, IMUL_GEI = 30,
            SHIFT_I = 31, SHIFT_CL = 32, SHLD_I = 33, SHLD_CL = 34, SHRD_I = 35, SHRD_CL = 36,
            BT_G = 37, BT_I = 38, BSF = 39, BSR = 40, POPCNT = 41, BSWAP = 42, CBW = 43, CWD = 44,
            JCC = 45, JMP = 46, CALL = 47, JMP_E = 48, CALL_E = 49, RET = 50, RET_I = 51, JRCXZ = 52, LOOP = 53,
            SETCC = 54, CMOVCC = 55,
            MOVS = 56, STOS = 57, LODS = 58, CMPS = 59, SCAS = 60,
            CLD = 61, STD = 62, CLC = 63, STC = 64, CMC = 65, LEAVE = 66,
            CPUID = 67, RDTSC = 68, SYSCALL = 69, INT3 = 70, INT_N = 71, PRIV = 72,
            CMPXCHG = 73, XADD = 74, CMPXCHG8B = 75, XLAT = 76, MOVNTI = 77, ENTER = 78,
            // SSE: sub-ids are in Sse.
            SSE = 79,
            // 32-bit mode only.
            PUSHA = 80, POPA = 81,
            // Far return (CA, CB).
            RETF = 82,
            // x87 escapes D8-DF and FWAIT: sub-ids and FOP in X87Exec.
            X87 = 83,
            // 0F 38 / 0F 3A maps (SSSE3, SSE4.1, SSE4.2, CRC32, MOVBE): sub-ids in SseX.
            SSEX = 84,
            // MMX and the MMX forms of SSE/SSE2/SSSE3 integer instructions: sub-ids in Mmx.
            MMX = 85,
            // Segment-register moves (8C, 8E, PUSH/POP Sreg; sub-ids in Interpreter.segOp) and the
            // XSAVE family with XGETBV (sub-ids in XState).
            SEG = 90, XSTATE = 91,
            // MFENCE (0F AE F0): a full fence between vCPU threads (LFENCE/SFENCE decode as NOP).
            FENCE = 92;

    static final int COUNT = 93;

    private Op() {
    }
}
