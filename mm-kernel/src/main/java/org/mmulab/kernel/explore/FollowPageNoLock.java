package org.mmulab.kernel.explore;

import java.util.List;

import org.mmulab.kernel.mm.MmFix;
import org.mmulab.kernel.mm.MmStruct;
import org.mmulab.kernel.mm.Mmap;

/**
 * Seed 003's deceb6cd17 ("follow_page with inner ptlock"): follow_page looks at the PTE and takes its
 * page reference under the PTE table's lock, so a zap cannot clear the PTE and free the page between
 * the look and the reference. vCPU 0, running another process, reads the page through get_user_pages in
 * a loop (what process_vm_readv does, FOLL_REMOTE: no TLB shootdown of the target mm waits for it); vCPU 1 writes it, MADV_DONTNEEDs it, and writes another page (which gets the
 * frame just freed) in a loop. Without the lock the reference lands on a page the zap has already freed:
 * get_page on a free page, or a reference to the other page, whose data GUP then reads as this one's.
 */
final class FollowPageNoLock extends Scenario {
    static final long BASE = 0x4000_0000L, OTHER = BASE + Mmap.PAGE_SIZE;
    static final long SECRET = 0x5ec2e7;
    static final int ROUNDS = 5;

    @Override
    public String name() {
        return "follow-page-no-lock";
    }

    @Override
    public MmFix fix() {
        return MmFix.FOLLOW_PAGE_PTLOCK;
    }

    @Override
    public String description() {
        return "get_user_pages reads a page on vCPU 0 while vCPU 1 writes and MADV_DONTNEEDs it";
    }

    @Override
    public String invariants() {
        return "gup-reads-its-page, kernel-bug (get_page on a free page), census";
    }

    /** The window (PTE read to reference, then the zap's free before the page's reuse) needs several preemptions. */
    @Override
    public Strategy strategy() {
        return Strategy.RANDOM;
    }

    @Override
    public long horizon() {
        return 500;
    }

    @Override
    public int budget() {
        return 200;
    }

    @Override
    void run(ExploreRig rig) {
        MmStruct mm = rig.newMm();
        rig.mapAnon(mm, BASE, 2 * Mmap.PAGE_SIZE, Mmap.PROT_READ | Mmap.PROT_WRITE, Mmap.MAP_PRIVATE);
        MmStruct reader = rig.newMm();
        rig.run(List.of(cpu -> {
            reader.activate(cpu); // another process: vCPU 0 is not in mm_cpumask, no shootdown waits for it
            long[] page = new long[1];
            for (int i = 0; i < 2 * ROUNDS; i++) {
                mm.mmapLock.downRead();
                long got;
                try {
                    got = rig.mmap.gup().getUserPages(mm, BASE, 1, 0, page);
                } finally {
                    mm.mmapLock.upRead();
                }
                if (got == 1) {
                    long v = rig.machine.memory().read64(page[0] << 12);
                    if (v == SECRET) {
                        rig.violate("gup-reads-its-page", "get_user_pages of 0x" + Long.toHexString(BASE)
                                + " gave pfn 0x" + Long.toHexString(page[0]) + ", which holds the data of 0x"
                                + Long.toHexString(OTHER));
                    }
                    rig.mmap.gup().putPages(page, 1);
                }
                rig.userWork();
            }
        }, cpu -> {
            mm.activate(cpu);
            for (int i = 0; i < ROUNDS; i++) {
                rig.store(cpu, mm, BASE, i + 1);
                rig.mmap.madvise(mm, BASE, Mmap.PAGE_SIZE, Mmap.MADV_DONTNEED);
                rig.store(cpu, mm, OTHER, SECRET); // reuses the page just freed (the free lists are LIFO)
                rig.mmap.madvise(mm, OTHER, Mmap.PAGE_SIZE, Mmap.MADV_DONTNEED);
                rig.userWork();
            }
        }));
        rig.checkCensus(List.of(mm));
    }
}
