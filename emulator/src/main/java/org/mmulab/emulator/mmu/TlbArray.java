package org.mmulab.emulator.mmu;

import static org.mmulab.emulator.mmu.TlbEntryWord.*;

import java.util.Arrays;

/**
 * One set-associative array of translations for a single page size (SDM Vol. 3A §4.10.2), stored as parallel
 * primitive arrays so a lookup allocates nothing. Replacement is true LRU within a set.
 *
 * <p>Each way's tag, PCID and attributes are packed into one {@code long} ({@link TlbEntryWord}), so a lookup is
 * one load and one compare per way tried. It tries the slot its page index names first (below), then the set's
 * most recently used way: a repeated hit costs one compare, no store. An entry caches what the walk found: the page
 * frame, the rights combined over every level (R/W, U/S, XD), the leaf's D and G bits. Entries are never updated
 * behind the hardware's back: a changed page table stays invisible until the entry is invalidated or evicted
 * (SDM §4.10.4.4, "delayed invalidation").
 *
 * <p>True LRU without a scan: in a set of at most 16 ways the recency order is one {@code long}
 * ({@link TlbRecencyOrder}); a fill of a full set takes its last nibble. Wider sets (the fully associative arrays
 * of the Zen presets) keep a last-use clock per slot and scan it on a fill. Both give the victim of a per-slot
 * clock: among valid entries the order of their last use; a fill prefers an invalid way, the first in the set.
 *
 * <p>Neither a miss nor a hit normally scans: the {@link TlbPageIndex} counts the valid entries per hashed page
 * number and remembers the slot filled last for each, so a lookup with count 0 misses at once and otherwise tries
 * that slot first (a set never holds two entries a lookup would hit, see {@link #fill}). The counts are kept exact
 * where an entry is written or dropped ({@link #write}, a scanning fill's shadow drop, {@link #clear},
 * {@link #flush}), so hits, misses and LRU victims are those of a scan of the set. A fill of what a lookup of the
 * same array has just missed (the MMU's fill; {@link #missKey}) takes the first free way or the LRU one unscanned.
 *
 * <p>Invalidation and flushes (SDM §4.10.4) are {@link TlbArrayInvalidation}'s. The storage arrays and a few fields
 * are package-private: {@link TlbRefill}'s STLB-hit path reads the STLB's arrays through final fields of its own.
 */
public final class TlbArray {
    /** Attribute bits of a cached translation. */
    public static final int ATTR_RW = 1, ATTR_US = 2, ATTR_XD = 4, ATTR_D = 8, ATTR_G = 16;
    /**
     * Bits 6:5 of the attributes of an entry in a 4 KiB array that is a splinter of a larger page (an
     * array without entries of that size caches it as 4 KiB pieces): the page size index of the page it
     * came from ({@link Tlb#SIZE_2M}, {@link Tlb#SIZE_1G}); 0 for a real 4 KiB page.
     */
    public static final int ATTR_SPLIT_SHIFT = 5, ATTR_SPLIT_MASK = 3 << ATTR_SPLIT_SHIFT;

    private final String name;
    private final int pageShift;
    private final int sets;
    final int ways;
    final int setMask;
    /** {@link TlbEntryWord}s: packed (vpn + 1) << 19 | pcid << 7 | attrs; 0 means invalid. */
    final long[] entry;
    /**
     * The page frame of each slot; {@link #NO_FRAME} in every invalid slot. {@code --check} reads these
     * arrays from another thread ({@link #covers}) while the owner fills a slot (entry, then frame): an
     * invalid slot must not keep the frame it named, or such a reader could pair a new entry with the old,
     * just-freed frame. Cleared when the entry goes, before the shootdown's acknowledgement, the old frame
     * can no longer be read.
     */
    final long[] frame;
    /** The frame of an invalid slot: no 4 KiB frame's address. */
    static final long NO_FRAME = -1L;
    /** Sets of at most {@link #MAX_ORDERED_WAYS} ways: per set, its {@link TlbRecencyOrder}. Null for wider sets. */
    final long[] order;
    /** Sets of at most 16 ways (null otherwise): per set, bit w set while way w holds a valid entry. */
    final int[] validWays;
    /** Bit {@code set}: the set may hold an entry (set as a free way fills; cleared as a flush empties the array). */
    final long[] occupied;
    /**
     * The key ({@link #pack}ed page number + 1 and PCID) the last {@link #lookup} missed, 0 once any entry
     * changed since: a {@link #fill} of that key then knows no entry matches it and skips its scan.
     */
    long missKey;
    /** Wider sets only (null otherwise): the {@link #clock} value of each slot's last use. */
    private final long[] lastUse;
    private long clock;
    /** Sets this wide or narrower keep their recency order in one long. */
    static final int MAX_ORDERED_WAYS = 16;
    /** Ordered sets: the bit offset of the least recently used way's nibble, and the nibbles below / above it. */
    private final int lruShift;
    private final long lruBelow, lruAbove;
    /** slot * setOfSlotMagic >>> 32 = slot / ways, exactly for every slot of the array (no division). */
    private final long setOfSlotMagic;
    /** log2(ways) when ways is a power of two (slot >>> waysShift is the set), else -1. */
    private final int waysShift;
    /** Per hashed page number: the valid entries' count and the last filled slot (null past 255 ways). */
    final TlbPageIndex pageIndex;
    /** Its words and mask, read here through final fields (one load on the lookup's path, not two). */
    final int[] pageIndexWords;
    final int pageIndexMask;
    private static final int COUNT_MASK = TlbPageIndex.COUNT_MASK;
    /** False only while no entry is valid (cleared by a flush that empties the array): lookups skip it. */
    boolean mayHold;
    /** Some valid entry may be a splinter (ATTR_SPLIT_MASK set): INVLPG must then scan every set. */
    boolean maySplinter;
    /** Bit s set: the last invalidatePage dropped splinters of a page of size index s. */
    int droppedSplinterSizes;

    public TlbArray(String name, int entries, int ways, int pageShift) {
        if (entries % ways != 0 || Integer.bitCount(entries / ways) != 1) {
            throw new IllegalArgumentException(name + ": entries/ways must be a power of two: " + entries + "/" + ways);
        }
        this.name = name;
        this.pageShift = pageShift;
        this.ways = ways;
        this.sets = entries / ways;
        this.setMask = sets - 1;
        this.entry = new long[entries];
        this.frame = new long[entries];
        Arrays.fill(frame, NO_FRAME);
        if (ways <= MAX_ORDERED_WAYS) {
            this.order = new long[sets];
            Arrays.fill(order, TlbRecencyOrder.initial(ways));
            this.validWays = new int[sets];
            this.lastUse = null;
        } else {
            this.order = null;
            this.validWays = null;
            this.lastUse = new long[entries];
        }
        this.occupied = new long[(sets + 63) >>> 6];
        this.pageIndex = TlbPageIndex.fits(ways) ? new TlbPageIndex(entries) : null;
        this.pageIndexWords = pageIndex == null ? null : pageIndex.words;
        this.pageIndexMask = pageIndex == null ? 0 : pageIndex.mask;
        this.lruShift = 4 * (Math.min(ways, MAX_ORDERED_WAYS) - 1);
        this.lruBelow = (1L << lruShift) - 1;
        this.lruAbove = ways >= MAX_ORDERED_WAYS ? 0 : -1L << (4 * ways);
        this.setOfSlotMagic = (1L << 32) / ways + 1;
        this.waysShift = Integer.bitCount(ways) == 1 ? Integer.numberOfTrailingZeros(ways) : -1;
        for (int slot = 0; slot < entries; slot++) {
            if (setOf(slot) != slot / ways) {
                throw new AssertionError(name + ": set-of-slot multiplier inexact at " + slot);
            }
        }
    }

    private int setOf(int slot) {
        return (int) (slot * setOfSlotMagic >>> 32);
    }

    /** Marks way {@code w} of {@code set} (slot {@code slot}) the most recently used. */
    private void use(int set, int w, int slot) {
        long[] ord = order;
        if (ord != null) {
            TlbRecencyOrder.use(ord, set, w);
        } else {
            lastUse[slot] = ++clock;
        }
    }

    public String name() {
        return name;
    }

    public int pageShift() {
        return pageShift;
    }

    public int entries() {
        return entry.length;
    }

    /**
     * Page number of a canonical linear address from its low 48 bits (36 bits for 4 KiB pages, so it
     * fits the packed tag); {@link #vaOf} sign-extends it back.
     */
    long vpnOf(long va) {
        return (va & 0x0000_ffff_ffff_ffffL) >>> pageShift;
    }

    static boolean canonical(long va) {
        return ((va << 16) >> 16) == va;
    }

    /** The linear base address of a valid entry (bit 47 sign-extended, as the address was canonical). */
    long vaOf(long e) {
        return ((tagOf(e) - 1) << pageShift) << 16 >> 16;
    }

    /** True if a valid entry may exist: false lets {@link Tlb#lookup} skip a page size nothing was filled in. */
    public boolean mayHold() {
        return mayHold;
    }

    public int ways() {
        return ways;
    }

    /** Returns the slot holding {@code va} for {@code curPcid} (or a global entry), or -1. */
    public int lookup(long va, int curPcid) {
        long vpn = vpnOf(va);
        return lookupKey(vpn, pack(vpn + 1, curPcid, 0));
    }

    /** {@link #lookup} of page number {@code vpn} whose key the caller packed ({@code pack(vpn + 1, pcid, 0)}). */
    int lookupKey(long vpn, long key) {
        int[] index = pageIndexWords;
        int word = index != null ? index[(int) vpn & pageIndexMask] : -1;
        if ((word & COUNT_MASK) == 0) {
            missKey = key; // no valid entry's page hashes here: a miss without looking at the set
            return -1;
        }
        int set = (int) (vpn & setMask);
        int base = set * ways;
        long[] en = entry;
        if (index != null) {
            // The slot filled last for a page hashing here first: it is the hit unless another page of the
            // same hash was filled since (no set holds two entries a lookup would hit).
            int hint = TlbPageIndex.hint(word);
            if (hint >= 0 && hits(en[hint], key)) {
                use(set, hint - base, hint); // the tag puts the entry in this set
                return hint;
            }
            long[] ord = order;
            if (ord != null) { // else the most recently used way: a repeated hit is one compare and no store
                int mru = base + ((int) ord[set] & 0xf);
                if (hits(en[mru], key)) {
                    return mru;
                }
            }
        }
        return scan(set, base, key);
    }

    /** {@link #lookup} by a scan of the set (kept apart so that lookup stays small enough to inline). */
    private int scan(int set, int base, long key) {
        long[] en = entry;
        for (int w = 0, n = ways; w < n; w++) {
            if (hits(en[base + w], key)) { // one test per way on a miss
                use(set, w, base + w);
                return base + w;
            }
        }
        missKey = key;
        return -1;
    }

    public long frame(int slot) {
        return frame[slot];
    }

    public int attrs(int slot) {
        return (int) (entry[slot] & ATTR_BITS);
    }

    public long physical(int slot, long va) {
        return frame[slot] | (va & ((1L << pageShift) - 1));
    }

    /**
     * Inserts a translation, evicting the set's least recently used entry. An entry a lookup of
     * {@code va} in {@code curPcid} would already hit (same page, this PCID or global) is replaced in
     * place, so a set never holds two entries for one translation; a new global entry also replaces the
     * page's entries of other PCIDs, which it would shadow. Returns the linear base address of a valid
     * entry for a different page that was evicted, or -1 when nothing was evicted.
     */
    public long fill(long va, int curPcid, long pageFrame, int attributes) {
        long vpn = vpnOf(va);
        return fillKey(vpn, pack(vpn + 1, curPcid, 0), curPcid, pageFrame, attributes);
    }

    /** {@link #fill} of page number {@code vpn0} whose key the caller packed. */
    long fillKey(long vpn0, long key, int curPcid, long pageFrame, int attributes) {
        long vpn = vpn0 + 1;
        if (key == missKey && (attributes & ATTR_G) == 0 && validWays != null) {
            return fillMissed(vpn, curPcid, pageFrame, attributes);
        }
        return fillScanning(vpn, key, curPcid, pageFrame, attributes);
    }

    /**
     * {@link #fill} of the key the last {@link #lookup} missed, no entry changed since (not global; sets of at most
     * 16 ways): no way matches it, so the victim is the first free way, else the least recently used one (now the
     * most recently used; the others age by one), and a valid victim translates another page or PCID: evicted.
     * The L1 fill of every STLB hit and walk comes here.
     */
    private long fillMissed(long vpn, int curPcid, long pageFrame, int attributes) {
        int set = (int) ((vpn - 1) & setMask);
        int base = set * ways;
        int[] valid = validWays;
        int v = valid[set];
        int freeWays = ~v & ((1 << ways) - 1);
        int victim;
        if (freeWays != 0) {
            int w = Integer.numberOfTrailingZeros(freeWays);
            valid[set] = v | 1 << w;
            occupied[set >>> 6] |= 1L << set;
            victim = base + w;
            use(set, w, victim);
        } else { // moveToFront of the last nibble, without its search
            long o = order[set];
            int w = (int) (o >>> lruShift) & 0xf;
            order[set] = (o & lruAbove) | (o & lruBelow) << 4 | w;
            victim = base + w;
        }
        long old = entry[victim];
        write(victim, old, vpn, curPcid, pageFrame, attributes);
        return old != 0 ? vaOf(old) : -1;
    }

    /** {@link #fill} when an entry of the page may be there: scans the set for it (and for entries it shadows). */
    private long fillScanning(long vpn, long key, int curPcid, long pageFrame, int attributes) {
        int set = (int) ((vpn - 1) & setMask);
        int base = set * ways;
        int end = base + ways;
        boolean global = (attributes & ATTR_G) != 0;
        int victim = -1;
        int free = -1;
        boolean dropped = false;
        long[] en = entry;
        int[] valid = validWays;
        for (int i = base; i < end; i++) {
            long e = en[i];
            long d = e ^ key;
            if ((d & TAG_MASK) == 0 && (global || (d & TAG_PCID_MASK) == 0 || global(e))) {
                // same page, and this PCID or a global entry on either side
                if (victim < 0) {
                    victim = i;
                } else {
                    en[i] = 0; // a second entry the new one would shadow
                    frame[i] = NO_FRAME;
                    uncount(e);
                    if (valid != null) {
                        valid[set] &= ~(1 << (i - base));
                    }
                    dropped = true;
                }
            } else if (e == 0 && free < 0) {
                free = i;
            }
        }
        if (victim < 0) {
            victim = free >= 0 ? free : leastRecentlyUsed(set, base);
        }
        return fillSlot(victim, set, base, vpn, curPcid, pageFrame, attributes, dropped);
    }

    /** Writes the new entry into {@code victim} and makes it the set's most recently used; returns what {@link #fill} returns. */
    private long fillSlot(int victim, int set, int base, long vpn, int curPcid, long pageFrame, int attributes,
            boolean dropped) {
        long old = entry[victim];
        long evicted = old != 0 && (tagOf(old) != vpn || pcidOf(old) != curPcid) || dropped
                ? vaOf(old) : -1;
        write(victim, old, vpn, curPcid, pageFrame, attributes);
        use(set, victim - base, victim);
        if (old == 0) {
            occupied[set >>> 6] |= 1L << set;
        }
        if (validWays != null) {
            validWays[set] |= 1 << (victim - base);
        }
        return evicted;
    }

    /** Writes entry {@code vpn}/{@code curPcid} into {@code victim} (which held {@code old}): counted, entry, then frame. */
    private void write(int victim, long old, long vpn, int curPcid, long pageFrame, int attributes) {
        if (old != 0) {
            uncount(old);
        }
        count(vpn - 1, victim);
        entry[victim] = pack(vpn, curPcid, attributes);
        frame[victim] = pageFrame & ~((1L << pageShift) - 1);
        missKey = 0;
        mayHold = true;
        if ((attributes & ATTR_SPLIT_MASK) != 0) {
            maySplinter = true;
        }
    }

    /** A valid entry for page number {@code vpn} appears in {@code slot}: counted, and the hint for its hash. */
    private void count(long vpn, int slot) {
        int[] words = pageIndexWords;
        if (words != null) {
            TlbPageIndex.add(words, pageIndexMask, vpn, slot);
        }
    }

    /** Valid entry {@code e} goes. */
    private void uncount(long e) {
        int[] words = pageIndexWords;
        if (words != null) {
            TlbPageIndex.remove(words, pageIndexMask, tagOf(e) - 1);
        }
    }

    /** Test seam: true if every page count equals a recount of the valid entries (null index: true). */
    boolean pageCountsExact() {
        return pageIndex == null
                || pageIndex.countsExact(Arrays.stream(entry).filter(e -> e != 0).map(e -> tagOf(e) - 1).toArray());
    }

    /** The least recently used slot of a set whose ways are all valid. */
    private int leastRecentlyUsed(int set, int base) {
        if (order != null) {
            return base + ((int) (order[set] >>> (4 * (ways - 1))) & 0xf);
        }
        int lru = base;
        for (int i = base + 1, end = base + ways; i < end; i++) {
            if (lastUse[i] < lastUse[lru]) {
                lru = i;
            }
        }
        return lru;
    }

    /** Marks a slot the most recently used of its set (a fast-path hit on the entry). */
    public void touch(int slot) {
        int shift = waysShift;
        int set = shift >= 0 ? slot >>> shift : setOf(slot);
        use(set, slot - set * ways, slot);
    }

    public void invalidateSlot(int slot) {
        clear(slot);
    }

    /** Drops the entry in {@code slot}: every entry that goes, goes here (the valid-ways bits and miss key follow). */
    void clear(int slot) {
        long e = entry[slot];
        if (e != 0) {
            uncount(e);
        }
        entry[slot] = 0;
        frame[slot] = NO_FRAME;
        missKey = 0;
        if (validWays != null) {
            int shift = waysShift;
            int set = shift >= 0 ? slot >>> shift : setOf(slot);
            validWays[set] &= ~(1 << (slot - set * ways));
        }
    }

    /**
     * INVLPG semantics for this array: drops entries for {@code va} in {@code curPcid} and global ones, and every
     * splinter of the larger page that maps {@code va} (SDM Vol. 3A §4.10.4.1). Returns the number of entries
     * dropped. {@link TlbArrayInvalidation#invalidatePage}.
     */
    public int invalidatePage(long va, int curPcid) {
        return TlbArrayInvalidation.invalidatePage(this, va, curPcid);
    }

    /**
     * Page sizes (bit = size index) whose splinters the last {@link #invalidatePage} dropped: the whole
     * large page's translations went, and whatever they backed (the fast path) must go too.
     */
    public int droppedSplinterSizes() {
        return droppedSplinterSizes;
    }

    /** INVPCID type 0 for this array: {@link TlbArrayInvalidation#invalidatePageNonGlobal}. */
    public void invalidatePageNonGlobal(long va, int onlyPcid) {
        TlbArrayInvalidation.invalidatePageNonGlobal(this, va, onlyPcid);
    }

    /** Drops every entry, or every non-global entry of {@code onlyPcid} when it is >= 0 and globals are kept. */
    public void flush(boolean keepGlobal, int onlyPcid) {
        TlbArrayInvalidation.flush(this, keepGlobal, onlyPcid);
    }

    public int validCount() {
        return (int) Arrays.stream(entry).filter(e -> e != 0).count();
    }

    /** True if a valid entry's page contains the 4 KiB frame at {@code frame} ({@code Mmu.mayReach}). */
    public boolean covers(long frame) {
        long mask = ~((1L << pageShift) - 1);
        for (int i = 0; i < entry.length; i++) {
            if (entry[i] != 0 && (this.frame[i] & mask) == (frame & mask)) {
                return true;
            }
        }
        return false;
    }

    /** Visits valid entries (for the {@code tlb} monitor command and tests). */
    public void forEach(EntryVisitor v) {
        for (int i = 0; i < entry.length; i++) {
            long e = entry[i];
            if (e != 0) {
                v.entry(vaOf(e), pcidOf(e), frame[i], (int) (e & ATTR_BITS));
            }
        }
    }

    @FunctionalInterface
    public interface EntryVisitor {
        void entry(long va, int pcid, long frame, int attrs);
    }
}
