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
 * @param maxStride    the largest |stride| in bytes it follows
 * @param crossesPages true when a prefetch may go into another 4 KiB page than its trigger's, translated through
 *                     the TLBs; false: it stops at the trigger's 4 KiB page (Intel: "does not prefetch across 4K
 *                     boundary")
 * @param walks        true when a cross-page prefetch whose translation neither the L1 dTLB nor the STLB holds
 *                     walks the page tables (without setting A/D bits or faulting: mmu.PrefetchWalker); false:
 *                     it is dropped
 * @param source       one line: where the figures come from
 */
public record DataPrefetch(int distance, int maxStride, boolean crossesPages, boolean walks, String source) {
    /** No prefetcher. */
    public static final DataPrefetch NONE = new DataPrefetch(0, 0, false, false, "no data prefetcher modelled");

    public DataPrefetch {
        Objects.requireNonNull(source);
        if (distance < 0 || distance > 64 || maxStride < 0 || (walks && !crossesPages)) {
            throw new IllegalArgumentException("data prefetch: distance 0..64, maxStride >= 0, walks only across pages");
        }
    }

    public boolean isNone() {
        return distance == 0;
    }
}
