package org.mmulab.kernel.explore;

import java.util.List;

import org.mmulab.emulator.machine.Vcpu;
import org.mmulab.kernel.mm.MmFix;
import org.mmulab.kernel.mm.MmStruct;
import org.mmulab.kernel.mm.Mmap;

/**
 * Seed 003 ("fix rss and mmlist locking"): once the page-table lock is split per table, two vCPUs
 * faulting pages of different PTE tables hold different locks, and nothing serializes their updates of
 * the mm's RSS counters any more. Non-atomic, one increment is lost: the census finds the anon counter
 * below the pages the page tables map (and a later munmap would drive it negative).
 */
final class RssCounterRace extends Scenario {
    static final long BASE = 0x4000_0000L;
    static final int PAGES = 6;

    @Override
    public String name() {
        return "rss-counter-race";
    }

    @Override
    public MmFix fix() {
        return MmFix.RSS_ATOMIC;
    }

    @Override
    public String description() {
        return "2 vCPUs write-fault 6 pages each in two PTE tables (two split locks)";
    }

    @Override
    public String invariants() {
        return "census";
    }

    @Override
    public long horizon() {
        return 270;
    }

    @Override
    public int budget() {
        return 100;
    }

    @Override
    void run(ExploreRig rig) {
        MmStruct mm = rig.newMm();
        rig.mapAnon(mm, BASE, 2 * Mmap.PMD_SIZE, Mmap.PROT_READ | Mmap.PROT_WRITE, Mmap.MAP_PRIVATE);
        rig.run(List.of(cpu -> body(rig, mm, cpu), cpu -> body(rig, mm, cpu)));
        rig.checkCensus(List.of(mm));
    }

    private static void body(ExploreRig rig, MmStruct mm, Vcpu cpu) {
        mm.activate(cpu);
        long base = BASE + cpu.id() * Mmap.PMD_SIZE;
        for (int i = 0; i < PAGES; i++) {
            rig.store(cpu, mm, base + i * Mmap.PAGE_SIZE, i);
        }
    }
}
