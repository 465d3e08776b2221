package org.mmulab.emulator.mmu;

import org.junit.jupiter.api.BeforeEach;
import org.mmulab.emulator.cpu.CpuState;
import org.mmulab.emulator.memory.PhysicalMemory;

/**
 * Shared setup of the MMU tests: 64 MiB of guest RAM, a fresh vCPU state, an {@link Mmu} of the given
 * preset, and 4-level paging structures built by hand from 1 MiB up with CR3 pointing at their root.
 */
abstract class MmuFixture {
    static final long URW = Pte.P | Pte.RW | Pte.US;
    private final CpuModel model;
    PhysicalMemory mem;
    CpuState s;
    Mmu mmu;
    PageTableBuilder pt;

    MmuFixture(CpuModel model) {
        this.model = model;
    }

    @BeforeEach
    void setUpMmu() {
        mem = new PhysicalMemory(64 << 20);
        s = new CpuState();
        mmu = new Mmu(mem, s, model);
        pt = new PageTableBuilder(mem, 0x100000);
        s.cr3 = pt.root;
    }
}
