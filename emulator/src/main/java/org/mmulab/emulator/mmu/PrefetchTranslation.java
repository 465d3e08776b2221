package org.mmulab.emulator.mmu;

import org.mmulab.emulator.cpu.CpuState;
import org.mmulab.emulator.timing.StridePrefetcher;
import org.mmulab.emulator.timing.WalkTiming;

/**
 * The translations of one vCPU's hardware data prefetches (timing.StridePrefetcher), through the same TLBs
 * as demand accesses. SDM Vol. 3A §4.10.2.3: a processor may cache translations required for prefetches
 * (and accesses that never retire), so a prefetch may fill the L1 dTLB; it never faults, never sets
 * Accessed/Dirty, and counts no demand event; where the preset says so, a translation its walk read goes into
 * the STLB ({@link #installInStlb}). Split from {@link Mmu}, which hands it to the prefetcher (Mmu#setTiming).
 */
final class PrefetchTranslation implements StridePrefetcher.Translator {
    private final Mmu mmu;
    private final CpuState s;
    private final PrefetchWalker prefetchWalker;
    /** Where the last {@link #prefetchPhysical} found its translation: an STLB entry (-1: none) or a prefetch walk. */
    private int prefetchStlbHandle = -1;
    private boolean prefetchWalked;
    private long prefetchVa;

    PrefetchTranslation(Mmu mmu, PrefetchWalker prefetchWalker) {
        this.mmu = mmu;
        this.s = mmu.state();
        this.prefetchWalker = prefetchWalker;
    }

    /**
     * A hardware data prefetch's translation (timing.StridePrefetcher): the L1 dTLB's, else the STLB's; on a
     * miss in both, a side-effect-free {@link PrefetchWalker} walk when the preset's prefetcher walks
     * (Zen 5: prefetch_probe saw prefetches beyond the L2 DTLB's reach fetch their lines), else -1. -1 also
     * when the current privilege level may not read {@code va}. No fault, no Accessed/Dirty update, no demand
     * counter, no TLB fill here: the prefetcher asks for one ({@link #installInL1Tlb}) once it knows the
     * line missed L1D, or for a walked translation's STLB fill ({@link #installInStlb}).
     */
    @Override
    public long prefetchPhysical(long va) {
        prefetchStlbHandle = -1;
        prefetchWalked = false;
        if ((s.cr0 & CpuState.CR0_PG) == 0 || (s.pagingLongMode() && ((va << 16) >> 16) != va)) {
            return -1;
        }
        va = s.pagingLongMode() ? va : va & 0xffff_ffffL;
        int pcid = mmu.currentPcid();
        int h = mmu.dtlb.lookup(va, pcid);
        if (h >= 0) {
            return AccessRights.permitted(s, mmu.dtlb.attrs(h), mmu.userBit()) ? mmu.dtlb.physical(h, va) : -1;
        }
        h = mmu.stlb.lookup(va, pcid);
        if (h >= 0) {
            if (!AccessRights.permitted(s, mmu.stlb.attrs(h), mmu.userBit())) {
                return -1;
            }
            prefetchStlbHandle = h;
            prefetchVa = va;
            return mmu.stlb.physical(h, va);
        }
        WalkTiming t = mmu.timing;
        if (t == null || !t.prefetchWalkStart()) {
            return -1;
        }
        long pa = prefetchWalker.translate(va, pcid, mmu.userBit(), t);
        if (pa < 0) {
            t.prefetchWalkDropped();
        } else {
            prefetchWalked = true;
            prefetchVa = va;
        }
        return pa;
    }

    /**
     * The prefetch just translated by {@link #prefetchPhysical} fetched a line L1D lacked, on a part whose
     * prefetch installs its translation (timing.DataPrefetch.TlbFill): it goes into the L1 dTLB, filled as a
     * demand miss fills it ({@link Mmu#fillL1}) — the STLB entry it found, or, when {@code walked} fills are
     * allowed, the translation its side-effect-free walk read (present, Accessed, permitted: what a demand
     * walk of the same entries would install; a store still re-walks when the leaf's D is clear). False
     * when there is nothing to install (the L1 dTLB held it already, or a walk's and walked is false).
     */
    @Override
    public boolean installInL1Tlb(long va, boolean walked) {
        int h = prefetchStlbHandle;
        boolean w = prefetchWalked && walked;
        prefetchStlbHandle = -1;
        prefetchWalked = false;
        if ((h < 0 && !w) || !ofLastPrefetch(va)) {
            return false;
        }
        if (h >= 0) {
            int size = mmu.stlb.sizeIndex(h);
            long frame = mmu.stlb.physical(h, prefetchVa) & ~((1L << Tlb.pageShift(size)) - 1);
            mmu.fillL1(mmu.dtlb, size, prefetchVa, mmu.currentPcid(), frame, mmu.stlb.attrs(h));
        } else {
            mmu.fillL1(mmu.dtlb, prefetchWalker.sizeIndex, prefetchVa, mmu.currentPcid(), prefetchWalker.frame,
                    prefetchWalker.attrs);
        }
        return true;
    }

    /**
     * The prefetch just translated by {@link #prefetchPhysical} found its translation by a walk, on a part whose
     * prefetch walk fills the STLB (timing.DataPrefetch.TlbFill#FROM_STLB_WALK_INTO_STLB): the walked
     * translation goes into the STLB as a demand walk's fill goes (PageWalker), and is an ordinary STLB entry
     * from then on (INVLPG, a PCID or CR3 flush drop it like any other). It is what a demand walk of the same
     * entries would install: present, Accessed, permitted at this privilege level (PrefetchWalker drops the
     * rest), D as the leaf has it (a store through it with D clear re-walks to set D, SDM §4.8). The L1 dTLB is
     * left alone: the demand load pays its L1 miss and the STLB hit. False when there is nothing to install
     * (the translation came from a TLB, or from no prefetch of {@code va}'s page).
     */
    @Override
    public boolean installInStlb(long va) {
        boolean w = prefetchWalked;
        prefetchWalked = false;
        if (!w || !ofLastPrefetch(va)) {
            return false;
        }
        mmu.stlb.fill(prefetchWalker.sizeIndex, prefetchVa, mmu.currentPcid(), prefetchWalker.frame,
                prefetchWalker.attrs);
        return true;
    }

    /** {@code va} is in the page {@link #prefetchPhysical} last translated (32-bit addresses under PAE). */
    private boolean ofLastPrefetch(long va) {
        return ((s.pagingLongMode() ? va : va & 0xffff_ffffL) >>> 12) == (prefetchVa >>> 12);
    }
}
