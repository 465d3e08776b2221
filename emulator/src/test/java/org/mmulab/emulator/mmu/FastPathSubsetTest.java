package org.mmulab.emulator.mmu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.mmulab.emulator.cpu.GuestFault;
import org.mmulab.emulator.timing.WalkTiming;

/**
 * The host-side fast path must be a strict subset of the modelled dTLB: whatever invalidates or evicts
 * the modelled entry must also end fast-path hits on it (DESIGN §2 mmu).
 */
class FastPathSubsetTest extends MmuFixture {
    static final long VA = 0x1000_0000L;
    long pte;

    FastPathSubsetTest() {
        super(CpuModel.TINY);
    }

    @BeforeEach
    void setUp() { // after MmuFixture's
        s.cpl = 3;
        pte = pt.map4k(VA, 0x200000, URW | Pte.D);
        mem.write64(0x200000, 0xaaaa);
        mem.write64(0x300000, 0xbbbb);
        for (int i = 0; i < 3; i++) {
            assertEquals(0xaaaa, mmu.read64(VA)); // walk, then L1 hit that installs, then fast hit
        }
        mem.write64(pte, 0x300000 | URW | Pte.D); // remap behind the TLB's back
    }

    @Test
    void staleWhileTheModelledEntryLivesThenGoneAfterInvlpg() {
        assertEquals(0xaaaa, mmu.read64(VA), "the modelled TLB entry is stale: so is the fast path");
        mmu.invlpg(VA);
        assertEquals(0xbbbb, mmu.read64(VA));
    }

    @Test
    void evictionOfTheModelledEntryEndsFastHits() {
        // TINY dTLB-4k: 2 sets x 2 ways. Two more pages in VA's set evict VA's entry.
        pt.map4k(VA + 0x2000, 0x201000, URW);
        pt.map4k(VA + 0x4000, 0x202000, URW);
        mmu.read64(VA + 0x2000);
        mmu.read64(VA + 0x4000);
        long stlbHits = mmu.counters.stlbHits;
        long value = mmu.read64(VA);
        assertEquals(stlbHits + 1, mmu.counters.stlbHits, "the access went to the STLB, not the fast path");
        assertEquals(0xaaaa, value, "the STLB entry is still stale, as on hardware");
    }

    /** Cycle timing keeps its fast entries in tag arrays of their own: an eviction ends their hits as well. */
    @Test
    void evictionOfTheModelledEntryEndsCycleTimingFastHits() {
        mmu.setTiming(WalkTiming.skylake()); // empties the fast path: entries from now on are cycle timing's
        mmu.invlpg(VA);
        for (int i = 0; i < 3; i++) {
            assertEquals(0xbbbb, mmu.read64(VA)); // walk, then L1 hit that installs, then fast hit
        }
        mem.write64(pte, 0x200000 | URW | Pte.D); // remap back behind the TLB's back
        pt.map4k(VA + 0x2000, 0x201000, URW);
        pt.map4k(VA + 0x4000, 0x202000, URW);
        mmu.read64(VA + 0x2000);
        mmu.read64(VA + 0x4000); // VA's dTLB entry is evicted
        long stlbHits = mmu.counters.stlbHits;
        assertEquals(0xbbbb, mmu.read64(VA), "the STLB entry is still stale, as on hardware");
        assertEquals(stlbHits + 1, mmu.counters.stlbHits, "the access went to the STLB, not to a cycle fast entry");
    }

    @Test
    void cr3WriteAndFaultsClearIt() {
        mmu.writeCr3(s.cr3);
        assertEquals(0xbbbb, mmu.read64(VA));
        mem.write64(pte, 0);
        assertEquals(0xbbbb, mmu.read64(VA), "stale until invalidated");
        mmu.flushAll();
        assertThrows(GuestFault.class, () -> mmu.read64(VA));
    }

    @Test
    void aFaultOnALargePageDropsTheFastEntriesOfEveryPageInIt() {
        // A read-only 2 MiB page; two of its 4 KiB pages get fast read entries.
        long big = 0x4000_0000L;
        long pde = pt.map2m(big, 0x400000, Pte.P | Pte.US | Pte.A);
        mem.write64(0x400000 + 0x3000, 0x1111);
        for (int i = 0; i < 3; i++) {
            assertEquals(0x1111, mmu.read64(big + 0x3000));
            mmu.read64(big + 0x5000);
        }
        mem.write64(pde, 0x600000 | Pte.P | Pte.RW | Pte.US | Pte.A | Pte.PS); // remap, stale in the TLB
        assertEquals(0x1111, mmu.read64(big + 0x3000), "stale: the 2 MiB entry is still cached");
        // A write to another page of it faults on the cached read-only entry (SDM: a #PF invalidates the
        // entries for the faulting address, here the whole 2 MiB entry).
        assertThrows(GuestFault.class, () -> mmu.write64(big + 0x7000, 1));
        mem.write64(0x600000 + 0x3000, 0x2222);
        assertEquals(0x2222, mmu.read64(big + 0x3000), "no fast entry of the dropped 2 MiB entry survives");
        assertEquals(0xaaaa, mmu.read64(VA), "a 4 KiB page outside it keeps its (stale) fast entry");
    }

    /**
     * A dTLB without a 1 GiB array caches a 1 GiB page as 4 KiB splinters, each backing fast entries.
     * INVLPG of one address drops every splinter of the page (SDM 4.10.4.1), so no fast entry they
     * backed may survive either.
     */
    @Test
    void invlpgOfASplinteredPageEndsTheFastHitsOfAllItsSplinters() {
        CpuModel t = CpuModel.TINY;
        CpuModel no1g = new CpuModel("no-1g", t.maxPhysAddrBits(), t.l1d4k(), t.l1d2m(), new CpuModel.TlbGeometry(0, 1),
                t.l1i4k(), t.l1i2m(), t.stlb4k(), t.stlb2m(), new CpuModel.TlbGeometry(0, 1), t.pml4eCache(),
                t.pdpteCache(), t.pdeCache(), t.timing());
        Mmu m = new Mmu(mem, s, no1g);
        long big = 0x4000_0000L;
        long pdpte = pt.map1g(big, 0, Pte.P | Pte.RW | Pte.US | Pte.A | Pte.D); // the first GiB of RAM
        mem.write64(0x3000, 0x1111);
        mem.write64(0x5000, 0x5555);
        for (int i = 0; i < 3; i++) { // walk, L1 hit that installs the fast entry, fast hit
            assertEquals(0x1111, m.read64(big + 0x3000));
            assertEquals(0x5555, m.read64(big + 0x5000));
        }
        mem.write64(pdpte, 0); // unmapped; the TLB and fast path are stale until the INVLPG
        assertEquals(0x5555, m.read64(big + 0x5000), "stale until invalidated");
        m.invlpg(big + 0x3000);
        assertThrows(GuestFault.class, () -> m.read64(big + 0x5000),
                "a fast entry backed by a dropped splinter of the same 1 GiB page survived INVLPG");
    }

    @Test
    void writesNeedDirtyAndWritableEntries() {
        long ro = 0x1000_1000L;
        long rpte = pt.map4k(ro, 0x204000, Pte.P | Pte.US);
        mmu.read64(ro);
        mmu.read64(ro);
        assertThrows(GuestFault.class, () -> mmu.write64(ro, 1), "read-only page: no write fast path");
        long clean = 0x1000_3000L;
        long cpte = pt.map4k(clean, 0x205000, URW);
        mmu.read64(clean);
        mmu.read64(clean);
        mmu.write64(clean, 7);
        assertEquals(Pte.D, mem.read64(cpte) & Pte.D, "the first write walked and set D");
        assertEquals(0, mem.read64(rpte) & Pte.D);
    }

    /**
     * A write on a clean (D = 0) dTLB entry re-walks and refills the entry in place (SDM §4.8). If the guest
     * remapped the page without INVLPG, the refilled entry translates to the new frame, so the fast read
     * entry installed from the old one must go with it.
     */
    @Test
    void aWriteThatRefillsACleanEntryInPlaceEndsTheFastReadsOfTheOldFrame() {
        long clean = 0x1000_3000L;
        long cpte = pt.map4k(clean, 0x205000, URW | Pte.A);
        mem.write64(0x205000, 0x5555);
        for (int i = 0; i < 3; i++) {
            assertEquals(0x5555, mmu.read64(clean)); // walk, L1 hit that installs the fast read entry, fast hit
        }
        mem.write64(cpte, 0x206000 | URW | Pte.A); // remapped behind the TLB's back
        mmu.write64(clean, 0x6666); // D = 0 in the entry: re-walk, new frame, entry replaced in place
        assertEquals(0x6666, mem.read64(0x206000), "the write went to the new frame");
        assertEquals(0x6666, mmu.read64(clean), "the read uses the dTLB entry the write refilled");
        // The same for a 2 MiB page, whose in-place refill changes every 4 KiB page in it.
        long big = 0x4000_0000L;
        long pde = pt.map2m(big, 0x400000, URW | Pte.A);
        mem.write64(0x400000 + 0x3000, 0x1111);
        for (int i = 0; i < 3; i++) {
            assertEquals(0x1111, mmu.read64(big + 0x3000));
        }
        mem.write64(pde, 0x600000 | URW | Pte.A | Pte.PS);
        mem.write64(0x600000 + 0x3000, 0x2222);
        mmu.write64(big + 0x5000, 1);
        assertEquals(0x2222, mmu.read64(big + 0x3000), "another page of the refilled 2 MiB entry");
    }

    @Test
    void fastHitsAreCountedAsDtlbHits() {
        mmu.invlpg(VA);
        long hits = mmu.counters.dtlbHits;
        mmu.read64(VA); // miss + walk
        mmu.read64(VA); // L1 hit (installs)
        mmu.read64(VA); // fast hit
        assertEquals(hits + 2, mmu.counters.dtlbHits);
    }
}
