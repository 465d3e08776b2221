package org.mmulab.emulator.cpu.tier;

/**
 * A guest trace compiled to JVM bytecode by {@link BlockCompiler}: straight-line guest code from one start
 * offset in one code frame, with side exits at conditional branches and, when a branch returns to the
 * start, a JVM loop.
 *
 * <p>{@link #run} retires at most {@code budgetLeft} instructions and only whole passes over the trace:
 * a pass runs only when the whole trace fits in the budget, and (see {@link Tier}) in the interpreter's
 * poll window unless the trace has no memory access and no stop/interrupt request is pending. It returns
 * the number of instructions retired and leaves the next RIP in {@link TierContext#rip}; on a guest
 * exception it leaves the faulting instruction's RIP there, sets {@link TierContext#fault}, and every
 * instruction before the faulting one is retired (registers and flags written back).
 */
public abstract class CompiledBlock {
    /** Marks an offset where no block can be compiled (the first instruction is not translatable). */
    static final CompiledBlock NONE = new CompiledBlock() {
        @Override
        public long run(TierContext c, long budgetLeft, long windowLeft) {
            return 0;
        }
    };

    protected CompiledBlock() {
    }

    public abstract long run(TierContext c, long budgetLeft, long windowLeft);
}
