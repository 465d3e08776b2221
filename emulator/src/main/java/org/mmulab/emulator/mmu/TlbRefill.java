package org.mmulab.emulator.mmu;

import org.mmulab.emulator.cpu.CpuState;
import org.mmulab.emulator.timing.WalkTiming;

/**
 * What {@link Mmu} does when its L1 TLB cannot serve an access (Intel SDM Vol. 3A §4.10.2, §4.10.3.1): an
 * L1 miss looks up the STLB, whose usable hit is installed in the L1 TLB as it is, else the page walker
 * fills both; an L1 or STLB hit whose cached rights refuse the access is a #PF without a walk, as hardware
 * may report it (§4.10.4.3); a write through an entry filled with D = 0 re-walks to set D (§4.8). The
 * rare and the longer outcomes of a translation live here, so {@link Mmu}'s hit path stays small enough
 * for the JIT to inline whole.
 */
final class TlbRefill {
    private final Mmu mmu;
    private final CpuState s;
    private final PageWalker walker;
    private final MmuCounters counters;
    private final Tlb stlb;
    private final TlbArray stlb4k;
    /** The STLB 4 KiB array's storage, read here through final fields (no hop through the array object). */
    private final long[] sEntry, sFrame, sOrder;
    private final int[] sIndex;
    private final int sIndexMask, sSetMask, sWays;
    private final Tlb dtlb;
    private final TlbArray dtlb4k;
    private final FastPath fast;

    TlbRefill(Mmu mmu, PageWalker walker) {
        this.mmu = mmu;
        this.s = mmu.state();
        this.walker = walker;
        this.counters = mmu.counters;
        this.stlb = mmu.stlb;
        this.stlb4k = mmu.stlb.a4k;
        this.sEntry = stlb4k.entry;
        this.sFrame = stlb4k.frame;
        this.sOrder = stlb4k.order;
        this.sIndex = stlb4k.pageIndexWords;
        this.sIndexMask = stlb4k.pageIndexMask;
        this.sSetMask = stlb4k.setMask;
        this.sWays = stlb4k.ways;
        this.dtlb = mmu.dtlb;
        this.dtlb4k = mmu.dtlb.a4k;
        this.fast = mmu.fast;
    }

    /** An L1 hit whose cached rights refuse the access (#PF without a walk), or a write that needs D set. */
    long l1HitRefused(long va, int access, Tlb l1, int pcid, int h, int attrs) {
        if (!AccessRights.permitted(s, attrs, access)) {
            return walker.pageFault(va, access | PfErr.P, pcid);
        }
        // A write re-walks to set D (SDM §4.8). Its fill replaces this entry in place or, if the page
        // size changed, shadows it: the fast entries it backed go first, as they may translate the old way.
        int shift = Tlb.pageShift(l1.sizeIndex(h));
        fast.drop(va & -(1L << shift), shift);
        return walker.walk(va, access, l1, pcid);
    }

    /** An L1 TLB miss: the STLB, else a walk (either fills the L1 TLB). */
    long l1Miss(long va, long vpn, long key, int access, Tlb l1, int pcid) {
        boolean fetch = (access & PfErr.I) != 0;
        if (fetch) {
            counters.itlbMisses++;
        } else {
            counters.dtlbMisses++;
            if ((access & PfErr.W) != 0) {
                counters.dtlbStoreMisses++;
            }
        }
        int slot = stlbLookup4k(vpn, key);
        if (slot >= 0) {
            int attrs = (int) (sEntry[slot] & TlbEntryWord.ATTR_BITS);
            if (!AccessRights.permitted(s, attrs, access)) {
                return walker.pageFault(va, access | PfErr.P, pcid);
            }
            if ((access & PfErr.W) == 0 || (attrs & TlbArray.ATTR_D) != 0) {
                return stlbHit4k(va, vpn, key, access, l1, pcid, slot, attrs);
            }
            return stlbMiss(va, access, l1, pcid);
        }
        int h = stlb.lookupLarge(va, pcid);
        if (h >= 0) {
            int attrs = stlb.attrs(h);
            if (!AccessRights.permitted(s, attrs, access)) {
                return walker.pageFault(va, access | PfErr.P, pcid);
            }
            if ((access & PfErr.W) == 0 || (attrs & TlbArray.ATTR_D) != 0) {
                return stlbHit(va, access, l1, pcid, h, attrs);
            }
        }
        return stlbMiss(va, access, l1, pcid);
    }

    /** {@link TlbArray#lookupKey} of the STLB's 4 KiB array, its hinted-slot hit done here on the arrays. */
    private int stlbLookup4k(long vpn, long key) {
        int[] index = sIndex;
        long[] order = sOrder;
        if (index != null && order != null) {
            int hint = (index[(int) vpn & sIndexMask] >>> TlbPageIndex.HINT_SHIFT) - 1;
            if (hint >= 0 && TlbEntryWord.hits(sEntry[hint], key)) {
                int set = (int) vpn & sSetMask;
                int w = hint - set * sWays;
                long o = order[set];
                if ((o & 0xf) != w) {
                    order[set] = TlbRecencyOrder.moveToFront(o, w);
                }
                return hint;
            }
        }
        return stlb4k.lookupKey(vpn, key);
    }

    private long stlbMiss(long va, int access, Tlb l1, int pcid) {
        WalkTiming t = mmu.timing;
        if (t != null) {
            t.stlbMiss();
        }
        return walker.walk(va, access, l1, pcid);
    }

    private long stlbHit4k(long va, long vpn, long key, int access, Tlb l1, int pcid, int slot, int attrs) {
        counters.stlbHits++;
        if ((access & PfErr.I) != 0) {
            counters.itlbStlbHits++;
        } else if ((access & PfErr.W) != 0) {
            counters.dtlbStoreStlbHits++;
        }
        WalkTiming t = mmu.timing;
        if (t != null) {
            t.stlbHit();
        }
        long frame = sFrame[slot];
        if (l1 == dtlb) {
            long evicted = dtlb4k.fillKey(vpn, key, pcid, frame, attrs);
            if (evicted >= 0) {
                fast.drop(evicted, 12);
            }
        } else {
            l1.a4k.fillKey(vpn, key, pcid, frame, attrs);
        }
        return frame | (va & 0xfff);
    }

    /** An STLB hit usable for the access: counted, timed, and installed in the L1 TLB as it is. */
    private long stlbHit(long va, int access, Tlb l1, int pcid, int h, int attrs) {
        counters.stlbHits++;
        if ((access & PfErr.I) != 0) {
            counters.itlbStlbHits++;
        } else if ((access & PfErr.W) != 0) {
            counters.dtlbStoreStlbHits++;
        }
        WalkTiming t = mmu.timing;
        if (t != null) {
            t.stlbHit();
        }
        long pa = stlb.physical(h, va);
        int size = stlb.sizeIndex(h);
        mmu.fillL1(l1, size, va, pcid, pa & ~((1L << Tlb.pageShift(size)) - 1), attrs);
        return pa;
    }
}
