package org.mmulab.emulator.mmu;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Test reference: the TLB array as it was before the recency order was packed per set (commit da551c8),
 * true LRU by a per-slot last-use clock and a scan of the set on every fill. {@code TlbLruEquivalenceTest}
 * runs random operation sequences against it and {@link TlbArray} and requires identical results.
 */
final class ReferenceTlbArray {
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
    private static final int PCID_SHIFT = 7, TAG_SHIFT = 19;
    private static final long ATTR_BITS = (1L << PCID_SHIFT) - 1;
    /** Tag and PCID: what must equal for a non-global hit. */
    private static final long TAG_PCID_MASK = ~ATTR_BITS;
    /** Tag only: what must equal for a global hit. */
    private static final long TAG_MASK = -1L << TAG_SHIFT;
    /** Packed (vpn + 1) << 19 | pcid << 7 | attrs; 0 means invalid. */
    private final long[] entry;
    private final long[] frame;
    private final long[] lastUse;
    private long clock;
    /** False only while no entry is valid (cleared by a flush that empties the array): lookups skip it. */
    private boolean mayHold;
    /** Some valid entry may be a splinter (ATTR_SPLIT_MASK set): INVLPG must then scan every set. */
    private boolean maySplinter;
    /** Bit s set: the last invalidatePage dropped splinters of a page of size index s. */
    private int droppedSplinterSizes;

    ReferenceTlbArray(String name, int entries, int ways, int pageShift) {
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
        this.lastUse = new long[entries];
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

    private static long pack(long vpnPlus1, int pcid, int attrs) {
        return vpnPlus1 << TAG_SHIFT | (long) pcid << PCID_SHIFT | attrs;
    }

    /**
     * Page number of a canonical linear address from its low 48 bits (36 bits for 4 KiB pages, so it
     * fits the packed tag); {@link #vaOf} sign-extends it back.
     */
    private long vpnOf(long va) {
        return (va & 0x0000_ffff_ffff_ffffL) >>> pageShift;
    }

    private static boolean canonical(long va) {
        return ((va << 16) >> 16) == va;
    }

    /** The linear base address of a valid entry (bit 47 sign-extended, as the address was canonical). */
    private long vaOf(long e) {
        return ((tagOf(e) - 1) << pageShift) << 16 >> 16;
    }

    private static long tagOf(long e) {
        return e >>> TAG_SHIFT;
    }

    private static int pcidOf(long e) {
        return (int) (e >>> PCID_SHIFT) & 0xfff;
    }

    private static boolean global(long e) {
        return (e & ATTR_G) != 0;
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
        long key = pack(vpn + 1, curPcid, 0);
        int base = (int) (vpn & setMask) * ways;
        long[] en = entry;
        for (int i = base, end = base + ways; i < end; i++) {
            long d = en[i] ^ key;
            if ((d & TAG_PCID_MASK) == 0 || (d & TAG_MASK) == 0 && global(en[i])) {
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
        long vpn = vpnOf(va) + 1;
        int base = (int) ((vpn - 1) & setMask) * ways;
        int end = base + ways;
        boolean global = (attributes & ATTR_G) != 0;
        int victim = -1;
        int free = -1;
        int lru = base;
        boolean dropped = false;
        long key = pack(vpn, curPcid, 0);
        long[] en = entry;
        for (int i = base; i < end; i++) {
            long e = en[i];
            long d = e ^ key;
            if ((d & TAG_MASK) == 0 && (global || (d & TAG_PCID_MASK) == 0 || global(e))) {
                // same page, and this PCID or a global entry on either side
                if (victim < 0) {
                    victim = i;
                } else {
                    en[i] = 0; // a second entry the new one would shadow
                    dropped = true;
                }
            } else if (e == 0) {
                if (free < 0) {
                    free = i;
                }
            } else if (lastUse[i] < lastUse[lru] || en[lru] == 0) {
                lru = i;
            }
        }
        if (victim < 0) {
            victim = free >= 0 ? free : lru;
        }
        long old = entry[victim];
        long evicted = old != 0 && (tagOf(old) != vpn || pcidOf(old) != curPcid) || dropped
                ? vaOf(old) : -1;
        entry[victim] = pack(vpn, curPcid, attributes);
        frame[victim] = pageFrame & ~((1L << pageShift) - 1);
        lastUse[victim] = ++clock;
        mayHold = true;
        if ((attributes & ATTR_SPLIT_MASK) != 0) {
            maySplinter = true;
        }
        return evicted;
    }

    public void touch(int slot) {
        lastUse[slot] = ++clock;
    }

    public void invalidateSlot(int slot) {
        entry[slot] = 0;
    }

    /**
     * INVLPG semantics for this array: drops entries for {@code va} in {@code curPcid} and global ones,
     * and every splinter of the larger page that maps {@code va} (SDM Vol. 3A §4.10.4.1: INVLPG
     * invalidates all TLB entries for the page, whatever their size; a large page cached as several
     * 4 KiB entries loses all of them). Returns the number of entries dropped.
     */
    public int invalidatePage(long va, int curPcid) {
        droppedSplinterSizes = 0;
        if (!canonical(va)) {
            return 0; // no entry translates a non-canonical address
        }
        long vpn = vpnOf(va) + 1;
        int base = (int) ((vpn - 1) & setMask) * ways;
        int n = 0;
        for (int i = base, end = base + ways; i < end; i++) {
            long e = entry[i];
            if (tagOf(e) == vpn && (pcidOf(e) == curPcid || global(e))) {
                entry[i] = 0;
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
        for (int i = 0; i < entry.length; i++) {
            long e = entry[i];
            int split = (int) (e & ATTR_SPLIT_MASK) >>> ATTR_SPLIT_SHIFT;
            if (e == 0 || split == 0) {
                continue;
            }
            int shift = Tlb.pageShift(split);
            long entryVa = vaOf(e);
            boolean g = global(e);
            if ((entryVa >>> shift) == (va >>> shift) && (global ? pcidOf(e) == curPcid || g : pcidOf(e) == curPcid && !g)) {
                entry[i] = 0;
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
        if (!canonical(va)) {
            return;
        }
        long vpn = vpnOf(va) + 1;
        int base = (int) ((vpn - 1) & setMask) * ways;
        for (int i = base, end = base + ways; i < end; i++) {
            long e = entry[i];
            if (tagOf(e) == vpn && pcidOf(e) == onlyPcid && !global(e)) {
                entry[i] = 0;
            }
        }
        if (maySplinter) {
            invalidateSplinters(va, onlyPcid, false);
        }
    }

    /** Drops every entry, or every non-global entry of {@code onlyPcid} when it is >= 0 and globals are kept. */
    public void flush(boolean keepGlobal, int onlyPcid) {
        if (!mayHold) {
            return;
        }
        if (!keepGlobal && onlyPcid < 0) {
            Arrays.fill(entry, 0);
            maySplinter = false;
            mayHold = false;
            return;
        }
        boolean left = false;
        for (int i = 0; i < entry.length; i++) {
            long e = entry[i];
            if (e == 0) {
                continue;
            }
            boolean global = global(e);
            if (keepGlobal && global || onlyPcid >= 0 && pcidOf(e) != onlyPcid && !global) {
                left = true;
                continue;
            }
            entry[i] = 0;
        }
        mayHold = left;
    }

    public int validCount() {
        int n = 0;
        for (long e : entry) {
            if (e != 0) {
                n++;
            }
        }
        return n;
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

    /** The valid entries as "va/pcid/frame/attrs" strings in slot order, to compare with {@link #contentsOf}. */
    List<String> contents() {
        List<String> l = new ArrayList<>();
        forEach((va, pcid, frame, attrs) -> l.add(Long.toHexString(va) + "/" + pcid + "/" + frame + "/" + attrs));
        return l;
    }

    /** {@code a}'s valid entries in the form of {@link #contents()}. */
    static List<String> contentsOf(TlbArray a) {
        List<String> l = new ArrayList<>();
        a.forEach((va, pcid, frame, attrs) -> l.add(Long.toHexString(va) + "/" + pcid + "/" + frame + "/" + attrs));
        return l;
    }

    @FunctionalInterface
    public interface EntryVisitor {
        void entry(long va, int pcid, long frame, int attrs);
    }
}
