package org.mmulab.emulator.mmu;

/**
 * True LRU of one {@link TlbArray} set of at most 16 ways without a scan (the replacement policy is the
 * model's choice; SDM Vol. 3A §4.10.2 leaves it unspecified): the recency order is one {@code long} of 4-bit
 * way numbers, nibble 0 the most recently used way, nibble {@code ways - 1} the least; nibbles from
 * {@code ways} up hold 0xF, which no way number of a narrower set equals. A hit moves its way to the front
 * with a few shifts and masks ({@link #moveToFront}); a fill of a full set takes the last nibble.
 */
final class TlbRecencyOrder {
    private static final long NIBBLE_ONES = 0x1111_1111_1111_1111L;
    private static final long NIBBLE_HIGHS = 0x8888_8888_8888_8888L;

    private TlbRecencyOrder() {
    }

    /** The order of an empty set of {@code ways} (<= 16) ways: way 0 the most recently used. */
    static long initial(int ways) {
        if (ways == 16) {
            return 0xfedc_ba98_7654_3210L;
        }
        long initial = -1L; // 0xF in every unused nibble
        for (int w = ways - 1; w >= 0; w--) {
            initial = initial << 4 | w;
        }
        return initial;
    }

    /**
     * A hit on way {@code w} of {@code set}: it becomes the set's most recently used in {@code orders}. A repeated hit
     * on the most recent way changes nothing and stores nothing.
     */
    static void use(long[] orders, int set, int w) {
        long o = orders[set];
        if ((o & 0xf) != w) {
            orders[set] = moveToFront(o, w);
        }
    }

    /**
     * Recency order {@code o} with way {@code w} moved to the front: the nibble equal to {@code w} is found
     * without a loop (the lowest zero nibble of {@code o ^ w*0x1111..}: a borrow of the subtraction can
     * only mark nibbles above a real zero one), the nibbles below it shift up by one, {@code w} goes to
     * nibble 0.
     */
    static long moveToFront(long o, int w) {
        long x = o ^ (w * NIBBLE_ONES);
        long zero = (x - NIBBLE_ONES) & ~x & NIBBLE_HIGHS;
        int at = Long.numberOfTrailingZeros(zero) - 3; // bit offset of w's nibble
        long below = (1L << at) - 1;
        long above = ~((16L << at) - 1); // 0 when w's nibble is the top one (16L << 60 overflows to 0)
        return (o & above) | (o & below) << 4 | w;
    }
}
