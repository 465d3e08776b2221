package org.mmulab.kernel.explore;

import java.util.List;

import org.mmulab.kernel.mm.AddressSpace;
import org.mmulab.kernel.mm.MmFix;
import org.mmulab.kernel.mm.MmStruct;
import org.mmulab.kernel.mm.Mmap;
import org.mmulab.kernel.mm.Mremap;
import org.mmulab.kernel.mm.PteBits;
import org.mmulab.kernel.mm.Truncate;

/**
 * Seed 004 (rmap 14 "i_shared_lock fixes": "before moving file-based ptes, we must lock vmtruncate out,
 * since it might clean the dst vma before the src vma"). A shmem object of two pages is mapped twice:
 * page 0 at {@link #LOW} and page 1 at {@link #HIGH}, both populated. vCPU 0 moves page 1 with
 * mremap(MREMAP_MAYMOVE|MREMAP_FIXED) to LOW + 4 KiB, where copy_vma merges it into the VMA of page 0
 * (vma_merge_new_range / vma_expand): the moved PTE lands in a VMA of lower pgoff, which the i_mmap
 * walk (pgoff order, mm/interval_tree.c) visits before the source VMA. vCPU 1 truncates the object to
 * one page as shmem_setattr does (i_size, unmap_mapping_range through i_mmap, truncate_inode_pages).
 *
 * <p>Without the i_mmap lock across move_page_tables, a schedule lets the walk zap the merged VMA before
 * the PTE arrives and the source after it left: truncate returns with page 1, dropped from the page
 * cache and past the new EOF, still mapped at LOW + 4 KiB. The invariant ({@code pte-past-eof}): once
 * truncate returned, no PTE of the mm maps that page. With the lock the walk sees the PTE on one side.
 */
final class MremapVsTruncate extends Scenario {
    static final long LOW = 0x4000_0000L, HIGH = 0x5000_0000L;
    private static final long P = Mmap.PAGE_SIZE;

    @Override
    public String name() {
        return "mremap-vs-truncate";
    }

    @Override
    public MmFix fix() {
        return MmFix.MREMAP_RMAP_LOCKS;
    }

    @Override
    public String description() {
        return "vCPU 0 mremaps a shmem page into the VMA below it while vCPU 1 truncates the object";
    }

    @Override
    public String invariants() {
        return "pte-past-eof, census";
    }

    @Override
    public long horizon() {
        return 200;
    }

    @Override
    public int budget() {
        return 300;
    }

    @Override
    void run(ExploreRig rig) {
        MmStruct mm = rig.newMm();
        AddressSpace f = AddressSpace.shmem(rig.memory.frames(), "/dev/shm/seed004");
        int rw = Mmap.PROT_READ | Mmap.PROT_WRITE;
        for (long[] m : new long[][] {{LOW, 0}, {HIGH, 1}}) {
            long a = rig.mmap.doMmap(mm, f, m[0], P, rw, Mmap.MAP_SHARED | Mmap.MAP_FIXED, m[1], "/dev/shm/seed004");
            if (a != m[0]) {
                throw new IllegalStateException("mmap at 0x" + Long.toHexString(m[0]) + " gave " + a);
            }
        }
        long[] pfn = {-1};
        rig.run(List.of(cpu -> {
            mm.activate(cpu);
            if (!rig.store(cpu, mm, LOW, 0x5eed0) || !rig.store(cpu, mm, HIGH, 0x5eed1)) {
                return;
            }
            pfn[0] = PteBits.pfn(rig.pte(mm, HIGH));
            long r = rig.mmap.mremap(mm, HIGH, P, P, Mremap.MREMAP_MAYMOVE | Mremap.MREMAP_FIXED, LOW + P);
            if (r != LOW + P) {
                rig.violate("mremap", "mremap gave " + r);
            }
        }, cpu -> {
            mm.activate(cpu);
            rig.spinUntil(() -> pfn[0] >= 0);
            // shmem_setattr's truncate_setsize + truncate_pagecache (the port's Tmpfs.truncate): i_size, then
            // unmap every mapping of page 1 on through i_mmap, then drop the pages from the cache
            f.setEof(P);
            Truncate.unmapMappingRange(rig.memory, f, 1, Long.MAX_VALUE);
            f.truncatePages(1);
            checkNoPtePastEof(rig, mm, pfn[0]);
        }));
        rig.checkCensus(List.of(mm));
    }

    /** pte-past-eof: neither the source nor the destination of the move maps the truncated page. */
    private static void checkNoPtePastEof(ExploreRig rig, MmStruct mm, long pfn) {
        for (long va : new long[] {HIGH, LOW + P}) {
            long pte = rig.pte(mm, va);
            if (PteBits.present(pte) && PteBits.pfn(pte) == pfn) {
                rig.violate("pte-past-eof", "truncate to one page returned with 0x" + Long.toHexString(va)
                        + " still mapping page 1 (pfn 0x" + Long.toHexString(pfn) + "), gone from the page cache");
                return;
            }
        }
    }
}
