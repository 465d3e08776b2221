package org.mmulab.emulator.timing;

/**
 * Instruction classes that the timing model prices: the interpreter's dense op ids map onto these
 * (table in {@code org.mmulab.emulator.cpu.InstructionTiming}), and a {@link TimingModel} gives each
 * class a cost in core cycles. A class is "what an instruction costs on a simple scalar pipeline":
 * Agner Fog's reciprocal throughput rounded up to whole cycles (at least 1), or the latency where
 * the result is almost always consumed at once (division, CPUID, RDTSC, POPF).
 */
public enum InstrClass {
    /** ALU reg/imm, MOV, LEA, shifts, SETcc, CMOVcc, BT, BSF/BSR, POPCNT, flag ops, NOP. */
    SIMPLE,
    /** Extra for an explicit memory operand (a load or store uop through an AGU). */
    MEM_OPERAND,
    /** Jcc, JMP, JRCXZ, LOOP (no branch predictor is modelled: every branch is predicted). */
    BRANCH,
    /** CALL, RET (stack engine + return stack buffer). */
    CALL_RET,
    /** PUSH, POP, PUSHF, LEAVE. */
    STACK,
    /** MUL, IMUL (all forms). */
    MUL,
    /** DIV/IDIV with an 8-, 16- or 32-bit operand. */
    DIV32,
    /** DIV/IDIV with a 64-bit operand. */
    DIV64,
    /** A LOCK-prefixed read-modify-write, or XCHG with memory (implicitly locked). */
    LOCKED_RMW,
    /** CMPXCHG8B (not locked). */
    CMPXCHG8B,
    /** POPF: writes IF/AC/DF; microcoded. */
    POPF,
    /** CPUID: serializing, microcoded. */
    CPUID,
    /** RDTSC. */
    RDTSC,
    /** ENTER. */
    ENTER,
    /** REP string instruction start-up (fast-strings microcode). */
    REP_STARTUP,
    /** One iteration of REP MOVS/STOS/LODS. */
    STRING_ITER,
    /** One iteration of REPE/REPNE CMPS/SCAS. */
    STRING_CMP_ITER,
    /** SSE moves, logic, shuffles, packed integer arithmetic, conversions, compares. */
    SSE_SIMPLE,
    /** SSE floating-point add, sub, mul, min, max. */
    SSE_FP,
    /** DIVSS/DIVPS. */
    SSE_DIV_SINGLE,
    /** DIVSD/DIVPD. */
    SSE_DIV_DOUBLE,
    /** SQRTSS/SD/PS/PD. */
    SSE_SQRT,
    /** LDMXCSR/STMXCSR. */
    MXCSR,
    /** FXSAVE/FXRSTOR. */
    FXSAVE,
    /** x87 loads, stores, FADD/FSUB/FMUL, compares, exchanges, control-word and stack operations, FWAIT. */
    X87_FP,
    /** x87 FDIV/FDIVR (all forms), FPREM/FPREM1, FSCALE, FXTRACT, FRNDINT. */
    X87_DIV,
    /** FSQRT. */
    X87_SQRT,
    /** FSIN, FCOS, FSINCOS, FPTAN, FPATAN, F2XM1, FYL2X, FYL2XP1 (microcoded). */
    X87_TRANS,
    /** FNSTENV/FLDENV/FNSAVE/FRSTOR (microcoded). */
    X87_STATE,
    /** SYSCALL, INT n, INT3, UD, privileged ops: the instruction itself (entry costs are separate). */
    TRAP;

    public static final int COUNT = values().length;
}
