package org.mmulab.emulator.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.mmulab.emulator.mmu.Pte;
import org.mmulab.emulator.mmu.cpudb.Zen5;
import org.mmulab.emulator.timing.CacheHierarchy;
import org.mmulab.emulator.timing.DataPrefetch;
import org.mmulab.emulator.timing.StridePrefetcher;
import org.mmulab.emulator.timing.TimingModel;
import org.mmulab.emulator.timing.VcpuClock;
import org.mmulab.emulator.timing.WalkTiming;

/**
 * Zen 5's stride prefetch installs the translation of a line it fetches in the L1 dTLB when it found it in the
 * STLB (DataPrefetch.TlbFill.FROM_STLB; measured by prefetch_probe's chase mode, docs/cache-model.md): a guest
 * loop loading one word per page over 1,024 pages (more than the L1 dTLB holds, all in the STLB after a first
 * pass; lines 16 to an L1D set, so they leave L1D between passes) misses the L1 dTLB on every load of its
 * second pass without the prefetcher, and only on the three loads that retrain it with Zen 5's. After an
 * INVLPG of every page Zen 5's prefetches walk and put what they walked into the STLB
 * (FROM_STLB_WALK_INTO_STLB), so every load misses the L1 dTLB but only the three that retrain it walk; with the
 * STLB-only rule (FROM_STLB) every load walks; a prefetcher that installs walked translations in the L1 dTLB
 * (FROM_STLB_AND_WALK) saves the L1 misses too. An STLB entry a prefetch walk installed is an ordinary one:
 * INVLPG and a CR3 write drop it, and a page whose entry has Accessed = 0 is walked by its own load (which
 * sets A), not installed by the prefetch. Over 200 pages the lines stay in
 * L1D: the prefetches (their translations in the STLB) end at the L1D and install nothing in the L1 dTLB, and
 * every load misses the L1 dTLB either way.
 * Skylake's prefetcher stays in its page and leaves the TLBs as they are. None of it changes what the guest
 * sees: registers, memory and page tables (Accessed/Dirty bits) are the same with and without the prefetcher.
 */
class PrefetchTlbFillTest {
    static final long CODE = 0x400000, DATA = 0x1000_0000L;
    /** Loads per pass: 200 lines stay in L1D (at most 4 per set), 1,024 do not (16 per set, 12 ways). */
    static final int FITS = 200, EXCEEDS = 1024;
    /** One line further per page (4,160 bytes apart): each L1D set gets one line in 64. */
    static final int STRIDE = 4096 + 64;

    /** One word per page, {@link #STRIDE} bytes apart: mov rax,[rbx]; add rbx,stride; dec ecx; jnz loop. */
    private static TestMachine machine(int pages) {
        int stride = STRIDE;
        TestMachine m = new TestMachine();
        m.mapNew(CODE, TestMachine.P | TestMachine.US);
        for (long p = 0; p < (long) pages * stride + 4096; p += 4096) {
            m.mapNew(DATA + p, TestMachine.P | TestMachine.RW | TestMachine.US | TestMachine.NX);
        }
        String imm = String.format("%02x%02x%02x%02x", stride & 0xff, (stride >>> 8) & 0xff, (stride >>> 16) & 0xff,
                stride >>> 24);
        m.load(CODE, TestMachine.hex("488b03" + "4881c3" + imm + "ffc9" + "75f2"));
        return m;
    }

    private static WalkTiming timing(TestMachine m, TimingModel t) {
        VcpuClock clock = new VcpuClock(t, t.buildCaches());
        WalkTiming walk = new WalkTiming(clock.caches(), t.stlbHit(), clock);
        InstructionTiming it = new InstructionTiming(m.s, t, clock, walk);
        m.mmu.setTiming(walk);
        m.cpu.setTiming(it);
        return walk;
    }

    /** One pass over the pages; returns the L1 dTLB misses of its loads. */
    private static long pass(TestMachine m, int pages) {
        long before = m.mmu.counters.dtlbMisses;
        m.s.rip = CODE;
        m.s.gpr[CpuState.RBX] = DATA;
        m.s.gpr[CpuState.RCX] = pages;
        assertEquals(Exit.BUDGET, m.runTo(CODE + 14, 4 * pages + 1));
        return m.mmu.counters.dtlbMisses - before;
    }

    @Test
    void aPrefetchThatFetchesItsLineInstallsTheStlbsTranslationInTheL1Dtlb() {
        TestMachine with = machine(EXCEEDS), without = machine(EXCEEDS);
        WalkTiming w = timing(with, Zen5.TIMING);
        timing(without, Zen5.TIMING.withPrefetch(DataPrefetch.NONE));
        assertEquals(EXCEEDS, pass(without, EXCEEDS));
        assertEquals(EXCEEDS, pass(with, EXCEEDS), "first pass: each page walked by its load (A = 0: the prefetches' walks stop)");
        StridePrefetcher p = w.prefetcher();
        assertEquals(0, p.tlbFills, "a prefetch walk installs nothing");
        long walks = with.mmu.counters.walksCompleted;
        long hits = w.dataAccessesByLevel[CacheHierarchy.L1];
        assertEquals(EXCEEDS, pass(without, EXCEEDS), "second pass without a prefetcher: every load an STLB hit");
        assertEquals(3, pass(with, EXCEEDS), "with Zen 5's: only the loads that retrain it (a jump back, then twice the stride)");
        assertEquals(EXCEEDS - 3, p.tlbFills, "each later load's line fetched by a prefetch, its translation from the STLB");
        assertEquals(EXCEEDS - 3, w.dataAccessesByLevel[CacheHierarchy.L1] - hits, "and its line found in L1D");
        assertEquals(walks, with.mmu.counters.walksCompleted, "no walk added or saved: the STLB held every page");
    }

    /** INVLPG of every data page: the next pass finds no translation in any TLB. */
    private static void invalidate(TestMachine m, int pages) {
        for (long p = 0; p < (long) pages * STRIDE + 4096; p += 4096) {
            m.mmu.invlpg(DATA + p);
        }
    }

    /** Zen 5's prefetcher, but installing a walked translation too (the alternative docs/cache-model.md weighs). */
    static final TimingModel WALK_FILL = Zen5.TIMING.withPrefetch(new DataPrefetch(Zen5.PREFETCH.distance(),
            Zen5.PREFETCH.maxStride(), true, true, DataPrefetch.TlbFill.FROM_STLB_AND_WALK, "test"));

    /** Zen 5's prefetcher with the earlier rule: an STLB hit's translation installed, a walk's not (FROM_STLB). */
    static final TimingModel STLB_ONLY = Zen5.TIMING.withPrefetch(new DataPrefetch(Zen5.PREFETCH.distance(),
            Zen5.PREFETCH.maxStride(), true, true, DataPrefetch.TlbFill.FROM_STLB, "test"));

    /** A first pass (the demand walks set Accessed in every page's entries), then INVLPG of every page. */
    private static void warmAndInvalidate(TestMachine m) {
        pass(m, EXCEEDS);
        invalidate(m, EXCEEDS);
    }

    @Test
    void zen5sPrefetchWalkFillsTheStlbTheDemandLoadsHitIt() {
        assertEquals(DataPrefetch.TlbFill.FROM_STLB_WALK_INTO_STLB, Zen5.PREFETCH.tlbFill());
        TestMachine m = machine(EXCEEDS);
        WalkTiming w = timing(m, Zen5.TIMING);
        warmAndInvalidate(m);
        StridePrefetcher p = w.prefetcher();
        long walks = m.mmu.counters.walksCompleted, stlbHits = m.mmu.counters.stlbHits;
        long prefetchWalks = p.walks, stlbFills = p.stlbFills, l1Fills = p.tlbFills, dropped = p.walksDropped;
        assertEquals(EXCEEDS, pass(m, EXCEEDS), "every load misses the L1 dTLB: a walk's translation goes to the STLB only");
        assertEquals(3, m.mmu.counters.walksCompleted - walks, "only the loads that retrain the prefetcher walk");
        assertEquals(EXCEEDS - 3, m.mmu.counters.stlbHits - stlbHits, "every other load hits the STLB");
        assertEquals(EXCEEDS - 3 + Zen5.PREFETCH.distance(), p.walks - prefetchWalks,
                "one prefetch walk per page (and the last ones' past the end)");
        assertEquals(EXCEEDS - 3, p.stlbFills - stlbFills, "each walk that found a translation filled the STLB");
        assertEquals(0, p.tlbFills - l1Fills, "and nothing went into the L1 dTLB");
        assertEquals(Zen5.PREFETCH.distance(), p.walksDropped - dropped, "the walks past the end found no page");
    }

    @Test
    void withTheStlbOnlyRuleThePrefetchWalkInstallsNothingTheDemandLoadsWalk() {
        TestMachine m = machine(EXCEEDS);
        WalkTiming w = timing(m, STLB_ONLY);
        warmAndInvalidate(m);
        long walks = m.mmu.counters.walksCompleted, prefetchWalks = w.prefetcher().walks;
        assertEquals(EXCEEDS, pass(m, EXCEEDS));
        assertEquals(EXCEEDS, m.mmu.counters.walksCompleted - walks, "every load walks, as without a prefetcher");
        assertEquals(EXCEEDS - 3 + Zen5.PREFETCH.distance(), w.prefetcher().walks - prefetchWalks,
                "though each prefetch walked ahead of it (and the last ones' past the end)");
        assertEquals(0, w.prefetcher().tlbFills);
        assertEquals(0, w.prefetcher().stlbFills);
    }

    @Test
    void anStlbEntryAPrefetchWalkInstalledIsDroppedByInvlpgAndCr3() {
        TestMachine m = machine(EXCEEDS);
        WalkTiming w = timing(m, Zen5.TIMING);
        warmAndInvalidate(m);
        pass(m, EXCEEDS);
        long page = DATA + 500L * STRIDE; // a page its prefetch installed, its load then found in the STLB
        assertTrue(m.mmu.stlb().lookup(page, 0) >= 0);
        assertTrue(w.prefetcher().stlbFills > 0);
        m.mmu.invlpg(page);
        assertTrue(m.mmu.stlb().lookup(page, 0) < 0, "INVLPG drops it");
        long other = DATA + 900L * STRIDE;
        assertTrue(m.mmu.stlb().lookup(other, 0) >= 0);
        m.mmu.writeCr3(m.s.cr3);
        assertTrue(m.mmu.stlb().lookup(other, 0) < 0, "a CR3 write drops it (not global)");
    }

    @Test
    void aPageWhoseEntryHasAccessedClearIsWalkedByItsLoadNotInstalled() {
        TestMachine m = machine(EXCEEDS);
        timing(m, Zen5.TIMING);
        warmAndInvalidate(m);
        long page = DATA + 500L * STRIDE & ~0xfffL;
        long ptePa = ptePa(m, page);
        m.mem.write64(ptePa, m.mem.read64(ptePa) & ~Pte.A);
        long walks = m.mmu.counters.walksCompleted;
        pass(m, EXCEEDS);
        assertEquals(3 + 1, m.mmu.counters.walksCompleted - walks, "the retraining loads, and the page with A = 0");
        assertEquals(Pte.A, m.mem.read64(ptePa) & Pte.A, "whose demand walk set A");
    }

    @Test
    void aPrefetcherThatInstallsWalkedTranslationsSavesTheDemandWalks() {
        TestMachine with = machine(EXCEEDS), without = machine(EXCEEDS);
        WalkTiming w = timing(with, WALK_FILL);
        timing(without, Zen5.TIMING.withPrefetch(DataPrefetch.NONE));
        pass(with, EXCEEDS); // the demand walks set Accessed in every loaded page's entries
        pass(without, EXCEEDS);
        invalidate(with, EXCEEDS);
        invalidate(without, EXCEEDS);
        long walksWith = with.mmu.counters.walksCompleted, walksWithout = without.mmu.counters.walksCompleted;
        StridePrefetcher p = w.prefetcher();
        long prefetchWalks = p.walks;
        assertEquals(EXCEEDS, pass(without, EXCEEDS));
        assertEquals(EXCEEDS, without.mmu.counters.walksCompleted - walksWithout, "without a prefetcher every load walks");
        assertEquals(3, pass(with, EXCEEDS), "with the walk fill only the loads that retrain it miss the L1 dTLB");
        assertEquals(3, with.mmu.counters.walksCompleted - walksWith, "and walk");
        assertEquals(EXCEEDS - 3, p.tlbFills, "every later load's translation was installed by the prefetch's walk");
        assertEquals(EXCEEDS - 3 + Zen5.PREFETCH.distance(), p.walks - prefetchWalks,
                "one walk per prefetch (each into a new page), and the last ones' past the end, dropped");
    }

    @Test
    void aPrefetchWhoseLineL1dHoldsInstallsNothing() {
        TestMachine m = machine(FITS);
        WalkTiming w = timing(m, Zen5.TIMING);
        pass(m, FITS);
        long hits = w.dataAccessesByLevel[CacheHierarchy.L1], issued = w.prefetcher().issued;
        assertEquals(FITS, pass(m, FITS), "every load of the second pass misses the L1 dTLB, as without a prefetcher");
        assertEquals(FITS, w.dataAccessesByLevel[CacheHierarchy.L1] - hits, "every line was in L1D");
        assertEquals(FITS - 3, w.prefetcher().issued - issued,
                "the prefetcher issued for every later load's line (those past the end found no translation)");
        assertEquals(0, w.prefetcher().tlbFills);
    }

    @Test
    void skylakesPrefetcherLeavesTheTlbsAsTheyAre() {
        TestMachine with = machine(EXCEEDS), without = machine(EXCEEDS);
        timing(with, TimingModel.SKYLAKE);
        timing(without, TimingModel.SKYLAKE.withPrefetch(DataPrefetch.NONE));
        assertEquals(DataPrefetch.TlbFill.NONE, TimingModel.INTEL_IP_STRIDE.tlbFill());
        for (int i = 0; i < 2; i++) {
            assertEquals(EXCEEDS, pass(without, EXCEEDS));
            assertEquals(EXCEEDS, pass(with, EXCEEDS));
        }
        assertEquals(without.mmu.counters.stlbHits, with.mmu.counters.stlbHits);
        assertEquals(without.mmu.counters.walksCompleted, with.mmu.counters.walksCompleted);
    }

    @Test
    void theGuestSeesTheSameWithAndWithoutTheFill() {
        for (TimingModel model : new TimingModel[] {Zen5.TIMING, STLB_ONLY, WALK_FILL}) {
            for (int pages : new int[] {FITS, EXCEEDS}) {
                sameGuestState(model, pages);
            }
        }
    }

    private static void sameGuestState(TimingModel model, int pages) {
        TestMachine with = machine(pages), without = machine(pages);
        timing(with, model);
        timing(without, Zen5.TIMING.withPrefetch(DataPrefetch.NONE));
        for (int i = 0; i < 4; i++) {
            if (i == 2) { // the next passes' prefetches walk
                invalidate(with, pages);
                invalidate(without, pages);
            }
            pass(with, pages);
            pass(without, pages);
            assertArrayEquals(without.s.gpr, with.s.gpr);
            assertEquals(without.rflags(), with.rflags());
        }
        for (long p = 0; p < (long) pages * STRIDE + 4096; p += 4096) {
            assertEquals(pte(without, DATA + p), pte(with, DATA + p), "page tables (A/D bits) the same");
        }
        DataPrefetch.TlbFill fill = model.prefetch().tlbFill();
        if (fill == DataPrefetch.TlbFill.FROM_STLB_WALK_INTO_STLB || (pages == EXCEEDS && fill.fillsFromWalk())) {
            assertTrue(with.mmu.counters.walksCompleted < without.mmu.counters.walksCompleted,
                    "STLB or L1 dTLB hits instead of walks (the STLB fill whatever L1D holds, the L1 fill on a line miss)");
        } else {
            assertEquals(without.mmu.counters.walksCompleted, with.mmu.counters.walksCompleted);
        }
        assertEquals(without.mmu.counters.pageFaults, with.mmu.counters.pageFaults);
        assertEquals(0, with.mmu.counters.pageFaults);
        assertEquals(Pte.A, pte(with, DATA) & (Pte.A | Pte.D));
    }

    private static long pte(TestMachine m, long va) {
        return m.mem.read64(ptePa(m, va));
    }

    private static long ptePa(TestMachine m, long va) {
        long t = m.pml4;
        for (int level = 4; level > 1; level--) {
            t = m.mem.read64(t + ((va >>> (12 + 9 * (level - 1))) & 511) * 8) & 0x000f_ffff_ffff_f000L;
        }
        return t + ((va >>> 12) & 511) * 8;
    }
}
