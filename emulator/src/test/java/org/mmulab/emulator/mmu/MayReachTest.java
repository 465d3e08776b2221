package org.mmulab.emulator.mmu;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.mmulab.emulator.cpu.CpuState;
import org.mmulab.emulator.memory.PhysicalMemory;

/**
 * {@link Mmu#mayReach} (for --check's "no frame freed while a vCPU can still reach it"): a data frame
 * through the TLBs and the fast path, a page-table frame through the paging-structure caches, the
 * root through CR3, 2 MiB pages by every 4 KiB frame inside them, the interpreter's fetch frame; and
 * nothing after the flushes that drop them.
 */
class MayReachTest {
    static final long URW = Pte.P | Pte.RW | Pte.US;
    static final long VA = 0x1000_0000L, BIG = 0x4000_0000L;

    @Test
    void tlbsCachesFastPathAndFetchFrame() {
        PhysicalMemory mem = new PhysicalMemory(64 << 20);
        CpuState s = new CpuState();
        s.cpl = 3;
        Mmu mmu = new Mmu(mem, s, CpuModel.SKYLAKE);
        PageTableBuilder pt = new PageTableBuilder(mem, 0x100000);
        s.cr3 = pt.root;
        long pte = pt.map4k(VA, 0x200000, URW | Pte.D);
        long ptFrame = pte & ~0xfffL;
        pt.map2m(BIG, 0x400000, URW | Pte.D);
        assertFalse(mmu.mayReach(0x200000));
        assertFalse(mmu.mayReach(ptFrame));

        for (int i = 0; i < 3; i++) {
            mmu.read64(VA); // walk, L1 hit, fast-path hit
        }
        mmu.read64(BIG + 0x5000);
        assertTrue(mmu.mayReach(0x200000), "dTLB / fast path");
        assertTrue(mmu.mayReach(ptFrame), "the PDE cache points at the page table");
        assertTrue(mmu.mayReach(0x400000 + 0x1f_f000), "any 4 KiB frame of a cached 2 MiB page");
        assertTrue(mmu.mayReach(pt.root), "CR3's root");

        mmu.invlpg(VA);
        assertFalse(mmu.mayReach(0x200000), "INVLPG dropped the TLB and fast-path entries");
        assertFalse(mmu.mayReach(ptFrame), "INVLPG dropped the paging-structure caches");
        assertTrue(mmu.mayReach(0x400000));
        mmu.flushAll();
        assertFalse(mmu.mayReach(0x400000));

        mmu.setFetchFrame(0x300123);
        assertTrue(mmu.mayReach(0x300000), "the interpreter's cached fetch page");
        mmu.setFetchFrame(-1);
        assertFalse(mmu.mayReach(0x300000));
    }
}
