package org.mmulab.emulator.mmu;

import static org.mmulab.emulator.mmu.TlbArray.ATTR_SPLIT_MASK;
import static org.mmulab.emulator.mmu.TlbArray.ATTR_SPLIT_SHIFT;
import static org.mmulab.emulator.mmu.TlbEntryWord.*;

import java.util.Arrays;

/**
 * The invalidation side of one {@link TlbArray} (SDM Vol. 3A §4.10.4): INVLPG of a page (§4.10.4.1, splinters of a
 * larger page included), INVPCID's single-address form, and the flushes of MOV to CR3 / CR4 and INVPCID's other
 * forms (every entry, every non-global entry, one PCID's non-global entries). Every entry that goes goes through
 * {@link TlbArray#clear} (or, for an emptying flush, slot by valid slot here), so the array's page counts,
 * valid-ways masks and miss key stay exact. Kept apart from the array's lookups and fills, its hot side.
 */
final class TlbArrayInvalidation {
    private TlbArrayInvalidation() {
    }

    /**
     * INVLPG semantics for array {@code a}: drops entries for {@code va} in {@code curPcid} and global ones,
     * and every splinter of the larger page that maps {@code va} (SDM Vol. 3A §4.10.4.1: INVLPG
     * invalidates all TLB entries for the page, whatever their size; a large page cached as several
     * 4 KiB entries loses all of them). Returns the number of entries dropped.
     */
    static int invalidatePage(TlbArray a, long va, int curPcid) {
        a.droppedSplinterSizes = 0;
        if (!TlbArray.canonical(va)) {
            return 0; // no entry translates a non-canonical address
        }
        long vpn = a.vpnOf(va) + 1;
        int base = (int) ((vpn - 1) & a.setMask) * a.ways;
        int n = 0;
        for (int i = base, end = base + a.ways; i < end; i++) {
            long e = a.entry[i];
            if (tagOf(e) == vpn && (pcidOf(e) == curPcid || global(e))) {
                a.clear(i);
                n++;
            }
        }
        if (a.maySplinter) {
            n += invalidateSplinters(a, va, curPcid, true);
        }
        return n;
    }

    /** Drops the splinters (any set) of the large page holding {@code va} in {@code curPcid}, global ones if {@code global}. */
    private static int invalidateSplinters(TlbArray a, long va, int curPcid, boolean global) {
        int n = 0;
        boolean any = false;
        for (int i = 0; i < a.entry.length; i++) {
            long e = a.entry[i];
            int split = (int) (e & ATTR_SPLIT_MASK) >>> ATTR_SPLIT_SHIFT;
            if (e == 0 || split == 0) {
                continue;
            }
            int shift = Tlb.pageShift(split);
            long entryVa = a.vaOf(e);
            boolean g = global(e);
            if ((entryVa >>> shift) == (va >>> shift) && (global ? pcidOf(e) == curPcid || g : pcidOf(e) == curPcid && !g)) {
                a.clear(i);
                n++;
                a.droppedSplinterSizes |= 1 << split;
            } else {
                any = true;
            }
        }
        a.maySplinter = any;
        return n;
    }

    /** INVPCID type 0 for array {@code a}: drops non-global entries for {@code va} in {@code onlyPcid}, splinters included. */
    static void invalidatePageNonGlobal(TlbArray a, long va, int onlyPcid) {
        if (!TlbArray.canonical(va)) {
            return;
        }
        long vpn = a.vpnOf(va) + 1;
        int base = (int) ((vpn - 1) & a.setMask) * a.ways;
        for (int i = base, end = base + a.ways; i < end; i++) {
            long e = a.entry[i];
            if (tagOf(e) == vpn && pcidOf(e) == onlyPcid && !global(e)) {
                a.clear(i);
            }
        }
        if (a.maySplinter) {
            invalidateSplinters(a, va, onlyPcid, false);
        }
    }

    /** Drops every entry of {@code a}, or every non-global entry of {@code onlyPcid} when it is >= 0 and globals are kept. */
    static void flush(TlbArray a, boolean keepGlobal, int onlyPcid) {
        if (!a.mayHold) {
            return;
        }
        if (!keepGlobal && onlyPcid < 0) {
            emptyAll(a);
            a.missKey = 0;
            a.maySplinter = false;
            a.mayHold = false;
            return;
        }
        boolean left = false;
        for (int word = 0; word < a.occupied.length; word++) { // the sets that may hold an entry
            for (long sets = a.occupied[word]; sets != 0; sets &= sets - 1) {
                for (int i = (word << 6 | Long.numberOfTrailingZeros(sets)) * a.ways, end = i + a.ways; i < end; i++) {
                    long e = a.entry[i];
                    if (e == 0) {
                        continue;
                    }
                    boolean global = global(e);
                    if (keepGlobal && global || onlyPcid >= 0 && pcidOf(e) != onlyPcid && !global) {
                        left = true;
                        continue;
                    }
                    a.clear(i);
                }
            }
        }
        a.mayHold = left;
    }

    /**
     * Drops every entry: of the {@link TlbArray#occupied} sets, slot by valid slot (a flush of a big, nearly empty STLB clears
     * a few slots, not 1,536 entries and frames, 4,096 index words, 128 masks); the frame of every invalid slot is
     * {@link TlbArray#NO_FRAME} before and after, as {@link TlbArray#covers} requires.
     */
    private static void emptyAll(TlbArray a) {
        int[] valid = a.validWays;
        long[] occ = a.occupied;
        if (valid == null) {
            Arrays.fill(a.entry, 0);
            Arrays.fill(a.frame, TlbArray.NO_FRAME);
            Arrays.fill(occ, 0);
            if (a.pageIndex != null) {
                a.pageIndex.clear();
            }
            return;
        }
        long[] en = a.entry;
        long[] fr = a.frame;
        TlbPageIndex x = a.pageIndex;
        for (int word = 0; word < occ.length; word++) {
            for (long sets = occ[word]; sets != 0; sets &= sets - 1) {
                int set = word << 6 | Long.numberOfTrailingZeros(sets);
                int base = set * a.ways;
                for (int bits = valid[set]; bits != 0; bits &= bits - 1) {
                    int slot = base + Integer.numberOfTrailingZeros(bits);
                    if (x != null) {
                        x.zero(tagOf(en[slot]) - 1); // every entry of the word goes in this flush
                    }
                    en[slot] = 0;
                    fr[slot] = TlbArray.NO_FRAME;
                }
                valid[set] = 0;
            }
            occ[word] = 0;
        }
    }
}
