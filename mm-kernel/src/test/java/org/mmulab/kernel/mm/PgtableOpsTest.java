package org.mmulab.kernel.mm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.mmulab.emulator.memory.PhysicalMemory;

class PgtableOpsTest {
    @Test
    void paeEntriesAreTwoHalvesWithLowWordCarryingPresent() {
        PhysicalMemory mem = new PhysicalMemory(1L << 20);
        PaePgtable pae = new PaePgtable(mem);
        long e = 0x8000_0001_2345_6067L; // NX, high address bits, P|RW|US|A|D
        pae.set(0x1000, e);
        assertEquals(e, pae.get(0x1000));
        assertEquals(e, pae.getLockless(0x1000));
        assertEquals(0x2345_6067, mem.read32(0x1000), "low word");
        assertEquals(0x8000_0001, mem.read32(0x1004), "high word");
        assertEquals(e, pae.getAndClear(0x1000));
        assertEquals(0, mem.read64(0x1000));
        pae.set(0x1000, e);
        pae.clear(0x1000);
        assertEquals(0, pae.get(0x1000));
        assertEquals(4, pae.entries(3));
        assertEquals(30, pae.shift(3));
        assertEquals(0x5000 | 1, pae.mkTable(3, 5), "PDPTE: only P");
        assertFalse(pae.tableBad(3, pae.mkTable(3, 5)));
        assertTrue(pae.tableBad(3, PteBits.mkTable(5)), "RW/US are reserved in a PDPTE");
        assertEquals(0x1000 + 3 * 8, pae.entryAddr(0x1000, 0xC000_0000L, 3));
    }

    @Test
    void x86_64EntryIndexing() {
        X86_64Pgtable ops = new X86_64Pgtable(new PhysicalMemory(1L << 20));
        long va = 0x7fff_ffff_f000L;
        assertEquals(0x2000 + 255 * 8, ops.entryAddr(0x2000, va, 4));
        assertEquals(0x2000 + 511 * 8, ops.entryAddr(0x2000, va, 3));
        assertEquals(0x2000 + 511 * 8, ops.entryAddr(0x2000, va, 2));
        assertEquals(0x2000 + 511 * 8, ops.entryAddr(0x2000, va, 1));
    }
}
