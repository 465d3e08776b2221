package org.mmulab.emulator.timing;

/**
 * A vCPU's L1 data stride prefetcher under {@code --timing cycle}: a small table indexed by the load
 * instruction's address that learns each load's stride from its virtual addresses and, once the same
 * distance has repeated, keeps the lines {@link DataPrefetch#distance} strides ahead of the load fetched
 * into L1D (and, the hierarchy being inclusive, L2 and the LLC). What it follows and how far ahead it runs
 * are the preset's {@link DataPrefetch}: AMD 58455 describes Zen 5's L1 stride prefetcher ("uses memory
 * access history of individual instructions to fetch additional lines when each access is a constant
 * distance from the previous"); Intel's optimization manual its IP-based stride prefetcher (strides up
 * to 2 KB, no prefetch across a 4 KiB boundary).
 *
 * <p>A prefetch into another page is translated like a load, through the L1 dTLB and the STLB
 * ({@link Translator}); when neither holds it, a preset whose prefetcher walks ({@link DataPrefetch#walks}:
 * Zen 5, measured) has the MMU walk the page tables without side effects (mmu.PrefetchWalker: its loads fill
 * the caches, charged to nothing; an entry not present or with Accessed = 0 drops the prefetch); other
 * presets drop it.
 * A prefetch charges no cycles: it runs beside the demand loads, whose latency it hides by having the
 * line in L1D when they come (not their translation: it does not fill the L1 dTLB, see {@code Zen5}). Counters: {@link #issued} (sent to the caches),
 * {@link #filled} (of those, lines L1D did not hold), {@link #useful} (a demand load hit a line a prefetch
 * filled), {@link #droppedNoTranslation}, {@link #droppedPageBoundary}, {@link #walks}, {@link #walkLoads},
 * {@link #walksDropped} (of the walks, those that ended without a translation; also in droppedNoTranslation).
 *
 * <p>Nothing is allocated per access; the table is primitive arrays.
 */
public final class StridePrefetcher {
    /** The translation of a prefetch's address, or -1 when the TLBs do not hold it (or it may not be read). */
    public interface Translator {
        long prefetchPhysical(long va);
    }

    private static final int ENTRIES = 16;
    private static final int RECENT = 64;

    private final DataPrefetch spec;
    private final CacheHierarchy caches;
    private Translator translator;
    private final long[] key = new long[ENTRIES];
    private final boolean[] valid = new boolean[ENTRIES];
    private final long[] last = new long[ENTRIES];
    private final long[] stride = new long[ENTRIES];
    /** How many strides past {@link #last} the entry's prefetches reach (0: none yet). */
    private final int[] ahead = new int[ENTRIES];
    /** Lines a prefetch filled into L1D and no demand load has used yet (direct-mapped by line). */
    private final long[] recent = new long[RECENT];

    public long issued, filled, useful, droppedNoTranslation, droppedPageBoundary;
    /** Page walks for prefetches (presets whose prefetcher walks), their paging-structure loads, and those dropped. */
    public long walks, walkLoads, walksDropped;

    public StridePrefetcher(DataPrefetch spec, CacheHierarchy caches) {
        this.spec = spec;
        this.caches = caches;
    }

    public DataPrefetch spec() {
        return spec;
    }

    /** Where cross-page prefetches get their translation (the vCPU's MMU); without one they are dropped. */
    public void translator(Translator t) {
        this.translator = t;
    }

    /** A demand load of {@code pa} hit L1D: counts it useful when a prefetch filled that line. */
    void demandHit(long pa) {
        long line = (pa >>> CacheLevel.LINE_SHIFT) + 1;
        int i = (int) line & (RECENT - 1);
        if (recent[i] == line) {
            recent[i] = 0;
            useful++;
        }
    }

    /**
     * The load at instruction {@code pc} read {@code va} at {@code pa} (after its own access): learn, and
     * prefetch when trained.
     */
    void train(long pc, long va, long pa) {
        int e = (int) (pc ^ (pc >>> 4) ^ (pc >>> 9)) & (ENTRIES - 1);
        if (!valid[e] || key[e] != pc) {
            valid[e] = true;
            key[e] = pc;
            last[e] = va;
            stride[e] = 0;
            ahead[e] = 0;
            return;
        }
        long d = va - last[e];
        if (d == 0) {
            return;
        }
        last[e] = va;
        if (d != stride[e] || Math.abs(d) > spec.maxStride()) {
            stride[e] = d; // a new distance: trained when the next load repeats it
            ahead[e] = 0;
            return;
        }
        // the load moved one stride on, so the reach is one short of `distance`: only the far end is new
        for (int j = Math.max(ahead[e], 1); j <= spec.distance(); j++) {
            prefetch(va, pa, va + j * d);
        }
        ahead[e] = spec.distance();
    }

    private void prefetch(long trigger, long triggerPa, long va) {
        long pa;
        if ((va >>> 12) == (trigger >>> 12)) {
            pa = triggerPa + (va - trigger); // the trigger's page: its translation is known
        } else if (!spec.crossesPages()) {
            droppedPageBoundary++;
            return;
        } else {
            pa = translator == null ? -1 : translator.prefetchPhysical(va);
        }
        if (pa < 0) {
            droppedNoTranslation++;
            return;
        }
        issued++;
        if (caches.prefetch(pa) != CacheHierarchy.L1) {
            filled++;
            long line = (pa >>> CacheLevel.LINE_SHIFT) + 1;
            recent[(int) line & (RECENT - 1)] = line;
        }
    }
}
