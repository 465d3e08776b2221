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
        if (i == 0 || line(i) != line(i - 1)) {
            mv.visitVarInsn(ALOAD, WALK_L);
            pushLong(t.frame + t.off[i]);
            mv.visitMethodInsn(INVOKEVIRTUAL, WALK, "fetch", "(J)V", false);
        }
        pend += cost[i];
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

    /** At an exit: charges ACC plus what is pending (the compile-time state continues on the other path). */
    void cycleExit() {
        if (cycle) {
            emitCharge();
        }
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
