package org.mmulab.emulator.mmu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.mmulab.emulator.cpu.CpuState;
import org.mmulab.emulator.memory.PhysicalMemory;

/**
 * MOV to CRn / WRMSR checks (SDM Vol. 2B MOV CR, WRMSR; Vol. 3A §2.5): every #GP case is refused and leaves the
 * registers, the TLB flush counters and the pending-exception fields exactly as they were; legal writes apply with
 * the MMU's flush rules.
 */
class ControlRegisterWritesTest {
    private final PhysicalMemory mem = new PhysicalMemory(64 << 20);
    private final CpuState s = new CpuState();   // 64-bit mode: PE|PG|WP, PAE|PGE, SCE|LME|LMA|NXE
    private final Mmu mmu = new Mmu(mem, s, 39);

    private long[] snapshot() {
        return new long[] {s.cr0, s.cr2, s.cr3, s.cr4, s.cr8, s.efer, s.fsBase, s.gsBase, s.kernelGsBase,
            mmu.counters.cr3Flushes, mmu.counters.fullFlushes, s.exceptionVector, s.exceptionErrorCode};
    }

    private void refused(boolean result) {
        assertFalse(result, "the CPU raises #GP here");
    }

    @Test
    void refusedWritesChangeNothingIn64BitMode() {
        s.cr3 = 0x10_0000L;
        long[] before = snapshot();
        refused(ControlRegisterWrites.movToCr0(mmu, s.cr0 | (1L << 32)));                 // CR0[63:32]
        refused(ControlRegisterWrites.movToCr0(mmu, s.cr0 & ~CpuState.CR0_PE));            // PG without PE
        refused(ControlRegisterWrites.movToCr0(mmu, s.cr0 | ControlRegisterWrites.CR0_NW)); // NW without CD
        refused(ControlRegisterWrites.movToCr0(mmu, s.cr0 & ~CpuState.CR0_PG));            // PG off in 64-bit mode
        refused(ControlRegisterWrites.movToCr3(mmu, 1L << 39));                            // above MAXPHYADDR
        refused(ControlRegisterWrites.movToCr3(mmu, 0x20_0000L | (1L << 63)));             // bit 63 without PCIDE
        refused(ControlRegisterWrites.movToCr4(mmu, s.cr4 | (1L << 12)));                  // LA57: not supported
        refused(ControlRegisterWrites.movToCr4(mmu, s.cr4 | (1L << 16)));                  // FSGSBASE: not advertised
        refused(ControlRegisterWrites.movToCr4(mmu, s.cr4 & ~CpuState.CR4_PAE));           // PAE off in IA-32e mode
        assertEquals(java.util.Arrays.toString(before), java.util.Arrays.toString(snapshot()));
        s.cr3 = 0x10_0001L;
        before = snapshot();
        refused(ControlRegisterWrites.movToCr4(mmu, s.cr4 | CpuState.CR4_PCIDE));          // PCIDE with CR3[11:0]!=0
        refused(ControlRegisterWrites.movToCr8(mmu, 0x10));                                // CR8[63:4]
        refused(ControlRegisterWrites.wrmsrEfer(mmu, s.efer | 2));                         // reserved EFER bit
        refused(ControlRegisterWrites.wrmsrEfer(mmu, s.efer & ~CpuState.EFER_LME));        // LME with paging on
        refused(ControlRegisterWrites.wrmsrBase(mmu, ControlRegisterWrites.BaseMsr.KERNEL_GS_BASE, 0x0000_8000_0000_0000L));
        refused(ControlRegisterWrites.wrmsrBase(mmu, ControlRegisterWrites.BaseMsr.FS_BASE, 0x1234_0000_0000_0000L));
        assertEquals(java.util.Arrays.toString(before), java.util.Arrays.toString(snapshot()));
    }

    @Test
    void legalWritesApplyWithTheMmusFlushRules() {
        long full = mmu.counters.fullFlushes;
        assertTrue(ControlRegisterWrites.movToCr4(mmu, s.cr4 | CpuState.CR4_SMEP));
        assertTrue((s.cr4 & CpuState.CR4_SMEP) != 0);
        assertEquals(full + 1, mmu.counters.fullFlushes, "toggling SMEP flushes everything");
        long cr3Flushes = mmu.counters.cr3Flushes;
        assertTrue(ControlRegisterWrites.movToCr3(mmu, 0x20_0000L));
        assertEquals(0x20_0000L, s.cr3);
        assertEquals(cr3Flushes + 1, mmu.counters.cr3Flushes);
        assertTrue(ControlRegisterWrites.movToCr4(mmu, s.cr4 | CpuState.CR4_PCIDE));   // CR3[11:0] = 0: allowed
        assertTrue(ControlRegisterWrites.movToCr3(mmu, 0x30_0005L | (1L << 63)));       // PCID 5, no flush
        assertEquals(0x30_0005L, s.cr3);
        assertEquals(cr3Flushes + 1, mmu.counters.cr3Flushes, "bit 63 with PCIDE: no flush");
        assertTrue(ControlRegisterWrites.movToCr2(mmu, 0xdead_beef_0000L));
        assertEquals(0xdead_beef_0000L, s.cr2);
        assertTrue(ControlRegisterWrites.movToCr8(mmu, 0xf));
        assertEquals(0xf, s.cr8);
        assertTrue(ControlRegisterWrites.wrmsrEfer(mmu, s.efer & ~CpuState.EFER_LMA & ~CpuState.EFER_NXE));
        assertEquals(CpuState.EFER_SCE | CpuState.EFER_LME | CpuState.EFER_LMA, s.efer, "LMA is read-only");
        assertTrue(ControlRegisterWrites.wrmsrBase(mmu, ControlRegisterWrites.BaseMsr.KERNEL_GS_BASE,
                0xffff_8000_0000_1000L));
        assertEquals(0xffff_8000_0000_1000L, s.kernelGsBase);
        assertTrue(ControlRegisterWrites.movToCr0(mmu, s.cr0 | ControlRegisterWrites.CR0_CD | (1L << 10)));
        assertEquals(CpuState.CR0_PE | CpuState.CR0_PG | CpuState.CR0_WP | ControlRegisterWrites.CR0_CD, s.cr0,
                "reserved CR0[31:0] bits are ignored");
    }

    @Test
    void underPaePagingABadPdpteRefusesCr3AndCr4WritesWithoutAFlush() {
        s.efer = CpuState.EFER_NXE;   // 32-bit PAE paging
        s.longMode64 = false;
        long pdpt = 0x10_0000L;
        mem.write64(pdpt, 0x10_1000L | Pte.P);
        mmu.writeCr3(pdpt);
        long bad = 0x11_0000L;
        mem.write64(bad + 8, 0x20_0000L | Pte.P | Pte.RW);   // R/W is reserved in a PAE PDPTE
        long[] before = snapshot();
        refused(ControlRegisterWrites.movToCr3(mmu, bad));
        refused(ControlRegisterWrites.movToCr3(mmu, 1L << 32));                           // 32-bit register
        mem.write64(pdpt + 16, 0x20_0000L | Pte.P | Pte.RW);   // now the live PDPT is bad too...
        refused(ControlRegisterWrites.movToCr4(mmu, s.cr4 ^ CpuState.CR4_PGE));           // ...and PGE reloads it
        refused(ControlRegisterWrites.movToCr4(mmu, s.cr4 | CpuState.CR4_PCIDE));         // PCIDE needs IA-32e
        refused(ControlRegisterWrites.movToCr2(mmu, 1L << 32));
        assertEquals(java.util.Arrays.toString(before), java.util.Arrays.toString(snapshot()));
        mem.write64(pdpt + 16, 0);
        assertTrue(ControlRegisterWrites.movToCr4(mmu, s.cr4 ^ CpuState.CR4_PGE));
        assertTrue(ControlRegisterWrites.movToCr3(mmu, pdpt + 0x1000));   // an all-zero PDPT is loadable
        assertEquals(pdpt + 0x1000, s.cr3);
    }
}
