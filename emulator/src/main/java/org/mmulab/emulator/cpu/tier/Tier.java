package org.mmulab.emulator.cpu.tier;

import java.lang.invoke.MethodHandles;

import org.mmulab.emulator.cpu.CpuState;
import org.mmulab.emulator.cpu.Flags;
import org.mmulab.emulator.cpu.InstructionTiming;
import org.mmulab.emulator.mmu.Mmu;

/**
 * The translation tier of one vCPU's interpreter: counts how often each code offset is entered as a
 * block start (after a taken branch, a call, a return or a page change), compiles a {@link Trace} there
 * once it is hot ({@link #HOT} entries), and runs compiled blocks back to back while each one's exit lands
 * on another compiled block in the same frame (chaining through the frame's block table, no return to the
 * interpreter loop in between).
 *
 * <p>How it stays exact with the interpreter (the reference):
 * <ul>
 * <li>Budget: a block pass runs only when all of it fits in {@code budgetLeft}, so a quantum (and the
 *     deterministic scheduler's yield every N instructions) ends on exactly the same instruction.</li>
 * <li>Stop and interrupt requests: the interpreter polls them every 1024 instructions, at fixed
 *     instruction counts of its run call. A pass that would cross such a poll point runs only if no
 *     request is pending and, under deterministic scheduling (walker yield points installed), only if it
 *     has no memory access: there a request can only arrive while this vCPU is parked at a yield point,
 *     and inside {@code run} yield points sit only in memory accesses (page walks, A/D updates), so a
 *     pass without one sees what the interpreter would have seen at the poll point. Otherwise the block
 *     returns and the interpreter reaches the poll point itself. Without yield points (parallel
 *     scheduling) requests come from other threads at no defined instruction, so any pass may cross.</li>
 * <li>32-bit code (CS.L=0, CS.D=1, flat: how i386 images run under PAE or compatibility mode): the same
 *     fast forms with the interpreter's 32-bit rules (see {@link Trace} and {@link MemAccessEmitter}):
 *     effective addresses, ESP and EIP wrap at 4 GiB, PUSH/POP/CALL/RET move 4 bytes.</li>
 * <li>Faults: precise (see {@link CompiledBlock}); the caller raises them at the faulting RIP.</li>
 * <li>Code writes: a frame written by any vCPU is invalid; a block checks that on entry, after each of
 *     its memory accesses, and the interpreter drops the frame's translations with its decoded page.</li>
 * <li>Cycle timing: a vCPU under {@code --timing cycle} runs blocks compiled for it (a separate block table
 *     per frame, {@link TierPage#blocks}) that charge each instruction's cost and fetch lines exactly as
 *     the interpreter's {@link InstructionTiming} does, in the same order relative to data accesses
 *     ({@link CycleTimingEmitter}); the interpreter's pending instruction is committed before a block
 *     runs, and a faulting instruction's issue point is handed back to it.</li>
 * </ul>
 * Allocation: none per block call; compilation allocates (once per hot block).
 */
public final class Tier {
    /** Entries at one offset before its block is compiled. */
    static final int HOT = 24;

    private final TierContext ctx;
    private final BlockCompiler compiler;
    /** The vCPU's cycle timing (null: --timing fast). */
    private InstructionTiming timing;
    private Object costModel;
    /** The vCPU runs 32-bit code (CS.L=0): blocks compiled now wrap addresses, ESP and EIP at 4 GiB. */
    private boolean m32;
    /** Statistics (racy, for --stats and tests): blocks compiled by this vCPU, block calls. */
    public long blocksCompiled, blockRuns;
    /**
     * Traces the JVM refused (a compiler bug: the class failed to define or verify). Their offsets run in
     * the interpreter, which stays exact; the tests require 0.
     */
    public long compileFailures;
    /** Statistics: instructions retired by compiled blocks (the rest of the vCPU's ran in the interpreter). */
    public long insnsRetired;
    /**
     * Statistics ({@code --stats}: {@code tier.fallback_OP}): entries at a hot offset whose instruction
     * the tier cannot translate, by the decoder's op id (index {@link #UNDECODED}: the offset was not in
     * the decoded page); the interpreter runs the instruction there.
     */
    public final long[] fallbacks = new long[UNDECODED + 1];
    /** Index of {@link #fallbacks} for an entry the decoded page had no slot for. */
    public static final int UNDECODED = 127;

    /**
     * @param cpuPackageLookup a full-privilege lookup of the interpreter's package, where compiled blocks
     *        are defined (they use its package-private flag and stop/interrupt members)
     */
    public Tier(CpuState state, long[] r, Flags fl, Mmu mmu, Object interpreter, MethodHandles.Lookup cpuPackageLookup) {
        this.ctx = new TierContext(state, r, fl, mmu, interpreter);
        this.compiler = new BlockCompiler(cpuPackageLookup);
    }

    /**
     * The vCPU's mode for the following runs (set by the interpreter at each {@code run}): 32-bit
     * protected/compatibility mode (CS.L=0) or 64-bit. The decoded pages handed to {@link #run} are that
     * mode's (the decoded-code cache keeps one page per mode), so a frame's blocks are compiled for one mode.
     */
    public void setMode32(boolean m32) {
        this.m32 = m32;
    }

    /** Cycle timing of this vCPU (null: --timing fast); set between runs, from the vCPU's thread. */
    public void setTiming(InstructionTiming t) {
        timing = t;
        costModel = t != null ? t.model() : null;
        ctx.clock = t != null ? t.clock() : null;
        ctx.walk = t != null ? t.walk() : null;
    }

    /**
     * Runs compiled code from offset {@code off} of {@code page} (mapped at virtual {@code vbase}) for at
     * most {@code budgetLeft} instructions; {@code windowLeft} is the distance to the interpreter's next
     * stop/interrupt poll. Returns the instructions retired (0: nothing ran, the interpreter runs the
     * instruction at {@code off}); afterwards {@link #rip()} is the next RIP and {@link #faulted()} tells
     * whether the instruction at it raised an exception (recorded in the CPU state).
     */
    public long run(CodeSource page, int off, long vbase, long budgetLeft, long windowLeft) {
        TierPage tp = page.tierPage();
        CompiledBlock[] table = tp.blocks(costModel);
        TierContext c = ctx;
        c.page = page;
        c.vbase = vbase;
        c.fault = false;
        c.strictPolls = c.mmu.yieldsInsideAccesses();
        long total = 0;
        if (table == null) {
            c.rip = vbase + off;
            return 0;
        }
        InstructionTiming it = timing;
        if (it != null) {
            it.retirePending(); // the interpreter's last instruction retired before this one issues
        }
        for (;;) {
            CompiledBlock b = TierPage.block(table, off);
            if (b == null) {
                if (!tp.countEntry(off, HOT)) {
                    break;
                }
                b = compile(page, tp, table, off);
            }
            if (b == CompiledBlock.NONE) {
                int slot = page.slotAt(off);
                fallbacks[slot < 0 ? UNDECODED : page.op(slot) & UNDECODED]++;
                break;
            }
            long k = b.run(c, budgetLeft - total, windowLeft - total);
            blockRuns++;
            total += k;
            insnsRetired += k;
            if (c.fault) {
                if (it != null) {
                    it.faultedInBlock(c.issueCycles);
                }
                return total;
            }
            if (k == 0) {
                break;
            }
            long next = c.rip;
            if ((next & ~0xfffL) != vbase) {
                return retired(it, total);
            }
            off = (int) next & 0xfff;
        }
        c.rip = vbase + off;
        return retired(it, total);
    }

    /**
     * Under cycle timing, after blocks retired {@code total} instructions without a fault: the last one's
     * issue point, stored by its block's exit (CycleTimingEmitter#cycleExit), becomes the interpreter's.
     */
    private long retired(InstructionTiming it, long total) {
        if (it != null && total != 0) {
            it.issuedInBlock(ctx.issueCycles);
        }
        return total;
    }

    /** Next RIP after {@link #run} retired instructions, or the faulting instruction's RIP. */
    public long rip() {
        return ctx.rip;
    }

    /** Whether the last {@link #run} ended with a guest exception at {@link #rip()}. */
    public boolean faulted() {
        return ctx.fault;
    }

    private CompiledBlock compile(CodeSource page, TierPage tp, CompiledBlock[] table, int off) {
        synchronized (tp) {
            CompiledBlock b = TierPage.block(table, off);
            if (b != null) {
                return b; // another vCPU compiled it meanwhile
            }
            Trace t = Trace.build(page, off, m32);
            if (t.count == 0) {
                b = CompiledBlock.NONE;
            } else {
                try {
                    b = compiler.compile(t, timing, m32);
                    blocksCompiled++;
                } catch (IllegalStateException | LinkageError e) {
                    compileFailures++;
                    b = CompiledBlock.NONE;
                }
            }
            TierPage.setBlock(table, off, b);
            return b;
        }
    }
}
