package org.mmulab.kernel.explore;

import java.util.List;

import org.mmulab.kernel.mm.Fork;
import org.mmulab.kernel.mm.MmFix;
import org.mmulab.kernel.mm.MmStruct;
import org.mmulab.kernel.mm.Mmap;

/**
 * The GUP-after-fork leak (CVE-2020-29374, Jann Horn's vmsplice case; fixed by 09854ba94c6a "mm:
 * do_wp_page() simplification", the 5.8-6.x refcount reuse rule). vCPU 0 writes a private anonymous
 * page, forks, and writes it again; vCPU 1 runs the child: it pins the shared page through GUP (a
 * read pin, as vmsplice takes), drops its own mapping with MADV_DONTNEED and later reads through the
 * pin. With 2.6's mapcount rule the parent's write fault sees mapcount 1 and writes the page in place:
 * the child's pin shows the parent's data written after the fork. With the refcount rule the pin's
 * reference forces a copy.
 */
final class GupPinCowLeak extends Scenario {
    static final long BASE = 0x4000_0000L;
    static final long BEFORE_FORK = 0x1111, AFTER_FORK = 0x5ec2e7;

    @Override
    public String name() {
        return "gup-pin-cow-leak";
    }

    @Override
    public MmFix fix() {
        return MmFix.COW_REUSE_REFCOUNT;
    }

    @Override
    public String description() {
        return "a forked child pins a COW page with GUP and unmaps it while the parent writes it";
    }

    @Override
    public String invariants() {
        return "pin-isolation, census, kernel-bug";
    }

    @Override
    public long horizon() {
        return 400;
    }

    @Override
    public int budget() {
        return 100;
    }

    @Override
    void run(ExploreRig rig) {
        MmStruct parent = rig.newMm();
        rig.mapAnon(parent, BASE, Mmap.PAGE_SIZE, Mmap.PROT_READ | Mmap.PROT_WRITE, Mmap.MAP_PRIVATE);
        MmStruct[] child = {null};
        boolean[] parentDone = {false};
        rig.run(List.of(cpu -> {
            parent.activate(cpu);
            rig.store(cpu, parent, BASE, BEFORE_FORK);
            child[0] = Fork.dupMmap(rig.memory, parent);
            rig.userWork();
            rig.store(cpu, parent, BASE, AFTER_FORK);
            parentDone[0] = true;
        }, cpu -> {
            rig.spinUntil(() -> child[0] != null);
            MmStruct mm = child[0];
            mm.activate(cpu);
            long[] pin = new long[1];
            mm.mmapLock.downRead();
            long got;
            try {
                got = rig.mmap.gup().getUserPages(mm, BASE, 1, 0, pin); // vmsplice's read pin
            } finally {
                mm.mmapLock.upRead();
            }
            if (got != 1) {
                rig.violate("gup", "get_user_pages of the child's page gave " + got);
                return;
            }
            rig.mmap.madvise(mm, BASE, Mmap.PAGE_SIZE, Mmap.MADV_DONTNEED);
            rig.spinUntil(() -> parentDone[0]);
            long seen = rig.machine.memory().read64(pin[0] << 12);
            if (seen != BEFORE_FORK) {
                rig.violate("pin-isolation", "the child's pin of pfn 0x" + Long.toHexString(pin[0]) + " reads 0x"
                        + Long.toHexString(seen) + ", written by the parent after the fork");
            }
            rig.mmap.gup().putPages(pin, 1);
        }));
        rig.checkCensus(child[0] != null ? List.of(parent, child[0]) : List.of(parent));
    }
}
