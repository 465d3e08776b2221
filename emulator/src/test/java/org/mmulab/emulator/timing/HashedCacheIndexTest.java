package org.mmulab.emulator.timing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.mmulab.emulator.mmu.cpudb.CpuPresets;

/**
 * The hashed set index of {@link CacheLevel} (zen5's L2 and LLC, measured by prefetch_probe chase: see cpudb.Zen5):
 * one line per 4 KiB page at the same offset, on consecutive frames, piles into a few sets of a level indexed by
 * the low line-address bits and spreads over every set of a hashed one; a contiguous region of the level's size
 * fits either way.
 */
class HashedCacheIndexTest {
    /** 256 KiB, 4-way: 1,024 sets, so a 4 KiB-aligned line lands in one of 16 sets under the textbook index. */
    private static CacheLevel level(boolean hashed) {
        return new CacheLevel("L2", 256 << 10, 4, 14, hashed);
    }

    /** Second pass over `pages` lines at offset 0 of consecutive 4 KiB frames: how many hit. */
    private static long secondPassHits(CacheLevel c, int pages) {
        for (int pass = 0; pass < 2; pass++) {
            for (int i = 0; i < pages; i++) {
                c.access(0x4000_0000L + i * 4096L);
            }
        }
        return c.hits();
    }

    @Test
    void pageAlignedLinesPileIntoSixteenSetsUnderTheTextbookIndex() {
        // 128 lines over 16 sets of 4 ways: 8 per set, true LRU over a cyclic walk misses every time
        assertEquals(0, secondPassHits(level(false), 128));
    }

    @Test
    void pageAlignedLinesSpreadOverTheSetsOfAHashedLevel() {
        assertEquals(128, secondPassHits(level(true), 128));
    }

    @Test
    void aContiguousRegionOfTheLevelsSizeFitsEitherWay() {
        for (boolean hashed : new boolean[] {false, true}) {
            CacheLevel c = level(hashed);
            long base = 0x1234_0000L;
            for (int pass = 0; pass < 2; pass++) {
                for (long off = 0; off < (256 << 10); off += 64) {
                    c.access(base + off);
                }
            }
            assertEquals(4096, c.hits(), "hashed " + hashed + ": the second pass hits every line");
        }
    }

    @Test
    void aLineIsFoundWhereItWasFilledAndInvalidatedThere() {
        CacheLevel c = level(true);
        long pa = 0x7_89ab_cdc0L;
        assertFalse(c.access(pa));
        assertTrue(c.access(pa + 8), "same line");
        assertTrue(c.invalidate(pa));
        assertFalse(c.access(pa));
    }

    @Test
    void onlyZen5HashesItsL2AndLlc() {
        for (String name : new String[] {"skylake", "sapphire-rapids", "zen3", "zen4"}) {
            TimingModel t = CpuPresets.byName(name).model().timing();
            assertFalse(t.l2().hashedIndex() || t.llc().hashedIndex() || t.l1d().hashedIndex(), name);
        }
        TimingModel z = CpuPresets.byName("zen5").model().timing();
        assertTrue(z.l2().hashedIndex() && z.llc().hashedIndex());
        assertFalse(z.l1d().hashedIndex(), "L1D is indexed by the page offset (VIPT)");
    }
}
