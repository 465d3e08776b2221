package org.mmulab.kernel.explore;

import java.util.List;
import java.util.function.Consumer;

import org.mmulab.emulator.machine.Vcpu;
import org.mmulab.kernel.mm.MmFix;
import org.mmulab.kernel.mm.MmStruct;

/**
 * Seed 003's 920fc356f5 ("unpaged: COW on VM_UNPAGED") and ee498ed730 ("anon in VM_UNPAGED"): a
 * private writable remap_pfn_range mapping copies on write into anonymous pages, and do_wp_page does it
 * without touching the frame's page counts (it has no struct page for the mm). vCPUs 0 and 1 both write
 * the mapping and read back what they wrote. Reverted, do_wp_page counts the frame as the page it
 * copies from: a reference taken, its mapping removed and its RSS moved from a counter that never
 * held it.
 */
final class CowOnPfnmap extends PfnmapScenario {
    @Override
    public String name() {
        return "cow-on-pfnmap";
    }

    @Override
    public MmFix fix() {
        return MmFix.COW_PFNMAP_NO_REFCOUNT;
    }

    @Override
    public String description() {
        return "vCPUs 0 and 1 write a private remap_pfn_range mapping (copy on write from the device frame)";
    }

    @Override
    public String invariants() {
        return "pfnmap-untouched, private-write, census, kernel-bug";
    }

    @Override
    List<Consumer<Vcpu>> bodies(ExploreRig rig, MmStruct mm) {
        Consumer<Vcpu> writer = cpu -> {
            mm.activate(cpu);
            long va = BASE + 8 + 8L * cpu.id();
            if (rig.load(cpu, mm, BASE) != PATTERN) {
                rig.violate("private-write", "vCPU " + cpu.id() + " does not read the device frame's data");
            }
            rig.userWork();
            rig.store(cpu, mm, va, 0x100 + cpu.id());
            rig.userWork();
            long back = rig.load(cpu, mm, va);
            if (back != 0x100 + cpu.id()) {
                rig.violate("private-write", "vCPU " + cpu.id() + " reads back 0x" + Long.toHexString(back));
            }
        };
        return List.of(writer, writer);
    }
}
