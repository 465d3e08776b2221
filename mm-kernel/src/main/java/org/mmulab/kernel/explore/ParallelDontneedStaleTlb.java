package org.mmulab.kernel.explore;

import java.util.List;

import org.mmulab.emulator.machine.Vcpu;
import org.mmulab.kernel.mm.MmFix;
import org.mmulab.kernel.mm.MmStruct;
import org.mmulab.kernel.mm.Mmap;
import org.mmulab.kernel.mm.PteBits;

/**
 * Linux 4.18's 99baac21e458 ("mm: fix MADV_[FREE|DONTNEED] TLB flush miss problem"). vCPU 2 writes a
 * page and keeps it in its TLB; vCPUs 0 and 1 both MADV_DONTNEED it under the mmap read lock. vCPU 0
 * clears the PTE and drops the PTE lock, its flush still batched; vCPU 1 finds the PTE none, zaps
 * nothing and returns — while vCPU 2's TLB still maps the old page. User space on vCPU 1 may now rely
 * on the range being gone (reuse it, hand it out) while another thread writes the old page. The fix:
 * tlb_finish_mmu sees another gather pending (mm_tlb_flush_nested) and flushes the whole mm.
 */
final class ParallelDontneedStaleTlb extends Scenario {
    static final long BASE = 0x4000_0000L;

    @Override
    public String name() {
        return "parallel-dontneed-stale-tlb";
    }

    @Override
    public MmFix fix() {
        return MmFix.TLB_FLUSH_NESTED;
    }

    @Override
    public String description() {
        return "vCPUs 0 and 1 MADV_DONTNEED a page vCPU 2 keeps in its TLB";
    }

    @Override
    public String invariants() {
        return "dontneed-unreachable, no-free-while-reachable, census";
    }

    @Override
    public int cpus() {
        return 3;
    }

    @Override
    public long horizon() {
        return 110;
    }

    @Override
    public int budget() {
        return 300;
    }

    @Override
    void run(ExploreRig rig) {
        MmStruct mm = rig.newMm();
        rig.mapAnon(mm, BASE, Mmap.PAGE_SIZE, Mmap.PROT_READ | Mmap.PROT_WRITE, Mmap.MAP_PRIVATE);
        long[] pfn = {-1};
        int[] done = {0};
        Runnable dontneed = () -> {
            rig.mmap.madvise(mm, BASE, Mmap.PAGE_SIZE, Mmap.MADV_DONTNEED);
            // madvise returned: no running vCPU may reach the page the range mapped before
            for (Vcpu v : rig.machine.vcpus()) {
                if (v.isRunning() && v.mmu().mayReach(pfn[0] << 12) && PteBits.pfn(rig.pte(mm, BASE)) != pfn[0]) {
                    rig.violate("dontneed-unreachable", "MADV_DONTNEED returned on vCPU "
                            + rig.machine.currentVcpu().id() + " while vCPU " + v.id() + " can still reach pfn 0x"
                            + Long.toHexString(pfn[0]) + " through its TLB");
                }
            }
            done[0]++;
        };
        rig.run(List.of(cpu -> {
            mm.activate(cpu);
            rig.spinUntil(() -> pfn[0] >= 0);
            dontneed.run();
        }, cpu -> {
            mm.activate(cpu);
            rig.spinUntil(() -> pfn[0] >= 0);
            dontneed.run();
        }, cpu -> {
            mm.activate(cpu);
            long pa = rig.access(cpu, mm, BASE, true);
            pfn[0] = pa >>> 12;
            rig.machine.memory().write64(pa, 42);
            rig.spinUntil(() -> done[0] == 2);
        }));
        rig.checkCensus(List.of(mm));
    }
}
