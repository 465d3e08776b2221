package org.mmulab.emulator.cpu;

import org.mmulab.emulator.timing.InstrClass;
import org.mmulab.emulator.timing.TimingModel;
import org.mmulab.emulator.timing.VcpuClock;
import org.mmulab.emulator.timing.WalkTiming;

/**
 * Per-instruction base costs under {@code --timing cycle}: the table below maps the decoder's dense
 * op ids ({@link Op}; the {@code sub} field for MUL/DIV and SSE, the LOCK and memory-operand bits of
 * the info word) onto {@link InstrClass}es, whose cycle costs — and their sources (Agner Fog's
 * instruction tables, the Intel optimization manual) — live in the CPU model's {@link TimingModel}.
 *
 * <p>How it is driven: the interpreter calls {@link #issue} once per instruction, before executing it
 * (one line in its loop, only when cycle timing is on). The cost is committed when the instruction is
 * known to have retired: at the next {@code issue}, or when the vCPU's run loop calls {@link #settle}
 * after the interpreter returns. An instruction that faults (RIP and the retired count unchanged) is
 * not charged; it is charged when it re-executes. The translation tier's cycle-mode blocks charge the
 * same costs and fetches themselves (see the methods at the end). REP string instructions are charged a start-up
 * cost plus a per-element cost for the elements actually processed (the decrease of RCX/ECX), so a REP
 * that faults part-way pays for the elements it completed.
 *
 * <table>
 * <caption>op id → class (+ MEM_OPERAND when the instruction has a memory operand, except LEA/NOP)</caption>
 * <tr><td>ALU_*, MOV_*, MOVZX/MOVSX*, LEA, XCHG (reg), UNARY, SHIFT*, SHLD/SHRD, BT*, BSF/BSR, POPCNT,
 *     BSWAP, CBW/CWD, SETCC, CMOVCC, flag ops (CLC...CMC, SAHF/LAHF), NOP, XLAT, MOVNTI</td><td>SIMPLE</td></tr>
 * <tr><td>any of those with LOCK, XCHG with memory, LOCK CMPXCHG/XADD/CMPXCHG8B</td><td>LOCKED_RMW</td></tr>
 * <tr><td>CMPXCHG, XADD (no LOCK)</td><td>SIMPLE</td></tr>
 * <tr><td>CMPXCHG8B (no LOCK)</td><td>CMPXCHG8B</td></tr>
 * <tr><td>JCC, JMP, JMP_E, JRCXZ, LOOP</td><td>BRANCH</td></tr>
 * <tr><td>CALL, CALL_E, RET, RET_I</td><td>CALL_RET</td></tr>
 * <tr><td>PUSH_*, POP_*, PUSHF, LEAVE, PUSHA/POPA</td><td>STACK</td></tr>
 * <tr><td>POPF</td><td>POPF</td></tr>
 * <tr><td>MULDIV sub 4/5 (MUL/IMUL), IMUL_GE, IMUL_GEI</td><td>MUL</td></tr>
 * <tr><td>MULDIV sub 6/7 (DIV/IDIV): 8/16/32-bit, 64-bit</td><td>DIV32, DIV64</td></tr>
 * <tr><td>MOVS, STOS, LODS without REP; CMPS, SCAS without REP</td><td>SIMPLE</td></tr>
 * <tr><td>REP MOVS/STOS/LODS</td><td>REP_STARTUP + n × STRING_ITER</td></tr>
 * <tr><td>REPE/REPNE CMPS/SCAS</td><td>REP_STARTUP + n × STRING_CMP_ITER</td></tr>
 * <tr><td>CPUID, RDTSC, ENTER</td><td>CPUID, RDTSC, ENTER</td></tr>
 * <tr><td>SYSCALL, INT3, INT_N, PRIV, UD</td><td>TRAP (entry/exit costs are charged by the vCPU)</td></tr>
 * <tr><td>SSE: DIV*S / DIV*D / SQRT*</td><td>SSE_DIV_SINGLE / SSE_DIV_DOUBLE / SSE_SQRT</td></tr>
 * <tr><td>SSE: ADD/SUB/MUL/MIN/MAX, SSE3 ADDSUB/HADD/HSUB</td><td>SSE_FP</td></tr>
 * <tr><td>SSE: LDMXCSR/STMXCSR, FXSAVE/FXRSTOR</td><td>MXCSR, FXSAVE</td></tr>
 * <tr><td>SSE: everything else (moves, logic, shuffles, packed integer, conversions, compares)</td><td>SSE_SIMPLE</td></tr>
 * <tr><td>x87: FDIV*, FPREM*, FSCALE, FXTRACT, FRNDINT / FSQRT / transcendentals / FNSTENV, FLDENV,
 *     FNSAVE, FRSTOR / everything else incl. FWAIT</td><td>X87_DIV / X87_SQRT / X87_TRANS / X87_STATE / X87_FP</td></tr>
 * </table>
 */
public final class InstructionTiming {
    private static final int NO_REP = -1, REP_COPY = 0, REP_CMP = 1;

    private final CpuState s;
    private final TimingModel model;
    private final VcpuClock clock;
    private final WalkTiming walk;
    /** Cost by op id for ops whose cost does not depend on sub (-1: computed in {@link #cost}). */
    private final int[] opCost = new int[Op.COUNT];
    /** Cost of an SSE instruction by sub id. */
    private final int[] sseCost = new int[256];
    /** x87 cost by (sub << 4) | (memory form ? 8 : 0) | ModRM.rm; sub 64 is FWAIT. */
    private final int[] x87Cost = new int[65 << 4];
    private final int memExtra, locked, div32, div64, mul, repStartup, repIter, repCmpIter;

    private boolean pending;
    private int pOp, pInfo;
    private long pRetired, pRcx;
    private long issueCycles;

    public InstructionTiming(CpuState state, TimingModel model, VcpuClock clock, WalkTiming walk) {
        this.s = state;
        this.model = model;
        this.clock = clock;
        this.walk = walk;
        for (int op = 0; op < Op.COUNT; op++) {
            InstrClass c = classOf(op);
            opCost[op] = c == null ? -1 : model.cycles(c);
        }
        for (int sub = 0; sub < 256; sub++) {
            sseCost[sub] = model.cycles(sseClass(sub));
        }
        for (int k = 0; k < x87Cost.length; k++) {
            x87Cost[k] = model.cycles(x87Class(k >>> 4, (k & 8) != 0, k & 7));
        }
        memExtra = model.cycles(InstrClass.MEM_OPERAND);
        locked = model.cycles(InstrClass.LOCKED_RMW);
        div32 = model.cycles(InstrClass.DIV32);
        div64 = model.cycles(InstrClass.DIV64);
        mul = model.cycles(InstrClass.MUL);
        repStartup = model.cycles(InstrClass.REP_STARTUP);
        repIter = model.cycles(InstrClass.STRING_ITER);
        repCmpIter = model.cycles(InstrClass.STRING_CMP_ITER);
    }

    /** The class of an op whose cost depends on the op id alone; null for MULDIV, SSE, X87 and string ops. */
    static InstrClass classOf(int op) {
        return switch (op) {
            case Op.JCC, Op.JMP, Op.JMP_E, Op.JRCXZ, Op.LOOP -> InstrClass.BRANCH;
            case Op.CALL, Op.CALL_E, Op.RET, Op.RET_I, Op.RETF -> InstrClass.CALL_RET;
            case Op.PUSH_R, Op.POP_R, Op.PUSH_I, Op.PUSH_E, Op.POP_E, Op.PUSHF, Op.LEAVE, Op.PUSHA, Op.POPA ->
                    InstrClass.STACK;
            case Op.POPF -> InstrClass.POPF;
            case Op.IMUL_GE, Op.IMUL_GEI -> InstrClass.MUL;
            case Op.CPUID -> InstrClass.CPUID;
            case Op.RDTSC -> InstrClass.RDTSC;
            case Op.ENTER -> InstrClass.ENTER;
            case Op.CMPXCHG8B -> InstrClass.CMPXCHG8B;
            case Op.SYSCALL, Op.INT3, Op.INT_N, Op.PRIV, Op.UD -> InstrClass.TRAP;
            case Op.MMX -> InstrClass.SSE_SIMPLE;
            case Op.MULDIV, Op.SSE, Op.X87, Op.MOVS, Op.STOS, Op.LODS, Op.CMPS, Op.SCAS -> null;
            default -> InstrClass.SIMPLE;
        };
    }

    /** The class of an SSE instruction by its sub id ({@link Sse}). */
    static InstrClass sseClass(int sub) {
        if (sub >= Sse.FP_ARITH && sub < Sse.FP_ARITH + 28) {
            int k = (sub - Sse.FP_ARITH) >> 2;
            int form = (sub - Sse.FP_ARITH) & 3;
            boolean single = form == 0 || form == 3;
            return switch (k) {
                case 0 -> InstrClass.SSE_SQRT;
                case 5 -> single ? InstrClass.SSE_DIV_SINGLE : InstrClass.SSE_DIV_DOUBLE;
                default -> InstrClass.SSE_FP;
            };
        }
        return switch (sub) {
            case Sse.LDMXCSR, Sse.STMXCSR -> InstrClass.MXCSR;
            case Sse.FXSAVE, Sse.FXRSTOR -> InstrClass.FXSAVE;
            case Sse.ADDSUBPS, Sse.ADDSUBPD, Sse.HADDPS, Sse.HADDPD, Sse.HSUBPS, Sse.HSUBPD -> InstrClass.SSE_FP;
            default -> InstrClass.SSE_SIMPLE;
        };
    }

    /**
     * The class of an x87 instruction by its decoded {@code sub} ((escape & 7) << 3 | ModRM.reg, or
     * X87Exec.FWAIT), memory or register form, and ModRM.rm of a register form.
     */
    static InstrClass x87Class(int sub, boolean mem, int rm) {
        int opc = sub >>> 3, reg = sub & 7;
        if (sub >= 64) {
            return InstrClass.X87_FP;
        }
        if (mem) {
            if ((opc == 1 && (reg == 4 || reg == 6)) || (opc == 5 && (reg == 4 || reg == 6))) {
                return InstrClass.X87_STATE;
            }
            return (opc & 1) == 0 && reg >= 6 ? InstrClass.X87_DIV : InstrClass.X87_FP;
        }
        if (opc == 1) {
            if (reg == 6 && rm <= 3 || reg == 7 && (rm == 1 || rm == 3 || rm >= 6)) {
                return InstrClass.X87_TRANS;
            }
            if (reg == 7 && rm == 2) {
                return InstrClass.X87_SQRT;
            }
            return (reg == 6 && (rm == 4 || rm == 5)) || (reg == 7 && (rm == 0 || rm == 4 || rm == 5))
                    ? InstrClass.X87_DIV : InstrClass.X87_FP;
        }
        return (opc == 0 || opc == 4 || opc == 6) && reg >= 6 ? InstrClass.X87_DIV : InstrClass.X87_FP;
    }

    /**
     * Base cost of a retired instruction (REP iterations excluded); public for the translation tier, whose
     * cycle-mode blocks charge it as a constant.
     */
    public int cost(int op, int info) {
        int c = opCost[op];
        boolean hasMem = (info & Decoder.HASMEM) != 0;
        if (c < 0) {
            int sub = (info >>> Decoder.SUB_SHIFT) & 0xff;
            if (op == Op.MULDIV) {
                c = sub < 6 ? mul : ((info >>> Decoder.SIZE_SHIFT) & 3) == 3 ? div64 : div32;
            } else if (op == Op.SSE) {
                c = sseCost[sub];
            } else if (op == Op.X87) {
                return x87Cost[(sub << 4) | ((info & Decoder.HASMEM) != 0 ? 8 : 0) | ((info >>> Decoder.RM_SHIFT) & 7)]
                        + (hasMem ? memExtra : 0);
            } else { // string op: the element work is charged per iteration
                return repKind(op, info) == NO_REP ? opCost[Op.NOP] + memExtra : repStartup;
            }
        }
        if ((info & Decoder.LOCK) != 0 || (op == Op.XCHG_EG && hasMem)) {
            return locked;
        }
        if (hasMem && op != Op.LEA && op != Op.NOP) {
            c += memExtra;
        }
        return c;
    }

    private static int repKind(int op, int info) {
        if (((info >>> Decoder.REP_SHIFT) & 3) == 0) {
            return NO_REP;
        }
        return switch (op) {
            case Op.MOVS, Op.STOS, Op.LODS -> REP_COPY;
            case Op.CMPS, Op.SCAS -> REP_CMP;
            default -> NO_REP;
        };
    }

    private long rcx(int info) {
        long c = s.gpr[CpuState.RCX];
        return (info & Decoder.ASZ32) != 0 ? c & 0xffff_ffffL : c;
    }

    /**
     * Called by the interpreter before it executes an instruction. {@code retiredBefore} is the vCPU's
     * retired-instruction count at that point: the interpreter updates {@code state.instructions} only
     * when {@code run} returns, so it passes its own running total.
     */
    void issue(int op, int info, long retiredBefore) {
        if (pending) {
            commit(true); // the next instruction is issuing: the previous one completed without a fault
        }
        pending = true;
        pOp = op;
        pInfo = info;
        pRetired = retiredBefore;
        if (op >= Op.MOVS && op <= Op.SCAS) {
            pRcx = rcx(info);
        }
        issueCycles = clock.cycles() + walk.cycles;
    }

    /** The instruction just issued is fetched from physical address {@code pa} (charged by line, WalkTiming#fetch). */
    void fetch(long pa) {
        walk.fetch(pa);
    }

    /**
     * Commits the cost of the last issued instruction: in full if it retired, only the REP elements it
     * completed if it faulted. The vCPU calls this whenever the interpreter returns.
     */
    public void settle() {
        if (pending) {
            commit(s.instructions != pRetired);
        }
    }

    private void commit(boolean retired) {
        pending = false;
        long c = retired ? cost(pOp, pInfo) : 0;
        clock.charge(c + elements(pOp, pInfo, pRcx));
    }

    /** The per-element cycles of a REP string op that started with RCX/ECX {@code rcxBefore} (0 if not one). */
    private long elements(int op, int info, long rcxBefore) {
        int kind = op >= Op.MOVS && op <= Op.SCAS ? repKind(op, info) : NO_REP;
        if (kind != NO_REP) {
            long done = rcxBefore - rcx(info);
            if (done > 0) {
                return done * (kind == REP_COPY ? repIter : repCmpIter);
            }
        }
        return 0;
    }

    /** Cycles (clock + walks) when the last instruction was issued: where a fault's hardware part starts. */
    public long issueCycles() {
        return issueCycles;
    }

    // The translation tier (cpu.tier.Tier) runs instructions between two issue() calls and charges them
    // itself, with these costs, clock and walk timing (cpu.tier.CycleTimingEmitter).

    /** The cost model: blocks compiled with one model's costs run only on vCPUs with the same model. */
    public TimingModel model() {
        return model;
    }

    public VcpuClock clock() {
        return clock;
    }

    public WalkTiming walk() {
        return walk;
    }

    /**
     * RCX/ECX before a string instruction a cycle-mode block calls ({@code Interpreter.execForTier}): the
     * block charges the base cost and fetch as for any instruction; {@link #calledStringEnded} the elements.
     */
    long calledStringStarts(int info) {
        return rcx(info);
    }

    /**
     * A string instruction called from a cycle-mode block retired or faulted: charges the REP elements it
     * completed, as {@link #commit} does for an interpreted one (nothing reads the clock in between).
     */
    void calledStringEnded(int op, int info, long rcxBefore) {
        long c = elements(op, info, rcxBefore);
        if (c != 0) {
            clock.charge(c);
        }
    }

    /**
     * A compiled block is about to run the instruction after the last issued one: that one retired, commit
     * it as {@link #issue} would.
     */
    public void retirePending() {
        if (pending) {
            commit(true);
        }
    }

    /**
     * An instruction of a compiled block faulted; it issued at {@code issueCycles} (clock + walk cycles
     * before its fetch) and is not charged. Nothing is pending: the block charged what it retired.
     */
    public void faultedInBlock(long issueCycles) {
        this.issueCycles = issueCycles;
    }

    /**
     * Compiled blocks retired instructions, the last of which issued at {@code issueCycles}: what
     * {@link #issueCycles()} reports if the next instruction faults before it issues (a fetch #PF), as
     * after an interpreted one. Nothing is pending.
     */
    public void issuedInBlock(long issueCycles) {
        this.issueCycles = issueCycles;
    }
}
