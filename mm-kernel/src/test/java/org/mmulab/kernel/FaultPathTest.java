package org.mmulab.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import org.mmulab.emulator.cpu.GuestFault;
import org.mmulab.emulator.mmu.PfErr;
import org.mmulab.kernel.mm.Mmap;
import org.mmulab.kernel.mm.MmStruct;
import org.mmulab.kernel.mm.PteBits;

class FaultPathTest {
    static final long SEGV = -2, OOM = -4;
    static final int RW = Mmap.PROT_READ | Mmap.PROT_WRITE;
    static final int ANON = Mmap.MAP_PRIVATE | Mmap.MAP_ANONYMOUS;

    @Test
    void anonymousReadMapsTheSharedZeroPageReadOnly() throws Exception {
        Fixture f = Fixture.booted();
        long anonBefore = f.mm().counter(MmStruct.MM_ANONPAGES);
        long a = f.mmap(0, 3 * 4096, RW, ANON);
        long b = a + 4096;
        assertEquals(0, f.read64(a));
        assertEquals(0, f.read64(b));
        long pte = f.memory().lookupPte(f.mm(), a);
        assertEquals(f.memory().zeroPfn(), PteBits.pfn(pte));
        assertFalse(PteBits.write(pte), "zero page must be mapped read-only");
        assertTrue(PteBits.special(pte));
        assertEquals(PteBits.pfn(pte), PteBits.pfn(f.memory().lookupPte(f.mm(), b)), "one zero page shared");
        assertEquals(anonBefore, f.mm().counter(MmStruct.MM_ANONPAGES), "the zero page is not RSS");
        assertEquals(2, f.memory().stats.faultAnonZero.get());
    }

    @Test
    void anonymousWriteGetsAPrivateZeroedFrame() throws Exception {
        Fixture f = Fixture.booted();
        long anonBefore = f.mm().counter(MmStruct.MM_ANONPAGES);
        long a = f.mmap(0, 4096, RW, ANON);
        assertTrue(f.write64(a + 8, 0x1122334455667788L) >= 0);
        long pte = f.memory().lookupPte(f.mm(), a);
        assertNotEquals(f.memory().zeroPfn(), PteBits.pfn(pte));
        assertTrue(PteBits.write(pte) && PteBits.dirty(pte));
        assertEquals(0x1122334455667788L, f.read64(a + 8));
        assertEquals(0, f.read64(a), "new frame is zeroed");
        assertEquals(anonBefore + 1, f.mm().counter(MmStruct.MM_ANONPAGES));
        assertEquals(1, f.memory().frames().mapcount(PteBits.pfn(pte)));
    }

    @Test
    void writeAfterZeroPageReadReplacesTheZeroPage() throws Exception {
        Fixture f = Fixture.booted();
        long a = f.mmap(0, 4096, RW, ANON);
        assertEquals(0, f.read64(a)); // zero page, now cached read-only in the TLB
        long zeroPa = f.translateNoFault(a, false);
        assertEquals(f.memory().zeroPfn(), zeroPa >>> 12);
        f.write64(a, 42);
        long pte = f.memory().lookupPte(f.mm(), a);
        assertNotEquals(f.memory().zeroPfn(), PteBits.pfn(pte));
        assertEquals(1, f.memory().stats.faultWpZeroCopy.get());
        // The read translation must now see the new frame, not the stale zero-page entry.
        assertEquals(PteBits.pfn(pte), f.translateNoFault(a, false) >>> 12);
        assertEquals(42, f.read64(a));
        assertEquals(0, f.machine.memory().read64(f.memory().zeroPfn() << 12), "zero page untouched");
    }

    @Test
    void protNoneAndUnmappedAndReadOnlyGiveSigsegv() throws Exception {
        Fixture f = Fixture.booted();
        long none = f.mmap(0, 4096, Mmap.PROT_NONE, ANON);
        assertEquals(SEGV, f.touch(none, false));
        assertEquals(SEGV, f.touch(none, true));
        assertEquals(SEGV, f.touch(0x1000, false), "no VMA");
        long ro = f.mmap(0, 4096, Mmap.PROT_READ, ANON);
        assertTrue(f.touch(ro, false) >= 0);
        assertEquals(SEGV, f.touch(ro, true));
        assertEquals(SEGV, f.touch(0x401000, true), "text is not writable");
        assertTrue(f.memory().stats.faultSigsegv.get() >= 5);
    }

    @Test
    void spuriousFaultOnACorrectPteFlushesNothing() throws Exception {
        Fixture f = Fixture.booted();
        long a = f.mmap(0, 4096, RW, ANON);
        f.write64(a, 7);
        long before = f.memory().lookupPte(f.mm(), a);
        long invlpg = f.cpu.mmu().counters.invlpg;
        long flushes = f.cpu.mmu().counters.tlbFlushes();
        long gen = f.mm().tlbGen();
        // A second vCPU faulted on the same write before the first one's PTE was visible to it.
        int r = f.kernel.doUserAddrFault(f.cpu, a, PfErr.U | PfErr.W);
        assertEquals(Kernel.FAULT_OK, r);
        assertEquals(before, f.memory().lookupPte(f.mm(), a), "PTE not rewritten");
        assertEquals(1, f.memory().stats.faultSpurious.get());
        // flush_tlb_fix_spurious_fault is a no-op on x86: no flush request, no INVLPG, no CR3 reload.
        assertEquals(gen, f.mm().tlbGen(), "a spurious fault must not flush the mm");
        assertEquals(invlpg, f.cpu.mmu().counters.invlpg);
        assertEquals(flushes, f.cpu.mmu().counters.tlbFlushes());
    }

    /**
     * The whole spurious path on the hardware: the vCPU holds a read-only TLB entry for a page whose
     * PTE another vCPU has since made writable (adding a permission needs no flush). The write faults
     * on the stale entry; the #PF drops it (SDM 4.10.4.1); the kernel finds the PTE already right and
     * does nothing; the retried write walks and succeeds.
     */
    @Test
    void aStaleReadOnlyEntryFaultsOnceAndTheRetrySucceedsWithoutAFlush() throws Exception {
        Fixture f = Fixture.booted();
        long a = f.mmap(0, 4096, RW, ANON);
        f.write64(a, 7);
        long ptep = f.memory().pteOffsetMapNolock(f.mm(), f.memory().pmdOffset(f.mm(), a), a).ptep();
        long pte = f.machine.memory().read64(ptep);
        f.machine.memory().write64(ptep, pte & ~PteBits.RW);
        f.cpu.mmu().invlpg(a);
        assertTrue(f.cpu.mmu().translate(a, PfErr.U) >= 0, "read-only entry cached");
        f.machine.memory().write64(ptep, pte); // writable again, TLB not told
        assertThrows(GuestFault.class, () -> f.cpu.mmu().translate(a, PfErr.U | PfErr.W));
        long gen = f.mm().tlbGen();
        long invlpg = f.cpu.mmu().counters.invlpg;
        assertEquals(Kernel.FAULT_OK, f.kernel.doUserAddrFault(f.cpu, a, PfErr.U | PfErr.W | PfErr.P));
        assertEquals(1, f.memory().stats.faultSpurious.get());
        assertEquals(gen, f.mm().tlbGen());
        assertEquals(invlpg, f.cpu.mmu().counters.invlpg);
        assertEquals(PteBits.pfn(pte) << 12, f.cpu.mmu().translate(a, PfErr.U | PfErr.W) & ~0xfffL,
                "the #PF dropped the stale entry: the retry walks");
    }

    @Test
    void textFaultsMapThePageCachePageAndNeverRewriteACorrectPte() throws Exception {
        Fixture f = Fixture.booted();
        long pa = f.touch(0x401000, false);
        assertTrue(pa >= 0);
        assertEquals(0x0f, f.machine.memory().read8(pa));
        assertEquals(0x0b, f.machine.memory().read8(pa + 1));
        long pte = f.memory().lookupPte(f.mm(), 0x401000);
        assertFalse(PteBits.write(pte));
        assertEquals(0, pte & PteBits.NX, ".text is executable");
        assertEquals(1, f.mm().counter(MmStruct.MM_FILEPAGES));
        // A racing fault on the same page finds the PTE present and leaves it alone.
        long spurious = f.memory().stats.faultSpurious.get();
        assertEquals(Kernel.FAULT_OK, f.kernel.doUserAddrFault(f.cpu, 0x401000, PfErr.U | PfErr.I));
        assertEquals(pte, f.memory().lookupPte(f.mm(), 0x401000));
        assertEquals(spurious + 1, f.memory().stats.faultSpurious.get());
        // Exec from data (NX) is a protection fault.
        long data = 0x403000;
        assertTrue(f.touch(data, false) >= 0);
        assertEquals(Kernel.FAULT_SIGSEGV, f.kernel.doUserAddrFault(f.cpu, data, PfErr.U | PfErr.I | PfErr.P));
    }

    @Test
    void dataSegmentCopyOnWriteAndBssZeroing() throws Exception {
        Fixture f = Fixture.booted();
        // data "hello data" at 0x403010, bss 10000 bytes after it.
        long pa = f.touch(0x403010, false);
        byte[] b = new byte[10];
        f.machine.memory().readBytes(pa, b, 0, 10);
        assertEquals("hello data", new String(b));
        // padzero made the tail of that page zero (and COWed it: it is an anon page now).
        assertEquals(0, f.machine.memory().read64(f.touch(0x403010 + 16, false)));
        f.write64(0x403010, 0x4141414141414141L);
        assertEquals(0x4141414141414141L, f.read64(0x403010));
        // bss beyond the file page: anonymous zero.
        assertEquals(0, f.read64(0x404800));
        assertEquals(0x406000, f.mm().startBrk, "brk = page-aligned end of bss");
    }

    @Test
    void writeAfterReadOfAPrivateFilePageCopiesItAndMovesTheRssCount() throws Exception {
        Fixture f = new Fixture(64L << 20);
        byte[] data = new byte[3 * 4096];
        for (int i = 0; i < data.length; i++) {
            data[i] = (byte) (i / 4096 + 1);
        }
        f.exec(TestElf.standard(Fixture.CODE, data, 0).build()); // filesz == memsz: no padzero
        long va = 0x404000; // second data page, backed by the image
        long file0 = f.mm().counter(MmStruct.MM_FILEPAGES);
        long anon0 = f.mm().counter(MmStruct.MM_ANONPAGES);
        long cachePa = f.touch(va, false); // data[] starts at 0x403010, so va+100 holds page-2 bytes
        assertEquals(2, f.machine.memory().read8(cachePa + 100));
        assertFalse(PteBits.write(f.memory().lookupPte(f.mm(), va)), "private file page mapped read-only");
        assertEquals(file0 + 1, f.mm().counter(MmStruct.MM_FILEPAGES));
        long copyPa = f.touch(va, true);
        assertNotEquals(cachePa >>> 12, copyPa >>> 12, "written page is a private copy");
        assertEquals(2, f.machine.memory().read8(copyPa + 100), "copy has the file contents");
        f.machine.memory().write8(copyPa + 100, 0x77);
        assertEquals(2, f.machine.memory().read8(cachePa + 100), "page cache untouched");
        assertEquals(file0, f.mm().counter(MmStruct.MM_FILEPAGES));
        assertEquals(anon0 + 1, f.mm().counter(MmStruct.MM_ANONPAGES));
        assertEquals(1, f.memory().stats.faultWpCopy.get());
        assertEquals(0, f.memory().frames().mapcount(cachePa >>> 12), "old page unmapped");
        assertEquals(1, f.memory().frames().refcount(cachePa >>> 12), "only the page cache holds it");
        // A never-read private file page written first: do_cow_fault.
        long pa3 = f.touch(0x405000, true);
        assertEquals(3, f.machine.memory().read8(pa3 + 100)); // data starts at 0x403010
        assertEquals(1, f.memory().stats.faultFileCow.get());
        // Writing to an anon page we own again reuses it (wp_page_reuse) after mprotect RO→RW.
        assertEquals(0, f.sys(Syscalls.NR_MPROTECT, 0x404000, 4096, Mmap.PROT_READ));
        assertEquals(0, f.sys(Syscalls.NR_MPROTECT, 0x404000, 4096, Mmap.PROT_READ | Mmap.PROT_WRITE));
        assertEquals(copyPa, f.touch(va, true), "same frame after the protection round trip");
    }
}
