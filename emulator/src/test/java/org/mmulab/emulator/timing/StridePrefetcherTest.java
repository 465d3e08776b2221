package org.mmulab.emulator.timing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * The L1 stride prefetcher beside a vCPU's caches: a load instruction chasing pages a constant distance
 * apart (tlb_stride's 4,288 bytes) finds its lines in L1D once the distance has repeated, and the
 * counters show the prefetches issued and used; without a prefetcher (the same loads) every one misses.
 * A part whose prefetcher stops at 4 KiB pages (Intel), a translation the TLBs do not hold, a random
 * order, or a stride beyond the part's limit: no help. Two load instructions learn apart. A prefetch takes
 * time: the line is ready the serving level's latency (and its page walk's loads) after the triggering load;
 * a demand load that comes sooner waits for the rest, one that comes later waits for nothing.
 */
class StridePrefetcherTest {
    private static final long PC = 0x40_1000, BASE = 0x7f00_0000_0000L, STRIDE = 4096 + 192;
    /** The test's page table: virtual page v lives at physical page v * 7 + 3 (scattered, like RAM). */
    private static final StridePrefetcher.Translator MAPPED = va -> pa(va);

    private static long pa(long va) {
        long page = (va - BASE) >>> 12;
        return ((page * 7 + 3) << 12) | (va & 0xfff);
    }

    private static final TimingModel M = TimingModel.SKYLAKE;
    /** Memory's and L1D's load-to-use latencies. */
    private static final int MEM = M.memoryLatency(), L1 = M.l1d().latency();

    private static WalkTiming timing(DataPrefetch p, StridePrefetcher.Translator t) {
        TimingModel m = M.withPrefetch(p);
        CacheHierarchy caches = m.buildCaches();
        WalkTiming w = new WalkTiming(caches, m.stlbHit(), new VcpuClock(m, caches));
        w.prefetchTranslator(t);
        return w;
    }

    private static final DataPrefetch AMD_LIKE = new DataPrefetch(4, 1 << 15, true, false, "test");

    /**
     * Loads by one instruction at the given addresses, each after a memory latency's worth of other work (so
     * every prefetch is in L1D before the load that uses it); returns the data-miss cycles.
     */
    private static long chase(WalkTiming w, long pc, long[] vas) {
        return chase(w, pc, vas, MEM);
    }

    /** As above, with {@code gap} cycles of other work charged to the vCPU's clock before each load. */
    private static long chase(WalkTiming w, long pc, long[] vas, long gap) {
        long before = w.dataCycles;
        for (long va : vas) {
            w.clock().charge(gap);
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

    /** How far past {@code va} (in strides of {@code stride}) the farthest address a prefetch asked for lies. */
    private static long reach(java.util.List<Long> asked, long va, long stride) {
        long far = va;
        for (long a : asked) {
            if ((a - va) / stride > (far - va) / stride) {
                far = a;
            }
        }
        return (far - va) / stride;
    }

    /**
     * Zen 5's measured ramp (prefetch_probe, 2026-12-06): at the third load at a stride the prefetcher reaches
     * initialReach (3) strides ahead, then one more per load until the distance (7); a new stride starts the
     * ramp again. Under the earlier rule (the full distance at the first confirmation) the third load reaches 7.
     */
    @Test
    void theReachRampsFromTheFirstConfirmationAndRestartsOnANewStride() {
        java.util.List<Long> asked = new java.util.ArrayList<>();
        StridePrefetcher.Translator t = va -> {
            asked.add(va);
            return pa(va);
        };
        WalkTiming w = timing(new DataPrefetch(7, 3, 1 << 15, true, false, DataPrefetch.TlbFill.NONE, "test"), t);
        long[] reachAfter = {0, 0, 3, 4, 5, 6, 7, 7, 7, 7};
        long[] issuedAfter = {0, 0, 3, 5, 7, 9, 11, 12, 13, 14};
        for (int i = 0; i < reachAfter.length; i++) {
            long va = BASE + i * STRIDE;
            w.clock().charge(MEM);
            w.dataLoad(PC, va, pa(va));
            assertEquals(reachAfter[i], reach(asked, va, STRIDE), "reach after load " + (i + 1));
            assertEquals(issuedAfter[i], w.prefetcher().issued, "prefetches after load " + (i + 1));
        }
        // a new stride (two pages and six lines): its first load only learns it, the next confirms it at reach 3
        long from = BASE + (reachAfter.length - 1) * STRIDE, stride2 = 2 * STRIDE;
        asked.clear();
        for (int i = 1; i <= 6; i++) {
            long va = from + i * stride2;
            w.clock().charge(MEM);
            w.dataLoad(PC, va, pa(va));
            assertEquals(i == 1 ? 0 : Math.min(7, i + 1), reach(asked, va, stride2), "new stride, reach after load " + i);
        }

        WalkTiming full = timing(new DataPrefetch(7, 1 << 15, true, false, "test"), t);
        asked.clear();
        chase(full, PC, strided(3, STRIDE));
        assertEquals(7, reach(asked, BASE + 2 * STRIDE, STRIDE), "initialReach == distance: no ramp");
        assertEquals(7, full.prefetcher().issued);
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> new DataPrefetch(7, 8, 1 << 15, true, false, DataPrefetch.TlbFill.NONE, "test"));
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> new DataPrefetch(7, 0, 1 << 15, true, false, DataPrefetch.TlbFill.NONE, "test"));
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
    void onlyAPrefetchThatFetchesItsLineInstallsItsTranslation() {
        java.util.List<Long> installed = new java.util.ArrayList<>();
        StridePrefetcher.Translator t = new StridePrefetcher.Translator() {
            @Override
            public long prefetchPhysical(long va) {
                return pa(va);
            }

            @Override
            public boolean installInL1Tlb(long va, boolean walked) {
                assertEquals(false, walked, "FROM_STLB: only the STLB's translations");
                installed.add(va);
                return true;
            }
        };
        WalkTiming w = timing(new DataPrefetch(4, 1 << 15, true, false, DataPrefetch.TlbFill.FROM_STLB, "test"), t);
        long[] vas = strided(20, STRIDE);
        chase(w, PC, vas);
        java.util.List<Long> expected = new java.util.ArrayList<>();
        for (int k = 3; k < 24; k++) {
            expected.add(BASE + k * STRIDE);
        }
        assertEquals(expected, installed, "lines 3..6 at the third load, then one per load: every one fetched from memory");
        assertEquals(21, w.prefetcher().tlbFills);
        assertEquals(21L, w.modelCounters().get("prefetch.l1_tlb_fills"));
        chase(w, PC, vas);
        assertEquals(21, installed.size(), "the second pass: every prefetched line is in L1D, no translation installed");
        assertEquals(42, w.prefetcher().issued, "21 per pass");
        WalkTiming none = timing(AMD_LIKE, t);
        chase(none, PC, vas);
        assertEquals(21, installed.size(), "a prefetcher without TlbFill never asks");
        assertTrue(!none.modelCounters().containsKey("prefetch.l1_tlb_fills"));
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> new DataPrefetch(1, 2048, false, false, DataPrefetch.TlbFill.FROM_STLB, "test"));
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> new DataPrefetch(1, 1 << 15, true, false, DataPrefetch.TlbFill.FROM_STLB_AND_WALK, "test"));
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

    @Test
    void aDemandLoadBeforeThePrefetchedLineArrivesWaitsForTheRest() {
        long gap = 20; // 4 strides ahead = 80 cycles of work, less than memory's latency
        WalkTiming w = timing(AMD_LIKE, MAPPED);
        long c = chase(w, PC, strided(8, STRIDE), gap);
        StridePrefetcher p = w.prefetcher();
        // load 2 misses (trained) and prefetches lines 3..6 at its access; its own miss covers them, so 3..6 are
        // on time. Load 3 prefetches line 7 at its access, t; load 7 comes 4 gaps later and waits for the rest.
        assertEquals(5, p.useful);
        assertEquals(1, p.late);
        assertEquals(MEM - 4 * gap, p.lateCycles);
        assertEquals(3L * (MEM - L1) + (MEM - 4 * gap), c, "the three misses and the wait");
        assertTrue(w.modelCounters().get("prefetch.late_cycles") == MEM - 4 * gap);
    }

    @Test
    void aDemandLoadAfterThePrefetchedLineArrivedWaitsForNothing() {
        long gap = MEM / 4 + 1; // 4 strides ahead: more than memory's latency
        WalkTiming w = timing(AMD_LIKE, MAPPED);
        long c = chase(w, PC, strided(200, STRIDE), gap);
        StridePrefetcher p = w.prefetcher();
        assertEquals(197, p.useful);
        assertEquals(0, p.late);
        assertEquals(0, p.lateCycles);
        assertEquals(3L * (MEM - L1), c, "only the training loads' misses");
    }

    @Test
    void aPrefetchThatWalksArrivesAfterItsWalkersLoads() {
        // each prefetch into another page walks: one paging-structure load, from memory (a fresh line per page)
        WalkTiming[] w = new WalkTiming[1];
        w[0] = timing(new DataPrefetch(4, 1 << 15, true, true, "test"), va -> {
            w[0].prefetchWalkLoad(0x1_0000_0000L + ((va - BASE) >>> 12) * 64);
            return pa(va);
        });
        long gap = MEM / 4 + 1; // on time without the walk (the test above), late with it
        long c = chase(w[0], PC, strided(8, STRIDE), gap);
        StridePrefetcher p = w[0].prefetcher();
        assertEquals(9, p.walkLoads, "loads 2..7 prefetched lines 3..11");
        assertEquals(5, p.useful);
        // lines 3..6, issued at load 2, are ready 2 memory latencies later; load 3 comes after load 2's miss and a
        // gap; line 7, issued at load 3, is ready 2 latencies after it; load 7 comes 4 gaps after line 3's arrival
        long wait3 = MEM + L1 - gap, wait7 = MEM - L1 - 3 * gap;
        assertTrue(wait7 > 0);
        assertEquals(2, p.late);
        assertEquals(wait3 + wait7, p.lateCycles);
        assertEquals(3L * (MEM - L1) + wait3 + wait7, c);
    }
}
