package org.mmulab.kernel.explore;

import java.util.List;

import org.mmulab.kernel.mm.MmFix;
import org.mmulab.kernel.mm.MmStruct;
import org.mmulab.kernel.mm.Mmap;

/**
 * mm/mmu_gather.c: tlb_flush_mmu shoots down the TLBs before it frees the batched pages. vCPU 1 writes
 * 4 pages and keeps reading them; vCPU 0 munmaps them. Freed before the flush, a frame goes back to the
 * allocator while vCPU 1's TLB still maps it: the next owner's data would be vCPU 1's to read and write.
 */
final class MmuGatherFreeBeforeFlush extends Scenario {
    static final long BASE = 0x4000_0000L;
    static final int PAGES = 4;

    @Override
    public String name() {
        return "mmu-gather-free-before-flush";
    }

    @Override
    public MmFix fix() {
        return MmFix.GATHER_FLUSH_BEFORE_FREE;
    }

    @Override
    public String description() {
        return "vCPU 0 munmaps 4 pages that vCPU 1 wrote and keeps in its TLB";
    }

    @Override
    public String invariants() {
        return "no-free-while-reachable, census";
    }

    @Override
    public long horizon() {
        return 180;
    }

    @Override
    public int budget() {
        return 100;
    }

    @Override
    void run(ExploreRig rig) {
        MmStruct mm = rig.newMm();
        rig.mapAnon(mm, BASE, PAGES * Mmap.PAGE_SIZE, Mmap.PROT_READ | Mmap.PROT_WRITE, Mmap.MAP_PRIVATE);
        int[] state = {0};
        rig.run(List.of(cpu -> {
            mm.activate(cpu);
            rig.spinUntil(() -> state[0] >= 1);
            rig.mmap.doMunmap(mm, BASE, PAGES * Mmap.PAGE_SIZE);
            state[0] = 2;
        }, cpu -> {
            mm.activate(cpu);
            for (int i = 0; i < PAGES; i++) {
                rig.store(cpu, mm, BASE + i * Mmap.PAGE_SIZE, i + 1);
            }
            state[0] = 1;
            rig.spinUntil(() -> state[0] == 2);
        }));
        rig.checkCensus(List.of(mm));
    }
}
