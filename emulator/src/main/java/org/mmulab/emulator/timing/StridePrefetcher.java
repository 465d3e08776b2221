package org.mmulab.emulator.timing;

/**
 * A vCPU's L1 data stride prefetcher under {@code --timing cycle}: a small table indexed by the load
 * instruction's address that learns each load's stride from its virtual addresses and, once the same
 * distance has repeated, keeps the lines {@link DataPrefetch#distance} strides ahead of the load fetched
 * into L1D (and, the hierarchy being inclusive, L2 and the LLC). Its reach may ramp up
 * ({@link DataPrefetch#initialReach}): at the load that first repeats a stride it fetches that many strides
 * ahead, and one more per further load at the same stride until the distance (measured on Zen 5, see
 * {@code Zen5}); a new stride starts the ramp again. What it follows and how far ahead it runs
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
 * A prefetch charges no cycles of its own: it runs beside the demand loads, whose latency it hides by
 * having the line in L1D when they come, and on a part whose prefetch installs its translation
 * ({@link DataPrefetch#tlbFill}: Zen 5, measured, see {@code Zen5}) the translation in the L1 dTLB too — only
 * when L1D lacked the line (a prefetch whose line L1D holds ends at the L1D) — or, for a translation its own
 * walk read, in the STLB ({@link DataPrefetch.TlbFill#FROM_STLB_WALK_INTO_STLB}, whatever L1D holds). It is not instant, though: a line it fills is ready at the time it was issued (the triggering load's access,
 * {@link #now}) plus its page walk's loads, one after the other ({@link #walkLoadLatency}), plus the latency of
 * the level that served the line. A demand load that hits the line in L1D before then waits for the rest
 * ({@link #demandHit}), as on the part, where a load that finds its line still in flight (in a fill buffer)
 * completes when the fill does. The lines in flight are a small direct-mapped table; a prefetch that needs the
 * slot of an older one drops the older one's entry (that line then counts as ready), and a demand load that
 * misses L1D for a line in the table (evicted before use) drops it too.
 *
 * <p>Counters: {@link #issued} (sent to the caches),
 * {@link #filled} (of those, lines L1D did not hold), {@link #useful} (a demand load hit a line a prefetch
 * filled), {@link #late} and {@link #lateCycles} (of the useful, those that came before the line was ready, and
 * the cycles they waited), {@link #droppedNoTranslation}, {@link #droppedPageBoundary}, {@link #tlbFills}, {@link #stlbFills}, {@link #walks},
 * {@link #walkLoads}, {@link #walksDropped} (of the walks, those that ended without a translation; also in
 * droppedNoTranslation).
 *
 * <p>Nothing is allocated per access; the tables are primitive arrays.
 */
public final class StridePrefetcher {
    /** The translation of a prefetch's address, or -1 when the TLBs do not hold it (or it may not be read). */
    public interface Translator {
        long prefetchPhysical(long va);

        /**
         * The prefetch {@link #prefetchPhysical} just translated fetched a line L1D lacked, and the part
         * installs such a prefetch's translation ({@link DataPrefetch#tlbFill}): put the STLB entry it found, or
         * with {@code walked} the translation its walk read, into the L1 dTLB; false when there was none to put.
         */
        default boolean installInL1Tlb(long va, boolean walked) {
            return false;
        }

        /**
         * The prefetch {@link #prefetchPhysical} just translated got its translation from a walk, and the part
         * installs such a translation in the STLB ({@link DataPrefetch.TlbFill#FROM_STLB_WALK_INTO_STLB}): put it
         * there, as an ordinary STLB entry; false when the translation came from no walk.
         */
        default boolean installInStlb(long va) {
            return false;
        }
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
    /** Loads that repeated the entry's current stride (0 until the third load at it). */
    private final int[] confirmed = new int[ENTRIES];
    /** Lines a prefetch filled into L1D and no demand load has used yet (direct-mapped by line; line + 1, 0: empty). */
    private final long[] recent = new long[RECENT];
    /** When each of {@link #recent}'s lines is in L1D (vCPU cycles: clock + walk cycles). */
    private final long[] readyAt = new long[RECENT];
    /** The time of the triggering load's access, set by {@link WalkTiming} before {@link #train}. */
    long now;
    /** Cycles of the current prefetch's page-walk loads so far (dependent: summed); {@link WalkTiming#prefetchWalkLoad}. */
    long walkLoadLatency;

    public long issued, filled, useful, late, lateCycles, droppedNoTranslation, droppedPageBoundary;
    /** Translations a prefetch installed in the L1 dTLB, and those its walk installed in the STLB ({@link DataPrefetch#tlbFill}). */
    public long tlbFills, stlbFills;
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

    /**
     * A demand load of {@code pa} at time {@code at} hit L1D: counts it useful when a prefetch filled that line,
     * and returns the cycles it waits for the line when the prefetch is still in flight (else 0).
     */
    long demandHit(long pa, long at) {
        long line = (pa >>> CacheLevel.LINE_SHIFT) + 1;
        int i = (int) line & (RECENT - 1);
        if (recent[i] != line) {
            return 0;
        }
        recent[i] = 0;
        useful++;
        long wait = readyAt[i] - at;
        if (wait <= 0) {
            return 0;
        }
        late++;
        lateCycles += wait;
        return wait;
    }

    /** A demand load of {@code pa} missed L1D: a prefetched line it evicted before use is no longer in flight. */
    void demandMiss(long pa) {
        long line = (pa >>> CacheLevel.LINE_SHIFT) + 1;
        int i = (int) line & (RECENT - 1);
        if (recent[i] == line) {
            recent[i] = 0;
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
            confirmed[e] = 0;
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
            confirmed[e] = 0;
            return;
        }
        // the reach ramps: initialReach at the first confirmation, one stride more per confirmed load after it
        int reach = spec.distance();
        if (confirmed[e] < reach) {
            confirmed[e]++;
            reach = Math.min(reach, spec.initialReach() + confirmed[e] - 1);
        }
        // the load moved one stride on, so the last reach is one short now: only the lines past it are new
        for (int j = Math.max(ahead[e], 1); j <= reach; j++) {
            prefetch(va, pa, va + j * d);
        }
        ahead[e] = reach;
    }

    private void prefetch(long trigger, long triggerPa, long va) {
        long pa;
        long walked = 0;
        boolean crossed = false;
        if ((va >>> 12) == (trigger >>> 12)) {
            pa = triggerPa + (va - trigger); // the trigger's page: its translation is known
        } else if (!spec.crossesPages()) {
            droppedPageBoundary++;
            return;
        } else {
            walkLoadLatency = 0;
            pa = translator == null ? -1 : translator.prefetchPhysical(va);
            walked = walkLoadLatency;
            crossed = true;
        }
        if (pa < 0) {
            droppedNoTranslation++;
            return;
        }
        if (crossed && spec.tlbFill() == DataPrefetch.TlbFill.FROM_STLB_WALK_INTO_STLB && translator.installInStlb(va)) {
            stlbFills++; // the walk is done before the line's L1D lookup: installed whatever L1D holds
        }
        issued++;
        int level = caches.prefetch(pa);
        if (level != CacheHierarchy.L1) { // a line L1D holds already (in flight or not) keeps its entry
            filled++;
            long line = (pa >>> CacheLevel.LINE_SHIFT) + 1;
            int i = (int) line & (RECENT - 1);
            recent[i] = line; // an older line in flight in this slot is dropped: it counts as ready
            readyAt[i] = now + walked + caches.latency(level);
            DataPrefetch.TlbFill fill = spec.tlbFill();
            if (crossed && fill != DataPrefetch.TlbFill.NONE
                    && translator.installInL1Tlb(va, fill == DataPrefetch.TlbFill.FROM_STLB_AND_WALK)) {
                tlbFills++;
            }
        }
    }
}
