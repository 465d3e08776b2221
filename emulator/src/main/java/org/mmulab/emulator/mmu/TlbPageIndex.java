package org.mmulab.emulator.mmu;

import java.util.Arrays;

/**
 * The per-page index of one {@link TlbArray} (a model-side shortcut; the TLB it models is the set-associative
 * array of SDM Vol. 3A §4.10.2): per hashed page number ({@code vpn & mask}), bits 7:0 of a word count the
 * valid entries whose page number hashes there, bits 31:8 hold the slot + 1 filled last for such a page (a
 * hint; 0 = none).
 *
 * <p>A lookup whose count is 0 misses at once, as no entry can carry its tag (the L1 miss before every STLB
 * probe and the STLB miss before every walk cost one load); otherwise the hinted slot is tried first, and it
 * is the hit when its entry matches, since a set never holds two entries a lookup would hit. The counts are
 * kept exact by the array at the few places an entry is written; the hint is only a hint, checked against
 * the entry. The index has at least as many words as the array has sets, so entries counted in one word
 * share a set and a count never exceeds the ways: arrays wider than {@link #COUNT_MASK} ways keep none.
 */
final class TlbPageIndex {
    static final int COUNT_MASK = 0xff, HINT_SHIFT = 8;
    /** The words, read directly by {@link TlbArray#lookup} (one load on its hot path). */
    final int[] words;
    final int mask;

    /** An index sparse enough for an array of {@code entries} entries (>= 2 x entries >= sets words). */
    TlbPageIndex(int entries) {
        int n = Integer.highestOneBit(Math.max(entries, 16)) * 4;
        this.words = new int[n];
        this.mask = n - 1;
    }

    /** True if an array of {@code ways} ways can keep an index (its counts fit in bits 7:0). */
    static boolean fits(int ways) {
        return ways <= COUNT_MASK;
    }

    /** The slot a word's hint names (the slot filled last for a page of its hash), or -1 for none. */
    static int hint(int word) {
        return (word >>> HINT_SHIFT) - 1;
    }

    /**
     * A valid entry for page number {@code vpn} appears in {@code slot}: counted, and the hint for its hash. Static, on
     * an index's {@code words} and {@code mask}: the array passes the two from its own final fields (one load fewer
     * on the fill's path).
     */
    static void add(int[] words, int mask, long vpn, int slot) {
        int i = (int) vpn & mask;
        words[i] = (words[i] + 1) & COUNT_MASK | (slot + 1) << HINT_SHIFT;
    }

    /** The valid entry for page number {@code vpn} goes (its count is >= 1: no borrow into the hint); as {@link #add}. */
    static void remove(int[] words, int mask, long vpn) {
        words[(int) vpn & mask]--;
    }

    /** Every valid entry of page number {@code vpn}'s word goes at once (an emptying flush, entry by entry). */
    void zero(long vpn) {
        words[(int) vpn & mask] = 0;
    }

    /** Every entry goes. */
    void clear() {
        Arrays.fill(words, 0);
    }

    /** Test seam: true if every count equals a recount of the page numbers of the valid entries ({@code vpns}). */
    boolean countsExact(long[] vpns) {
        int[] recount = new int[words.length];
        for (long vpn : vpns) {
            recount[(int) vpn & mask]++;
        }
        for (int i = 0; i < recount.length; i++) {
            if ((words[i] & COUNT_MASK) != recount[i]) {
                return false;
            }
        }
        return true;
    }
}
