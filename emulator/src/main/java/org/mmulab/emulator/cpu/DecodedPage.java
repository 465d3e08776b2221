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

    final long pfn;
    /** Cleared (on the writing thread) when the frame is written; the owner then drops the page. */
    volatile boolean valid = true;
    final short[] slotOf = new short[PAGE];
    int count;
    int[] op;
    int[] info;
    int[] mem;
    int[] disp;
    long[] imm;

    DecodedPage(long pfn, int capacity) {
        this.pfn = pfn;
        op = new int[capacity];
        info = new int[capacity];
        mem = new int[capacity];
        disp = new int[capacity];
        imm = new long[capacity];
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
        }
        return count++;
    }
}
