package org.mmulab.kernel.mm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Soft-dirty tracking ({@link SoftDirty}) on the mm alone, both page-table formats: a new VMA reads as
 * soft-dirty; clear_refs "4" clears every page and write-protects it; the next write (a fault) marks
 * just that page, through do_anonymous_page, do_wp_page's reuse and copy, a shared mapping's
 * write-notify fault, and MADV_POPULATE_WRITE (madv_populate's soft-dirty case: POPULATE_READ leaves
 * the range clean); mprotect does not make a clean PTE writable behind the fault's back; mremap marks
 * what it moves.
 */
class SoftDirtyTest extends MmFixture {
    static final long A = 0x4000_0000L, B = 0x5000_0000L;

    SoftDirty sd;

    @Override
    void setUp(boolean pae) {
        super.setUp(pae);
        sd = new SoftDirty(memory);
    }

    void write(long va) {
        store(mm, va, 1);
    }

    boolean softDirty(long va) {
        return (sd.pagemapEntry(mm, va, false) & SoftDirty.PM_SOFT_DIRTY) != 0;
    }

    String bits(long base, int pages) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < pages; i++) {
            b.append(softDirty(base + i * P) ? '1' : '0');
        }
        return b.toString();
    }

    @ParameterizedTest(name = "pae={0}")
    @ValueSource(booleans = {false, true})
    void clearRefsThenWritesMarkExactlyThePagesWritten(boolean pae) {
        setUp(pae);
        mmap.doMmap(mm, null, A, 4 * P, RW, Mmap.MAP_PRIVATE | Mmap.MAP_ANONYMOUS | Mmap.MAP_FIXED, 0, null);
        assertEquals("1111", bits(A, 4), "a new VMA is soft-dirty");
        write(A);
        write(A + P);
        sd.clearRefs(mm);
        assertEquals("0000", bits(A, 4));
        assertFalse(PteBits.write(memory.lookupPte(mm, A)), "write-protected");
        write(A + P); // do_wp_page reuses the exclusive page and marks it
        write(A + 2 * P); // do_anonymous_page
        assertEquals("0110", bits(A, 4));
        long e = sd.pagemapEntry(mm, A + P, true);
        assertTrue((e & SoftDirty.PM_PRESENT) != 0 && (e & SoftDirty.PM_MMAP_EXCLUSIVE) != 0 && (e & SoftDirty.PM_FILE) == 0);
        assertEquals(PteBits.pfn(memory.lookupPte(mm, A + P)), e & SoftDirty.PM_PFRAME_MASK);
        assertEquals(0, sd.pagemapEntry(mm, B, true), "outside every VMA");
        // mprotect RO then RW: the clean page A stays write-protected, so its next write is seen
        sd.clearRefs(mm);
        assertEquals(0, mmap.mprotect(mm, A, 4 * P, Mmap.PROT_READ));
        assertEquals(0, mmap.mprotect(mm, A, 4 * P, RW));
        assertFalse(PteBits.write(memory.lookupPte(mm, A)), "can_change_pte_writable: not while clean");
        write(A);
        assertEquals("1000", bits(A, 4));
        // fork then write: the COW copy is soft-dirty in the writer
        sd.clearRefs(mm);
        MmStruct child = Fork.dupMmap(memory, mm);
        write(A + P);
        assertEquals("0100", bits(A, 4));
        // mremap: the moved PTEs are marked
        sd.clearRefs(mm);
        assertEquals(B, mmap.mremap(mm, A, 4 * P, 4 * P, Mremap.MREMAP_MAYMOVE | Mremap.MREMAP_FIXED, B));
        assertEquals("1110", bits(B, 4), "present PTEs moved: soft-dirty; the hole is not");
        tearDown(child);
    }

    /** madv_populate.c's test_softdirty: MAP_SHARED|MAP_ANONYMOUS, clear_refs, POPULATE_READ, POPULATE_WRITE. */
    @ParameterizedTest(name = "pae={0}")
    @ValueSource(booleans = {false, true})
    void populateReadLeavesTheRangeCleanAndPopulateWriteMarksIt(boolean pae) {
        setUp(pae);
        mmap.doMmap(mm, null, A, 8 * P, RW, Mmap.MAP_SHARED | Mmap.MAP_ANONYMOUS | Mmap.MAP_FIXED, 0, null);
        sd.clearRefs(mm);
        assertEquals("00000000", bits(A, 8));
        assertEquals(0, mmap.madvise(mm, A, 8 * P, Mmap.MADV_POPULATE_READ));
        assertEquals("00000000", bits(A, 8), "read faults map write-notify PTEs, clean");
        assertFalse(PteBits.write(memory.lookupPte(mm, A)));
        assertEquals(0, mmap.madvise(mm, A, 8 * P, Mmap.MADV_POPULATE_WRITE));
        assertEquals("11111111", bits(A, 8));
        assertTrue(PteBits.write(memory.lookupPte(mm, A)));
        long e = sd.pagemapEntry(mm, A, false);
        assertNotEquals(0, e & SoftDirty.PM_FILE, "shmem pages are not anonymous");
        assertEquals(0, e & SoftDirty.PM_PFRAME_MASK, "no pfn without CAP_SYS_ADMIN");
        tearDown();
    }
}
