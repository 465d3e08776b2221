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
     * Inserts a translation, evicting the set's least recently used entry. Returns the linear base
     * address of a valid entry for a different page that was evicted, or -1 when nothing was evicted.
     */
    public long fill(long va, int curPcid, long pageFrame, int attributes) {
        long vpn = (va >>> pageShift) + 1;
        int base = (int) ((vpn - 1) & setMask) * ways;
        int victim = base;
        for (int i = base, end = base + ways; i < end; i++) {
            if (tag[i] == vpn && pcid[i] == curPcid) {
                victim = i;
                break;
            }
            if (tag[i] == 0) {
                victim = i;
                break;
            }
            if (lastUse[i] < lastUse[victim]) {
                victim = i;
            }
        }
        long evicted = tag[victim] != 0 && (tag[victim] != vpn || pcid[victim] != curPcid)
                ? (tag[victim] - 1) << pageShift : -1;
        tag[victim] = vpn;
        pcid[victim] = curPcid;
        frame[victim] = pageFrame & ~((1L << pageShift) - 1);
        attrs[victim] = attributes;
        lastUse[victim] = ++clock;
        return evicted;
    }

    public void touch(int slot) {
        lastUse[slot] = ++clock;
    }

    public void invalidateSlot(int slot) {
        tag[slot] = 0;
    }

    /** INVLPG semantics for this array: drops entries for {@code va} in {@code curPcid} and global ones. */
    public int invalidatePage(long va, int curPcid) {
        long vpn = (va >>> pageShift) + 1;
        int base = (int) ((vpn - 1) & setMask) * ways;
        int n = 0;
        for (int i = base, end = base + ways; i < end; i++) {
            if (tag[i] == vpn && (pcid[i] == curPcid || (attrs[i] & ATTR_G) != 0)) {
                tag[i] = 0;
                n++;
            }
        }
        return n;
    }

    /** INVPCID type 0 for this array: drops non-global entries for {@code va} in {@code onlyPcid}. */
    public void invalidatePageNonGlobal(long va, int onlyPcid) {
        long vpn = (va >>> pageShift) + 1;
        int base = (int) ((vpn - 1) & setMask) * ways;
        for (int i = base, end = base + ways; i < end; i++) {
            if (tag[i] == vpn && pcid[i] == onlyPcid && (attrs[i] & ATTR_G) == 0) {
                tag[i] = 0;
            }
        }
    }

    /** Drops every entry, or every non-global entry of {@code onlyPcid} when it is >= 0 and globals are kept. */
    public void flush(boolean keepGlobal, int onlyPcid) {
        if (!keepGlobal && onlyPcid < 0) {
            Arrays.fill(tag, 0);
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
