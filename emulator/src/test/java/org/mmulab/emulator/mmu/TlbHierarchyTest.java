package org.mmulab.emulator.mmu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.mmulab.emulator.cpu.CpuState;
import org.mmulab.emulator.cpu.GuestFault;
import org.mmulab.emulator.cpu.Vectors;

/** The modelled hierarchy: L1 → STLB → paging-structure caches → walk; PCID; flush rules (SDM §4.10). */
class TlbHierarchyTest extends MmuFixture {
    TlbHierarchyTest() {
        super(CpuModel.TINY);
    }

    @Test
    void l1EvictionIsServedByStlbWithoutAWalk() {
        // TINY: dTLB-4k has 2 sets x 2 ways, STLB-4k 4 sets x 2 ways. Three pages with even VPNs fill
        // one L1 set past its ways (page 0 is evicted from L1) but spread over two STLB sets.
        for (int i = 0; i < 3; i++) {
            pt.map4k(0x1000_0000L + i * 0x2000L, 0x200000 + i * 0x1000L, URW);
        }
        for (int i = 0; i < 3; i++) {
            mmu.translate(0x1000_0000L + i * 0x2000L, PfErr.U);
        }
        long walks = mmu.counters.walksCompleted;
        assertEquals(0x200000L, mmu.translate(0x1000_0000L, PfErr.U));
        assertEquals(walks, mmu.counters.walksCompleted, "no walk: STLB hit");
        assertEquals(1, mmu.counters.stlbHits);
    }

    @Test
    void pdeCacheSkipsUpperLevelsAndStaysStaleUntilInvlpg() {
        long va = 0x2000_0000L;
        pt.map4k(va, 0x200000, URW);
        pt.map4k(va + 0x1000, 0x201000, URW);
        mmu.translate(va, PfErr.U);
        assertEquals(4, mmu.counters.walkerLoads);
        mmu.translate(va + 0x1000, PfErr.U);
        assertEquals(5, mmu.counters.walkerLoads, "PDE-cache hit: only the PTE is read");
        assertEquals(1, mmu.counters.pdeCacheHits);

        // Replace the page table under the PDE without invalidation: the cached PDE still points at
        // the old table, so a new mapping in the new table is invisible (stale paging-structure cache).
        long pde = pt.entryAddress(va, 2, URW);
        long newTable = pt.allocTable();
        mem.write64(newTable + (((va + 0x2000) >>> 12) & 511) * 8, 0x300000 | URW);
        mem.write64(pde, newTable | URW);
        GuestFault f = assertThrows(GuestFault.class, () -> mmu.translate(va + 0x2000, PfErr.U));
        assertEquals(Vectors.PF, s.exceptionVector);
        // The fault dropped the PDE-cache entry for that address (SDM §4.10.4.1): the retry sees the new table.
        assertEquals(0x300000L, mmu.translate(va + 0x2000, PfErr.U));
        assertTrue(f != null);
    }

    @Test
    void invlpgDropsAllPagingStructureCacheEntriesOfThePcid() {
        long va = 0x3000_0000L;
        pt.map4k(va, 0x200000, URW);
        mmu.translate(va, PfErr.U);
        assertTrue(mmu.pagingStructureCaches().get(2).validCount() > 0);
        mmu.invlpg(0x7777_0000L); // an unrelated address
        for (PagingStructureCache c : mmu.pagingStructureCaches()) {
            assertEquals(0, c.validCount(), c.name());
        }
    }

    @Test
    void pcidTagsEntriesAndNoFlushBitKeepsThem() {
        s.cr4 |= CpuState.CR4_PCIDE;
        long va = 0x4000_0000L;
        long pte = pt.map4k(va, 0x200000, URW);
        mmu.writeCr3(pt.root | 1);
        mmu.translate(va, PfErr.U);
        mem.write64(pte, 0); // unmapped in memory; PCID 1's entry is now stale

        mmu.writeCr3(pt.root | 2 | (1L << 63)); // switch to PCID 2 without flush
        assertThrows(GuestFault.class, () -> mmu.translate(va, PfErr.U), "PCID 2 has no entry");
        mmu.writeCr3(pt.root | 1 | (1L << 63)); // back to PCID 1 without flush
        assertEquals(0x200000L, mmu.translate(va, PfErr.U), "PCID 1's stale entry survived");
        assertEquals(0, s.cr3 >>> 63, "bit 63 is not stored in CR3");
        mmu.writeCr3(pt.root | 1); // with flush
        assertThrows(GuestFault.class, () -> mmu.translate(va, PfErr.U));
    }

    @Test
    void invpcidTypes() {
        s.cr4 |= CpuState.CR4_PCIDE;
        long va = 0x5000_0000L;
        long g = 0x5000_1000L;
        long pte = pt.map4k(va, 0x200000, URW);
        long gpte = pt.map4k(g, 0x201000, URW | Pte.G);
        mmu.writeCr3(pt.root | 3);
        mmu.translate(va, PfErr.U);
        mmu.translate(g, PfErr.U);
        mem.write64(pte, 0);
        mem.write64(gpte, 0);

        mmu.invpcid(0, 3, g); // individual address: globals are kept
        assertEquals(0x201000L, mmu.translate(g, PfErr.U));
        mmu.invpcid(1, 3, 0); // single context: non-global gone, global kept
        assertThrows(GuestFault.class, () -> mmu.translate(va, PfErr.U));
        assertEquals(0x201000L, mmu.translate(g, PfErr.U));
        mmu.invpcid(3, 0, 0); // all contexts but globals
        assertEquals(0x201000L, mmu.translate(g, PfErr.U));
        mmu.invpcid(2, 0, 0); // everything
        assertThrows(GuestFault.class, () -> mmu.translate(g, PfErr.U));
        assertThrows(GuestFault.class, () -> mmu.invpcid(4, 0, 0));
        assertEquals(Vectors.GP, s.exceptionVector);
    }

    @Test
    void togglingPgeFlushesGlobalEntries() {
        long va = 0x6000_0000L;
        long pte = pt.map4k(va, 0x200000, URW | Pte.G);
        mmu.translate(va, PfErr.U);
        mem.write64(pte, 0);
        mmu.writeCr3(s.cr3);
        assertEquals(0x200000L, mmu.translate(va, PfErr.U));
        long cr0 = s.cr0, cr4 = s.cr4, efer = s.efer;
        s.cr4 &= ~CpuState.CR4_PGE;
        mmu.controlRegistersChanged(cr0, cr4, efer);
        assertThrows(GuestFault.class, () -> mmu.translate(va, PfErr.U));
    }

    @Test
    void debugWalkHasNoSideEffects() {
        long va = 0x7000_0000L;
        long pte = pt.map4k(va, 0x200000, URW);
        DebugWalk w = mmu.debugWalk(va + 0x10);
        assertEquals(0x200010L, w.physical());
        assertEquals(4, w.levels().size());
        assertEquals(pte, w.levels().get(3).entryAddress());
        assertEquals(0, mem.read64(pte) & Pte.A, "no A bit");
        assertEquals(0, mmu.counters.walkerLoads);
        assertEquals(0, mmu.dtlb().array(Tlb.SIZE_4K).validCount(), "no TLB fill");
        DebugWalk miss = mmu.debugWalk(0x7100_0000L);
        assertEquals(-1, miss.physical());
        assertEquals("not present", miss.stopReason());
    }
}
