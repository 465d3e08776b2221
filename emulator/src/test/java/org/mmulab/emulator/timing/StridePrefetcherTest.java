package org.mmulab.emulator.timing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * The L1 stride prefetcher beside a vCPU's caches: a load instruction chasing pages a constant distance
 * apart (tlb_stride's 4,288 bytes) finds its lines in L1D once the distance has repeated, and the
 * counters show the prefetches issued and used; without a prefetcher (the same loads) every one misses.
 * A part whose prefetcher stops at 4 KiB pages (Intel), a translation the TLBs do not hold, a random
 * order, or a stride beyond the part's limit: no help. Two load instructions learn apart.
 */
class StridePrefetcherTest {
    private static final long PC = 0x40_1000, BASE = 0x7f00_0000_0000L, STRIDE = 4096 + 192;
    /** The test's page table: virtual page v lives at physical page v * 7 + 3 (scattered, like RAM). */
    private static final StridePrefetcher.Translator MAPPED = va -> pa(va);

    private static long pa(long va) {
        long page = (va - BASE) >>> 12;
        return ((page * 7 + 3) << 12) | (va & 0xfff);
    }

    private static WalkTiming timing(DataPrefetch p, StridePrefetcher.Translator t) {
        TimingModel m = TimingModel.SKYLAKE.withPrefetch(p);
        WalkTiming w = new WalkTiming(m.buildCaches(), m.stlbHit());
        w.prefetchTranslator(t);
        return w;
    }

    private static final DataPrefetch AMD_LIKE = new DataPrefetch(4, 1 << 15, true, false, "test");

    /** {@code n} loads by one instruction at the given addresses; returns the data-miss cycles. */
    private static long chase(WalkTiming w, long pc, long[] vas) {
        long before = w.dataCycles;
        for (long va : vas) {
            w.dataLoad(pc, va, pa(va));
        }
        return w.dataCycles - before;
    }

    private static long[] strided(int n, long stride) {
        long[] v = new long[n];
        for (int i = 0; i < n; i++) {
            v[i] = BASE + i * stride;
        }
        return v;
    }

    @Test
    void aTrainedStrideAcrossPagesIsFetchedAhead() {
        WalkTiming with = timing(AMD_LIKE, MAPPED);
        WalkTiming without = timing(DataPrefetch.NONE, MAPPED);
        long[] vas = strided(200, STRIDE);
        long a = chase(with, PC, vas), b = chase(without, PC, vas);
        assertEquals(200, without.dataAccessesByLevel[CacheHierarchy.MEMORY], "no prefetcher: every line from memory");
        assertEquals(3, with.dataAccessesByLevel[CacheHierarchy.MEMORY], "two loads train it, the third issues; then hits");
        assertEquals(197, with.dataAccessesByLevel[CacheHierarchy.L1]);
        assertTrue(a < b / 50, a + " vs " + b);
        StridePrefetcher p = with.prefetcher();
        assertEquals(4 + 197, p.issued, "4 ahead at the first trained load (the third), then one per load");
        assertEquals(p.issued, p.filled);
        assertEquals(197, p.useful, "every prefetched line but the last few was used");
        assertEquals(null, without.prefetcher());
    }

    @Test
    void intelStopsAtThePage() {
        WalkTiming w = timing(new DataPrefetch(1, 2048, false, false, "test"), MAPPED);
        chase(w, PC, strided(100, STRIDE));
        assertEquals(100, w.dataAccessesByLevel[CacheHierarchy.MEMORY]);
        assertTrue(w.prefetcher().droppedPageBoundary == 0, "a 4,288-byte stride is beyond a 2 KiB limit: never trained");
        WalkTiming in = timing(new DataPrefetch(1, 4096 + 256, false, false, "test"), MAPPED);
        chase(in, PC, strided(100, STRIDE));
        assertEquals(100, in.dataAccessesByLevel[CacheHierarchy.MEMORY], "every next load is in another page");
        assertEquals(98, in.prefetcher().droppedPageBoundary);
        WalkTiming lines = timing(new DataPrefetch(1, 2048, false, false, "test"), MAPPED);
        chase(lines, PC, strided(60, 128)); // 128-byte stride: 32 per page
        assertTrue(lines.dataAccessesByLevel[CacheHierarchy.L1] > 40, "inside a page it runs ahead");
        assertTrue(lines.prefetcher().droppedPageBoundary > 0, "and stops at the page's end");
    }

    @Test
    void onlyAPrefetcherThatCrossesPagesMayWalk() {
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> new DataPrefetch(1, 2048, false, true, "test"));
        WalkTiming noWalk = timing(AMD_LIKE, MAPPED);
        assertEquals(false, noWalk.prefetchWalkStart(), "a preset whose prefetcher does not walk: the MMU drops it");
        assertEquals(0, noWalk.prefetcher().walks);
        WalkTiming walks = timing(new DataPrefetch(4, 1 << 15, true, true, "test"), MAPPED);
        assertTrue(walks.prefetchWalkStart());
        walks.prefetchWalkLoad(0x5000);
        assertEquals(1, walks.prefetcher().walks);
        assertEquals(1, walks.prefetcher().walkLoads);
        assertEquals(0, walks.cycles, "a prefetch walk's load is charged to no instruction");
        assertEquals(CacheHierarchy.L1, walks.caches().prefetch(0x5000), "but fills the caches like the walker's");
        assertTrue(walks.modelCounters().containsKey("prefetch.walks"));
        assertTrue(!noWalk.modelCounters().containsKey("prefetch.walks"));
    }

    @Test
    void noTranslationNoPrefetch() {
        WalkTiming w = timing(AMD_LIKE, va -> -1);
        chase(w, PC, strided(100, STRIDE));
        assertEquals(100, w.dataAccessesByLevel[CacheHierarchy.MEMORY]);
        assertEquals(0, w.prefetcher().issued);
        assertTrue(w.prefetcher().droppedNoTranslation > 0);
    }

    @Test
    void aRandomOrderTrainsNothing() {
        long[] vas = strided(200, STRIDE);
        java.util.Random r = new java.util.Random(17);
        for (int i = vas.length - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            long t = vas[i];
            vas[i] = vas[j];
            vas[j] = t;
        }
        WalkTiming w = timing(AMD_LIKE, MAPPED);
        chase(w, PC, vas);
        assertEquals(200, w.dataAccessesByLevel[CacheHierarchy.MEMORY]);
        assertEquals(0, w.prefetcher().issued);
    }

    @Test
    void twoLoadInstructionsLearnApart() {
        WalkTiming w = timing(AMD_LIKE, MAPPED);
        long[] a = strided(100, STRIDE), b = strided(100, -4 * STRIDE);
        for (int i = 0; i < 100; i++) {
            long vb = b[i] + (1L << 30);
            w.dataLoad(PC, a[i], pa(a[i]));
            w.dataLoad(PC + 7, vb, pa(vb));
        }
        assertEquals(6, w.dataAccessesByLevel[CacheHierarchy.MEMORY], "each stream misses only while it trains");
        WalkTiming far = timing(AMD_LIKE, MAPPED);
        chase(far, PC, strided(100, 9 * STRIDE));
        assertEquals(100, far.dataAccessesByLevel[CacheHierarchy.MEMORY], "a stride beyond maxStride is not followed");
    }
}
