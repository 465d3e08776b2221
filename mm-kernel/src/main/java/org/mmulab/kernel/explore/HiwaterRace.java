package org.mmulab.kernel.explore;

import java.util.List;

import org.mmulab.kernel.mm.MmFix;
import org.mmulab.kernel.mm.MmStruct;
import org.mmulab.kernel.mm.Mmap;

/**
 * hiwater_rss (VmHWM) must be at least the highest RSS the mm ever had. Linux records it just before
 * lowering RSS (update_hiwater_rss, "update_hiwaters just in time" in seed 003) and calls the result
 * racy; the port records it from the same atomic add that lowers it. vCPU 0 faults 4 pages and
 * MADV_DONTNEEDs them while vCPU 1 faults 4 others: a fault between the zap's reading of RSS and its
 * decrease makes a peak nobody records. A monitor takes the RSS at every yield point.
 */
final class HiwaterRace extends Scenario {
    static final long BASE = 0x4000_0000L;
    static final int PAGES = 4;

    @Override
    public String name() {
        return "hiwater-race";
    }

    @Override
    public MmFix fix() {
        return MmFix.HIWATER_EXACT;
    }

    @Override
    public String description() {
        return "vCPU 0 faults and MADV_DONTNEEDs 4 pages while vCPU 1 faults 4 others";
    }

    @Override
    public String invariants() {
        return "hiwater-peak, census";
    }

    @Override
    public long horizon() {
        return 190;
    }

    @Override
    public int budget() {
        return 200;
    }

    @Override
    void run(ExploreRig rig) {
        MmStruct mm = rig.newMm();
        rig.mapAnon(mm, BASE, 2 * Mmap.PMD_SIZE, Mmap.PROT_READ | Mmap.PROT_WRITE, Mmap.MAP_PRIVATE);
        long[] peak = {0};
        rig.monitor(() -> peak[0] = Math.max(peak[0], mm.rss()));
        rig.run(List.of(cpu -> {
            mm.activate(cpu);
            for (int i = 0; i < PAGES; i++) {
                rig.store(cpu, mm, BASE + i * Mmap.PAGE_SIZE, i);
            }
            rig.mmap.madvise(mm, BASE, PAGES * Mmap.PAGE_SIZE, Mmap.MADV_DONTNEED);
        }, cpu -> {
            mm.activate(cpu);
            for (int i = 0; i < PAGES; i++) {
                rig.store(cpu, mm, BASE + Mmap.PMD_SIZE + i * Mmap.PAGE_SIZE, i);
            }
        }));
        peak[0] = Math.max(peak[0], mm.rss());
        if (mm.hiwaterRss() < peak[0]) {
            rig.violate("hiwater-peak", "hiwater_rss " + mm.hiwaterRss() + " pages, but RSS reached " + peak[0]);
        }
        rig.checkCensus(List.of(mm));
    }
}
