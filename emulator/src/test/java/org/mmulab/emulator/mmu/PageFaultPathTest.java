package org.mmulab.emulator.mmu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.mmulab.emulator.cpu.GuestFault;
import org.mmulab.emulator.cpu.Vectors;

/**
 * The #PF path (SDM Vol. 3A §4.7, §4.10.4.1): faults are recorded, not thrown, inside the MMU; a fault
 * sets no A flag and fills no TLB or paging-structure cache; the retry after the handler's fix does
 * one walk, one A/D update and one fill; a cached entry the faulting walk used is dropped.
 */
class PageFaultPathTest extends MmuFixture {
    PageFaultPathTest() {
        super(CpuModel.SKYLAKE);
    }

    @Test
    void aFaultIsRecordedInTheStateAndReturnedAsACode() {
        long va = 0x4000_1234L;
        s.exceptionVector = -1;
        long r = mmu.translateOrFault(va, PfErr.U | PfErr.W);
        assertTrue(r < 0, "a code, not an address");
        assertEquals(Vectors.PF, s.exceptionVector);
        assertEquals(PfErr.U | PfErr.W, s.exceptionErrorCode, "not present, user write");
        assertEquals(va, s.cr2);
        assertEquals(1, mmu.counters.pageFaults);
        // The accessors keep throwing the shared GuestFault at the interpreter's boundary.
        assertThrows(GuestFault.class, () -> mmu.translate(va, PfErr.U));
        assertThrows(GuestFault.class, () -> mmu.read64(va));
        long nonCanonical = 0x0000_8000_0000_0000L;
        assertTrue(mmu.translateOrFault(nonCanonical, PfErr.U) < 0);
        assertEquals(Vectors.GP, s.exceptionVector);
    }

    @Test
    void aFaultSetsNoFlagFillsNothingAndTheRetryCompletesOneWalk() {
        long va = 0x4000_0000L;
        long pte = pt.entryAddress(va, 1, URW | Pte.A); // upper levels present and accessed, PTE not present
        assertTrue(mmu.translateOrFault(va, PfErr.U | PfErr.W) < 0);
        assertEquals(4, mmu.counters.walkerLoads);
        assertEquals(0, mmu.counters.walksCompleted);
        assertEquals(0, mmu.dtlb().array(Tlb.SIZE_4K).validCount(), "a fault fills no TLB");
        assertEquals(0, mmu.stlb().array(Tlb.SIZE_4K).validCount());
        for (PagingStructureCache c : mmu.pagingStructureCaches()) {
            assertEquals(0, c.validCount(), c.name() + ": nothing cached for the faulting address (SDM §4.10.4.1)");
        }
        mem.write64(pte, 0x20_0000L | URW); // the handler's fix (no INVLPG: P 0 -> 1, SDM §4.10.4.3)
        assertEquals(0x20_0000L, mmu.translate(va, PfErr.U | PfErr.W));
        assertEquals(8, mmu.counters.walkerLoads, "the retry walks from CR3");
        assertEquals(1, mmu.counters.walksCompleted, "one A/D update and TLB fill for fault + retry");
        assertEquals(0x20_0000L | URW | Pte.A | Pte.D, mem.read64(pte));
        assertEquals(1, mmu.dtlb().array(Tlb.SIZE_4K).validCount());
    }

    @Test
    void aCachedPdeTheFaultingWalkUsedIsDroppedEvenIfMemoryStillAgrees() {
        long va = 0x4000_0000L;
        pt.map4k(va, 0x20_0000L, URW, URW | Pte.A);
        long pte2 = pt.entryAddress(va + 0x1000, 1, URW | Pte.A);
        mmu.translate(va, PfErr.U); // fills the PDE cache
        assertTrue(mmu.translateOrFault(va + 0x1000, PfErr.U) < 0);
        assertEquals(5, mmu.counters.walkerLoads, "the fault's walk used the PDE cache: one load");
        assertEquals(0, mmu.pagingStructureCaches().get(2).validCount(),
                "a cached entry the faulting walk used goes (§4.10.4.1): it may be the stale cause");
        mem.write64(pte2, 0x21_0000L | URW);
        mmu.translate(va + 0x1000, PfErr.U);
        assertEquals(9, mmu.counters.walkerLoads, "full walk after it");
    }
}
