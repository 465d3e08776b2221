package org.mmulab.emulator.mmu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;
import org.mmulab.emulator.cpu.CpuState;
import org.mmulab.emulator.memory.PhysicalMemory;
import org.mmulab.emulator.timing.CacheHierarchy;
import org.mmulab.emulator.timing.WalkTiming;

/** Walker loads go through the cache model; paging-structure-cache hits skip them; STLB hits cost extra. */
class WalkTimingTest {
    @Test
    void coldWalkMissesEverywhereThenPwcAndCachesHelp() {
        PhysicalMemory mem = new PhysicalMemory(64 << 20);
        CpuState s = new CpuState();
        Mmu mmu = new Mmu(mem, s, CpuModel.SKYLAKE);
        WalkTiming t = WalkTiming.skylake();
        mmu.setTiming(t);
        PageTableBuilder pt = new PageTableBuilder(mem, 0x100000);
        s.cr3 = pt.root;
        long va = 0x1000_0000L;
        pt.map4k(va, 0x200000, Pte.P | Pte.RW | Pte.US);
        pt.map4k(va + 0x1000, 0x201000, Pte.P | Pte.RW | Pte.US);

        mmu.translate(va, PfErr.U);
        assertEquals(9 + 4 * 246, t.cycles, "STLB lookup, then four walker loads from DRAM");
        assertEquals(4, t.walkerLoadsByLevel[CacheHierarchy.MEMORY]);

        mmu.translate(va + 0x1000, PfErr.U);
        assertEquals(9 + 4 * 246 + 9 + 5, t.cycles, "PDE-cache hit: one load, same PT line in L1D");
        assertEquals(1, t.walkerLoadsByLevel[CacheHierarchy.L1]);

        long before = t.cycles;
        mmu.translate(va, PfErr.U);
        assertEquals(before, t.cycles, "an L1 dTLB hit costs nothing beyond the instruction");
    }
}
