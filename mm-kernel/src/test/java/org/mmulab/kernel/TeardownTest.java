package org.mmulab.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.mmulab.emulator.mmu.TlbArray;
import org.mmulab.kernel.mm.Mmap;
import org.mmulab.kernel.mm.MmStruct;
import org.mmulab.kernel.mm.PteBits;

class TeardownTest {
    static final long SEGV = -2;
    static final int RW = Mmap.PROT_READ | Mmap.PROT_WRITE;
    static final int ANON = Mmap.MAP_PRIVATE | Mmap.MAP_ANONYMOUS;

    @Test
    void tlbIsStaleWithoutInvalidationSoTheKernelMustFlush() throws Exception {
        Fixture f = Fixture.booted();
        long a = f.mmap(0, 4096, RW, ANON);
        f.write64(a, 1);
        long pa = f.translateNoFault(a, true);
        assertTrue(pa >= 0);
        // Clearing the PTE behind the MMU's back leaves the translation usable: the TLB is stale.
        long pmdp = f.memory().pmdOffset(f.mm(), a);
        long pmd = f.memory().ops().get(pmdp);
        long ptep = f.memory().ops().entryAddr(PteBits.pfn(pmd) << 12, a, 1);
        long saved = f.memory().ops().getAndClear(ptep);
        assertEquals(pa, f.translateNoFault(a, true), "modelled TLB keeps the stale entry");
        f.memory().ops().set(ptep, saved);
        // munmap through the kernel invalidates: the access faults and finds no VMA.
        assertEquals(0, f.sys(Syscalls.NR_MUNMAP, a, 4096));
        assertEquals(-1, f.translateNoFault(a, false));
        assertEquals(SEGV, f.touch(a, false));
    }

    @Test
    void framesAreFreedOnlyAfterTheTlbFlush() throws Exception {
        Fixture f = Fixture.booted();
        int pages = 600; // more than one MmuGather batch, more than the single-page flush ceiling
        long a = f.mmap(0, pages * 4096L, RW, ANON);
        for (int i = 0; i < pages; i++) {
            f.write64(a + i * 4096L, i);
        }
        // Re-touch the last pages so the TLB holds entries for frames about to be freed.
        for (int i = pages - 40; i < pages; i++) {
            assertTrue(f.translateNoFault(a + i * 4096L, false) >= 0);
        }
        List<String> violations = new ArrayList<>();
        int[] freed = {0};
        f.memory().frames().setFreeObserver(pfn -> {
            freed[0]++;
            TlbArray t = f.cpu.mmu().dtlb().array(0);
            t.forEach((va, pcid, frame, attrs) -> {
                if (frame >>> 12 == pfn) {
                    violations.add("pfn 0x" + Long.toHexString(pfn) + " freed while the TLB maps 0x" + Long.toHexString(va));
                }
            });
        });
        long rss = f.mm().counter(MmStruct.MM_ANONPAGES);
        assertEquals(0, f.sys(Syscalls.NR_MUNMAP, a, pages * 4096L));
        f.memory().frames().setFreeObserver(null);
        assertEquals(List.of(), violations);
        assertTrue(freed[0] >= pages, "freed " + freed[0]);
        assertEquals(rss - pages, f.mm().counter(MmStruct.MM_ANONPAGES));
        assertTrue(f.memory().stats.gatherFlushes.get() >= 3, "zap ran in bounded batches");
    }

    @Test
    void munmapFreesEmptiedPageTables() throws Exception {
        Fixture f = Fixture.booted();
        long tablesBefore = f.mm().nrPgtables();
        long freeBefore = f.memory().frames().freePages();
        // A hinted region far from everything else: needs its own PUD, PMD and PTE tables.
        long a = f.mmap(0x200000000000L, 4L << 20, RW, ANON);
        assertEquals(0x200000000000L, a);
        for (long off = 0; off < (4L << 20); off += 64 * 4096) {
            f.write64(a + off, off);
        }
        assertEquals(tablesBefore + 4, f.mm().nrPgtables(), "PUD + PMD + 2 PTE tables");
        assertEquals(0, f.sys(Syscalls.NR_MUNMAP, a, 4L << 20));
        assertEquals(tablesBefore, f.mm().nrPgtables());
        assertEquals(freeBefore, f.memory().frames().freePages(), "data frames and page tables all returned");
        assertTrue(f.memory().stats.pgtablesFreed.get() >= 4);
    }

    @Test
    void partialMunmapKeepsSharedPageTables() throws Exception {
        Fixture f = Fixture.booted();
        long a = f.mmap(0x200000000000L, 8 * 4096, RW, ANON);
        for (int i = 0; i < 8; i++) {
            f.write64(a + i * 4096L, 100 + i);
        }
        long tables = f.mm().nrPgtables();
        assertEquals(0, f.sys(Syscalls.NR_MUNMAP, a + 2 * 4096, 3 * 4096));
        assertEquals(tables, f.mm().nrPgtables(), "the PTE table still maps the rest");
        assertEquals(101, f.read64(a + 4096));
        assertEquals(105, f.read64(a + 5 * 4096));
        assertEquals(SEGV, f.touch(a + 3 * 4096, false));
        assertEquals(2, f.mm().vmasIn(a, a + 8 * 4096).size());
    }

    @Test
    void oneTebibyteProtNoneMapAndUnmapTouchesNoPageTables() throws Exception {
        Fixture f = Fixture.booted();
        long tables = f.mm().nrPgtables();
        long free = f.memory().frames().freePages();
        long zap = f.memory().stats.zapEntriesVisited.get();
        long fr = f.memory().stats.freeEntriesVisited.get();
        long a = f.sys(Syscalls.NR_MMAP, 0, 1L << 40, Mmap.PROT_NONE, ANON | Mmap.MAP_NORESERVE, -1, 0);
        assertTrue(a > 0, "mmap: " + a);
        assertEquals(tables, f.mm().nrPgtables());
        assertEquals(0, f.sys(Syscalls.NR_MUNMAP, a, 1L << 40));
        long visited = f.memory().stats.zapEntriesVisited.get() - zap + f.memory().stats.freeEntriesVisited.get() - fr;
        // 2^28 PTEs are covered; only entries of the few tables that exist near the stack are looked at.
        assertTrue(visited <= 3 * 2 * 512, "entries visited: " + visited);
        assertEquals(tables, f.mm().nrPgtables());
        assertEquals(free, f.memory().frames().freePages());
        // In an empty part of the address space (its own PGD slots) it is a handful of entries.
        zap = f.memory().stats.zapEntriesVisited.get();
        fr = f.memory().stats.freeEntriesVisited.get();
        long b = f.sys(Syscalls.NR_MMAP, 0x100000000000L, 1L << 40, Mmap.PROT_NONE, ANON | Mmap.MAP_NORESERVE | Mmap.MAP_FIXED, -1, 0);
        assertEquals(0x100000000000L, b);
        assertEquals(0, f.sys(Syscalls.NR_MUNMAP, b, 1L << 40));
        visited = f.memory().stats.zapEntriesVisited.get() - zap + f.memory().stats.freeEntriesVisited.get() - fr;
        assertTrue(visited <= 8, "entries visited: " + visited);
        assertEquals(tables, f.mm().nrPgtables());
    }

    @Test
    void exitReturnsEveryFrame() throws Exception {
        Fixture f = new Fixture(16L << 20);
        long initialFree = f.memory().frames().freePages();
        f.exec(TestElf.standard(Fixture.CODE, new byte[100], 50000).build());
        long a = f.mmap(0, 64 * 4096, RW, ANON);
        for (int i = 0; i < 64; i++) {
            f.write64(a + i * 4096L, i);
        }
        f.touch(0x401000, false);
        f.sys(Syscalls.NR_EXIT_GROUP, 3);
        assertTrue(f.kernel.task().exited());
        assertEquals(3, f.kernel.task().exitStatus());
        assertEquals(initialFree, f.memory().frames().freePages());
        assertNotEquals(0, f.memory().stats.zapPages.get());
    }
}
