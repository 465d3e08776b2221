package org.mmulab.kernel.explore;

import java.util.List;

import org.mmulab.kernel.mm.Memory;
import org.mmulab.kernel.mm.MmFix;
import org.mmulab.kernel.mm.MmStruct;
import org.mmulab.kernel.mm.Mmap;
import org.mmulab.kernel.mm.PteBits;

/**
 * mm/mprotect.c change_pte_range: a shared writable mapping (shmem) of 6 clean pages; vCPU 1 writes
 * them while vCPU 0 mprotects the range read-only. The walker sets D with a locked CAS the PTE lock
 * does not stop; change_pte_range must build the new PTE from ptep_modify_prot_start's atomic
 * get-and-clear. Built from its earlier plain read, the PTE loses a D set in between: the write is
 * never written back (shmem: lost at swap-out; a file: never reaches the disk).
 */
final class MprotectLostDirty extends Scenario {
    static final long BASE = 0x4000_0000L;
    static final int PAGES = 6;

    @Override
    public String name() {
        return "mprotect-lost-dirty";
    }

    @Override
    public MmFix fix() {
        return MmFix.MODIFY_PROT_START;
    }

    @Override
    public String description() {
        return "vCPU 1 writes 6 clean shared pages while vCPU 0 mprotects them read-only";
    }

    @Override
    public String invariants() {
        return "dirty-kept, census";
    }

    @Override
    public long horizon() {
        return 45;
    }

    @Override
    public int budget() {
        return 200;
    }

    @Override
    void run(ExploreRig rig) {
        MmStruct mm = rig.newMm();
        rig.mapAnon(mm, BASE, PAGES * Mmap.PAGE_SIZE, Mmap.PROT_READ | Mmap.PROT_WRITE, Mmap.MAP_SHARED);
        for (int i = 0; i < PAGES; i++) { // clean, writable PTEs (read faults from the setup thread)
            rig.memory.handleMmFault(mm.findVma(BASE), BASE + i * Mmap.PAGE_SIZE, Memory.FAULT_FLAG_USER);
        }
        boolean[] written = new boolean[PAGES];
        rig.run(List.of(cpu -> {
            mm.activate(cpu);
            rig.userWork();
            rig.mmap.mprotect(mm, BASE, PAGES * Mmap.PAGE_SIZE, Mmap.PROT_READ);
        }, cpu -> {
            mm.activate(cpu);
            for (int i = 0; i < PAGES; i++) {
                long pa = rig.access(cpu, mm, BASE + i * Mmap.PAGE_SIZE, true);
                if (pa < 0) {
                    return; // the mprotect came first: SIGSEGV is right
                }
                rig.machine.memory().write64(pa, i + 1);
                written[i] = true;
            }
        }));
        for (int i = 0; i < PAGES; i++) {
            long pte = rig.pte(mm, BASE + i * Mmap.PAGE_SIZE);
            if (written[i] && PteBits.present(pte) && !PteBits.dirty(pte)) {
                rig.violate("dirty-kept", "vCPU 1 wrote page " + i + " but its PTE is clean: " + PteBits.describe(pte));
            }
        }
        rig.checkCensus(List.of(mm));
    }
}
