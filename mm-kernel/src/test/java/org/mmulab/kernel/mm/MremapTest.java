package org.mmulab.kernel.mm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * mremap on the mm alone ({@link Mremap}, {@link MoveTables}), in both page-table formats: what the
 * VMAs, the data behind each address, the counters and the move statistics are after each case, the
 * errno of every bad call, and the invariants (census, no leak once the mm is gone) after each test.
 */
class MremapTest extends MmFixture {
    static final int MAYMOVE = Mremap.MREMAP_MAYMOVE, FIXED = Mremap.MREMAP_FIXED, DONTUNMAP = Mremap.MREMAP_DONTUNMAP;
    static final long PMD = 2L << 20;
    static final long A = 0x4000_0000L, B = 0x6000_0000L;

    long map(long addr, long len, int flags) {
        long r = mmap.doMmap(mm, null, addr, len, RW, flags, 0, null);
        assertEquals(addr, r);
        return r;
    }

    void store(long va, long v) {
        store(mm, va, v);
    }

    long load(long va) {
        return load(mm, va);
    }

    void fill(long base, int pages) {
        for (int i = 0; i < pages; i++) {
            store(base + i * P, 0xa000 + i);
        }
    }

    void assertData(long base, int pages) {
        for (int i = 0; i < pages; i++) {
            assertEquals(0xa000 + i, load(base + i * P), "page " + i);
        }
    }

    @ParameterizedTest(name = "pae={0}")
    @ValueSource(booleans = {false, true})
    void shrinkUnmapsTheTailAndKeepsTheRest(boolean pae) {
        setUp(pae);
        map(A, 4 * P, ANON);
        fill(A, 4);
        assertEquals(A, mmap.mremap(mm, A, 4 * P, 2 * P, 0, 0));
        assertEquals(A + 2 * P, mm.vmaLookup(A).end());
        assertNull(mm.vmaLookup(A + 2 * P));
        assertEquals(2, mm.counter(MmStruct.MM_ANONPAGES));
        assertEquals(2, mm.totalVm());
        assertData(A, 2);
        tearDown();
    }

    @ParameterizedTest(name = "pae={0}")
    @ValueSource(booleans = {false, true})
    void growsInPlaceAndMergesWithTheNextVma(boolean pae) {
        setUp(pae);
        map(A, 3 * P, ANON);
        fill(A, 3);
        assertEquals(0, mmap.doMunmap(mm, A + P, P));
        assertEquals(2, mm.mapCount());
        // [A, A+P) grows into the hole; the result touches [A+2P, A+3P), whose pgoff follows: one VMA
        assertEquals(A, mmap.mremap(mm, A, P, 2 * P, 0, 0));
        assertEquals(1, mm.mapCount());
        assertEquals(A + 3 * P, mm.vmaLookup(A).end());
        assertEquals(0xa000, load(A));
        assertEquals(0, load(A + P), "the grown page is new anonymous memory");
        assertEquals(0xa002, load(A + 2 * P));
        assertEquals(3, mm.totalVm());
        // Growing into the next VMA is not possible in place: ENOMEM without MAYMOVE
        map(A + 3 * P, P, ANON);
        assertEquals(-12, mmap.mremap(mm, A, 3 * P, 5 * P, 0, 0));
        tearDown();
    }

    @ParameterizedTest(name = "pae={0}")
    @ValueSource(booleans = {false, true})
    void mayMoveMovesPtesAndData(boolean pae) {
        setUp(pae);
        map(A, 3 * P, ANON);
        map(A + 3 * P, P, ANON | 0); // a blocker (merged into one VMA, but the old range is only 3 pages)
        fill(A, 3);
        long ptes = memory.stats.mremapPtesMoved.get();
        long rss = mm.rss();
        long na = mmap.mremap(mm, A, 3 * P, 8 * P, MAYMOVE, 0);
        assertTrue(!Mmap.isErr(na) && na != A, Long.toHexString(na));
        assertEquals(3, memory.stats.mremapPtesMoved.get() - ptes);
        assertData(na, 3);
        assertEquals(0, load(na + 3 * P));
        assertNull(mm.vmaLookup(A));
        assertNotNull(mm.vmaLookup(A + 3 * P));
        assertEquals(rss, mm.rss(), "moved pages stay counted once; the read of the new tail maps the zero page");
        tearDown();
    }

    @ParameterizedTest(name = "pae={0}")
    @ValueSource(booleans = {false, true})
    void fixedReplacesWhatIsAtTheTargetAndWholePmdTablesMoveWhenAligned(boolean pae) {
        setUp(pae);
        map(A, 2 * PMD, ANON);
        for (int i = 0; i < 1024; i += 37) {
            store(A + i * P, 0xb000 + i);
        }
        map(B, 3 * P, ANON);
        store(B, 0xdead);
        long pmds = memory.stats.mremapPmdsMoved.get(), ptes = memory.stats.mremapPtesMoved.get();
        assertEquals(B, mmap.mremap(mm, A, 2 * PMD, 2 * PMD, MAYMOVE | FIXED, B));
        assertEquals(2, memory.stats.mremapPmdsMoved.get() - pmds, "two aligned PMD spans: two tables moved");
        assertEquals(0, memory.stats.mremapPtesMoved.get() - ptes);
        for (int i = 0; i < 1024; i += 37) {
            assertEquals(0xb000 + i, load(B + i * P));
        }
        assertNull(mm.vmaLookup(A));
        assertEquals(B + 2 * PMD, mm.vmaLookup(B).end());
        // Misaligned by one page: PTE by PTE
        long C = 0x7000_0000L + P;
        assertEquals(C, mmap.mremap(mm, B, 2 * PMD, 2 * PMD, MAYMOVE | FIXED, C));
        assertEquals(2, memory.stats.mremapPmdsMoved.get() - pmds);
        assertEquals(28, memory.stats.mremapPtesMoved.get() - ptes); // 1024/37 rounded up: 28 pages
        for (int i = 0; i < 1024; i += 37) {
            assertEquals(0xb000 + i, load(C + i * P));
        }
        tearDown();
    }

    @ParameterizedTest(name = "pae={0}")
    @ValueSource(booleans = {false})
    void wholePudTablesMoveInFourLevelMode(boolean pae) {
        setUp(pae);
        long g = 1L << 30;
        assertEquals(g, mmap.doMmap(mm, null, g, g, RW, ANON | Mmap.MAP_NORESERVE, 0, null));
        store(g + 5 * P, 1);
        store(g + g - P, 2);
        long puds = memory.stats.mremapPudsMoved.get();
        assertEquals(4 * g, mmap.mremap(mm, g, g, g, MAYMOVE | FIXED, 4 * g));
        assertEquals(1, memory.stats.mremapPudsMoved.get() - puds);
        assertEquals(1, load(4 * g + 5 * P));
        assertEquals(2, load(5 * g - P));
        tearDown();
    }

    @ParameterizedTest(name = "pae={0}")
    @ValueSource(booleans = {false, true})
    void dontUnmapKeepsThePrivateVmaWithoutItsPagesAndTheSharedOneWithItsData(boolean pae) {
        setUp(pae);
        map(A, 2 * P, ANON);
        fill(A, 2);
        long na = mmap.mremap(mm, A, 2 * P, 2 * P, MAYMOVE | DONTUNMAP, 0);
        assertTrue(!Mmap.isErr(na) && na != A);
        assertNotNull(mm.vmaLookup(A), "the source keeps its VMA");
        assertEquals(0, memory.lookupPte(mm, A), "... but not its pages");
        assertEquals(0, load(A), "a private anonymous source faults in zeroes");
        assertData(na, 2);
        assertEquals(4, mm.totalVm());
        // shared anonymous (shmem): the source refaults the object's pages
        map(B, 2 * P, SHARED);
        fill(B, 2);
        long nb = mmap.mremap(mm, B, 2 * P, 2 * P, MAYMOVE | DONTUNMAP, 0);
        assertTrue(!Mmap.isErr(nb));
        assertEquals(0, memory.lookupPte(mm, B));
        assertData(B, 2);
        assertData(nb, 2);
        store(nb, 0x5eed);
        assertEquals(0x5eed, load(B), "the same shmem object behind both");
        tearDown();
    }

    @ParameterizedTest(name = "pae={0}")
    @ValueSource(booleans = {false, true})
    void aFileMoveHoldsTheMappingsIMmapLockAcrossEachBatch(boolean pae) {
        setUp(pae);
        map(B, 4 * P, SHARED);
        fill(B, 4);
        AddressSpace file = mm.vmaLookup(B).file();
        int[] checked = {0};
        mmap.mremapOps().setMovePtesUnlockHook(() -> {
            assertTrue(file.iMmapRwsem.isWriteLocked(), "i_mmap lock held while PTEs move (seed 004)");
            checked[0]++;
        });
        assertEquals(A + P, mmap.mremap(mm, B, 4 * P, 4 * P, MAYMOVE | FIXED, A + P));
        assertEquals(1, checked[0]);
        assertData(A + P, 4);
        assertEquals(0, file.iMmapRwsem.readers());
        // the explorer's revert switch really drops the lock (seed 004's bug)
        mmap.mremapOps().setRevertRmapLocks(true);
        boolean[] lockedWhenReverted = {true};
        mmap.mremapOps().setMovePtesUnlockHook(() -> lockedWhenReverted[0] = file.iMmapRwsem.isWriteLocked());
        assertEquals(B, mmap.mremap(mm, A + P, 4 * P, 4 * P, MAYMOVE | FIXED, B));
        assertTrue(!lockedWhenReverted[0], "reverted: PTEs move without the i_mmap lock");
        mmap.mremapOps().setRevertRmapLocks(false);
        mmap.mremapOps().setMovePtesUnlockHook(null);
        tearDown();
    }

    @ParameterizedTest(name = "pae={0}")
    @ValueSource(booleans = {false, true})
    void everyBadCallGetsLinuxsErrno(boolean pae) {
        setUp(pae);
        map(A, 4 * P, ANON);
        map(B, 2 * P, SHARED);
        assertEquals(-22, mmap.mremap(mm, A, P, P, 8, 0), "unknown flag");
        assertEquals(-22, mmap.mremap(mm, A, P, P, FIXED, B), "FIXED without MAYMOVE");
        assertEquals(-22, mmap.mremap(mm, A, P, 2 * P, MAYMOVE | DONTUNMAP, 0), "DONTUNMAP resizing");
        assertEquals(-22, mmap.mremap(mm, A, P, P, DONTUNMAP, 0), "DONTUNMAP without MAYMOVE");
        assertEquals(-22, mmap.mremap(mm, A + 1, P, P, 0, 0), "unaligned address");
        assertEquals(-22, mmap.mremap(mm, A, P, 0, 0, 0), "zero new length");
        assertEquals(-14, mmap.mremap(mm, A - P, P, 2 * P, MAYMOVE, 0), "nothing mapped at addr");
        assertEquals(-14, mmap.mremap(mm, A, 5 * P, 6 * P, MAYMOVE, 0), "old range past the VMA");
        assertEquals(-22, mmap.mremap(mm, A, 2 * P, 2 * P, MAYMOVE | FIXED, A + P), "overlapping move");
        assertEquals(-22, mmap.mremap(mm, A, P, P, MAYMOVE | FIXED, B + 1), "unaligned new address");
        assertEquals(-22, mmap.mremap(mm, A, 0, P, MAYMOVE, 0), "duplicating a private mapping");
        assertEquals(-22, mmap.mremap(mm, A, P, P, MAYMOVE | FIXED, mm.taskSize), "new range past TASK_SIZE");
        // old_len 0 on a shared mapping duplicates it: a second mapping of the same object
        long d = mmap.mremap(mm, B, 0, P, MAYMOVE, 0);
        assertTrue(!Mmap.isErr(d), Long.toHexString(d));
        store(B, 77);
        assertEquals(77, load(d));
        assertNotNull(mm.vmaLookup(B), "the original stays");
        // a locked mapping cannot grow past RLIMIT_MEMLOCK
        mm.memlockRlimit = 4 * P;
        assertEquals(0, mmap.mlockOps().mlock(mm, A, 4 * P, 0));
        assertEquals(-11, mmap.mremap(mm, A, 4 * P, 8 * P, MAYMOVE, 0), "EAGAIN past RLIMIT_MEMLOCK");
        tearDown();
    }

    @ParameterizedTest(name = "pae={0}")
    @ValueSource(booleans = {false, true})
    void pfnMapsNeitherGrowNorMoveWithDontUnmap(boolean pae) {
        setUp(pae);
        map(A, 2 * P, Mmap.MAP_SHARED | Mmap.MAP_ANONYMOUS | Mmap.MAP_FIXED);
        long frame = memory.frames().allocZeroedPage();
        mm.mmapLock.downWrite();
        try {
            assertEquals(0, new PfnMap(memory).remapPfnRange(mm.vmaLookup(A), A, frame, P));
        } finally {
            mm.mmapLock.upWrite();
        }
        assertEquals(-14, mmap.mremap(mm, A, 2 * P, 4 * P, MAYMOVE, 0), "VM_PFNMAP cannot grow");
        assertEquals(-22, mmap.mremap(mm, A, 2 * P, 2 * P, MAYMOVE | DONTUNMAP, 0), "nor DONTUNMAP");
        assertEquals(A, mmap.mremap(mm, A, 2 * P, 2 * P, MAYMOVE, 0), "same size: nothing to do");
        long na = mmap.mremap(mm, A, 2 * P, 2 * P, MAYMOVE | FIXED, B);
        assertEquals(B, na, "a move is fine");
        assertEquals(frame, PteBits.pfn(memory.lookupPte(mm, na)));
        assertEquals(0, memory.frames().mapcount(frame), "no struct page accounting on a PFN map");
        mmap.doMunmap(mm, na, 2 * P);
        memory.frames().put(frame);
        tearDown();
    }
}
