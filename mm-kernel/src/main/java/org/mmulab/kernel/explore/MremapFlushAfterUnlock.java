package org.mmulab.kernel.explore;

import java.util.List;

import org.mmulab.kernel.mm.MmFix;
import org.mmulab.kernel.mm.MmStruct;
import org.mmulab.kernel.mm.Mmap;
import org.mmulab.kernel.mm.Mremap;
import org.mmulab.kernel.mm.PteBits;

/**
 * CVE-2018-18281 (fixed by eb66ae030829 "mremap: properly flush TLB before releasing the page"). vCPU 1
 * writes a page and keeps reading it through its TLB; vCPU 0 moves it with mremap. move_ptes clears the
 * old PTE and sets the new one under both PTE locks and must flush the old translation before it drops
 * them: from the unlock on, a zap through the new address can free the page (in Linux a truncate that
 * reaches the file through i_mmap without the mmap lock, when need_rmap_locks is false) while vCPU 1
 * still reads and writes it through the old one.
 *
 * <p>The invariant is the TLB protocol the fix restores, checked at every yield point: once the old
 * PTE is gone and its table's lock is free, no vCPU reaches the moved page through a stale entry. The
 * port cannot take the free itself: its move_page_tables holds the file's i_mmap lock across every PTE
 * batch (need_rmap_locks is always true), and an anonymous page can only be zapped under the mmap lock
 * mremap holds for writing.
 */
final class MremapFlushAfterUnlock extends Scenario {
    static final long OLD = 0x4000_0000L, NEW = 0x5000_0000L;

    @Override
    public String name() {
        return "mremap-flush-after-unlock";
    }

    @Override
    public MmFix fix() {
        return MmFix.MREMAP_FLUSH_BEFORE_UNLOCK;
    }

    @Override
    public String description() {
        return "vCPU 0 mremaps a page vCPU 1 keeps reading through its TLB";
    }

    @Override
    public String invariants() {
        return "tlb-stale-after-unlock, no-free-while-reachable, census";
    }

    @Override
    public long horizon() {
        return 300;
    }

    @Override
    public int budget() {
        return 100;
    }

    @Override
    void run(ExploreRig rig) {
        MmStruct mm = rig.newMm();
        rig.mapAnon(mm, OLD, Mmap.PAGE_SIZE, Mmap.PROT_READ | Mmap.PROT_WRITE, Mmap.MAP_PRIVATE);
        long[] pfn = {-1};
        boolean[] moved = {false};
        long[] table = {-1};
        boolean[] reported = {false};
        rig.monitor(() -> {
            if (pfn[0] < 0 || moved[0] || reported[0] || PteBits.present(rig.pte(mm, OLD))
                    || PteBits.pfn(rig.pte(mm, NEW)) != pfn[0] || rig.pteTable(mm, OLD) != table[0]
                    || rig.memory.frames().ptlock(table[0]).isLocked()) {
                return; // (the old table may be gone: munmap of the old range frees it)
            }
            if (rig.machine.vcpus().get(1).mmu().mayReach(pfn[0] << 12)) {
                reported[0] = true;
                rig.violate("tlb-stale-after-unlock", "move_ptes dropped the PTE lock of 0x" + Long.toHexString(OLD)
                        + " while vCPU 1 still reaches pfn 0x" + Long.toHexString(pfn[0]) + " through the old translation");
            }
        });
        rig.run(List.of(cpu -> {
            mm.activate(cpu);
            rig.spinUntil(() -> pfn[0] >= 0);
            long r = rig.mmap.mremap(mm, OLD, Mmap.PAGE_SIZE, Mmap.PAGE_SIZE, Mremap.MREMAP_MAYMOVE | Mremap.MREMAP_FIXED, NEW);
            if (r != NEW) {
                rig.violate("mremap", "mremap gave " + r);
            }
            moved[0] = true;
        }, cpu -> {
            mm.activate(cpu);
            long pa = rig.access(cpu, mm, OLD, true);
            rig.machine.memory().write64(pa, 42);
            table[0] = rig.pteTable(mm, OLD);
            pfn[0] = pa >>> 12;
            // user space keeps using the old address until it faults (SIGSEGV once the move is seen)
            for (int i = 0; i < 200 && !moved[0]; i++) {
                if (rig.access(cpu, mm, OLD, false) < 0) {
                    break;
                }
                rig.userWork();
            }
        }));
        rig.checkCensus(List.of(mm));
    }
}
