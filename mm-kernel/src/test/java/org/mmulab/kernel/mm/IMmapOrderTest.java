package org.mmulab.kernel.mm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The order an i_mmap walk visits an object's VMAs in ({@link AddressSpace}: by pgoff as
 * mm/interval_tree.c, equal pgoffs in insertion order, copy_vma's new VMA right after its source) and
 * copy_vma's merge of a moved file range into the VMA before it ({@link Mremap}): the VMAs /proc/pid/maps
 * would list, the data behind them, the walk a truncate makes while the PTEs move, and the census.
 */
class IMmapOrderTest extends MmFixture {
    static final int MAYMOVE = Mremap.MREMAP_MAYMOVE, FIXED = Mremap.MREMAP_FIXED;
    static final int FILE_SHARED = Mmap.MAP_SHARED | Mmap.MAP_FIXED;
    static final long LOW = 0x4000_0000L, HIGH = 0x5000_0000L, FAR = 0x6000_0000L, OTHER = 0x7000_0000L;

    AddressSpace f;

    void mapAt(long addr, int pages, long pgoff) {
        assertEquals(addr, mmap.doMmap(mm, f, addr, pages * P, RW, FILE_SHARED, pgoff, "/dev/shm/obj"));
    }

    VmArea at(long addr) {
        return mm.vmaLookup(addr);
    }

    List<VmArea> walk() {
        f.iMmapRwsem.downRead();
        try {
            return f.iMmap.mappings();
        } finally {
            f.iMmapRwsem.upRead();
        }
    }

    void finish() {
        f.releaseUser();
        tearDown();
    }

    @ParameterizedTest(name = "pae={0}")
    @ValueSource(booleans = {false, true})
    void theWalkGoesByPgoffThenInsertionOrder(boolean pae) {
        setUp(pae);
        f = AddressSpace.shmem(memory.frames(), "/dev/shm/obj");
        mapAt(HIGH, 1, 2);
        mapAt(LOW, 1, 0);
        mapAt(FAR, 1, 1);
        mapAt(OTHER, 1, 1);
        assertEquals(List.of(at(LOW), at(FAR), at(OTHER), at(HIGH)), walk());
        // a split links each tail by its pgoff, after the VMAs already there with the same pgoff
        assertEquals(0, mmap.doMunmap(mm, OTHER, P));
        mapAt(OTHER, 3, 0);
        assertEquals(0, mmap.mprotect(mm, OTHER + P, P, Mmap.PROT_READ));
        assertEquals(List.of(at(LOW), at(OTHER), at(FAR), at(OTHER + P), at(HIGH), at(OTHER + 2 * P)), walk());
        finish();
    }

    @ParameterizedTest(name = "pae={0}")
    @ValueSource(booleans = {false, true})
    void anUnmergedMoveLinksTheNewVmaRightAfterItsSource(boolean pae) {
        setUp(pae);
        f = AddressSpace.shmem(memory.frames(), "/dev/shm/obj");
        mapAt(LOW, 1, 1);
        mapAt(HIGH, 1, 1);
        mapAt(OTHER, 1, 1);
        store(mm, HIGH, 0x5eed);
        VmArea src = at(HIGH);
        List<List<VmArea>> during = new java.util.ArrayList<>();
        mmap.mremapOps().setMovePtesUnlockHook(() -> during.add(f.iMmap.mappings())); // i_mmap held for writing here
        assertEquals(FAR, mmap.mremap(mm, HIGH, P, P, MAYMOVE | FIXED, FAR));
        mmap.mremapOps().setMovePtesUnlockHook(null);
        assertEquals(1, during.size());
        assertEquals(List.of(at(LOW), src, at(FAR), at(OTHER)), during.get(0),
                "vma_interval_tree_insert_after: the source, then its copy, then the later VMA of the same pgoff");
        assertEquals(List.of(at(LOW), at(FAR), at(OTHER)), walk());
        assertEquals(0x5eed, load(mm, FAR));
        finish();
    }

    @ParameterizedTest(name = "pae={0}")
    @ValueSource(booleans = {false, true})
    void aMoveNextToTheVmaOfThePrecedingPgoffMergesIntoItAtCopyTime(boolean pae) {
        setUp(pae);
        f = AddressSpace.shmem(memory.frames(), "/dev/shm/obj");
        mapAt(LOW, 1, 0);
        mapAt(HIGH, 2, 1);
        for (int i = 0; i < 3; i++) {
            store(mm, (i == 0 ? LOW : HIGH + (i - 1) * P), 0xa000 + i);
        }
        VmArea low = at(LOW), src = at(HIGH);
        List<List<VmArea>> during = new java.util.ArrayList<>();
        long[] lowEnd = {0};
        mmap.mremapOps().setMovePtesUnlockHook(() -> {
            during.add(f.iMmap.mappings());
            lowEnd[0] = low.end();
        });
        assertEquals(LOW + P, mmap.mremap(mm, HIGH, 2 * P, 2 * P, MAYMOVE | FIXED, LOW + P));
        mmap.mremapOps().setMovePtesUnlockHook(null);
        // the PTEs moved into the VMA below, which the walk visits before the source: seed 004's order
        assertEquals(List.of(low, src), during.get(0));
        assertEquals(LOW + 3 * P, lowEnd[0], "vma_expand grew the VMA below before the PTEs moved");
        // what /proc/pid/maps lists: one line, pgoff 0, the object's name
        assertEquals(1, mm.mapCount());
        assertSame(low, at(LOW + 2 * P));
        assertEquals(LOW, low.start());
        assertEquals(LOW + 3 * P, low.end());
        assertEquals(0, low.pgoff());
        assertEquals(List.of(low), walk());
        for (int i = 0; i < 3; i++) {
            assertEquals(0xa000 + i, load(mm, LOW + i * P), "page " + i);
        }
        assertEquals(3, mm.totalVm());
        // truncate to one page through the merged VMA: pages 1 and 2 unmapped, page 0 kept
        f.setEof(P);
        Truncate.unmapMappingRange(memory, f, 1, Long.MAX_VALUE);
        f.truncatePages(1);
        assertTrue(PteBits.present(pte(mm, LOW)));
        assertFalse(PteBits.present(pte(mm, LOW + P)));
        assertFalse(PteBits.present(pte(mm, LOW + 2 * P)));
        finish();
    }

    @ParameterizedTest(name = "pae={0}")
    @ValueSource(booleans = {false, true})
    void noMergeAcrossAPgoffGapOrADifferentObject(boolean pae) {
        setUp(pae);
        f = AddressSpace.shmem(memory.frames(), "/dev/shm/obj");
        mapAt(LOW, 1, 0);
        mapAt(HIGH, 1, 2); // pgoff 2 after pgoff 0: a gap
        assertEquals(LOW + P, mmap.mremap(mm, HIGH, P, P, MAYMOVE | FIXED, LOW + P));
        assertEquals(2, mm.mapCount());
        assertEquals(2, at(LOW + P).pgoff());
        assertEquals(List.of(at(LOW), at(LOW + P)), walk());
        AddressSpace g = AddressSpace.shmem(memory.frames(), "/dev/shm/obj");
        mapAt(FAR, 1, 0);
        assertEquals(OTHER, mmap.doMmap(mm, g, OTHER, P, RW, FILE_SHARED, 1, "/dev/shm/obj"));
        assertEquals(FAR + P, mmap.mremap(mm, OTHER, P, P, MAYMOVE | FIXED, FAR + P));
        assertEquals(2, mm.vmasIn(FAR, FAR + 2 * P).size(), "a different object at the next pgoff");
        assertEquals(List.of(at(LOW), at(FAR), at(LOW + P)), walk());
        g.releaseUser();
        finish();
    }
}
