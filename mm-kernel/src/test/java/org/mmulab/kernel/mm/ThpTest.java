package org.mmulab.kernel.mm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Transparent huge pages on one mm, single-threaded, in both paging modes: MADV_COLLAPSE of anonymous
 * and shmem ranges (data kept, one huge PMD, RSS and the census clean), its errno rules, the khugepaged
 * pass, and every way back to PTEs (partial munmap, mprotect, MADV_DONTNEED, a COW write, fork, GUP)
 * keeping the data; pte_free_defer holding a retracted table while a lockless walker is registered.
 */
class ThpTest extends MmFixture {
    static final long H = HugeMemory.HPAGE_PMD_SIZE;
    static final long BASE = 0x4000_0000L;

    private long pmd(MmStruct m, long va) {
        long p = memory.pmdOffset(m, va);
        return p < 0 ? 0 : memory.ops().getLockless(p);
    }

    private boolean huge(MmStruct m, long va) {
        return HugeMemory.pmdTransHuge(pmd(m, va));
    }

    /** Writes a distinct value into every page of [va, va + len) (every other page when {@code sparse}). */
    private void fill(MmStruct m, long va, long len, boolean sparse) {
        for (long a = va; a < va + len; a += sparse ? 2 * P : P) {
            store(m, a + 8, a ^ 0x5a5a);
        }
    }

    private void check(MmStruct m, long va, long len, boolean sparse) {
        check(m, va, len, sparse, va);
    }

    /** The data {@link #fill} wrote at {@code origin}, read through another mapping at {@code va}. */
    private void check(MmStruct m, long va, long len, boolean sparse, long origin) {
        for (long a = va; a < va + len; a += P) {
            boolean written = !sparse || ((a - va) / P) % 2 == 0;
            long o = origin + (a - va);
            assertEquals(written ? o ^ 0x5a5a : 0, load(m, a + 8), "data at 0x" + Long.toHexString(a));
        }
    }

    private void census(MmStruct... mms) {
        List<MmStruct> all = new ArrayList<>(List.of(mms));
        all.add(mm);
        assertEquals(List.of(), memory.check.checkMms(all));
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void anonCollapseKeepsDataAndAccounting(boolean pae) {
        setUp(pae);
        assertEquals(BASE, mmap.doMmap(mm, null, BASE, 2 * H, RW, ANON, 0, null));
        fill(mm, BASE, 2 * H, true); // half the PTEs none: MADV_COLLAPSE has no max_ptes_none
        long tablesBefore = mm.nrPgtables();
        assertEquals(0, mmap.madvise(mm, BASE, 2 * H, Mmap.MADV_COLLAPSE));
        assertTrue(huge(mm, BASE) && huge(mm, BASE + H));
        assertEquals(2 * 512, mm.counter(MmStruct.MM_ANONPAGES));
        assertEquals(tablesBefore, mm.nrPgtables(), "the old tables are deposited, still counted");
        assertEquals(2, memory.stats.anonThps.get());
        census();
        check(mm, BASE, 2 * H, true);
        // a second collapse finds them PMD-mapped: success, nothing new
        assertEquals(0, mmap.madvise(mm, BASE, 2 * H, Mmap.MADV_COLLAPSE));
        assertEquals(2, memory.stats.thpCollapseAlloc.get());
        // writes through the huge PMD land in the huge page
        store(mm, BASE + 3 * P + 16, 77);
        assertEquals(77, load(mm, BASE + 3 * P + 16));
        census();
        tearDown();
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void partialOperationsSplitAndKeepData(boolean pae) {
        setUp(pae);
        assertEquals(BASE, mmap.doMmap(mm, null, BASE, 4 * H, RW, ANON, 0, null));
        fill(mm, BASE, 4 * H, false);
        assertEquals(0, mmap.madvise(mm, BASE, 4 * H, Mmap.MADV_COLLAPSE));
        for (int i = 0; i < 4; i++) {
            assertTrue(huge(mm, BASE + i * H));
        }
        // munmap of one page in the first, mprotect of part of the second, DONTNEED in the third
        assertEquals(0, mmap.doMunmap(mm, BASE + 5 * P, P));
        assertEquals(0, mmap.mprotect(mm, BASE + H, 16 * P, Mmap.PROT_READ));
        assertEquals(0, mmap.madvise(mm, BASE + 2 * H + 7 * P, 3 * P, Mmap.MADV_DONTNEED));
        assertFalse(huge(mm, BASE) || huge(mm, BASE + H) || huge(mm, BASE + 2 * H));
        assertTrue(huge(mm, BASE + 3 * H));
        assertEquals(3, memory.stats.thpSplitPmd.get());
        census();
        for (long a = BASE; a < BASE + 4 * H; a += P) {
            if (a == BASE + 5 * P) {
                continue;
            }
            boolean dropped = a >= BASE + 2 * H + 7 * P && a < BASE + 2 * H + 10 * P;
            assertEquals(dropped ? 0 : a ^ 0x5a5a, load(mm, a + 8), "0x" + Long.toHexString(a));
        }
        assertFalse(PteBits.write(pte(mm, BASE + H)), "mprotect reached the split PTEs");
        census();
        tearDown();
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void forkAndCowSplitTheHugePmd(boolean pae) {
        setUp(pae);
        assertEquals(BASE, mmap.doMmap(mm, null, BASE, H, RW, ANON, 0, null));
        fill(mm, BASE, H, false);
        assertEquals(0, mmap.madvise(mm, BASE, H, Mmap.MADV_COLLAPSE));
        MmStruct child = Fork.dupMmap(memory, mm);
        assertFalse(huge(mm, BASE), "copy_huge_pmd falls back to PTEs");
        census(child);
        store(child, BASE + 9 * P, 1);
        store(mm, BASE + 10 * P, 2);
        assertEquals(1, load(child, BASE + 9 * P));
        assertEquals((BASE + 9 * P) ^ 0x5a5a, load(mm, BASE + 9 * P + 8));
        assertEquals(2, load(mm, BASE + 10 * P));
        assertEquals((BASE + 10 * P) ^ 0x5a5a, load(child, BASE + 10 * P + 8));
        census(child);
        tearDown(child);
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void cowWriteToReadOnlyHugePmdSplits(boolean pae) {
        setUp(pae);
        assertEquals(BASE, mmap.doMmap(mm, null, BASE, H, RW, ANON, 0, null));
        fill(mm, BASE, H, false);
        assertEquals(0, mmap.madvise(mm, BASE, H, Mmap.MADV_COLLAPSE));
        // write-protect the huge PMD as a fork would, with the folio shared: the write fault must COW
        long pmdp = memory.pmdOffset(mm, BASE);
        long head = PteBits.pfn(pmd(mm, BASE));
        memory.frames().get(head);
        memory.frames().clearFlags(head, FrameTable.PG_ANON_EXCLUSIVE);
        memory.ops().wrprotect(pmdp);
        assertEquals(Memory.VM_FAULT_OK, memory.handleMmFault(mm.vmaLookup(BASE), BASE, W));
        assertFalse(huge(mm, BASE), "do_huge_pmd_wp_page fell back to a split");
        store(mm, BASE + 8, 5);
        assertEquals(5, load(mm, BASE + 8));
        assertNotEquals(head, PteBits.pfn(pte(mm, BASE)), "the write copied the subpage");
        memory.frames().put(head);
        census();
        tearDown();
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void shmemCollapseRetractsAndMapsThePmd(boolean pae) {
        setUp(pae);
        assertEquals(BASE, mmap.doMmap(mm, null, BASE, H, RW, SHARED, 0, null));
        fill(mm, BASE, H, true);
        VmArea vma = mm.vmaLookup(BASE);
        MmStruct other = memory.mmAlloc();
        assertEquals(BASE + 4 * H, mmap.doMmap(other, vma.file(), BASE + 4 * H, H, RW,
                Mmap.MAP_SHARED | Mmap.MAP_FIXED, 0, null));
        assertEquals(BASE ^ 0x5a5a, load(other, BASE + 4 * H + 8)); // the other mm has a PTE table too
        long freedBefore = memory.stats.pteFreeDeferred.get();
        assertEquals(0, mmap.madvise(mm, BASE, H, Mmap.MADV_COLLAPSE));
        assertTrue(huge(mm, BASE));
        assertEquals(512, mm.counter(MmStruct.MM_SHMEMPAGES));
        assertEquals(2, memory.stats.pteFreeDeferred.get() - freedBefore, "both mms' tables retracted");
        assertEquals(0, pmd(other, BASE + 4 * H), "retract_page_tables emptied the other mm's PMD");
        census(other);
        check(mm, BASE, H, true);
        check(other, BASE + 4 * H, H, true, BASE);
        // writes through the huge PMD are seen through the other mapping's PTEs
        store(mm, BASE + 2 * P + 8, 99);
        assertEquals(99, load(other, BASE + 4 * H + 2 * P + 8));
        // a partial DONTNEED drops the PMD mapping; faults map PTEs to the same huge folio
        assertEquals(0, mmap.madvise(mm, BASE + P, P, Mmap.MADV_DONTNEED));
        assertFalse(huge(mm, BASE));
        assertEquals(99, load(mm, BASE + 2 * P + 8));
        long head = PteBits.pfn(pte(mm, BASE + 2 * P)) & ~511L;
        assertTrue(memory.frames().isCompound(head));
        census(other);
        // MADV_COLLAPSE again: the folio is already huge in the cache: collapse_pte_mapped_thp alone
        assertEquals(0, mmap.madvise(mm, BASE, H, Mmap.MADV_COLLAPSE));
        assertTrue(huge(mm, BASE));
        census(other);
        tearDown(other);
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void collapseErrnos(boolean pae) {
        setUp(pae);
        assertEquals(BASE, mmap.doMmap(mm, null, BASE, 2 * H, RW, ANON, 0, null));
        // never touched: no page table (SCAN_PMD_NONE) is EINVAL
        assertEquals(-22, mmap.madvise(mm, BASE, H, Mmap.MADV_COLLAPSE));
        // VM_NOHUGEPAGE: hugepage_vma_check fails
        store(mm, BASE + H, 1);
        assertEquals(0, mmap.madvise(mm, BASE + H, H, Mmap.MADV_NOHUGEPAGE));
        assertEquals(-22, mmap.madvise(mm, BASE + H, H, Mmap.MADV_COLLAPSE));
        assertEquals(0, mmap.madvise(mm, BASE + H, H, Mmap.MADV_HUGEPAGE));
        // a range inside one 2 MiB: nothing to do (hend == hstart) or EINVAL (hend < hstart)
        assertEquals(0, mmap.madvise(mm, BASE + H, P, Mmap.MADV_COLLAPSE));
        assertEquals(-22, mmap.madvise(mm, BASE + H + P, P, Mmap.MADV_COLLAPSE));
        // a page someone else holds (a GUP pin): EAGAIN
        long pfn = PteBits.pfn(pte(mm, BASE + H));
        memory.frames().get(pfn);
        assertEquals(-11, mmap.madvise(mm, BASE + H, H, Mmap.MADV_COLLAPSE));
        memory.frames().put(pfn);
        // no free 2 MiB block: ENOMEM
        List<Long> held = new ArrayList<>();
        for (long b; (b = memory.frames().allocPages(FrameTable.HPAGE_PMD_ORDER)) >= 0;) {
            held.add(b);
        }
        assertEquals(-12, mmap.madvise(mm, BASE + H, H, Mmap.MADV_COLLAPSE));
        held.forEach(memory.frames()::put);
        // a hole after the VMA: the VMA is collapsed, then ENOMEM for the hole
        assertEquals(-12, mmap.madvise(mm, BASE + H, 2 * H, Mmap.MADV_COLLAPSE));
        assertTrue(huge(mm, BASE + H));
        census();
        tearDown();
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void khugepagedCollapsesHugepageVmasOnly(boolean pae) {
        setUp(pae);
        assertEquals(BASE, mmap.doMmap(mm, null, BASE, 2 * H, RW, ANON, 0, null));
        fill(mm, BASE, 2 * H, false);
        assertEquals(0, memory.khugepaged.scanAll(), "no VM_HUGEPAGE VMA: not on khugepaged's list");
        assertEquals(0, mmap.madvise(mm, BASE + H, H, Mmap.MADV_HUGEPAGE));
        assertEquals(1, memory.khugepaged.scanAll());
        assertFalse(huge(mm, BASE));
        assertTrue(huge(mm, BASE + H));
        check(mm, BASE, 2 * H, false);
        census();
        tearDown();
        assertTrue(memory.khugepaged.listedMms().isEmpty(), "exit_mmap took the mm off the list");
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void retractedTableWaitsForTheLocklessWalker(boolean pae) {
        setUp(pae);
        assertEquals(BASE, mmap.doMmap(mm, null, BASE, H, RW, SHARED, 0, null));
        fill(mm, BASE, H, false);
        long table = PteBits.pfn(pmd(mm, BASE));
        // a lockless walker (the fault path's pte_offset_map) holding the table
        PteSlot walker = new PteSlot();
        int slot = memory.pgtables.rcu.readLock(walker);
        assertTrue(memory.pgtables.mapNolock(memory.pmdOffset(mm, BASE), BASE, walker));
        assertEquals(0, mmap.madvise(mm, BASE, H, Mmap.MADV_COLLAPSE));
        assertTrue(huge(mm, BASE));
        assertEquals(1, memory.pgtables.rcu.deferred());
        assertTrue((memory.frames().flags(table) & FrameTable.PG_PGTABLE) != 0, "not freed under the walker");
        memory.pgtables.rcu.readUnlock(slot);
        assertEquals(0, memory.pgtables.rcu.deferred());
        assertTrue(memory.frames().isFree(table), "freed once the walker left");
        assertEquals(List.of(), memory.check.violations());
        census();
        tearDown();
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void mremapMincoreAndGupOnAHugeMapping(boolean pae) {
        setUp(pae);
        assertEquals(BASE, mmap.doMmap(mm, null, BASE, H, RW, ANON, 0, null));
        fill(mm, BASE, H, false);
        assertEquals(0, mmap.madvise(mm, BASE, H, Mmap.MADV_COLLAPSE));
        assertEquals(1, mm.hugePmdCounts.get(0));
        // mincore: a huge PMD maps every page, and looking does not split it
        byte[][] vec = new byte[1][];
        assertEquals(0, mmap.mincoreOps().mincore(mm, BASE, H, 0x1000, (va, buf, n) -> {
            vec[0] = java.util.Arrays.copyOf(buf, n);
            return true;
        }));
        for (byte b : vec[0]) {
            assertEquals(1, b);
        }
        assertTrue(huge(mm, BASE));
        // GUP (follow_page) of a few pages in the middle: split, then followed under the PTE lock
        long[] pages = new long[4];
        assertEquals(4, mmap.gup().getUserPages(mm, BASE + 100 * P, 4, Gup.FOLL_GET, pages));
        assertFalse(huge(mm, BASE));
        assertEquals(PteBits.pfn(pte(mm, BASE + 101 * P)), pages[1]);
        for (long pfn : pages) {
            memory.frames().put(pfn);
        }
        census();
        // collapse again, then mremap the huge range elsewhere (aligned): the data moves with it
        assertEquals(0, mmap.madvise(mm, BASE, H, Mmap.MADV_COLLAPSE));
        long to = BASE + 8 * H;
        assertEquals(to, mmap.mremap(mm, BASE, H, H, Mremap.MREMAP_MAYMOVE | Mremap.MREMAP_FIXED, to));
        check(mm, to, H, false, BASE);
        assertEquals(0, mm.hugePmdCounts.get(0) + (huge(mm, to) ? -1 : 0));
        census();
        tearDown();
        assertEquals(0, memory.stats.anonThps.get());
    }
}
