package org.mmulab.kernel.explore;

import java.util.List;
import java.util.function.Consumer;

import org.mmulab.emulator.machine.Vcpu;
import org.mmulab.kernel.mm.MmStruct;

/**
 * What the seed-003 VM_PFNMAP scenarios share (mm/memory.c remap_pfn_range and vm_normal_page): a new
 * mm with a private remap_pfn_range mapping of a device frame holding {@link #PATTERN} at
 * {@link #BASE}, the scenario's vCPU bodies, then the checks that the device frame's counts are
 * untouched and the census of the mm. Short runs: a 300-yield horizon, 50 seeds.
 */
abstract class PfnmapScenario extends Scenario {
    static final long BASE = 0x4000_0000L;
    static final long PATTERN = 0xdef1ce;

    @Override
    public long horizon() {
        return 300;
    }

    @Override
    public int budget() {
        return 50;
    }

    /** The bodies the vCPUs run on {@code mm}, whose device mapping is at {@link #BASE}. */
    abstract List<Consumer<Vcpu>> bodies(ExploreRig rig, MmStruct mm);

    @Override
    final void run(ExploreRig rig) {
        MmStruct mm = rig.newMm();
        ExploreRig.DeviceMapping device = rig.mapDevice(mm, BASE, PATTERN);
        rig.run(bodies(rig, mm));
        rig.checkDevice(device);
        rig.checkCensus(List.of(mm));
    }
}
