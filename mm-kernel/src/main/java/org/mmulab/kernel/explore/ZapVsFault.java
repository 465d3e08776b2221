package org.mmulab.kernel.explore;

import java.util.List;

import org.mmulab.kernel.mm.AddressSpace;
import org.mmulab.kernel.mm.MmFix;
import org.mmulab.kernel.mm.MmStruct;
import org.mmulab.kernel.mm.Mmap;

/**
 * Seed 003 ("unmap_vmas with inner ptlock"): zap_pte_range against a COW fault on a private file
 * mapping. vCPU 1 reads a file page (mapped read-only from the page cache) and writes it, then drops its
 * copy and starts again: do_wp_page
 * copies, and under the PTE lock checks pte_same, clears the PTE, installs the copy and drops the file
 * page's mapping. vCPU 0 runs MADV_DONTNEED on the page in a loop meanwhile (mmap read lock, as Linux). Without
 * the PTE lock the zap clears and unmaps the same file page between the fault's pte_same and its
 * clear: the page's mapcount and references are dropped twice.
 */
final class ZapVsFault extends Scenario {
    static final long BASE = 0x4000_0000L;
    static final int ROUNDS = 6;

    @Override
    public String name() {
        return "zap-vs-fault";
    }

    @Override
    public MmFix fix() {
        return MmFix.ZAP_PTLOCK;
    }

    @Override
    public String description() {
        return "MADV_DONTNEED on vCPU 0 vs read-then-COW-write faults of a private file page on vCPU 1";
    }

    @Override
    public String invariants() {
        return "census, kernel-bug";
    }

    @Override
    public long horizon() {
        return 480;
    }

    @Override
    public int budget() {
        return 400;
    }

    @Override
    void run(ExploreRig rig) {
        MmStruct mm = rig.newMm();
        AddressSpace file = AddressSpace.file(rig.memory.frames(), "zap-vs-fault", new byte[4096]);
        long a = rig.mmap.doMmap(mm, file, BASE, Mmap.PAGE_SIZE, Mmap.PROT_READ | Mmap.PROT_WRITE,
                Mmap.MAP_PRIVATE | Mmap.MAP_FIXED, 0, null);
        if (a != BASE) {
            throw new IllegalStateException("mmap gave " + a);
        }
        rig.run(List.of(cpu -> {
            mm.activate(cpu);
            for (int i = 0; i < 2 * ROUNDS; i++) {
                rig.mmap.madvise(mm, BASE, Mmap.PAGE_SIZE, Mmap.MADV_DONTNEED);
                rig.userWork();
            }
        }, cpu -> {
            mm.activate(cpu);
            for (int i = 0; i < ROUNDS; i++) {
                // drop the private copy, map the file page again, COW it again
                rig.mmap.madvise(mm, BASE, Mmap.PAGE_SIZE, Mmap.MADV_DONTNEED);
                rig.load(cpu, mm, BASE);
                rig.store(cpu, mm, BASE, i);
                rig.userWork();
            }
        }));
        rig.checkCensus(List.of(mm));
    }
}
