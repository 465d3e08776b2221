package org.mmulab.emulator.mmu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@link TlbArray}'s packed recency order (and its clock fallback for sets wider than 16 ways) against
 * {@link ReferenceTlbArray}, the per-slot-clock true LRU it replaced: a seeded random sequence of
 * lookups, fills (PCIDs, global entries, splinters of large pages; right after a lookup missed the same
 * page, as the MMU fills, and at random), fast-path touches, INVLPG, INVPCID
 * and flushes must give the same slot on every lookup, the same evicted page on every fill, the same
 * INVLPG results and the same contents slot by slot, and the array's per-page entry counts (its miss
 * filter) must equal a recount. The seed is printed; {@code -Dtlb.lru.seed=N}
 * replays one.
 */
class TlbLruEquivalenceTest {
    private static final long SEED = Long.getLong("tlb.lru.seed", System.nanoTime());
    private static final int OPS = 40_000;

    /** entries, ways, page shift: the Skylake arrays, TINY's, 16-way, and the fully associative fallback. */
    @ParameterizedTest
    @CsvSource({"64,4,12", "1536,12,12", "32,4,21", "4,4,30", "8,8,21", "4,2,12", "2,2,12", "8,1,12",
        "2048,16,12", "256,8,12", "32,32,21", "72,72,12", "96,96,12"})
    void sameHitsMissesAndVictimsAsTheClockLru(int entries, int ways, int pageShift) {
        long seed = SEED ^ (entries * 31L + ways) * 0x9E37_79B9_7F4A_7C15L ^ pageShift;
        System.out.println("TlbLruEquivalenceTest " + entries + "/" + ways + "-way shift " + pageShift + ": seed "
                + SEED + " (replay with -Dtlb.lru.seed=" + SEED + ")");
        SplittableRandom r = new SplittableRandom(seed);
        TlbArray a = new TlbArray("t", entries, ways, pageShift);
        ReferenceTlbArray ref = new ReferenceTlbArray("ref", entries, ways, pageShift);
        int sets = entries / ways;
        int usedSlots = Math.min(sets, 4) * ways; // the sets address() picks from
        long lruEvictions = 0;
        for (int op = 0; op < OPS; op++) {
            String at = "seed " + SEED + ", " + entries + "/" + ways + ", op " + op;
            long va = address(r, sets, ways, pageShift);
            int pcid = r.nextInt(4);
            int kind = r.nextInt(100);
            if (kind < 45) {
                int slot = ref.lookup(va, pcid);
                assertEquals(slot, a.lookup(va, pcid), at + ": lookup");
                if (slot >= 0) {
                    assertEquals(ref.frame(slot), a.frame(slot), at);
                    assertEquals(ref.attrs(slot), a.attrs(slot), at);
                } else if (kind >= 25) { // the MMU's miss: fill what the lookup missed (TlbArray skips the scan)
                    int attrs = attrs(r, pageShift);
                    long frame = (long) r.nextInt(1 << 20) << 12;
                    long evicted = ref.fill(va, pcid, frame, attrs);
                    assertEquals(evicted, a.fill(va, pcid, frame, attrs), at + ": fill after a miss");
                    if (evicted >= 0 && (evicted ^ va) >>> pageShift != 0) {
                        lruEvictions++;
                    }
                }
            } else if (kind < 72) {
                int attrs = attrs(r, pageShift);
                long frame = (long) r.nextInt(1 << 20) << 12;
                long evicted = ref.fill(va, pcid, frame, attrs);
                assertEquals(evicted, a.fill(va, pcid, frame, attrs), at + ": fill's eviction");
                if (evicted >= 0 && (evicted ^ va) >>> pageShift != 0) { // another page went: the LRU way
                    lruEvictions++;
                }
            } else if (kind < 80) {
                int slot = r.nextInt(usedSlots); // a fast-path hit, possibly on an entry gone since
                ref.touch(slot);
                a.touch(slot);
            } else if (kind < 88) {
                assertEquals(ref.invalidatePage(va, pcid), a.invalidatePage(va, pcid), at + ": INVLPG");
                assertEquals(ref.droppedSplinterSizes(), a.droppedSplinterSizes(), at);
            } else if (kind < 93) {
                ref.invalidatePageNonGlobal(va, pcid);
                a.invalidatePageNonGlobal(va, pcid);
            } else if (kind < 97) {
                int slot = r.nextInt(usedSlots);
                ref.invalidateSlot(slot);
                a.invalidateSlot(slot);
            } else if (r.nextInt(100) == 0) { // rare: a flush empties sets the LRU needs full
                boolean keepGlobal = r.nextBoolean();
                int only = r.nextBoolean() ? -1 : pcid;
                ref.flush(keepGlobal, only);
                a.flush(keepGlobal, only);
            }
            assertEquals(ref.mayHold(), a.mayHold(), at + ": mayHold");
            if (op % 64 == 0) {
                assertEquals(ref.contents(), ReferenceTlbArray.contentsOf(a), at + ": contents");
            }
            if (op % 16 == 0) { // the miss filter's counts: a wrong one would turn a hit into a miss
                assertTrue(a.pageCountsExact(), at + ": page counts");
            }
        }
        assertEquals(ref.contents(), ReferenceTlbArray.contentsOf(a), "seed " + SEED + ": final contents");
        System.out.println("  " + lruEvictions + " fills evicted the LRU way of a full set");
        assertTrue(lruEvictions > OPS / 100, "the sequence exercised the LRU victim choice: " + lruEvictions);
    }

    /** Random rights, D, now and then G, and in a 4 KiB array now and then a splinter of a 2M / 1G page. */
    private static int attrs(SplittableRandom r, int pageShift) {
        int attrs = r.nextInt(16) | (r.nextInt(6) == 0 ? TlbArray.ATTR_G : 0);
        if (pageShift == 12 && r.nextInt(5) == 0) {
            attrs |= (1 + r.nextInt(2)) << TlbArray.ATTR_SPLIT_SHIFT;
        }
        return attrs;
    }

    /**
     * A page in one of the first four sets (twice as many pages per set as ways, so sets overflow), in
     * the canonical low or high half, now and then a non-canonical one.
     */
    private static long address(SplittableRandom r, int sets, int ways, int pageShift) {
        long vpn = (long) r.nextInt(2 * ways + 1) * sets + r.nextInt(Math.min(sets, 4));
        long va = (vpn << pageShift) | r.nextInt(1 << 12);
        int k = r.nextInt(50);
        if (k == 0) {
            return va | 0x0000_8000_0000_0000L; // non-canonical
        }
        return k < 5 ? va | 0xffff_8000_0000_0000L : va;
    }
}
