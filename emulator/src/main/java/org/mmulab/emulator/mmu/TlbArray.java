package org.mmulab.emulator.mmu;

import java.util.Arrays;

/**
 * One set-associative array of translations for a single page size (SDM Vol. 3A §4.10.2), stored as
 * parallel primitive arrays so a lookup allocates nothing. Replacement is true LRU within a set.
 *
 * <p>An entry caches what the walk found: the page frame, and the combined rights of every level
 * (R/W, U/S, XD ANDed/ORed over the walk), the leaf's D and G bits. Entries are never updated
 * behind the hardware's back: a changed page table stays invisible until the entry is invalidated or
 * evicted (SDM §4.10.4.4, "delayed invalidation").
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
    private final int ways;
    private final int setMask;
    /** vpn + 1, so 0 means invalid. */
    private final long[] tag;
    private final int[] pcid;
    private final long[] frame;
    private final int[] attrs;
    private final long[] lastUse;
    private long clock;
    /** Some valid entry may be a splinter (ATTR_SPLIT_MASK set): INVLPG must then scan every set. */
    private boolean maySplinter;
    /** Bit s set: the last invalidatePage dropped splinters of a page of size index s. */
    private int droppedSplinterSizes;

    public TlbArray(String name, int entries, int ways, int pageShift) {
        if (entries % ways != 0 || Integer.bitCount(entries / ways) != 1) {
            throw new IllegalArgumentException(name + ": entries/ways must be a power of two: " + entries + "/" + ways);
        }
        this.name = name;
        this.pageShift = pageShift;
        this.ways = ways;
        this.sets = entries / ways;
        this.setMask = sets - 1;
        this.tag = new long[entries];
        this.pcid = new int[entries];
        this.frame = new long[entries];
        this.attrs = new int[entries];
        this.lastUse = new long[entries];
    }

    public String name() {
        return name;
    }

    public int pageShift() {
        return pageShift;
    }

    public int entries() {
        return tag.length;
    }

    public int ways() {
        return ways;
    }

    /** Returns the slot holding {@code va} for {@code curPcid} (or a global entry), or -1. */
    public int lookup(long va, int curPcid) {
        long vpn = (va >>> pageShift) + 1;
        int base = (int) ((vpn - 1) & setMask) * ways;
        for (int i = base, end = base + ways; i < end; i++) {
            if (tag[i] == vpn && (pcid[i] == curPcid || (attrs[i] & ATTR_G) != 0)) {
                lastUse[i] = ++clock;
                return i;
            }
        }
        return -1;
    }

    public long frame(int slot) {
        return frame[slot];
    }

    public int attrs(int slot) {
        return attrs[slot];
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
        long vpn = (va >>> pageShift) + 1;
        int base = (int) ((vpn - 1) & setMask) * ways;
        int end = base + ways;
        boolean global = (attributes & ATTR_G) != 0;
        int victim = -1;
        int free = -1;
        int lru = base;
        boolean dropped = false;
        for (int i = base; i < end; i++) {
            long t = tag[i];
            if (t == vpn && (global || pcid[i] == curPcid || (attrs[i] & ATTR_G) != 0)) {
                if (victim < 0) {
                    victim = i;
                } else {
                    tag[i] = 0; // a second entry the new one would shadow
                    dropped = true;
                }
            } else if (t == 0) {
                if (free < 0) {
                    free = i;
                }
            } else if (lastUse[i] < lastUse[lru] || tag[lru] == 0) {
                lru = i;
            }
        }
        if (victim < 0) {
            victim = free >= 0 ? free : lru;
        }
        long evicted = tag[victim] != 0 && (tag[victim] != vpn || pcid[victim] != curPcid) || dropped
                ? (tag[victim] - 1) << pageShift : -1;
        tag[victim] = vpn;
        pcid[victim] = curPcid;
        frame[victim] = pageFrame & ~((1L << pageShift) - 1);
        attrs[victim] = attributes;
        lastUse[victim] = ++clock;
        if ((attributes & ATTR_SPLIT_MASK) != 0) {
            maySplinter = true;
        }
        return evicted;
    }

    public void touch(int slot) {
        lastUse[slot] = ++clock;
    }

    public void invalidateSlot(int slot) {
        tag[slot] = 0;
    }

    /**
     * INVLPG semantics for this array: drops entries for {@code va} in {@code curPcid} and global ones,
     * and every splinter of the larger page that maps {@code va} (SDM Vol. 3A §4.10.4.1: INVLPG
     * invalidates all TLB entries for the page, whatever their size; a large page cached as several
     * 4 KiB entries loses all of them). Returns the number of entries dropped.
     */
    public int invalidatePage(long va, int curPcid) {
        droppedSplinterSizes = 0;
        long vpn = (va >>> pageShift) + 1;
        int base = (int) ((vpn - 1) & setMask) * ways;
        int n = 0;
        for (int i = base, end = base + ways; i < end; i++) {
            if (tag[i] == vpn && (pcid[i] == curPcid || (attrs[i] & ATTR_G) != 0)) {
                tag[i] = 0;
                n++;
            }
        }
        if (maySplinter) {
            n += invalidateSplinters(va, curPcid, true);
        }
        return n;
    }

    /**
     * Drops the splinters (of any set) of the large page holding {@code va} in {@code curPcid}, and the
     * global ones when {@code global}.
     */
    private int invalidateSplinters(long va, int curPcid, boolean global) {
        int n = 0;
        boolean any = false;
        for (int i = 0; i < tag.length; i++) {
            int split = (attrs[i] & ATTR_SPLIT_MASK) >>> ATTR_SPLIT_SHIFT;
            if (tag[i] == 0 || split == 0) {
                continue;
            }
            int shift = Tlb.pageShift(split);
            long entryVa = (tag[i] - 1) << pageShift;
            boolean g = (attrs[i] & ATTR_G) != 0;
            if ((entryVa >>> shift) == (va >>> shift) && (global ? pcid[i] == curPcid || g : pcid[i] == curPcid && !g)) {
                tag[i] = 0;
                n++;
                droppedSplinterSizes |= 1 << split;
            } else {
                any = true;
            }
        }
        maySplinter = any;
        return n;
    }

    /**
     * Page sizes (bit = size index) whose splinters the last {@link #invalidatePage} dropped: the whole
     * large page's translations went, and whatever they backed (the fast path) must go too.
     */
    public int droppedSplinterSizes() {
        return droppedSplinterSizes;
    }

    /** INVPCID type 0 for this array: drops non-global entries for {@code va} in {@code onlyPcid}, splinters included. */
    public void invalidatePageNonGlobal(long va, int onlyPcid) {
        long vpn = (va >>> pageShift) + 1;
        int base = (int) ((vpn - 1) & setMask) * ways;
        for (int i = base, end = base + ways; i < end; i++) {
            if (tag[i] == vpn && pcid[i] == onlyPcid && (attrs[i] & ATTR_G) == 0) {
                tag[i] = 0;
            }
        }
        if (maySplinter) {
            invalidateSplinters(va, onlyPcid, false);
        }
    }

    /** Drops every entry, or every non-global entry of {@code onlyPcid} when it is >= 0 and globals are kept. */
    public void flush(boolean keepGlobal, int onlyPcid) {
        if (!keepGlobal && onlyPcid < 0) {
            Arrays.fill(tag, 0);
            maySplinter = false;
            return;
        }
        for (int i = 0; i < tag.length; i++) {
            if (tag[i] == 0) {
                continue;
            }
            boolean global = (attrs[i] & ATTR_G) != 0;
            if (keepGlobal && global) {
                continue;
            }
            if (onlyPcid >= 0 && pcid[i] != onlyPcid && !global) {
                continue;
            }
            tag[i] = 0;
        }
    }

    public int validCount() {
        int n = 0;
        for (long t : tag) {
            if (t != 0) {
                n++;
            }
        }
        return n;
    }

    /** True if a valid entry's page contains the 4 KiB frame at {@code frame} ({@code Mmu.mayReach}). */
    public boolean covers(long frame) {
        long mask = ~((1L << pageShift) - 1);
        for (int i = 0; i < tag.length; i++) {
            if (tag[i] != 0 && (this.frame[i] & mask) == (frame & mask)) {
                return true;
            }
        }
        return false;
    }

    /** Visits valid entries (for the {@code tlb} monitor command and tests). */
    public void forEach(EntryVisitor v) {
        for (int i = 0; i < tag.length; i++) {
            if (tag[i] != 0) {
                v.entry((tag[i] - 1) << pageShift, pcid[i], frame[i], attrs[i]);
            }
        }
    }

    @FunctionalInterface
    public interface EntryVisitor {
        void entry(long va, int pcid, long frame, int attrs);
    }
}
