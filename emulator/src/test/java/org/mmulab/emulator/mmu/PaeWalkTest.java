package org.mmulab.emulator.mmu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.mmulab.emulator.cpu.CpuState;
import org.mmulab.emulator.cpu.GuestFault;
import org.mmulab.emulator.cpu.Vectors;
import org.mmulab.emulator.memory.PhysicalMemory;

/** PAE paging (SDM Vol. 3A §4.4): PDPTE registers, 2 MiB pages, reserved bits, NX. */
class PaeWalkTest {
    static final long URW = Pte.P | Pte.RW | Pte.US;
    PhysicalMemory mem;
    CpuState s;
    Mmu mmu;
    long pdpt = 0x10_0000L;
    long pd0 = 0x10_1000L;
    long pt0 = 0x10_2000L;

    @BeforeEach
    void setUp() {
        mem = new PhysicalMemory(64 << 20);
        s = new CpuState();
        s.efer = CpuState.EFER_NXE; // no LME/LMA: 32-bit PAE paging
        s.longMode64 = false;
        mmu = new Mmu(mem, s, 39);
        mem.write64(pdpt, pd0 | Pte.P);
        mem.write64(pd0, pt0 | URW);
        mem.write64(pt0 + 8 * 5, 0x30_0000L | URW);
        mmu.writeCr3(pdpt);
    }

    @Test
    void walksThroughPdpteRegisterPdeAndPte() {
        assertEquals(0x30_0123L, mmu.translate(0x5123, PfErr.U));
        assertEquals(2, mmu.counters.walkerLoads, "PDPTE comes from its register, not memory");
    }

    @Test
    void pdpteRegistersAreNotReReadOnAWalk() {
        mem.write64(pdpt, 0); // the in-memory PDPTE goes away; the register keeps the old value
        assertEquals(0x30_0000L, mmu.translate(0x5000, PfErr.U));
        mmu.writeCr3(pdpt); // MOV CR3 reloads
        assertEquals(0, mmu.pdpteRegister(0));
        assertThrows(GuestFault.class, () -> mmu.translate(0x5000, PfErr.U));
        assertEquals(PfErr.U, s.exceptionErrorCode);
    }

    @Test
    void reservedBitInPdpteRaisesGpAtMovCr3AndKeepsOldCr3() {
        mem.write64(pdpt + 8, 0x20_0000L | Pte.P | Pte.RW); // R/W is reserved in a PAE PDPTE
        long old = s.cr3;
        assertThrows(GuestFault.class, () -> mmu.writeCr3(pdpt));
        assertEquals(Vectors.GP, s.exceptionVector);
        assertEquals(old, s.cr3);
    }

    @Test
    void largePageAndNx() {
        mem.write64(pd0 + 8 * 2, 0x40_0000L | URW | Pte.PS | Pte.XD);
        mmu.writeCr3(pdpt);
        assertEquals(0x41_2345L, mmu.translate(0x41_2345L, PfErr.U));
        assertThrows(GuestFault.class, () -> mmu.translate(0x40_0000L, PfErr.U | PfErr.I));
        assertEquals(PfErr.P | PfErr.U | PfErr.I, s.exceptionErrorCode);
    }

    @Test
    void bit62IsReservedUnderPaeButIgnoredUnder4Level() {
        mem.write64(pt0 + 8 * 6, 0x30_1000L | URW | (1L << 62));
        assertThrows(GuestFault.class, () -> mmu.translate(0x6000, PfErr.U));
        assertEquals(PfErr.P | PfErr.U | PfErr.RSVD, s.exceptionErrorCode);
    }

    @Test
    void linearAddressesAreThirtyTwoBits() {
        assertEquals(0x30_0000L, mmu.translate(0x1_0000_5000L, PfErr.U));
    }
}
