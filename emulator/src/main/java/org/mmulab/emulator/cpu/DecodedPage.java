package org.mmulab.emulator.cpu;

/**
 * Decoded instructions of one physical 4 KiB code frame, as parallel primitive arrays indexed by a
 * slot number; {@link #slotOf} maps a byte offset in the frame to slot + 1 (0 = not decoded yet).
 * Instructions that straddle the frame end are never stored here (they are decoded on every
 * execution, so both pages are translated and permission-checked each time).
 */
final class DecodedPage {
    static final int PAGE = 4096;
    /** Acquire/release access to {@link #slotOf} entries (published after the slot's fields). */
    static final java.lang.invoke.VarHandle SLOT = java.lang.invoke.MethodHandles.arrayElementVarHandle(short[].class);
    /** Acquire/release access to {@link #fast} entries (the {@link #FALL} bit is set after publication). */
    static final java.lang.invoke.VarHandle FAST = java.lang.invoke.MethodHandles.arrayElementVarHandle(int[].class);
    /**
     * Bit 31 of a {@link #fast} word: the next slot holds the instruction at this one's address + length
     * (its straight-line successor), so the interpreter steps to it without a {@link #slotOf} lookup.
     */
    static final int FALL = 1 << 31;

    final long pfn;
    /**
     * The frame's bytes right after it was marked as code (null for an uncached page): what the decoded
     * instructions may have been decoded from, compared with memory at serializing instructions.
     */
    byte[] snapshot;
    /** Cleared (on the writing thread) when the frame is written; the owner then drops the page. */
    volatile boolean valid = true;
    final short[] slotOf = new short[PAGE];
    int count;
    int[] op;
    int[] info;
    int[] mem;
    int[] disp;
    long[] imm;
    /** {@link FastOps} word of each slot (0: generic path), plus {@link #FALL}. */
    int[] fast;
    /** Byte offset in the frame of each slot's instruction (to link straight-line successors). */
    short[] offOf;

    DecodedPage(long pfn, int capacity) {
        this.pfn = pfn;
        op = new int[capacity];
        info = new int[capacity];
        mem = new int[capacity];
        disp = new int[capacity];
        imm = new long[capacity];
        fast = new int[capacity];
        offOf = new short[capacity];
    }

    /** A new slot (arrays grow by doubling; only on decode, never on execution). */
    int newSlot() {
        if (count == op.length) {
            int n = op.length * 2;
            op = java.util.Arrays.copyOf(op, n);
            info = java.util.Arrays.copyOf(info, n);
            mem = java.util.Arrays.copyOf(mem, n);
            disp = java.util.Arrays.copyOf(disp, n);
            imm = java.util.Arrays.copyOf(imm, n);
            fast = java.util.Arrays.copyOf(fast, n);
            offOf = java.util.Arrays.copyOf(offOf, n);
        }
        return count++;
    }
}
