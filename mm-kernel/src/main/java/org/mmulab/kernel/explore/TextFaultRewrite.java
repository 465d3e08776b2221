package org.mmulab.kernel.explore;

import java.util.List;

import org.mmulab.emulator.machine.Vcpu;
import org.mmulab.kernel.mm.MmFix;
import org.mmulab.kernel.mm.MmStruct;
import org.mmulab.kernel.mm.Mmap;
import org.mmulab.kernel.mm.PteBits;

/**
 * Seed 003 (".text page fault SMP scalability optimization"): several vCPUs fault the same page at
 * once; the losers find the PTE already installed and must not write it again when it already allows
 * the access (ptep_set_access_flags only if the entry changes). Rewriting the identical value costs
 * every vCPU the cache line, and it is a plain store of a value read earlier: a D bit that a third
 * vCPU's page walker set in between (a locked CAS the PTE lock does not stop) is wiped. Here vCPUs 0
 * and 2 read-fault 6 shared pages together while vCPU 1 writes them.
 *
 * <p>Three orderings must line up (vCPU 2 walks before vCPU 0 installs, reads the PTE after, and vCPU
 * 1's walker sets D inside vCPU 2's one-yield window between pte_same and the store): PCT's later
 * change points raise priority, so at depth 3 it does not reach this (0 of 1,000 seeds); the uniform
 * random walk, with its many fine-grained preemptions, does within ten.
 */
final class TextFaultRewrite extends Scenario {
    static final long BASE = 0x4000_0000L;
    static final int PAGES = 6;

    @Override
    public String name() {
        return "text-fault-rewrite";
    }

    @Override
    public MmFix fix() {
        return MmFix.NO_IDENTICAL_PTE_REWRITE;
    }

    @Override
    public String description() {
        return "vCPUs 0 and 2 read-fault 6 shared pages at once while vCPU 1 writes them";
    }

    @Override
    public String invariants() {
        return "dirty-kept, census";
    }

    @Override
    public int cpus() {
        return 3;
    }

    @Override
    public Strategy strategy() {
        return Strategy.RANDOM;
    }

    @Override
    public long horizon() {
        return 360;
    }

    @Override
    public int budget() {
        return 500;
    }

    @Override
    void run(ExploreRig rig) {
        MmStruct mm = rig.newMm();
        rig.mapAnon(mm, BASE, (PAGES + 1) * Mmap.PAGE_SIZE, Mmap.PROT_READ | Mmap.PROT_WRITE, Mmap.MAP_SHARED);
        boolean[] written = new boolean[PAGES];
        rig.run(List.of(cpu -> reader(rig, mm, cpu), cpu -> {
            mm.activate(cpu);
            for (int i = 0; i < PAGES; i++) {
                written[i] = rig.store(cpu, mm, BASE + i * Mmap.PAGE_SIZE, i + 1);
            }
        }, cpu -> reader(rig, mm, cpu)));
        for (int i = 0; i < PAGES; i++) {
            long pte = rig.pte(mm, BASE + i * Mmap.PAGE_SIZE);
            if (written[i] && PteBits.present(pte) && !PteBits.dirty(pte)) {
                rig.violate("dirty-kept", "vCPU 1 wrote page " + i + " but its PTE is clean: " + PteBits.describe(pte));
            }
        }
        rig.checkCensus(List.of(mm));
    }

    private static void reader(ExploreRig rig, MmStruct mm, Vcpu cpu) {
        mm.activate(cpu);
        if (cpu.id() == 0) { // the PTE table first: the race is on the PTEs
            rig.load(cpu, mm, BASE + PAGES * Mmap.PAGE_SIZE);
        }
        for (int i = 0; i < PAGES; i++) {
            rig.load(cpu, mm, BASE + i * Mmap.PAGE_SIZE);
        }
    }
}
