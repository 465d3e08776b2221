package org.mmulab.kernel.explore;

import java.util.List;
import java.util.function.Consumer;

import org.mmulab.emulator.machine.Vcpu;
import org.mmulab.kernel.mm.MmFix;
import org.mmulab.kernel.mm.MmStruct;

/**
 * Seed 003's 1ff8038988 ("get_user_pages: don't try to follow PFNMAP pages", with 6aab341e0a's
 * vm_normal_page): a remap_pfn_range mapping's frames have no struct page for the mm to count. vCPU 0
 * reads the mapping through get_user_pages (process_vm_readv) while vCPU 1 reads it through its own
 * MMU. With the fix GUP refuses the VMA (EFAULT); reverted, GUP follows it as 2.6.14's did for a driver
 * that cleared VM_IO, takes pte_page of the frame and counts references on it — references its put
 * never gives back, as the frame is the driver's (reserved), not the page allocator's.
 */
final class GupFollowsPfnmap extends PfnmapScenario {
    static final int ROUNDS = 3;

    @Override
    public String name() {
        return "gup-follows-pfnmap";
    }

    @Override
    public MmFix fix() {
        return MmFix.GUP_NO_PFNMAP;
    }

    @Override
    public String description() {
        return "get_user_pages of a remap_pfn_range mapping on vCPU 0 while vCPU 1 reads it";
    }

    @Override
    public String invariants() {
        return "pfnmap-untouched, census, kernel-bug";
    }

    @Override
    List<Consumer<Vcpu>> bodies(ExploreRig rig, MmStruct mm) {
        return List.of(cpu -> {
            mm.activate(cpu);
            byte[] buf = new byte[8];
            for (int i = 0; i < ROUNDS; i++) {
                rig.mmap.gup().accessRemoteVm(mm, BASE, buf, 0, buf.length, false, false);
                rig.userWork();
            }
        }, cpu -> {
            mm.activate(cpu);
            for (int i = 0; i < ROUNDS; i++) {
                if (rig.load(cpu, mm, BASE) != PATTERN) {
                    rig.violate("pfnmap-data", "vCPU 1 reads the device frame wrong");
                }
                rig.userWork();
            }
        });
    }
}
