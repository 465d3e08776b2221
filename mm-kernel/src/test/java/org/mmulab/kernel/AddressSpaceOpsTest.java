package org.mmulab.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;
import org.mmulab.kernel.mm.Memory;
import org.mmulab.kernel.mm.Mmap;
import org.mmulab.kernel.mm.MmStruct;
import org.mmulab.kernel.mm.PteBits;
import org.mmulab.kernel.mm.VmArea;

class AddressSpaceOpsTest {
    static final long SEGV = -2;
    static final int RW = Mmap.PROT_READ | Mmap.PROT_WRITE;
    static final int ANON = Mmap.MAP_PRIVATE | Mmap.MAP_ANONYMOUS;
    static final long EINVAL = -22, ENOMEM = -12, EEXIST = -17, EACCES = -13;

    @Test
    void mmapPlacementIsTopDownFromLinuxMmapBase() throws Exception {
        Fixture f = Fixture.booted();
        // TASK_SIZE - 128 MiB: the 8 MiB stack rlimit + guard gap is below the 128 MiB minimum gap.
        assertEquals(0x7ffff7fff000L, f.mm().mmapBase);
        long a = f.mmap(0, 4096, RW, ANON);
        assertEquals(0x7ffff7ff6000L, a, "below the reserved vvar+vdso pages, as natively");
        // A 2 MiB multiple is THP-aligned (as on a 6.18 host); 3 MiB is not.
        long b = f.mmap(0, 2 << 20, RW, ANON);
        assertEquals(0x7ffff7c00000L, b);
        long c = f.mmap(0, 3 << 20, RW, ANON);
        assertEquals(0x7ffff7900000L, c);
        long d = f.mmap(0, 4096, RW, Mmap.MAP_SHARED | Mmap.MAP_ANONYMOUS);
        assertEquals(0x7ffff7ff5000L, d);
        assertEquals(0x10000000L, f.mmap(0x10000000L, 4096, Mmap.PROT_READ, ANON), "free hint honoured");
        assertEquals(0x10000L, f.mmap(0x1000, 4096, Mmap.PROT_READ, ANON), "hint below mmap_min_addr");
        long e = f.mmap(0x10000000L, 4096, Mmap.PROT_READ, ANON);
        assertTrue(e != 0x10000000L && e > 0, "occupied hint ignored");
        assertEquals(EEXIST, f.mmap(0x10000000L, 4096, Mmap.PROT_READ, ANON | Mmap.MAP_FIXED_NOREPLACE));
        assertEquals(EINVAL, f.mmap(0x10000001L, 4096, Mmap.PROT_READ, ANON | Mmap.MAP_FIXED));
        assertEquals(EINVAL, f.mmap(0, 0, RW, ANON));
        assertEquals(EINVAL, f.mmap(0, 4096, RW, Mmap.MAP_ANONYMOUS), "neither shared nor private");
        assertEquals(-19, f.sys(Syscalls.NR_MMAP, 0, 4096, RW, Mmap.MAP_PRIVATE, 0, 0), "pipe read end: ENODEV");
        assertEquals(-13, f.sys(Syscalls.NR_MMAP, 0, 4096, RW, Mmap.MAP_PRIVATE, 1, 0), "write-only fd: EACCES first");
        assertEquals(-9, f.sys(Syscalls.NR_MMAP, 0, 4096, RW, Mmap.MAP_PRIVATE, 7, 0), "bad fd: EBADF");
        assertEquals(ENOMEM, f.mmap(0, 1L << 48, RW, ANON));
        assertEquals(-1, f.mmap(0, 4096, RW, ANON | Mmap.MAP_FIXED), "page 0: EPERM (mmap_min_addr)");
        long stack = f.mmap(0, 2 << 20, RW, ANON | Mmap.MAP_STACK);
        assertEquals(0, stack & ((2 << 20) - 1), "MAP_STACK is THP-aligned too on 6.18");
    }

    @Test
    void mapFixedReplacesAndSharedAnonIsShmem() throws Exception {
        Fixture f = Fixture.booted();
        long a = f.mmap(0x20000000L, 4 * 4096, RW, ANON);
        f.write64(a + 4096, 99);
        long b = f.mmap(a + 4096, 4096, RW, ANON | Mmap.MAP_FIXED);
        assertEquals(a + 4096, b);
        assertEquals(0, f.read64(a + 4096), "MAP_FIXED replaced the old page");
        long s = f.mmap(0, 4096, RW, Mmap.MAP_SHARED | Mmap.MAP_ANONYMOUS);
        f.write64(s, 5);
        assertEquals(1, f.mm().counter(MmStruct.MM_SHMEMPAGES));
        assertTrue(PteBits.write(f.memory().lookupPte(f.mm(), s)));
        // DONTNEED on shmem drops the PTE but not the data.
        assertEquals(0, f.sys(Syscalls.NR_MADVISE, s, 4096, Mmap.MADV_DONTNEED));
        assertEquals(5, f.read64(s));
    }

    @Test
    void vmaSplitAndMergeOnMprotectAndMunmap() throws Exception {
        Fixture f = Fixture.booted();
        long a = f.mmap(0x30000000L, 3 * 4096, RW, ANON);
        long b = f.mmap(0x30000000L + 3 * 4096, 2 * 4096, RW, ANON);
        assertEquals(a + 3 * 4096, b);
        assertEquals(1, f.mm().vmasIn(a, a + 5 * 4096).size(), "adjacent compatible mappings merge");
        assertEquals(0, f.sys(Syscalls.NR_MPROTECT, a + 4096, 4096, Mmap.PROT_READ));
        List<VmArea> v = f.mm().vmasIn(a, a + 5 * 4096);
        assertEquals(3, v.size());
        assertEquals(a + 4096, v.get(1).start());
        assertEquals(a + 2 * 4096, v.get(1).end());
        assertEquals(0, f.sys(Syscalls.NR_MPROTECT, a + 4096, 4096, RW));
        assertEquals(1, f.mm().vmasIn(a, a + 5 * 4096).size(), "merged back");
        assertEquals(0, f.sys(Syscalls.NR_MUNMAP, a + 2 * 4096, 4096));
        assertEquals(2, f.mm().vmasIn(a, a + 5 * 4096).size());
        assertEquals(ENOMEM, f.sys(Syscalls.NR_MPROTECT, a, 5 * 4096, Mmap.PROT_READ), "hole in range");
        assertEquals(EINVAL, f.sys(Syscalls.NR_MUNMAP, a + 1, 4096));
        assertEquals(EINVAL, f.sys(Syscalls.NR_MUNMAP, a, 0));
        assertEquals(0, f.sys(Syscalls.NR_MUNMAP, 0x7000_0000_0000L, 4096), "unmapping nothing is fine");
    }

    @Test
    void mprotectChangesPtesAndInvalidatesTheTlb() throws Exception {
        Fixture f = Fixture.booted();
        long a = f.mmap(0, 2 * 4096, RW, ANON);
        f.write64(a, 11);
        assertTrue(f.translateNoFault(a, true) >= 0, "writable entry cached");
        assertEquals(0, f.sys(Syscalls.NR_MPROTECT, a, 4096, Mmap.PROT_READ));
        assertEquals(-1, f.translateNoFault(a, true), "stale writable TLB entry was flushed");
        assertEquals(SEGV, f.touch(a, true));
        assertEquals(11, f.read64(a));
        assertEquals(0, f.sys(Syscalls.NR_MPROTECT, a, 4096, Mmap.PROT_NONE));
        assertEquals(-1, f.translateNoFault(a, false));
        assertEquals(SEGV, f.touch(a, false));
        assertEquals(0, f.sys(Syscalls.NR_MPROTECT, a, 4096, RW));
        assertEquals(11, f.read64(a), "data kept across PROT_NONE");
        f.write64(a, 12);
        assertEquals(12, f.read64(a));
        assertEquals(EINVAL, f.sys(Syscalls.NR_MPROTECT, a + 1, 4096, Mmap.PROT_READ));
        assertEquals(EINVAL, f.sys(Syscalls.NR_MPROTECT, a, 4096, 0x40));
    }

    @Test
    void brkGrowsAndShrinks() throws Exception {
        Fixture f = Fixture.booted();
        long start = f.sys(Syscalls.NR_BRK, 0);
        assertEquals(f.mm().startBrk, start);
        assertEquals(start + 3 * 4096 + 100, f.sys(Syscalls.NR_BRK, start + 3 * 4096 + 100));
        for (int i = 0; i < 4; i++) {
            f.write64(start + i * 4096L, i + 1);
        }
        assertEquals("[heap]", f.mm().vmaLookup(start).name());
        long anon = f.mm().counter(MmStruct.MM_ANONPAGES);
        assertEquals(start + 4096, f.sys(Syscalls.NR_BRK, start + 4096));
        assertEquals(anon - 3, f.mm().counter(MmStruct.MM_ANONPAGES), "shrinking freed the pages");
        assertEquals(SEGV, f.touch(start + 2 * 4096, false));
        assertEquals(1, f.read64(start));
        assertEquals(start + 4096, f.sys(Syscalls.NR_BRK, start - 4096), "below start_brk: unchanged");
        // Growing into another mapping fails and leaves brk alone.
        f.mmap(start + 8 * 4096, 4096, RW, ANON | Mmap.MAP_FIXED);
        assertEquals(start + 4096, f.sys(Syscalls.NR_BRK, start + 20 * 4096));
        assertEquals(start + 4096, f.sys(Syscalls.NR_BRK, 0));
    }

    @Test
    void madviseDontneedGivesZerosAndHugepageIsRecorded() throws Exception {
        Fixture f = Fixture.booted();
        long a = f.mmap(0, 4 * 4096, RW, ANON);
        for (int i = 0; i < 4; i++) {
            f.write64(a + i * 4096L, 0x5555);
        }
        long anon = f.mm().counter(MmStruct.MM_ANONPAGES);
        assertEquals(0, f.sys(Syscalls.NR_MADVISE, a + 4096, 2 * 4096, Mmap.MADV_DONTNEED));
        assertEquals(anon - 2, f.mm().counter(MmStruct.MM_ANONPAGES));
        assertEquals(0, f.read64(a + 4096));
        assertEquals(0, f.read64(a + 2 * 4096));
        assertEquals(0x5555, f.read64(a));
        assertEquals(0x5555, f.read64(a + 3 * 4096));
        // DONTNEED on the data segment refaults the file contents.
        f.write64(0x403010, 0);
        assertEquals(0, f.sys(Syscalls.NR_MADVISE, 0x403000, 4096, Mmap.MADV_DONTNEED));
        assertEquals('h', (int) (f.read64(0x403010) & 0xff));

        assertEquals(0, f.sys(Syscalls.NR_MADVISE, a, 2 * 4096, Mmap.MADV_HUGEPAGE));
        VmArea v = f.mm().vmaLookup(a);
        assertTrue((v.flags() & VmArea.VM_HUGEPAGE) != 0);
        assertEquals(a + 2 * 4096, v.end(), "split at the advice boundary");
        assertEquals(0, f.sys(Syscalls.NR_MADVISE, a, 2 * 4096, Mmap.MADV_NOHUGEPAGE));
        assertTrue((f.mm().vmaLookup(a).flags() & VmArea.VM_NOHUGEPAGE) != 0);
        assertFalse((f.mm().vmaLookup(a).flags() & VmArea.VM_HUGEPAGE) != 0);
        assertEquals(EINVAL, f.sys(Syscalls.NR_MADVISE, a, 4096, 77));
        assertEquals(EINVAL, f.sys(Syscalls.NR_MADVISE, a + 1, 4096, Mmap.MADV_DONTNEED));
        assertEquals(ENOMEM, f.sys(Syscalls.NR_MADVISE, 0x50000000L, 4096, Mmap.MADV_DONTNEED));
        assertEquals(EINVAL, f.sys(Syscalls.NR_MADVISE, a, 4096, Mmap.MADV_REMOVE), "REMOVE needs a shared mapping");
    }

    @Test
    void stackGrowsDownWithinTheRlimit() throws Exception {
        Fixture f = Fixture.booted();
        VmArea stack = f.mm().vmaLookup(0x7ffffffff000L - 8);
        assertNotNull(stack);
        long below = stack.start() - 10 * 4096;
        assertTrue(f.write64(below, 1) >= 0);
        assertEquals(below, f.mm().vmaLookup(below).start());
        assertEquals(SEGV, f.touch(0x7ffffffff000L - (9L << 20), true), "beyond the 8 MiB rlimit");
    }

    @Test
    void pteOffsetMapLockRetriesWhenThePmdChangesAndFailsWhenItGoes() throws Exception {
        Fixture f = Fixture.booted();
        Memory m = f.memory();
        long a = f.mmap(0x40000000L, 4096, RW, ANON);
        f.write64(a, 3);
        long pmdp = m.pmdOffset(f.mm(), a);
        long oldPmd = m.ops().get(pmdp);
        // 1. The PMD is switched to another table in the window: the lock taken is the wrong one,
        //    pmd_same fails, and the second pass locks the new table's lock.
        long other = m.frames().allocZeroedPage();
        m.frames().pgtableCtor(other);
        int[] calls = {0};
        m.setPteMapLockRaceHook(() -> {
            if (calls[0]++ == 0) {
                m.ops().set(pmdp, PteBits.mkTable(other));
            }
        });
        org.mmulab.kernel.mm.PteMap pm = m.pteOffsetMapLock(f.mm(), pmdp, a);
        m.setPteMapLockRaceHook(null);
        assertNotNull(pm);
        assertEquals(m.frames().ptlock(other), pm.ptl());
        assertEquals(PteBits.mkTable(other), pm.pmdval());
        pm.unlock();
        assertEquals(1, m.stats.pteMapLockRetries.get());
        m.ops().set(pmdp, oldPmd);
        // 2. The PMD is cleared in the window (the table was retracted): the map fails (null), the
        //    fault handler backs out, and the retried access builds a new table.
        long b = a + 4096;
        f.sys(Syscalls.NR_MMAP, b, 4096, RW, ANON | Mmap.MAP_FIXED, -1, 0);
        calls[0] = 0;
        m.setPteMapLockRaceHook(() -> {
            if (calls[0]++ == 0) {
                m.ops().clear(pmdp);
            }
        });
        long retries = m.stats.faultRetry.get();
        int r = f.kernel.doUserAddrFault(f.cpu, b, org.mmulab.emulator.mmu.PfErr.U | org.mmulab.emulator.mmu.PfErr.W);
        m.setPteMapLockRaceHook(null);
        assertEquals(Kernel.FAULT_OK, r);
        assertEquals(retries + 1, m.stats.faultRetry.get(), "fault bailed out for a retry");
        assertEquals(1, m.stats.pteMapLockFailed.get());
        assertNull(m.pteOffsetMapLock(f.mm(), pmdp, b), "no table: pte_offset_map_lock returns null");
        f.cpu.mmu().flushAll();
        assertTrue(f.write64(b, 4) >= 0, "the retried access succeeds");
        assertEquals(4, f.read64(b));
        // put the original table back so teardown frees everything consistently
        long fresh = m.ops().get(pmdp);
        assertTrue(PteBits.present(fresh));
    }

    @Test
    void populateAndHiwaterCounters() throws Exception {
        Fixture f = Fixture.booted();
        long rss0 = f.mm().rss();
        long vm0 = f.mm().totalVm();
        long a = f.mmap(0, 16 * 4096, RW, ANON | Mmap.MAP_POPULATE);
        assertEquals(rss0 + 16, f.mm().rss(), "MAP_POPULATE faulted every page in for writing");
        assertEquals(vm0 + 16, f.mm().totalVm());
        assertTrue(PteBits.write(f.memory().lookupPte(f.mm(), a + 15 * 4096)));
        assertEquals(0, f.sys(Syscalls.NR_MUNMAP, a, 16 * 4096));
        assertEquals(rss0, f.mm().rss());
        assertEquals(vm0, f.mm().totalVm());
        assertTrue(f.mm().hiwaterRss() >= rss0 + 16, "hiwater_rss remembers the peak");
        assertTrue(f.mm().hiwaterVm() >= vm0 + 16, "hiwater_vm remembers the peak");
        long r = f.mmap(0, 4096, Mmap.PROT_READ, ANON | Mmap.MAP_POPULATE);
        assertEquals(f.memory().zeroPfn(), PteBits.pfn(f.memory().lookupPte(f.mm(), r)), "read-only populate maps the zero page");
    }

    @Test
    void pteAllocRechecksPmdNoneUnderPageTableLock() throws Exception {
        Fixture f = Fixture.booted();
        Memory m = f.memory();
        long a = f.mmap(0x40000000L, 4096, RW, ANON);
        f.write64(a, 1);
        long pmdp = m.pmdOffset(f.mm(), a);
        long pmd = m.ops().get(pmdp);
        long free = m.frames().freePages();
        long tables = f.mm().nrPgtables();
        // A racing thread installed the table between our pmd_none check and __pte_alloc: the new
        // page is allocated, the re-check under page_table_lock sees the PMD populated, and it is freed.
        assertEquals(0, m.pteAlloc(f.mm(), pmdp));
        assertEquals(pmd, m.ops().get(pmdp), "the existing table stays");
        assertEquals(1, m.stats.pgtableAllocRaces.get());
        assertEquals(free, m.frames().freePages(), "the losing page went back");
        assertEquals(tables, f.mm().nrPgtables());
        assertFalse(f.mm().pageTableLock.isLocked());
    }
}
