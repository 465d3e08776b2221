package org.mmulab.kernel.mm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link PtlockSplit}: by default each PTE table has its own lock (split PTE locks); with
 * page_table_lock for every PTE, pte_offset_map_lock takes the mm's page_table_lock for every table,
 * and faults, fork (COW) and exit still work and leave no leak under --check's census.
 */
class PtlockSplitTest extends MmFixture {
    private static final long A = 0x4000_0000L;
    /** A page in the next PTE table (2 MiB on, under 4-level and PAE alike). */
    private static final long B = A + (2L << 20);

    private SpinLock lockOf(MmStruct m, long va) {
        PteMap pm = memory.pteOffsetMapLock(m, memory.pmdOffset(m, va), va);
        try {
            return pm.ptl();
        } finally {
            pm.ptl().unlock();
        }
    }

    @ParameterizedTest(name = "pae={0}")
    @ValueSource(booleans = {false, true})
    void splitLocksByDefault(boolean pae) {
        setUp(pae);
        assertEquals(A, mmap.doMmap(mm, null, A, 4L << 20, RW, ANON, 0, null));
        store(mm, A, 1);
        store(mm, B, 2);
        SpinLock a = lockOf(mm, A);
        assertNotSame(a, lockOf(mm, B), "two PTE tables, two locks");
        assertNotSame(mm.pageTableLock, a);
        tearDown();
    }

    @ParameterizedTest(name = "pae={0}")
    @ValueSource(booleans = {false, true})
    void pageTableLockForEveryPte(boolean pae) {
        setUp(pae);
        memory.ptlockSplit.usePageTableLock();
        assertEquals(A, mmap.doMmap(mm, null, A, 4L << 20, RW, ANON, 0, null));
        store(mm, A, 1);
        store(mm, B, 2);
        assertSame(mm.pageTableLock, lockOf(mm, A));
        assertSame(mm.pageTableLock, lockOf(mm, B));
        MmStruct child = Fork.dupMmap(memory, mm);
        assertSame(child.pageTableLock, lockOf(child, A), "the child's tables take the child's lock");
        store(child, A, 3); // COW fault under the child's page_table_lock
        assertEquals(1, load(mm, A));
        assertEquals(3, load(child, A));
        tearDown(child);
    }
}
