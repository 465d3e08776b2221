package org.mmulab.emulator.cpu.tier;

import static org.objectweb.asm.Opcodes.*;

/**
 * What a block compiled for a vCPU under {@code --timing cycle} charges: exactly the interpreter's
 * per-instruction account ({@code InstructionTiming}: issue, fetch, execute), in the same order relative
 * to the guest data accesses, whose cache lookups share L2/LLC state with the fetches.
 * <ul>
 * <li>Base cost: each instruction's {@code InstructionTiming.cost} is a compile-time constant. The costs
 *     of the instructions since the last charge are summed at compile time ({@link #pend}) and, across the
 *     back edge of a looping trace, in the local ACC; the sum reaches {@code VcpuClock.charge} in one add
 *     before each memory access (where another vCPU may run at a walker yield point and read this vCPU's
 *     clock, as it would in the interpreter after the previous instruction's commit) and at every exit.</li>
 * <li>Fetch: by 64-byte line through {@code WalkTiming.fetch}, which skips the line of the previous
 *     fetch. Within a pass the previous instruction is the previous one of the trace, in the same frame,
 *     so a fetch is emitted only where the line changes; the first instruction of a pass always calls
 *     {@code fetch} (the dynamic check: the block was entered from anywhere, or by its own back edge).</li>
 * <li>A faulting instruction is not charged: its own cost is added only after its memory access, and the
 *     handler stores where its hardware part starts, {@code clock.cycles() + walk.cycles} taken before its
 *     fetch (the interpreter's {@code issueCycles}), in {@link TierContext#issueCycles}.</li>
 * <li>Every other exit hands back the issue point of the last instruction it retired, which is what the
 *     interpreter's {@code issueCycles} holds after it, and what a fault raised before the next
 *     instruction issues (an instruction fetch #PF on the branch target's page) measures its latency from:
 *     for a memory instruction the IC taken before its access; otherwise the clock after the exit's charge
 *     minus that instruction's cost, plus the walk cycles taken before its fetch (WIC, recorded only for
 *     instructions that can end a pass: Jcc, JMP and the trace's last one).</li>
 * <li>An instruction called in the interpreter's implementation ({@code InsnTranslator.emitCall}) issues
 *     as a memory instruction: the block's pending charge is committed first (the called instruction's
 *     accesses go through the cache model and may yield to another vCPU that reads this clock, as after
 *     the interpreter's commit at issue), IC and RIP are recorded, it is fetched; its base cost is pending
 *     once it returns, a fault leaves it uncharged with IC as its issue point, and a REP string's elements
 *     are charged by {@code Interpreter.execForTier} whether it completes or faults part-way.</li>
 * </ul>
 * Under {@code --timing fast} nothing here emits code.
 */
abstract class CycleTimingEmitter extends LazyFlagsEmitter {
    static final String CLOCK = "org/mmulab/emulator/timing/VcpuClock", WALK = "org/mmulab/emulator/timing/WalkTiming",
            STATE = "org/mmulab/emulator/cpu/CpuState";

    /** The block charges cycle timing (its vCPU runs under --timing cycle). */
    boolean cycle;
    /** Cost of each trace instruction (InstructionTiming.cost), when {@link #cycle}. */
    final long[] cost = new long[Trace.MAX];
    /** Compile-time: cycles of retired instructions not yet charged (nor added to ACC) at this point. */
    long pend;
    /** The local ACC may be non-zero: the trace loops, and ACC carries a pass's costs across its back edge. */
    boolean accLive;

    /** Prologue of a cycle-mode block: the clock and walk timing in locals, ACC and IC zero. */
    void cyclePrologue() {
        pend = 0;
        accLive = cycle && t.loops;
        if (!cycle) {
            return;
        }
        loadField("clock", "L" + CLOCK + ";", CLK);
        loadField("walk", "L" + WALK + ";", WALK_L);
        loadField("state", "L" + STATE + ";", ST);
        mv.visitInsn(LCONST_0);
        mv.visitVarInsn(LSTORE, ACC);
        mv.visitInsn(LCONST_0);
        mv.visitVarInsn(LSTORE, IC);
        mv.visitInsn(LCONST_0);
        mv.visitVarInsn(LSTORE, WIC);
    }

    /**
     * Instruction {@code i} issues: before a memory access, everything retired so far is charged and the
     * issue point recorded; then its fetch; its cost is pending from here on.
     */
    void issue(int i, boolean memory) {
        if (!cycle) {
            return;
        }
        if (memory) {
            emitCharge();
            if (accLive) {
                mv.visitInsn(LCONST_0);
                mv.visitVarInsn(LSTORE, ACC);
            }
            pend = 0;
            mv.visitVarInsn(ALOAD, CLK);
            mv.visitMethodInsn(INVOKEVIRTUAL, CLOCK, "cycles", "()J", false);
            mv.visitVarInsn(ALOAD, WALK_L);
            mv.visitFieldInsn(GETFIELD, WALK, "cycles", "J");
            mv.visitInsn(LADD);
            mv.visitVarInsn(LSTORE, IC);
            // state.rip = this instruction's address, as in the interpreter while it executes: the data
            // prefetcher keys its stride table on the load's instruction (WalkTiming.dataLoad from Mmu).
            mv.visitVarInsn(ALOAD, ST);
            mv.visitVarInsn(LLOAD, VBASE);
            pushLong(t.off[i]);
            mv.visitInsn(LADD);
            mv.visitFieldInsn(PUTFIELD, STATE, "rip", "J");
        }
        if (!memory && endsPass(i)) {
            mv.visitVarInsn(ALOAD, WALK_L);
            mv.visitFieldInsn(GETFIELD, WALK, "cycles", "J");
            mv.visitVarInsn(LSTORE, WIC);
        }
        if (i == 0 || line(i) != line(i - 1)) {
            mv.visitVarInsn(ALOAD, WALK_L);
            pushLong(t.frame + t.off[i]);
            mv.visitMethodInsn(INVOKEVIRTUAL, WALK, "fetch", "(J)V", false);
        }
        pend += cost[i];
    }

    /** Instruction {@code i} may be the last one a pass retires before an exit or the back edge. */
    private boolean endsPass(int i) {
        int id = Trace.id(t.fw[i]);
        return id == org.mmulab.emulator.cpu.FastOps.JCC || id == org.mmulab.emulator.cpu.FastOps.JMP || i == t.count - 1;
    }

    private long line(int i) {
        return (t.frame + t.off[i]) >>> 6;
    }

    /**
     * The back edge: this pass's pending cost joins ACC (the head starts the next pass with nothing
     * pending; the compile-time state continues unchanged on a conditional branch's other path).
     */
    void cycleBackEdge() {
        if (cycle && pend != 0) {
            mv.visitVarInsn(LLOAD, ACC);
            pushLong(pend);
            mv.visitInsn(LADD);
            mv.visitVarInsn(LSTORE, ACC);
        }
    }

    /**
     * At an exit after {@code retired} instructions of this pass: charges ACC plus what is pending (the
     * compile-time state continues on the other path), then stores the last retired instruction's issue
     * point in {@link TierContext#issueCycles} (not in a fault handler, which stores the faulting one's).
     * With none retired in this pass (the loop head's exit) that is the back edge of the previous pass,
     * if any ran.
     */
    void cycleExit(int retired, boolean faulting) {
        if (!cycle) {
            return;
        }
        emitCharge();
        if (faulting) {
            return;
        }
        int last = retired - 1;
        org.objectweb.asm.Label none = null;
        if (retired == 0) {
            last = backEdge();
            if (last < 0) {
                return; // no back edge: a pass never completed in this call
            }
            none = new org.objectweb.asm.Label();
            mv.visitVarInsn(LLOAD, N);
            mv.visitInsn(LCONST_0);
            mv.visitInsn(LCMP);
            mv.visitJumpInsn(IFEQ, none);
        }
        mv.visitVarInsn(ALOAD, C);
        if (Trace.id(t.fw[last]) >= org.mmulab.emulator.cpu.FastOps.LOAD || t.call[last] != org.mmulab.emulator.cpu.FastOps.CALL_NONE) {
            mv.visitVarInsn(LLOAD, IC);
        } else {
            mv.visitVarInsn(ALOAD, CLK);
            mv.visitMethodInsn(INVOKEVIRTUAL, CLOCK, "cycles", "()J", false);
            pushLong(cost[last]);
            mv.visitInsn(LSUB);
            mv.visitVarInsn(LLOAD, WIC);
            mv.visitInsn(LADD);
        }
        mv.visitFieldInsn(PUTFIELD, CTX, "issueCycles", "J");
        if (none != null) {
            mv.visitLabel(none);
        }
    }

    /**
     * A back-edge instruction of the trace (a Jcc or JMP to its start), or -1. All of them cost the same
     * (InstrClass.BRANCH, no memory operand), so any one gives the cost the head's exit subtracts.
     */
    private int backEdge() {
        for (int i = 0; i < t.count; i++) {
            int id = Trace.id(t.fw[i]);
            if ((id == org.mmulab.emulator.cpu.FastOps.JCC || id == org.mmulab.emulator.cpu.FastOps.JMP)
                    && t.off[i] + Trace.len(t.fw[i]) + t.imm[i] == t.start) {
                for (int j = 0; j < t.count; j++) {
                    int jd = Trace.id(t.fw[j]);
                    boolean be = (jd == org.mmulab.emulator.cpu.FastOps.JCC || jd == org.mmulab.emulator.cpu.FastOps.JMP)
                            && t.off[j] + Trace.len(t.fw[j]) + t.imm[j] == t.start;
                    if (be && cost[j] != cost[i]) {
                        throw new IllegalStateException("tier: back edges of different costs");
                    }
                }
                return i;
            }
        }
        return -1;
    }

    /**
     * The handler of instruction {@code i}'s memory access: nothing is pending (everything before it was
     * charged right before the access, the instruction itself is not charged); records its issue point.
     */
    void cycleFault() {
        pend = 0;
        if (!cycle) {
            return;
        }
        mv.visitVarInsn(ALOAD, C);
        mv.visitVarInsn(LLOAD, IC);
        mv.visitFieldInsn(PUTFIELD, CTX, "issueCycles", "J");
    }

    /** clock.charge(ACC + pend), when that can be non-zero. */
    private void emitCharge() {
        if (!accLive && pend == 0) {
            return;
        }
        mv.visitVarInsn(ALOAD, CLK);
        if (accLive) {
            mv.visitVarInsn(LLOAD, ACC);
            if (pend != 0) {
                pushLong(pend);
                mv.visitInsn(LADD);
            }
        } else {
            pushLong(pend);
        }
        mv.visitMethodInsn(INVOKEVIRTUAL, CLOCK, "charge", "(J)V", false);
    }
}
