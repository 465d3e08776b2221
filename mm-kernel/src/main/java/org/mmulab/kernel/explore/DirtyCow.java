package org.mmulab.kernel.explore;

import java.nio.charset.StandardCharsets;
import java.util.List;

import org.mmulab.kernel.mm.AddressSpace;
import org.mmulab.kernel.mm.MmFix;
import org.mmulab.kernel.mm.MmStruct;
import org.mmulab.kernel.mm.Mmap;

/**
 * Dirty COW (CVE-2016-5195, fixed by 19be0eaffa3a; 6.x's can_follow_write_pte). vCPU 0 writes a private,
 * read-only file mapping through GUP with FOLL_FORCE (what /proc/pid/mem and ptrace do:
 * {@code Gup.accessRemoteVm}); vCPU 1 runs MADV_DONTNEED on the page in a loop, both under the mmap read
 * lock. The forced write fault makes an anonymous COW copy; with the pre-2016 rule GUP then drops
 * FOLL_WRITE and follows the page read-only — so if the zap lands between the fault and the retry, the
 * retry read-faults the file's page-cache page back in and the "private" write goes into the file.
 */
final class DirtyCow extends Scenario {
    static final long BASE = 0x4000_0000L;
    static final int ROUNDS = 4;
    static final byte[] ORIGINAL = "read-only file contents".getBytes(StandardCharsets.US_ASCII);
    static final byte[] WRITE = "DIRTY-COW".getBytes(StandardCharsets.US_ASCII);

    @Override
    public String name() {
        return "dirty-cow";
    }

    @Override
    public MmFix fix() {
        return MmFix.FOLL_COW;
    }

    @Override
    public String description() {
        return "FOLL_FORCE writes through GUP to a private read-only file page on vCPU 0 vs MADV_DONTNEED on vCPU 1";
    }

    @Override
    public String invariants() {
        return "page-cache-intact, census, kernel-bug";
    }

    @Override
    public long horizon() {
        return 600;
    }

    @Override
    public int budget() {
        return 200;
    }

    @Override
    void run(ExploreRig rig) {
        MmStruct mm = rig.newMm();
        byte[] data = new byte[4096];
        System.arraycopy(ORIGINAL, 0, data, 0, ORIGINAL.length);
        AddressSpace file = AddressSpace.file(rig.memory.frames(), "dirty-cow", data);
        long a = rig.mmap.doMmap(mm, file, BASE, Mmap.PAGE_SIZE, Mmap.PROT_READ, Mmap.MAP_PRIVATE | Mmap.MAP_FIXED, 0, null);
        if (a != BASE) {
            throw new IllegalStateException("mmap gave " + a);
        }
        rig.run(List.of(cpu -> {
            mm.activate(cpu);
            for (int i = 0; i < ROUNDS; i++) {
                int n = rig.mmap.gup().accessRemoteVm(mm, BASE, WRITE, 0, WRITE.length, true, true);
                if (n != WRITE.length) {
                    rig.violate("forced-write", "a FOLL_FORCE write of a private mapping wrote " + n + " bytes");
                }
                rig.userWork();
            }
        }, cpu -> {
            mm.activate(cpu);
            for (int i = 0; i < 2 * ROUNDS; i++) {
                rig.mmap.madvise(mm, BASE, Mmap.PAGE_SIZE, Mmap.MADV_DONTNEED);
                rig.userWork();
            }
        }));
        long pfn = file.findPage(0);
        if (pfn >= 0) {
            byte[] now = new byte[ORIGINAL.length];
            rig.machine.memory().readBytes(pfn << 12, now, 0, now.length);
            rig.memory.frames().put(pfn);
            if (!java.util.Arrays.equals(now, ORIGINAL)) {
                rig.violate("page-cache-intact", "the file's page now reads \""
                        + new String(now, StandardCharsets.US_ASCII) + "\": a private write reached the page cache");
            }
        }
        rig.checkCensus(List.of(mm));
    }
}
