package org.mmulab.kernel.explore;

import java.util.List;

import org.mmulab.kernel.mm.MmFix;
import org.mmulab.kernel.mm.MmStruct;
import org.mmulab.kernel.mm.Mmap;

/**
 * Seed 000: two vCPUs write-fault pages that share a PTE table not yet allocated. Each finds the PMD
 * none and allocates a table; without page_table_lock and the pmd_none re-check in __pte_alloc the
 * second populate overwrites the first, orphaning the table with the other vCPU's new PTE in it: its
 * write is lost and the census finds a page table counted but unreachable and a page mapped by no PTE.
 */
final class PteAllocNoPtlock extends Scenario {
    static final long BASE = 0x4000_0000L;
    static final int REGIONS = 4;

    @Override
    public String name() {
        return "pte-alloc-no-ptlock";
    }

    @Override
    public MmFix fix() {
        return MmFix.PTE_ALLOC_PTLOCK;
    }

    @Override
    public String description() {
        return "2 vCPUs write-fault neighbouring pages of 4 PMD ranges with no PTE table yet";
    }

    @Override
    public String invariants() {
        return "no-lost-write, census";
    }

    @Override
    public long horizon() {
        return 170;
    }

    @Override
    public int budget() {
        return 200;
    }

    private static long page(int region, int cpu) {
        return BASE + region * Mmap.PMD_SIZE + cpu * Mmap.PAGE_SIZE;
    }

    @Override
    void run(ExploreRig rig) {
        MmStruct mm = rig.newMm();
        rig.mapAnon(mm, BASE, REGIONS * Mmap.PMD_SIZE, Mmap.PROT_READ | Mmap.PROT_WRITE, Mmap.MAP_PRIVATE);
        rig.run(List.of(cpu -> body(rig, mm, cpu.id(), cpu), cpu -> body(rig, mm, cpu.id(), cpu)));
        for (int r = 0; r < REGIONS; r++) {
            for (int c = 0; c < 2; c++) {
                long va = page(r, c);
                long pte = rig.pte(mm, va);
                long want = value(r, c);
                long got = (pte & 1) == 0 ? 0 : rig.machine.memory().read64(org.mmulab.kernel.mm.PteBits.pfn(pte) << 12);
                if (got != want) {
                    rig.violate("no-lost-write", "vCPU " + c + " stored 0x" + Long.toHexString(want) + " at 0x"
                            + Long.toHexString(va) + ", the page tables now give 0x" + Long.toHexString(got));
                }
            }
        }
        rig.checkCensus(List.of(mm));
    }

    private static long value(int region, int cpu) {
        return 0x1000 * (region + 1) + cpu + 1;
    }

    private static void body(ExploreRig rig, MmStruct mm, int id, org.mmulab.emulator.machine.Vcpu cpu) {
        mm.activate(cpu);
        for (int r = 0; r < REGIONS; r++) {
            rig.store(cpu, mm, page(r, id), value(r, id));
        }
    }
}
