package org.mmulab.emulator.mmu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@link TlbArray} across every set, not only the first four {@code TlbLruEquivalenceTest} uses: a seeded random
 * sequence of lookups, fills (after a miss, and at random with global entries), INVLPG, slot invalidations and
 * frequent flushes (full, non-global, one PCID's) gives the same slots, evictions and contents as
 * {@link ReferenceTlbArray}. A flush that skips a set its occupied-sets mask lost, or the sets past the first 64
 * (the mask's second word), fails here. The seed is printed; {@code -Dtlb.everyset.seed=N} replays one.
 */
class TlbArrayEverySetTest {
    private static final long SEED = Long.getLong("tlb.everyset.seed", System.nanoTime());

    /** entries, ways: the Skylake STLB (128 sets, two occupied-mask words), L1 shapes, a direct-mapped one, wide ones. */
    @ParameterizedTest
    @CsvSource({"1536,12", "64,4", "2048,16", "256,1", "32,8", "128,32", "96,96"})
    void everySetBehavesAsTheReference(int entries, int ways) {
        long seed = SEED ^ (entries * 31L + ways);
        System.out.println("TlbArrayEverySetTest " + entries + "/" + ways + ": seed " + SEED + " (replay with -Dtlb.everyset.seed="
                + SEED + ")");
        SplittableRandom r = new SplittableRandom(seed);
        TlbArray a = new TlbArray("t", entries, ways, 12);
        ReferenceTlbArray ref = new ReferenceTlbArray("ref", entries, ways, 12);
        int sets = entries / ways;
        for (int op = 0; op < 30_000; op++) {
            String at = "seed " + SEED + ", " + entries + "/" + ways + ", op " + op;
            long va = ((long) r.nextInt(3 * ways + 1) * sets + r.nextInt(sets)) << 12 | r.nextInt(1 << 12);
            int pcid = r.nextInt(3);
            int kind = r.nextInt(100);
            if (kind < 40) {
                int slot = ref.lookup(va, pcid);
                assertEquals(slot, a.lookup(va, pcid), at + ": lookup");
                if (slot >= 0) {
                    assertEquals(ref.physical(slot, va), a.physical(slot, va), at + ": physical");
                } else if (kind >= 15) { // the MMU's fill after a miss
                    int attrs = r.nextInt(16);
                    long frame = (long) r.nextInt(1 << 20) << 12;
                    assertEquals(ref.fill(va, pcid, frame, attrs), a.fill(va, pcid, frame, attrs), at + ": fill after a miss");
                }
            } else if (kind < 80) {
                int attrs = r.nextInt(16) | (r.nextInt(8) == 0 ? TlbArray.ATTR_G : 0);
                long frame = (long) r.nextInt(1 << 20) << 12;
                assertEquals(ref.fill(va, pcid, frame, attrs), a.fill(va, pcid, frame, attrs), at + ": fill");
            } else if (kind < 88) {
                assertEquals(ref.invalidatePage(va, pcid), a.invalidatePage(va, pcid), at + ": INVLPG");
            } else if (kind < 95) {
                int slot = r.nextInt(entries);
                ref.invalidateSlot(slot);
                a.invalidateSlot(slot);
            } else {
                boolean keepGlobal = r.nextBoolean();
                int only = r.nextInt(3) == 0 ? pcid : -1;
                ref.flush(keepGlobal, only);
                a.flush(keepGlobal, only);
                assertEquals(ref.contents(), ReferenceTlbArray.contentsOf(a), at + ": contents after a flush");
                assertTrue(a.pageCountsExact(), at + ": page counts after a flush");
            }
            assertEquals(ref.mayHold(), a.mayHold(), at + ": mayHold");
        }
        assertEquals(ref.contents(), ReferenceTlbArray.contentsOf(a), "seed " + SEED + ": final contents");
        assertTrue(a.pageCountsExact(), "seed " + SEED + ": final page counts");
    }
}
