package org.mmulab.emulator.cpu;

/**
 * Decoded instructions of one physical 4 KiB code frame, as parallel primitive arrays indexed by a
 * slot number; {@link #slotOf} maps a byte offset in the frame to slot + 1 (0 = not decoded yet).
 * Instructions that straddle the frame end are never stored here (they are decoded on every
 * execution, so both pages are translated and permission-checked each time).
 */
final class DecodedPage implements org.mmulab.emulator.cpu.tier.CodeSource {
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

    /** The translation tier's counts and blocks for this frame (dropped with the page when the frame is written). */
    private volatile org.mmulab.emulator.cpu.tier.TierPage tierPage;

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

    /**
     * Caches a decoded instruction at byte offset {@code off} and returns its slot ({@code fast}: its
     * {@link FastOps} word and length). Pages are shared by every vCPU on this memory: the slot is filled
     * under the page lock and published with a release store after its fields, so a concurrent reader sees
     * a complete entry; if another vCPU decoded the same offset meanwhile, its slot (same bytes: same
     * entry) is returned.
     */
    int insert(int off, int op, int info, int memw, int disp, long imm, int fast) {
        synchronized (this) {
            int existing = slotOf[off];
            if (existing != 0) {
                return existing - 1;
            }
            int slot = newSlot();
            this.op[slot] = op;
            this.info[slot] = info;
            this.mem[slot] = memw;
            this.disp[slot] = disp;
            this.imm[slot] = imm;
            this.fast[slot] = fast;
            offOf[slot] = (short) off;
            SLOT.setRelease(slotOf, off, (short) (slot + 1));
            // Link the previous slot to this one when this instruction directly follows it. The FALL bit
            // is published (release) after this slot, so a reader that sees it sees the complete
            // successor. Instructions are decoded in execution order, so straight-line code gets
            // consecutive slots.
            if (slot > 0) {
                int prev = slot - 1;
                if (offOf[prev] + (this.info[prev] & Decoder.LEN_MASK) == off) {
                    FAST.setRelease(this.fast, prev, this.fast[prev] | FALL);
                }
            }
            return slot;
        }
    }

    // CodeSource: the translation tier's read-only view of the decoded slots.

    @Override
    public int slotAt(int off) {
        return (short) SLOT.getAcquire(slotOf, off) - 1;
    }

    @Override
    public int fastWord(int slot) {
        return (int) FAST.getAcquire(fast, slot) & ~FALL;
    }

    @Override
    public int memWord(int slot) {
        return mem[slot];
    }

    @Override
    public int op(int slot) {
        return op[slot];
    }

    @Override
    public int info(int slot) {
        return info[slot];
    }

    @Override
    public long frame() {
        return pfn << 12;
    }

    @Override
    public int disp(int slot) {
        return disp[slot];
    }

    @Override
    public long imm(int slot) {
        return imm[slot];
    }

    @Override
    public boolean isValid() {
        return valid;
    }

    @Override
    public org.mmulab.emulator.cpu.tier.TierPage tierPage() {
        org.mmulab.emulator.cpu.tier.TierPage t = tierPage;
        if (t == null) {
            synchronized (this) {
                t = tierPage;
                if (t == null) {
                    t = new org.mmulab.emulator.cpu.tier.TierPage();
                    tierPage = t;
                }
            }
        }
        return t;
    }
}
