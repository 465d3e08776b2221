package org.mmulab.emulator.mmu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

/** One translation, one entry: fill never duplicates; INVLPG drops every splinter of a large page. */
class TlbArrayTest {
    private static int entriesFor(TlbArray a, long va) {
        AtomicInteger n = new AtomicInteger();
        long page = va >>> a.pageShift();
        a.forEach((v, pcid, frame, attrs) -> {
            if (v >>> a.pageShift() == page) {
                n.incrementAndGet();
            }
        });
        return n.get();
    }

    @Test
    void fillReplacesTheEntryAlreadyInTheSetEvenBehindAFreeWay() {
        // One set of two ways (2 entries, 2 ways). X goes to way 0, P to way 1; X is invalidated, so
        // way 0 is free in front of P's entry. Filling P again must reuse P's way, not the free one.
        TlbArray a = new TlbArray("t", 2, 2, 12);
        long x = 0x1000, p = 0x5000;
        a.fill(x, 0, 0x10000, TlbArray.ATTR_RW);
        a.fill(p, 0, 0x20000, TlbArray.ATTR_RW);
        assertEquals(1, a.invalidatePage(x, 0));
        a.fill(p, 0, 0x30000, TlbArray.ATTR_RW);
        assertEquals(1, entriesFor(a, p), "one entry for the page");
        int slot = a.lookup(p, 0);
        assertEquals(0x30000L, a.frame(slot), "the new translation");
        // and the INVLPG of the page leaves nothing behind
        a.invalidatePage(p, 0);
        assertEquals(-1, a.lookup(p, 0));
    }

    @Test
    void fillOfAPageAGlobalEntryCoversReplacesIt() {
        TlbArray a = new TlbArray("t", 4, 4, 12);
        long p = 0x7000;
        a.fill(p, 1, 0x20000, TlbArray.ATTR_RW | TlbArray.ATTR_G);
        a.invalidatePage(0x9000, 2); // nothing
        a.fill(p, 2, 0x30000, TlbArray.ATTR_RW);
        assertEquals(1, entriesFor(a, p), "the global entry would also hit in PCID 2");
        assertEquals(0x30000L, a.frame(a.lookup(p, 2)));
    }

    @Test
    void invlpgDropsEverySplinterOfA1GiBPageInTheItlb() {
        // The iTLB has no 1 GiB array (CpuModel: 4K and 2M only): a 1 GiB page is cached as 4 KiB
        // splinters, which may sit in any set.
        Tlb itlb = CpuModel.SKYLAKE.buildL1i();
        long base = 0x4000_0000L, frame = 0x8000_0000L;
        int attrs = TlbArray.ATTR_US;
        for (int i = 0; i < 5; i++) {
            long va = base + i * 0x1_1000L;
            itlb.fill(Tlb.SIZE_1G, va, 0, frame, attrs);
            assertTrue(itlb.lookup(va, 0) >= 0);
        }
        itlb.invalidatePage(base + 0x123_4567L, 0); // any address inside the 1 GiB page
        for (int i = 0; i < 5; i++) {
            assertEquals(-1, itlb.lookup(base + i * 0x1_1000L, 0), "splinter " + i + " survived INVLPG");
        }
    }

    @Test
    void invlpgOfAnotherPageLeavesSplintersAndRealPagesAlone() {
        Tlb itlb = CpuModel.SKYLAKE.buildL1i();
        long base = 0x4000_0000L;
        itlb.fill(Tlb.SIZE_1G, base + 0x5000, 0, 0x8000_0000L, TlbArray.ATTR_US);
        itlb.fill(Tlb.SIZE_4K, 0x8000_5000L, 0, 0x1000_0000L, TlbArray.ATTR_US);
        itlb.invalidatePage(0x8000_0000L, 0); // another 1 GiB region, and another 4 KiB page
        assertTrue(itlb.lookup(base + 0x5000, 0) >= 0);
        assertTrue(itlb.lookup(0x8000_5000L, 0) >= 0);
        itlb.invalidatePage(base + 0x3fff_f000L, 1); // right page, other PCID, not global
        assertTrue(itlb.lookup(base + 0x5000, 0) >= 0);
        // the splinter still translates with the offset inside the 1 GiB page
        assertEquals(0x8000_5123L, itlb.physical(itlb.lookup(base + 0x5123, 0), base + 0x5123));
    }

    @Test
    void aFullFlushEmptiesEverySlotItFilledAndOnlyThose() {
        // The STLB shape (1,536 entries, 12 ways): a full flush clears slot by valid slot. Afterwards no
        // frame is reachable (--check's covers), every lookup misses, the page counts are exact, and the
        // same pages fill again into the ways they took before (the first free way of each set).
        TlbArray a = new TlbArray("stlb", 1536, 12, 12);
        int[] first = new int[300];
        for (int round = 0; round < 2; round++) {
            for (int i = 0; i < first.length; i++) {
                long va = (long) i * 0x7000; // sets repeat: several ways of a set fill
                a.lookup(va, 3); // a miss remembered for the fill's fast victim choice
                a.fill(va, 3, 0x100000L + i * 0x1000L, TlbArray.ATTR_RW | (i % 7 == 0 ? TlbArray.ATTR_G : 0));
                int slot = a.lookup(va, 3);
                if (round == 0) {
                    first[i] = slot;
                } else {
                    assertEquals(first[i], slot, "page " + i + " fills the same way after the flush");
                }
            }
            assertEquals(first.length, a.validCount());
            a.flush(false, -1);
            assertEquals(0, a.validCount());
            assertTrue(a.pageCountsExact(), "page counts after the flush");
            for (int i = 0; i < first.length; i++) {
                assertEquals(-1, a.lookup((long) i * 0x7000, 3));
                assertTrue(!a.covers(0x100000L + i * 0x1000L), "frame " + i + " unreachable after the flush");
            }
        }
    }
}
