package org.mmulab.emulator.timing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/**
 * N vCPUs under cycle timing: one shared LLC; a store invalidates the other vCPUs' private copies and
 * pays a snoop when one held it; lines nobody else holds stay private and cost no snoop. A line
 * ping-ponged between vCPUs pays a snoop on every store after the first, private lines never do. A read
 * of a line another vCPU holds Modified is a core-to-core transfer (the preset's core-to-core latency
 * instead of the LLC's), once: both copies are Shared after it; a clean line, or one the writer has
 * written back, costs the LLC.
 */
class CoherenceDomainTest {
    private static final TimingModel T = TimingModel.SKYLAKE;

    @Test
    void aStoreInvalidatesTheOtherCopiesAndPaysASnoop() {
        CoherenceDomain d = new CoherenceDomain(T, 2);
        CacheHierarchy a = d.join(), b = d.join();
        assertSame(a.llc(), b.llc(), "one LLC");
        assertEquals(2L * T.llc().sizeBytes(), (long) d.llc().sets() * d.llc().ways() * 64, "two cores' shares");
        long x = 0x10_0040;
        a.access(x);
        b.access(x);
        assertEquals(CacheHierarchy.L1, b.access(x), "b holds x");
        assertEquals(T.lockHandoff(), a.store(x), "a's store finds b's copy: a snoop");
        assertEquals(1, a.snoops());
        assertEquals(CacheHierarchy.LLC, b.access(x), "b's copy is gone; the shared, inclusive LLC serves it");
        assertEquals(T.lockHandoff(), b.store(x), "and now a's copy goes the same way");
        assertEquals(0, a.store(0x20_0000), "a line only a holds: no snoop");
        assertEquals(0, a.store(0x20_0000));
    }

    @Test
    void aReadOfAnotherVcpusModifiedLineIsACoreToCoreTransferOnce() {
        CoherenceDomain d = new CoherenceDomain(T, 2);
        CacheHierarchy a = d.join(), b = d.join();
        long x = 0x10_0040, y = 0x30_0000;
        a.store(x);
        assertEquals(T.lockHandoff(), b.load(x), "a holds x Modified: b's read is a core-to-core transfer");
        assertEquals(CacheHierarchy.LLC, b.lastLevel());
        assertEquals(1, b.dirtyReads());
        assertEquals(T.lockHandoff() - T.llc().latency(), b.dirtyReadCycles());
        assertEquals(T.l1d().latency(), a.load(x), "a keeps its copy, Shared");
        b.invalidateAll();
        d.llc().access(x);
        assertEquals(T.llc().latency(), b.load(x), "Shared now: a second read from the LLC costs the LLC");
        assertEquals(1, b.dirtyReads());
        a.access(y);
        assertEquals(T.llc().latency(), b.load(y), "a clean line a holds: the LLC");
        a.store(y);
        assertEquals(T.lockHandoff(), b.store(y), "b's store invalidates a's copy: a snoop, no read transfer on top");
        assertEquals(0, b.lastExtra());
        assertEquals(T.lockHandoff(), a.load(y), "and now b holds it Modified");
        // a writer that evicts its Modified line writes it back: the reader then pays the LLC
        long z = 0x50_0000;
        a.store(z);
        a.invalidateAll(); // every level of a, the shared LLC too: refill the LLC as the write-back would
        d.llc().access(z);
        assertEquals(T.llc().latency(), b.load(z));
        assertEquals(2, b.dirtyReads() + a.dirtyReads(), "x by b, y by a");
    }

    @Test
    void oneVcpuHasNoTransfers() {
        CacheHierarchy h = T.buildCaches();
        h.store(0x1000);
        h.invalidateAll();
        assertEquals(T.memoryLatency(), h.load(0x1000));
        assertEquals(0, h.dirtyReads());
    }

    @Test
    void pingPongVersusPrivateLines() {
        for (int n = 2; n <= 4; n++) {
            CoherenceDomain d = new CoherenceDomain(T, n);
            CacheHierarchy[] c = new CacheHierarchy[n];
            for (int i = 0; i < n; i++) {
                c[i] = d.join();
            }
            long shared = 0x40_0000;
            int rounds = 100;
            long snoopCycles = 0, privateCycles = 0;
            for (int r = 0; r < rounds; r++) {
                for (int i = 0; i < n; i++) {
                    snoopCycles += c[i].store(shared); // every vCPU increments one counter
                    privateCycles += c[i].store(0x80_0000 + i * 4096L); // and its own
                }
            }
            assertEquals((long) rounds * n - 1, totalSnoops(c) , n + " vCPUs: every store of the shared line but the first snoops");
            assertEquals(((long) rounds * n - 1) * T.lockHandoff(), snoopCycles);
            assertEquals(0, privateCycles, "private lines never snoop");
        }
    }

    private static long totalSnoops(CacheHierarchy[] c) {
        long s = 0;
        for (CacheHierarchy h : c) {
            s += h.snoops();
        }
        return s;
    }

    @Test
    void oneVcpuHasNoDomain() {
        assertThrows(IllegalArgumentException.class, () -> new CoherenceDomain(T, 1));
        CacheHierarchy alone = T.buildCaches();
        alone.access(0x1000);
        assertEquals(0, alone.store(0x1000), "no other vCPU: a store is an access");
    }
}
