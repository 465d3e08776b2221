package org.mmulab.emulator.mmu;

import org.mmulab.emulator.cpu.CpuState;
import org.mmulab.emulator.memory.PhysicalMemory;
import org.mmulab.emulator.timing.WalkTiming;

/**
 * The page walk of a hardware data prefetch whose translation neither the L1 dTLB nor the STLB holds
 * (timing.StridePrefetcher, presets whose {@code DataPrefetch.walks()} was measured: Zen 5's
 * prefetch_probe, docs/cache-model.md). It reads the same entries as the {@link PageWalker} (SDM Vol. 3A
 * §4.5 4-level, §4.4 PAE; from the lowest paging-structure cache that holds the address, §4.10.3), and its
 * loads go through the cache model like the walker's, charged to no instruction
 * ({@link WalkTiming#prefetchWalkLoad}). Unlike a demand walk it has no architectural effect: the prefetch is
 * dropped when an entry on the way is not present, has a reserved bit, has Accessed = 0 (a walk would have to
 * set it, SDM §4.8; a prefetch is not allowed to write the page tables), or when the access rights do not
 * let the current privilege level read the page. It records no fault, sets no A/D bit, fills no
 * paging-structure cache, calls no walker yield point and touches none of the MMU's demand counters; it fills
 * no TLB itself. It keeps the page's frame, size and attributes ({@link #frame}, {@link #sizeIndex},
 * {@link #attrs}, built as the walker builds a fill's), from which {@link PrefetchTranslation} installs the
 * translation where the preset's prefetch does: in the STLB (timing.DataPrefetch.TlbFill#FROM_STLB_WALK_INTO_STLB,
 * Zen 5; {@link PrefetchTranslation#installInStlb}) or in the L1 dTLB when the prefetched line missed L1D
 * (FROM_STLB_AND_WALK; {@link PrefetchTranslation#installInL1Tlb}). Paging-structure-cache lookups do refresh those
 * entries' LRU age, as the walker's loads do the caches' — timing state only.
 */
final class PrefetchWalker {
    private final Mmu mmu;
    private final PageWalker walker;
    private final long physAddrMask;

    /** The last successful {@link #translate}'s page: its frame, size index and TLB attributes (as the walker's fill). */
    long frame;
    int sizeIndex;
    int attrs;

    PrefetchWalker(Mmu mmu, PageWalker walker, long physAddrMask) {
        this.mmu = mmu;
        this.walker = walker;
        this.physAddrMask = physAddrMask;
    }

    /**
     * The physical address of {@code va} (canonical; 32-bit under PAE) or -1 when the prefetch is dropped;
     * {@code access} is the read's PfErr bits (U at CPL 3).
     */
    long translate(long va, int pcid, int access, WalkTiming t) {
        CpuState s = mmu.state();
        boolean nxe = (s.efer & CpuState.EFER_NXE) != 0;
        boolean lm = s.pagingLongMode();
        long table;
        int rights;
        int level;
        int slot;
        if ((slot = mmu.pdeCache.lookup(va, pcid)) >= 0) {
            table = mmu.pdeCache.nextTable(slot);
            rights = mmu.pdeCache.rights(slot);
            level = 1;
        } else if (lm && (slot = mmu.pdpteCache.lookup(va, pcid)) >= 0) {
            table = mmu.pdpteCache.nextTable(slot);
            rights = mmu.pdpteCache.rights(slot);
            level = 2;
        } else if (lm && (slot = mmu.pml4eCache.lookup(va, pcid)) >= 0) {
            table = mmu.pml4eCache.nextTable(slot);
            rights = mmu.pml4eCache.rights(slot);
            level = 3;
        } else if (lm) {
            table = s.cr3 & physAddrMask;
            rights = TlbArray.ATTR_RW | TlbArray.ATTR_US;
            level = 4;
        } else {
            long pdpte = mmu.pdpteRegister((int) (va >>> 30) & 3);
            if ((pdpte & Pte.P) == 0) {
                return -1;
            }
            table = pdpte & physAddrMask;
            rights = TlbArray.ATTR_RW | TlbArray.ATTR_US;
            level = 2;
        }
        PhysicalMemory mem = mmu.mem;
        for (; level >= 1; level--) {
            long ea = table + (((va >>> (12 + 9 * (level - 1))) & 511) << 3);
            if (!mem.isRam(ea, 8)) {
                return -1; // a table outside RAM: a demand walk would read the bus's all-ones, not a prefetch
            }
            long e = mem.read64Acquire(ea);
            t.prefetchWalkLoad(ea);
            if ((e & Pte.P) == 0 || (e & Pte.A) == 0
                    || (lm ? walker.reserved4Level(e, level, nxe) : walker.reservedPae(e, level, nxe))) {
                return -1;
            }
            rights = AccessRights.combine(rights, e, nxe);
            if (level == 1 || (level <= 3 && (e & Pte.PS) != 0)) {
                if (!AccessRights.permitted(s, rights, access)) {
                    return -1;
                }
                long mask = (1L << (12 + 9 * (level - 1))) - 1;
                frame = e & physAddrMask & ~mask;
                sizeIndex = level - 1;
                attrs = rights | ((e & Pte.D) != 0 ? TlbArray.ATTR_D : 0)
                        | ((e & Pte.G) != 0 && (s.cr4 & CpuState.CR4_PGE) != 0 ? TlbArray.ATTR_G : 0);
                return frame | (va & mask);
            }
            table = e & physAddrMask;
        }
        return -1; // unreachable: level 1 always ends the loop
    }
}
