package org.mmulab.emulator.debug;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.mmulab.emulator.cpu.CpuState;
import org.mmulab.emulator.machine.Machine;
import org.mmulab.emulator.memory.PhysicalMemory;
import org.mmulab.emulator.mmu.Pte;

/** Debug memory access (debug walk: no A/D, no TLB fill; stops at the first unreadable page) and monitor commands. */
class DebugMemoryAndMonitorTest {
    static final long URW = Pte.P | Pte.RW | Pte.US;
    static final long VA = 0x40_0000L;
    Machine machine;
    PhysicalMemory mem;
    DebugController dbg;
    long pte1;

    @BeforeEach
    void setUp() {
        machine = new Machine(16 << 20, 2);
        mem = machine.memory();
        // Hand-built 4-level tables: PML4 @1M, PDPT @1M+4K, PD @1M+8K, PT @1M+12K.
        long pml4 = 0x100000, pdpt = 0x101000, pd = 0x102000, ptab = 0x103000;
        mem.write64(pml4, pdpt | URW);
        mem.write64(pdpt, pd | URW);
        mem.write64(pd + 8 * 2, ptab | URW); // VA 0x400000 → PD index 2
        mem.write64(ptab, 0x200000 | URW); // page 0: writable
        pte1 = ptab + 8;
        mem.write64(pte1, 0x201000 | Pte.P | Pte.US); // page 1: read-only; page 2: unmapped
        for (int i = 0; i < 2; i++) {
            machine.vcpu(i).state.cr3 = pml4;
        }
        dbg = new DebugController(machine);
        mem.writeBytes(0x200ffc, new byte[] {1, 2, 3, 4}, 0, 4);
        mem.writeBytes(0x201000, new byte[] {5, 6, 7, 8}, 0, 4);
    }

    @Test
    void readsAcrossPagesAndStopsAtTheFirstUnmappedOne() {
        byte[] buf = new byte[16];
        assertEquals(8, dbg.readMemory(0, VA + 0xffc, buf, 0, 8));
        assertArrayEquals(new byte[] {1, 2, 3, 4, 5, 6, 7, 8}, java.util.Arrays.copyOf(buf, 8));
        assertEquals(4096 + 4, dbg.readMemory(0, VA + 0xffc, new byte[8192], 0, 8192), "stops at page 2");
        assertEquals(0, dbg.readMemory(0, VA + 0x2000, buf, 0, 4), "nothing readable");
        assertEquals(0, mem.read64(pte1) & Pte.A, "a debug read sets no A bit");
        assertEquals(0, machine.vcpu(0).mmu().dtlb().array(0).validCount(), "and fills no TLB");
    }

    @Test
    void writesOnlyWhereTheGuestCouldWrite() {
        byte[] data = {9, 9, 9, 9, 9, 9, 9, 9};
        assertEquals(4, dbg.writeMemory(0, VA + 0xffc, data, 0, 8), "page 1 is read-only: refused");
        assertEquals(9, mem.read8(0x200fff));
        assertEquals(5, mem.read8(0x201000));
    }

    @Test
    void physicalModeUsesPhysicalAddresses() {
        assertTrue(dbg.monitor().execute("phys on").contains("physical"));
        byte[] buf = new byte[4];
        assertEquals(4, dbg.readMemory(0, 0x201000, buf, 0, 4));
        assertArrayEquals(new byte[] {5, 6, 7, 8}, buf);
        assertEquals(0, dbg.readMemory(0, 16L << 20, buf, 0, 4), "beyond RAM");
        dbg.monitor().execute("phys off");
        assertFalse(dbg.physicalMode());
    }

    @Test
    void monitorWalkShowsEveryLevelAndAcceptsRegisterNames() {
        CpuState s = machine.vcpu(1).state;
        s.rip = VA + 0x10;
        dbg.selectCpu(1);
        String out = dbg.monitor().execute("walk $pc");
        assertTrue(out.contains("PML4E") && out.contains("PDPTE") && out.contains("PDE") && out.contains("PTE"), out);
        assertTrue(out.contains("=> PA 0x200010"), out);
        String miss = dbg.monitor().execute("walk 0x402000");
        assertTrue(miss.contains("not present"), miss);
        assertTrue(dbg.monitor().execute("walk").contains("usage"));
        assertTrue(dbg.monitor().execute("walk $bogus").contains("unknown register"));
        assertTrue(dbg.monitor().execute("nonsense").contains("unknown monitor command"));
        assertTrue(dbg.monitor().execute("help").contains("tlb"));
        assertTrue(dbg.monitor().execute("cpus").contains("cpu 1*"));
    }

    @Test
    void breakpointSetIsKeptSortedAndIdempotent() {
        dbg.addBreakpoint(0x500);
        dbg.addBreakpoint(0x100);
        dbg.addBreakpoint(0x500);
        assertTrue(dbg.isBreakpoint(0x100));
        assertTrue(dbg.removeBreakpoint(0x500));
        assertFalse(dbg.removeBreakpoint(0x500));
        assertFalse(dbg.isBreakpoint(0x500));
    }
}
