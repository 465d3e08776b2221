package org.mmulab.emulator.mmu;

import java.util.Arrays;

/**
 * The host-side fast path of one {@link Mmu}: a direct-mapped cache of user-mode data translations
 * (256 slots by linear page number). It is a strict subset of the modelled L1 dTLB (SDM Vol. 3A
 * §4.10.2): an entry is installed only from a usable dTLB entry, and every invalidation, flush or
 * eviction in the dTLB clears the entries it backed. A hit counts as a dTLB hit and refreshes the dTLB
 * entry's LRU age ({@code Mmu.fastHit}), so the modelled TLB behaves exactly as without the fast path.
 *
 * <p>This class owns the arrays and their upkeep; the {@link Mmu} accessors read the same arrays
 * through their own final fields, so a hit costs no extra indirection.
 */
final class FastPath {
    static final int SIZE = 256;
    static final int MASK = SIZE - 1;
    /** (va >>> 12) + 1 of a user-readable page, or 0. */
    final long[] readTag = new long[SIZE];
    /** (va >>> 12) + 1 of a user-writable page whose dTLB entry has D=1, or 0. */
    final long[] writeTag = new long[SIZE];
    /**
     * The frame of each slot; -1 once its tags are dropped, so {@code --check}'s racy reader
     * ({@link #reaches}) never pairs a newly installed tag with the frame a dropped entry named.
     */
    final long[] page = new long[SIZE];
    /** The backing dTLB entry's handle ({@link Tlb#lookup}), for its LRU age. */
    final int[] handle = new int[SIZE];
    /**
     * Cycle timing's fast entries: the same subset rule and slots, kept apart from the tags above so that
     * the fast-mode check in the accessors never hits under cycle timing and every guest data access
     * reaches the cache model's charge after it.
     */
    final long[] cycleReadTag = new long[SIZE];
    final long[] cycleWriteTag = new long[SIZE];
    /**
     * Bit i set: slot i may hold an entry (set by {@link #install}, left set by a drop), so {@link #clear}
     * (every CR3 write, every full flush) empties only the slots used since the last clear instead of
     * storing to all 5 x 256 words.
     */
    private final long[] used = new long[SIZE / 64];
    /**
     * The read tags of the mode whose entries may be live ({@link #readTag}, or {@link #cycleReadTag} under cycle
     * timing): the MMU empties the fast path whenever it changes the mode ({@link #setCycleMode}), so a
     * 4 KiB {@link #drop} (every eviction from the dTLB) tests one tag array, not both.
     */
    private long[] liveReadTag = readTag;

    FastPath() {
        Arrays.fill(page, -1L);
    }

    /**
     * Installs a user-mode data translation just served by dTLB entry {@code h} with {@code attrs}. A page
     * the fast path already holds comes here again when it is translated through {@code Mmu.translate}
     * (string instructions, the translation tier's paths) or written where only a read entry exists: an
     * identical entry is left alone, which costs four loads instead of four stores.
     */
    void install(long va, long pa, int h, int attrs, boolean cycle) {
        int i = (int) (va >>> 12) & MASK;
        long tag = (va >>> 12) + 1;
        long[] read = cycle ? cycleReadTag : readTag;
        long[] write = cycle ? cycleWriteTag : writeTag;
        assert read == liveReadTag : "a fast entry of the other timing mode: setCycleMode was not called";
        long frame = pa & ~0xfffL;
        boolean writable = (attrs & (TlbArray.ATTR_RW | TlbArray.ATTR_D)) == (TlbArray.ATTR_RW | TlbArray.ATTR_D);
        long writeTagValue = writable ? tag : 0;
        if (read[i] == tag && write[i] == writeTagValue && page[i] == frame && handle[i] == h) {
            return;
        }
        used[i >>> 6] |= 1L << i;
        read[i] = tag;
        page[i] = frame;
        handle[i] = h;
        write[i] = writeTagValue;
    }

    /** Empties the fast path, whose entries from now on are installed for cycle timing or not. */
    void setCycleMode(boolean cycle) {
        clear();
        liveReadTag = cycle ? cycleReadTag : readTag;
    }

    /** Drops the entries that translate anything in [base, base + 2^shift). */
    void drop(long base, int shift) {
        if (shift == 12) {
            int i = (int) (base >>> 12) & MASK;
            long tag = (base >>> 12) + 1;
            if (liveReadTag[i] != tag) {
                return; // the slot holds another page (or nothing): a write tag never outlives its read tag
            }
            readTag[i] = 0;
            writeTag[i] = 0;
            cycleReadTag[i] = 0;
            cycleWriteTag[i] = 0;
            page[i] = -1L;
            return;
        }
        dropLarge(base, shift);
    }

    /** {@link #drop} of a 2 MiB or 1 GiB page: every slot may hold a piece of it. */
    private void dropLarge(long base, int shift) {
        long first = (base >>> 12) + 1;
        long last = first + (1L << (shift - 12));
        for (int i = 0; i < SIZE; i++) {
            long t = readTag[i], c = cycleReadTag[i];
            if (t >= first && t < last || c >= first && c < last) {
                readTag[i] = 0;
                writeTag[i] = 0;
                cycleReadTag[i] = 0;
                cycleWriteTag[i] = 0;
                page[i] = -1L;
            }
        }
    }

    void clear() {
        long[] u = used;
        for (int w = 0; w < u.length; w++) {
            long bits = u[w];
            u[w] = 0;
            while (bits != 0) {
                int i = w << 6 | Long.numberOfTrailingZeros(bits);
                readTag[i] = 0;
                writeTag[i] = 0;
                cycleReadTag[i] = 0;
                cycleWriteTag[i] = 0;
                page[i] = -1L;
                bits &= bits - 1;
            }
        }
    }

    /** True if a live fast-mode entry translates to the 4 KiB frame {@code frame} ({@code Mmu.mayReach}). */
    boolean reaches(long frame) {
        for (int i = 0; i < SIZE; i++) {
            if ((readTag[i] != 0 || writeTag[i] != 0) && page[i] == frame) {
                return true;
            }
        }
        return false;
    }
}
