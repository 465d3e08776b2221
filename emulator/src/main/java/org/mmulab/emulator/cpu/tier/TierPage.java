package org.mmulab.emulator.cpu.tier;

/**
 * The translation tier's state for one decoded code frame: how often each byte offset was entered as a
 * block start, and the block compiled there. It lives and dies with the interpreter's decoded page, so a
 * write to the frame (which drops the decoded page) drops every translation of it too.
 *
 * <p>Shared by every vCPU that runs the frame. Counts are racy on purpose (a lost increment only delays a
 * compile). A compiled block is immutable and published with a release store; a reader acquires it.
 */
public final class TierPage {
    private static final java.lang.invoke.VarHandle BLOCK =
            java.lang.invoke.MethodHandles.arrayElementVarHandle(CompiledBlock[].class);

    private final byte[] counts = new byte[4096];
    private final CompiledBlock[] blocks = new CompiledBlock[4096];
    /**
     * Blocks compiled for vCPUs under --timing cycle (they also charge cycles: CycleTimingEmitter), created
     * on first use, and the cost model they were compiled with (their costs are constants).
     */
    private volatile CompiledBlock[] cycleBlocks;
    private Object cycleModel; // written before cycleBlocks is published

    /**
     * The block table for {@code --timing fast} ({@code cycleModel} null) or for cycle timing with the
     * given cost model; null when this frame's cycle blocks were compiled for another model (such a vCPU
     * runs the frame in the interpreter).
     */
    CompiledBlock[] blocks(Object cycleModel) {
        if (cycleModel == null) {
            return blocks;
        }
        CompiledBlock[] c = cycleBlocks;
        if (c == null) {
            synchronized (this) {
                c = cycleBlocks;
                if (c == null) {
                    this.cycleModel = cycleModel;
                    cycleBlocks = c = new CompiledBlock[4096];
                }
            }
        }
        return this.cycleModel == cycleModel ? c : null;
    }

    /** The block compiled at {@code off}, {@link CompiledBlock#NONE} if none can be, or null if not yet tried. */
    static CompiledBlock block(CompiledBlock[] table, int off) {
        return (CompiledBlock) BLOCK.getAcquire(table, off);
    }

    static void setBlock(CompiledBlock[] table, int off, CompiledBlock b) {
        BLOCK.setRelease(table, off, b);
    }

    /**
     * Counts one entry at {@code off}; true once it is hot ({@code threshold} entries; the counts are
     * shared by both block tables, so a count past the threshold still says hot).
     */
    boolean countEntry(int off, int threshold) {
        int c = counts[off] + 1;
        counts[off] = (byte) Math.min(c, 127);
        return c >= threshold;
    }
}
