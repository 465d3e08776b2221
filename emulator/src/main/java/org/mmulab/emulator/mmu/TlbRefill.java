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
 *
 * <p>The common L1 miss, an STLB hit on a 4 KiB page, is one path ({@link #stlbLookup4k}, {@link #stlbHit4k}): the
 * page number and key {@link Mmu} computed for its L1 lookup serve the STLB lookup and the L1 fill too, the STLB's
 * 4 KiB storage is read through this class's final fields (no hop through the array object: the hinted slot, its
 * entry, the set's recency order, the frame), and the dTLB's 4 KiB array is filled directly (no {@link Tlb} page-size
 * dispatch, no handle). Each step does what {@link TlbArray#lookupKey} and {@link TlbArray#fill} do, in the same order
 * ({@code StlbHitPathTest} compares the hierarchy slot by slot with a reference one).
 */
final class TlbRefill {
    private final Mmu mmu;
    private final CpuState s;
    private final PageWalker walker;
    private final MmuCounters counters;
    private final Tlb stlb;
    private final TlbArray stlb4k;
    /** The STLB 4 KiB array's storage: entry words, frames, recency orders (null past 16 ways), page index (or null). */
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

    /**
     * {@link TlbArray#lookupKey} of the STLB's 4 KiB array: its common outcome, a hit in the slot the page index
     * hints (which then becomes its set's most recently used way), done here on the storage; anything else (a count
     * of 0, another page's hint, a set wider than 16 ways) by the array itself, from the start.
     */
    private int stlbLookup4k(long vpn, long key) {
        int[] index = sIndex;
        long[] order = sOrder;
        if (index != null && order != null) {
            int hint = TlbPageIndex.hint(index[(int) vpn & sIndexMask]);
            if (hint >= 0 && TlbEntryWord.hits(sEntry[hint], key)) {
                int set = (int) vpn & sSetMask;
                TlbRecencyOrder.use(order, set, hint - set * sWays);
                return hint;
            }
        }
        return stlb4k.lookupKey(vpn, key);
    }

    /** No usable STLB entry: a walk (timed as an STLB miss), which fills the L1 TLB and the STLB. */
    private long stlbMiss(long va, int access, Tlb l1, int pcid) {
        WalkTiming t = mmu.timing;
        if (t != null) {
            t.stlbMiss();
        }
        return walker.walk(va, access, l1, pcid);
    }

    /**
     * A usable hit in STLB 4 KiB slot {@code slot}: counted, timed, and installed in the L1 TLB's 4 KiB array (what
     * {@link #stlbHit} does for any page size through {@link Mmu#fillL1}); an entry the dTLB fill evicts takes its
     * fast-path entry with it.
     */
    private long stlbHit4k(long va, long vpn, long key, int access, Tlb l1, int pcid, int slot, int attrs) {
        countStlbHit(access);
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
        countStlbHit(access);
        long pa = stlb.physical(h, va);
        int size = stlb.sizeIndex(h);
        mmu.fillL1(l1, size, va, pcid, pa & ~((1L << Tlb.pageShift(size)) - 1), attrs);
        return pa;
    }

    /** An STLB hit's counters (all, and the fetch or store share) and its cycles under cycle timing. */
    private void countStlbHit(int access) {
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
    }
}
