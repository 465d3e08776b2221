package org.mmulab.emulator.timing;

import java.util.Objects;

/**
 * What a preset's L1 data stride prefetcher does, as {@link StridePrefetcher} models it: a per-load-instruction
 * stride detector (AMD 58455, "L1 Stride Prefetcher": "uses memory access history of individual instructions
 * to fetch additional lines when each access is a constant distance from the previous"; Intel's optimization
 * manual, "IP-based stride prefetcher ... can detect strides of up to 2 KB"). Each preset says where its
 * figures come from ({@link #source}).
 *
 * @param distance     how many strides ahead of the trained load the prefetcher keeps its fetches (0: no
 *                     prefetcher)
 * @param initialReach how many strides ahead it fetches at the load that first confirms a stride (the third at
 *                     that stride); each further load at the same stride reaches one stride further, up to
 *                     {@code distance}, and a new stride starts again from here. {@code distance}: no ramp, the
 *                     full distance at once
 * @param maxStride    the largest |stride| in bytes it follows
 * @param crossesPages true when a prefetch may go into another 4 KiB page than its trigger's, translated through
 *                     the TLBs; false: it stops at the trigger's 4 KiB page (Intel: "does not prefetch across 4K
 *                     boundary")
 * @param walks        true when a cross-page prefetch whose translation neither the L1 dTLB nor the STLB holds
 *                     walks the page tables (without setting A/D bits or faulting: mmu.PrefetchWalker); false:
 *                     it is dropped
 * @param tlbFill      what a cross-page prefetch leaves in the TLBs ({@link TlbFill})
 * @param source       one line: where the figures come from
 */
public record DataPrefetch(int distance, int initialReach, int maxStride, boolean crossesPages, boolean walks, TlbFill tlbFill,
        String source) {
    /** No prefetcher. */
    public static final DataPrefetch NONE = new DataPrefetch(0, 0, false, false, "no data prefetcher modelled");

    /**
     * Whether a prefetch into another page installs its translation, and where. A translation found in the
     * STLB goes into the L1 dTLB only when the prefetch fetched its line (L1D lacked it): a prefetch of a line
     * L1D holds ends at the L1D lookup. A translation the prefetch's own walk read goes into the L1 dTLB on the
     * same condition ({@link #FROM_STLB_AND_WALK}), or into the STLB whatever L1D holds
     * ({@link #FROM_STLB_WALK_INTO_STLB}: the walk completed before the line's L1D lookup, as a demand walk
     * fills the STLB).
     */
    public enum TlbFill {
        /** It installs nothing (the demand load translates for itself). */
        NONE,
        /** A translation it found in the STLB is installed in the L1 dTLB (one from a prefetch walk is not). */
        FROM_STLB,
        /** As FROM_STLB, and a translation its walk read (mmu.PrefetchWalker) too (in the L1 dTLB only). */
        FROM_STLB_AND_WALK,
        /**
         * As FROM_STLB, and a translation its walk read goes into the STLB (not the L1 dTLB): the demand load
         * then pays an L1 dTLB miss and an STLB hit instead of a walk.
         */
        FROM_STLB_WALK_INTO_STLB;

        /** True when a prefetch walk's translation is installed somewhere (the fill needs a walking prefetcher). */
        public boolean fillsFromWalk() {
            return this == FROM_STLB_AND_WALK || this == FROM_STLB_WALK_INTO_STLB;
        }
    }

    /** A prefetcher that installs no translation and fetches its full distance from the first confirmation. */
    public DataPrefetch(int distance, int maxStride, boolean crossesPages, boolean walks, String source) {
        this(distance, maxStride, crossesPages, walks, TlbFill.NONE, source);
    }

    /** A prefetcher that fetches its full distance from the first confirmation (no ramp). */
    public DataPrefetch(int distance, int maxStride, boolean crossesPages, boolean walks, TlbFill tlbFill,
            String source) {
        this(distance, distance, maxStride, crossesPages, walks, tlbFill, source);
    }

    public DataPrefetch {
        Objects.requireNonNull(source);
        Objects.requireNonNull(tlbFill);
        if (distance < 0 || distance > 64 || initialReach < Math.min(distance, 1) || initialReach > distance
                || maxStride < 0 || (walks && !crossesPages)
                || (tlbFill != TlbFill.NONE && !crossesPages) || (tlbFill.fillsFromWalk() && !walks)) {
            throw new IllegalArgumentException(
                    "data prefetch: distance 0..64, initialReach 1..distance, maxStride >= 0, walks and TLB fills only across pages, walk fills only with walks");
        }
    }

    public boolean isNone() {
        return distance == 0;
    }
}
