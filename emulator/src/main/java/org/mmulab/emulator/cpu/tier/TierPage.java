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

    /** The block compiled at {@code off}, {@link CompiledBlock#NONE} if none can be, or null if not yet tried. */
    CompiledBlock block(int off) {
        return (CompiledBlock) BLOCK.getAcquire(blocks, off);
    }

    void setBlock(int off, CompiledBlock b) {
        BLOCK.setRelease(blocks, off, b);
    }

    /** Counts one entry at {@code off}; true when it just became hot ({@code threshold} entries). */
    boolean countEntry(int off, int threshold) {
        int c = counts[off] + 1;
        counts[off] = (byte) Math.min(c, 127);
        return c == threshold;
    }
}
