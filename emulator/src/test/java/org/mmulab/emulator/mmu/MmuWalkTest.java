package org.mmulab.emulator.mmu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.mmulab.emulator.cpu.CpuState;
import org.mmulab.emulator.cpu.GuestFault;
import org.mmulab.emulator.cpu.Vectors;
import org.mmulab.emulator.memory.PhysicalMemory;

/** 4-level walks, #PF error codes and CR2 (SDM Vol. 3A §4.5-4.8), and TLB staleness (§4.10). */
class MmuWalkTest {
    static final long URW = Pte.P | Pte.RW | Pte.US;
    PhysicalMemory mem;
    CpuState s;
    Mmu mmu;
    PageTableBuilder pt;

    @BeforeEach
    void setUp() {
        mem = new PhysicalMemory(64 << 20);
        s = new CpuState();
        mmu = new Mmu(mem, s, 39);
        pt = new PageTableBuilder(mem, 0x100000);
        s.cr3 = pt.root;
    }

    private long pfCode(Runnable r) {
        GuestFault f = assertThrows(GuestFault.class, r::run);
        assertSame(GuestFault.INSTANCE, f);
        assertEquals(Vectors.PF, s.exceptionVector);
        return s.exceptionErrorCode;
    }

    @Test
    void translatesThroughFourLevelsAndSetsAccessedOnEveryLevel() {
        long va = 0x0000_7fff_1234_5000L;
        long pte = pt.map4k(va, 0x200000, URW);
        assertEquals(0x200abcL, mmu.translate(va + 0xabc, PfErr.U));
        assertTrue((mem.read64(pte) & Pte.A) != 0, "A set on PTE");
        assertEquals(0, mem.read64(pte) & Pte.D, "D only on a write");
        long pml4e = mem.read64(pt.root + (((va >>> 39) & 511) << 3));
        assertTrue((pml4e & Pte.A) != 0, "A set on PML4E");
        assertEquals(1, mmu.counters.walksCompleted);
        assertEquals(4, mmu.counters.walkerLoads);
    }

    @Test
    void notPresentFaultHasExactErrorCodeAndCr2() {
        long va = 0x4000_0000L;
        assertEquals(PfErr.U | PfErr.W, pfCode(() -> mmu.translate(va + 8, PfErr.U | PfErr.W)));
        assertEquals(va + 8, s.cr2);
        assertEquals(0, pfCode(() -> mmu.translate(va, 0)), "supervisor read, not present");
    }

    @Test
    void userWriteToReadOnlyPageIsProtectionFault() {
        long va = 0x5000_0000L;
        pt.map4k(va, 0x300000, Pte.P | Pte.US);
        assertEquals(PfErr.P | PfErr.W | PfErr.U, pfCode(() -> mmu.translate(va, PfErr.U | PfErr.W)));
    }

    @Test
    void readOnlyUpperLevelRestrictsTheLeaf() {
        long va = 0x6000_0000L;
        pt.map4k(va, 0x300000, URW, Pte.P | Pte.US); // upper levels R/W=0
        assertEquals(0x300000L, mmu.translate(va, PfErr.U));
        assertEquals(PfErr.P | PfErr.W | PfErr.U, pfCode(() -> mmu.translate(va, PfErr.U | PfErr.W)));
    }

    @Test
    void supervisorPageIsNotUserAccessible() {
        long va = 0x7000_0000L;
        pt.map4k(va, 0x300000, Pte.P | Pte.RW);
        assertEquals(PfErr.P | PfErr.U, pfCode(() -> mmu.translate(va, PfErr.U)));
        assertEquals(0x300000L, mmu.translate(va, 0));
    }

    @Test
    void cr0WpControlsSupervisorWritesToReadOnlyPages() {
        long va = 0x7100_0000L;
        pt.map4k(va, 0x300000, Pte.P | Pte.US);
        assertEquals(PfErr.P | PfErr.W, pfCode(() -> mmu.translate(va, PfErr.W)));
        s.cr0 &= ~CpuState.CR0_WP;
        assertEquals(0x300000L, mmu.translate(va, PfErr.W));
    }

    @Test
    void noExecuteFaultsFetchWithInstructionBit() {
        long va = 0x7200_0000L;
        pt.map4k(va, 0x300000, URW | Pte.XD);
        assertEquals(0x300000L, mmu.translate(va, PfErr.U));
        assertEquals(PfErr.P | PfErr.U | PfErr.I, pfCode(() -> mmu.translate(va, PfErr.U | PfErr.I)));
    }

    @Test
    void xdWithNxeClearIsAReservedBit() {
        long va = 0x7300_0000L;
        pt.map4k(va, 0x300000, URW | Pte.XD);
        s.efer &= ~CpuState.EFER_NXE;
        assertEquals(PfErr.P | PfErr.U | PfErr.RSVD, pfCode(() -> mmu.translate(va, PfErr.U)));
    }

    @Test
    void physicalAddressAboveMaxPhyAddrIsReserved() {
        long va = 0x7400_0000L;
        pt.map4k(va, 1L << 40, URW);
        assertEquals(PfErr.P | PfErr.W | PfErr.RSVD, pfCode(() -> mmu.translate(va, PfErr.W)));
    }

    @Test
    void smepAndSmapBlockSupervisorUseOfUserPages() {
        long va = 0x7500_0000L;
        pt.map4k(va, 0x300000, URW);
        s.cr4 |= CpuState.CR4_SMEP | CpuState.CR4_SMAP;
        assertEquals(PfErr.P | PfErr.I, pfCode(() -> mmu.translate(va, PfErr.I)));
        assertEquals(PfErr.P, pfCode(() -> mmu.translate(va, 0)));
        s.setRflags(s.getRflags() | CpuState.AC);
        assertEquals(0x300000L, mmu.translate(va, 0), "explicit access with AC=1 is allowed");
        assertEquals(PfErr.P, pfCode(() -> mmu.translate(va, PfErr.IMPLICIT)), "implicit access ignores AC");
    }

    @Test
    void largePagesTranslateAndCheckReservedBits() {
        long va2m = 0x4020_0000L;
        pt.map2m(va2m, 0x800000, URW);
        assertEquals(0x812345L, mmu.translate(va2m + 0x12345, PfErr.U));
        long va1g = 0x80_0000_0000L;
        pt.map1g(va1g, 0x4000_0000L, URW);
        assertEquals(0x4123_4567L, mmu.translate(va1g + 0x123_4567, PfErr.U));
        long bad = 0x4060_0000L;
        pt.map2m(bad, 0xa00000 | 0x2000, URW); // bit 13 set in a 2 MiB PDE
        assertEquals(PfErr.P | PfErr.U | PfErr.RSVD, pfCode(() -> mmu.translate(bad, PfErr.U)));
    }

    @Test
    void nonCanonicalAddressRaisesGeneralProtection() {
        assertThrows(GuestFault.class, () -> mmu.translate(0x0000_8000_0000_0000L, PfErr.U));
        assertEquals(Vectors.GP, s.exceptionVector);
        assertEquals(0, s.exceptionErrorCode);
    }

    @Test
    void dirtyIsSetOnlyByWriteAndCleanEntryRewalksForWrite() {
        long va = 0x7600_0000L;
        long pte = pt.map4k(va, 0x300000, URW);
        mmu.translate(va, PfErr.U);
        assertEquals(0, mem.read64(pte) & Pte.D);
        long walks = mmu.counters.walksCompleted;
        mmu.translate(va, PfErr.U | PfErr.W);
        assertEquals(walks + 1, mmu.counters.walksCompleted, "TLB entry filled with D=0 must not grant writes");
        assertTrue((mem.read64(pte) & Pte.D) != 0);
        mmu.translate(va, PfErr.U | PfErr.W);
        assertEquals(walks + 1, mmu.counters.walksCompleted, "now a TLB hit");
    }

    @Test
    void staleTranslationStaysVisibleUntilInvlpg() {
        long va = 0x7700_0000L;
        long pte = pt.map4k(va, 0x300000, URW);
        mem.write64(0x300000, 0x1111);
        assertEquals(0x1111, mem.read64(mmu.translate(va, PfErr.U)));
        mem.write64(pte, 0x400000 | URW); // remap without invalidation
        mem.write64(0x400000, 0x2222);
        assertEquals(0x300000L, mmu.translate(va, PfErr.U), "stale entry must still be used");
        mmu.invlpg(va);
        assertEquals(0x400000L, mmu.translate(va, PfErr.U));
        mem.write64(pte, 0); // unmap without invalidation: still translates
        assertEquals(0x400000L, mmu.translate(va, PfErr.U));
        mmu.writeCr3(s.cr3);
        assertEquals(PfErr.U, pfCode(() -> mmu.translate(va, PfErr.U)));
    }

    @Test
    void globalEntriesSurviveCr3WriteButNotFullFlush() {
        long va = 0x7800_0000L;
        long pte = pt.map4k(va, 0x300000, URW | Pte.G);
        mmu.translate(va, PfErr.U);
        mem.write64(pte, 0);
        mmu.writeCr3(s.cr3);
        assertEquals(0x300000L, mmu.translate(va, PfErr.U), "global entry kept across MOV CR3");
        mmu.flushAll();
        assertEquals(PfErr.U, pfCode(() -> mmu.translate(va, PfErr.U)));
    }

    @Test
    void protectionFaultOnCachedEntryDropsItSoTheNextAccessRewalks() {
        long va = 0x7900_0000L;
        long pte = pt.map4k(va, 0x300000, Pte.P | Pte.US);
        mmu.translate(va, PfErr.U);
        mem.write64(pte, 0x300000 | URW); // upgrade without flush, like a COW break elsewhere
        assertEquals(PfErr.P | PfErr.W | PfErr.U, pfCode(() -> mmu.translate(va, PfErr.U | PfErr.W)),
                "stale read-only entry faults (SDM §4.10.4.3)");
        assertEquals(0x300000L, mmu.translate(va, PfErr.U | PfErr.W), "the fault invalidated the stale entry");
    }

    @Test
    void walkRestartsWhenEntryChangesUnderTheAccessedUpdate() {
        long va = 0x7a00_0000L;
        long pte = pt.map4k(va, 0x300000, URW);
        // Another agent remaps the page between the walker's loads and its locked A-bit update.
        mmu.beforeAccessedUpdate = () -> {
            mmu.beforeAccessedUpdate = null;
            mem.write64(pte, 0x400000 | URW);
        };
        assertEquals(0x400000L, mmu.translate(va, PfErr.U), "the restarted walk sees the new entry");
        assertEquals(1, mmu.counters.walkRestarts);
        assertEquals(1, mmu.counters.walksCompleted);
        assertTrue((mem.read64(pte) & Pte.A) != 0);
    }

    @Test
    void splitAccessAcrossPagesChecksBothPagesBeforeWriting() {
        long va = 0x7b00_0000L;
        pt.map4k(va, 0x300000, URW);
        pt.map4k(va + 4096, 0x301000, Pte.P | Pte.US); // second page read-only
        s.cpl = 3;
        assertEquals(PfErr.P | PfErr.W | PfErr.U, pfCode(() -> mmu.write64(va + 4092, -1L)));
        assertEquals(va + 4096, s.cr2);
        assertEquals(0, mem.read32(0x300000 + 4092), "no byte written before the fault");
        mem.write32(0x300000 + 4092, 0x44332211);
        mem.write32(0x301000, 0x88776655);
        assertEquals(0x8877665544332211L, mmu.read64(va + 4092));
    }
}
