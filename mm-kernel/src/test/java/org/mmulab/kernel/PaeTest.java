package org.mmulab.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;
import org.mmulab.emulator.cpu.CpuState;
import org.mmulab.emulator.memory.PhysicalMemory;
import org.mmulab.emulator.mmu.PfErr;
import org.mmulab.emulator.mmu.Pte;
import org.mmulab.kernel.KernelConfig.PagingMode;
import org.mmulab.kernel.mm.Mmap;
import org.mmulab.kernel.mm.PaePgtable;
import org.mmulab.kernel.mm.PteBits;

/** PAE page tables built by the kernel for an i386 process, walked by the real MMU. */
class PaeTest {
    static final int MMAP2 = Syscalls.NR32_MMAP2, MUNMAP = Syscalls.NR32_MUNMAP;
    static final int RW = Mmap.PROT_READ | Mmap.PROT_WRITE, ANON = Mmap.MAP_PRIVATE | Mmap.MAP_ANONYMOUS;

    @Test
    void execSetsPaeModeAndAllFourPdptesArePresentInTheRegisters() throws Exception {
        Fixture f = Fixture.booted32(PagingMode.PAE);
        CpuState s = f.cpu.state;
        assertTrue((s.cr4 & CpuState.CR4_PAE) != 0);
        assertEquals(0, s.cr4 & CpuState.CR4_PCIDE, "no PCID under PAE");
        assertEquals(0, s.efer & (CpuState.EFER_LME | CpuState.EFER_LMA));
        assertTrue((s.efer & CpuState.EFER_NXE) != 0);
        assertFalse(s.longMode64);
        assertFalse(s.pagingLongMode());
        assertEquals(0xC000_0000L, f.mm().taskSize);
        assertEquals(f.mm().pgdPhys(), s.cr3, "CR3 is the PDPT, no PCID bits");
        PhysicalMemory mem = f.machine.memory();
        Set<Long> pmds = new HashSet<>();
        for (int i = 0; i < 4; i++) {
            long inRam = mem.read64(s.cr3 + 8L * i);
            assertEquals(Pte.P, inRam & 0xfff, "PDPTE " + i + " is present with only P among the low bits");
            assertEquals(inRam, f.cpu.mmu().pdpteRegister(i), "PDPTE register " + i + " loaded at MOV CR3");
            pmds.add(PteBits.pfn(inRam));
        }
        assertEquals(4, pmds.size(), "four distinct page directories");
        assertTrue(f.memory().ops() instanceof PaePgtable);
        var fresh = f.memory().mmAlloc(PaePgtable.TASK_SIZE);
        assertEquals(3, fresh.nrPgtables(), "pgd_alloc: the three user PMDs are the new mm's only page tables");
        f.memory().exitMmap(fresh);
    }

    @Test
    void faultsBuildThreeLevelTablesTheWalkerFollows() throws Exception {
        Fixture f = Fixture.booted32(PagingMode.PAE);
        long a = f.sys32(MMAP2, 0, 3 * 4096, RW, ANON, -1, 0) & 0xffff_ffffL;
        assertTrue(a > 0x1000_0000L && a < 0xC000_0000L, Long.toHexString(a));
        long pdpte0 = f.cpu.mmu().pdpteRegister(1);
        long pa = f.write64(a + 4096 + 8, 0x1122_3344_5566_7788L);
        assertTrue(pa > 0);
        assertEquals(0x1122_3344_5566_7788L, f.read64(a + 4096 + 8));
        // Walk by hand: CR3 -> PDPTE[va>>30] -> PDE[(va>>21)&511] -> PTE[(va>>12)&511], 64-bit entries.
        PhysicalMemory mem = f.machine.memory();
        long va = a + 4096;
        long pdpte = mem.read64((f.cpu.state.cr3 & ~31L) + 8 * (va >>> 30));
        long pde = mem.read64((pdpte & Pte.ADDR_MASK) + 8 * ((va >>> 21) & 511));
        assertEquals(Pte.P | Pte.RW | Pte.US, pde & (Pte.P | Pte.RW | Pte.US | Pte.PS));
        long pte = mem.read64((pde & Pte.ADDR_MASK) + 8 * ((va >>> 12) & 511));
        assertTrue((pte & Pte.XD) != 0, "data is NX: bit 63 in the high word");
        assertTrue((pte & (Pte.P | Pte.RW | Pte.D)) == (Pte.P | Pte.RW | Pte.D));
        assertEquals((pte & Pte.ADDR_MASK) + 8, pa, "the MMU's translation is the kernel's PTE");
        assertEquals(pte, f.memory().lookupPte(f.mm(), va));
        assertEquals(pdpte0, f.cpu.mmu().pdpteRegister(1), "faults never reload the PDPTE registers");
        // Above TASK_SIZE (the kernel's gigabyte) a user access is SIGSEGV, not a mapping.
        assertEquals(-1 - Kernel.FAULT_SIGSEGV, f.touch(0xC000_1000L, false));
        // The executable's pages are mapped read-only from the image.
        assertTrue(f.touch(0x401000, false) > 0);
    }

    @Test
    void sixtyFourBitImageUnderPaeIsRefusedWithOneLine() {
        Fixture f = new Fixture(16L << 20, PagingMode.PAE);
        ExecFormatException e = assertThrows(ExecFormatException.class,
                () -> f.exec(TestElf.standard(Fixture.CODE, new byte[8], 0).build()));
        assertEquals("64-bit image needs --paging 4level", e.getMessage());
        assertEquals(null, f.kernel.task());
    }

    @Test
    void nativeSetPteWritesHighThenLowAndClearWritesLowThenHigh() throws Exception {
        Fixture f = Fixture.booted32(PagingMode.PAE);
        PaePgtable pae = (PaePgtable) f.memory().ops();
        PhysicalMemory mem = f.machine.memory();
        long a = f.sys32(MMAP2, 0, 4096, RW, ANON, -1, 0) & 0xffff_ffffL;
        List<long[]> seen = new ArrayList<>(); // {entryPa, low, high} in the window
        pae.setBetweenHalvesHook(pa -> seen.add(new long[] {pa, mem.read32(pa) & 0xffff_ffffL, mem.read32(pa + 4) & 0xffff_ffffL}));
        try {
            assertTrue(f.write64(a, 42) > 0);
        } finally {
            pae.setBetweenHalvesHook(null);
        }
        long pte = f.memory().lookupPte(f.mm(), a);
        long[] last = seen.get(seen.size() - 1);
        assertEquals(pte >>> 32, last[2], "high word already written");
        assertEquals(0, last[1], "low word (with P) still the old, empty one");
        assertNotEquals(0, pte >>> 32, "NX makes the high half non-zero, so the window is visible");
        // pte_clear: low first, then high.
        seen.clear();
        pae.setBetweenHalvesHook(pa -> seen.add(new long[] {pa, mem.read32(pa) & 0xffff_ffffL, mem.read32(pa + 4) & 0xffff_ffffL}));
        try {
            pae.clear(last[0]);
        } finally {
            pae.setBetweenHalvesHook(null);
        }
        assertEquals(1, seen.size());
        assertEquals(0, seen.get(0)[1], "low word cleared first");
        assertEquals(pte >>> 32, seen.get(0)[2], "high word still old");
        assertEquals(0, mem.read64(last[0]));
    }

    /**
     * Thread A installs a PTE (do_anonymous_page under the PTE lock); between native_set_pte's halves
     * thread B faults on the same page. B's lockless read returns the torn value (new high word, old
     * empty low word): not none, not present. B must revalidate under the PTE lock (pte_unmap_same),
     * find it changed and retry — not SIGBUS, not install a second page.
     */
    @Test
    void tornPteSeenLocklessIsRevalidatedUnderThePteLock() throws Exception {
        Fixture f = Fixture.booted32(PagingMode.PAE);
        PaePgtable pae = (PaePgtable) f.memory().ops();
        long a = f.sys32(MMAP2, 0, 2 * 4096, RW, ANON, -1, 0) & 0xffff_ffffL;
        assertTrue(f.write64(a, 1) > 0); // the PTE table exists now
        long target = a + 4096;
        long pmd = f.machine.memory().read64(f.memory().pmdOffset(f.mm(), target));
        org.mmulab.kernel.mm.SpinLock ptl = f.memory().frames().ptlock(PteBits.pfn(pmd));
        long anonBefore = f.mm().counter(org.mmulab.kernel.mm.MmStruct.MM_ANONPAGES);
        long retriesBefore = f.memory().stats.faultPteUnmapSameRetry.get();
        AtomicReference<Thread> a2 = new AtomicReference<>();
        CountDownLatch torn = new CountDownLatch(1);
        AtomicInteger bResult = new AtomicInteger(-99);
        AtomicLong tornSeen = new AtomicLong();
        Thread b = new Thread(() -> {
            try {
                torn.await();
            } catch (InterruptedException e) {
                return;
            }
            long ptep = f.memory().pmdOffset(f.mm(), target);
            tornSeen.set(pae.getLockless((f.machine.memory().read64(ptep) & Pte.ADDR_MASK) + 8 * ((target >>> 12) & 511)));
            bResult.set(f.kernel.doUserAddrFault(f.cpu, target, PfErr.U | PfErr.W));
        }, "fault-B");
        b.start();
        pae.setBetweenHalvesHook(pa -> {
            if (Thread.currentThread() != a2.get()) {
                return;
            }
            a2.set(null); // once
            torn.countDown();
            // B saw the torn entry and now waits for the lock A holds (or, if the fault path did not
            // revalidate under the lock, B finished on its own and the assertions below fail).
            while (!ptl.hasQueuedThread(b) && b.getState() != Thread.State.TERMINATED) {
                Thread.onSpinWait();
            }
        });
        Thread ta = new Thread(() -> f.kernel.doUserAddrFault(f.cpu, target, PfErr.U | PfErr.W), "fault-A");
        a2.set(ta);
        ta.start();
        ta.join();
        b.join();
        pae.setBetweenHalvesHook(null);
        assertEquals(0, tornSeen.get() & 0xffff_ffffL, "B's lockless read had the old low word");
        assertNotEquals(0, tornSeen.get() >>> 32, "... and the new high word: a torn entry");
        assertEquals(Kernel.FAULT_OK, bResult.get(), "B retries instead of SIGBUS");
        assertEquals(retriesBefore + 1, f.memory().stats.faultPteUnmapSameRetry.get());
        assertEquals(anonBefore + 1, f.mm().counter(org.mmulab.kernel.mm.MmStruct.MM_ANONPAGES), "one page, installed by A");
        long pte = f.memory().lookupPte(f.mm(), target);
        assertEquals((pte & Pte.ADDR_MASK), f.touch(target, true), "the retried access uses A's page");
    }

    @Test
    void munmapOfAWholeGigabyteFreesItsPmdAndRemappingReloadsThePdpteRegisters() throws Exception {
        Fixture f = Fixture.booted32(PagingMode.PAE);
        long base = 0x4000_0000L;
        long tables = f.mm().nrPgtables();
        long a = f.sys32(MMAP2, base, 4096, RW, ANON | Mmap.MAP_FIXED, -1, 0) & 0xffff_ffffL;
        assertEquals(base, a);
        assertTrue(f.write64(a, 7) > 0);
        assertEquals(0, f.sys32(MUNMAP, a, 4096));
        // free_pgtables freed gigabyte 1's PMD (nothing else lives there): PDPTE 1 is clear in RAM and,
        // after pmd_free_tlb's full flush, in the PDPTE register too.
        assertEquals(0, f.machine.memory().read64(f.cpu.state.cr3 + 8));
        assertEquals(0, f.cpu.mmu().pdpteRegister(1) & Pte.P);
        assertEquals(tables - 1, f.mm().nrPgtables(), "the PMD and its PTE table are gone");
        assertEquals(base, f.sys32(MMAP2, base, 4096, RW, ANON | Mmap.MAP_FIXED, -1, 0) & 0xffff_ffffL);
        // pud_populate + flush_tlb_mm: without the CR3 reload the walker would keep the stale
        // not-present PDPTE register and the access would fault forever.
        assertTrue(f.write64(base, 9) > 0);
        assertEquals(Pte.P, f.cpu.mmu().pdpteRegister(1) & 0xfff);
        assertEquals(9, f.read64(base));
    }

    @Test
    void exitFreesEveryPaeTable() throws Exception {
        Fixture f = new Fixture(64L << 20, PagingMode.PAE);
        long free0 = f.memory().frames().freePages();
        f.exec(TestElf.standard32(Fixture.CODE, new byte[16], 100_000).build());
        long a = f.sys32(MMAP2, 0, 64 * 4096, RW, ANON, -1, 0) & 0xffff_ffffL;
        for (int i = 0; i < 64; i++) {
            assertTrue(f.write64(a + 4096L * i, i) > 0);
        }
        f.sys32(Syscalls.NR32_EXIT_GROUP, 3);
        assertEquals(3, f.kernel.task().exitStatus());
        // Only the kernel's shared PMD (allocated once per machine) stays.
        assertEquals(free0 - 1, f.memory().frames().freePages());
    }
}
