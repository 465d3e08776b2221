package org.mmulab.kernel.explore;

import java.util.List;

import org.mmulab.emulator.machine.Vcpu;
import org.mmulab.kernel.mm.MmFix;
import org.mmulab.kernel.mm.MmStruct;
import org.mmulab.kernel.mm.Mmap;

/**
 * Seed 003 ("page fault handler locking"): under PAE a PTE is two 32-bit words. Two vCPUs write-fault
 * the same pages at once; one installs the PTE (native_set_pte: high word, then low word) while the
 * other's handle_pte_fault reads it without the lock between the two stores and sees the new high word
 * (NX) with the old empty low word: neither none nor present, a "swap entry" stitched together from
 * unrelated parts. pte_unmap_same revalidates it under the PTE lock and retries; trusting it gives the
 * guest a SIGBUS on a valid writable mapping.
 */
final class PaeTornPte extends Scenario {
    static final long BASE = 0x4000_0000L;
    static final int PAGES = 8;

    @Override
    public String name() {
        return "pae-torn-pte";
    }

    @Override
    public MmFix fix() {
        return MmFix.PTE_UNMAP_SAME;
    }

    @Override
    public String description() {
        return "PAE: 2 vCPUs write-fault the same 8 pages at once (one installs while the other reads locklessly)";
    }

    @Override
    public String invariants() {
        return "no-spurious-signal, census";
    }

    @Override
    public boolean pae() {
        return true;
    }

    @Override
    public long horizon() {
        return 500;
    }

    @Override
    public int budget() {
        return 300;
    }

    @Override
    void run(ExploreRig rig) {
        MmStruct mm = rig.newMm();
        // one page beyond the 8 populates the PTE table first: the race is on the PTEs, not the table
        rig.mapAnon(mm, BASE, (PAGES + 1) * Mmap.PAGE_SIZE, Mmap.PROT_READ | Mmap.PROT_WRITE, Mmap.MAP_PRIVATE);
        rig.run(List.of(cpu -> body(rig, mm, cpu), cpu -> body(rig, mm, cpu)));
        rig.checkCensus(List.of(mm));
    }

    private static void body(ExploreRig rig, MmStruct mm, Vcpu cpu) {
        mm.activate(cpu);
        if (cpu.id() == 0) {
            rig.store(cpu, mm, BASE + PAGES * Mmap.PAGE_SIZE, 1);
        }
        for (int i = 0; i < PAGES; i++) {
            if (!rig.store(cpu, mm, BASE + i * Mmap.PAGE_SIZE, cpu.id() + 1)) {
                return;
            }
        }
    }
}
