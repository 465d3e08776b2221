package org.mmulab.emulator.timing;

import java.util.Arrays;

/**
 * One set-associative, physically indexed cache level with 64-byte lines and true LRU, kept as
 * parallel primitive arrays (no allocation per access). It models presence only — which lines are
 * cached — which is all a latency model needs; data always lives in guest RAM.
 *
 * <p>The set index is the line address modulo the number of sets (the textbook index, PA bits 6 and up),
 * or, for a level built {@code hashed}, the XOR of the line address's successive set-index-wide fields: the
 * upper physical address bits are folded into the index, so lines whose low bits agree (one line per 4 KiB
 * page at the same offset, on frames a buddy allocator handed out in a row) spread over every set instead of
 * piling into a few. Vendors do not publish their L2/L3 index functions; a preset says why it uses the hash
 * (Zen 5: measured by prefetch_probe chase, see cpudb.Zen5).
 */
public final class CacheLevel {
    public static final int LINE_SHIFT = 6;

    private final String name;
    private final int sets;
    private final int setBits;
    private final boolean hashed;
    private final int ways;
    private final int latency;
    private final long[] tag; // line address + 1; 0 = invalid
    private final long[] lastUse;
    /** Modified (written by this vCPU, not yet read by another) — kept only in a {@link CoherenceDomain}'s private levels. */
    private final boolean[] dirty;
    private long clock;
    private long hits;
    private long misses;

    /**
     * @param sizeBytes total capacity; {@code sizeBytes / 64 / ways} must be a power of two
     * @param latency   load-to-use cycles when the line hits in this level
     */
    public CacheLevel(String name, int sizeBytes, int ways, int latency) {
        this(name, sizeBytes, ways, latency, false);
    }

    /**
     * @param hashed the set index folds the upper line-address bits in (XOR of set-index-wide fields) instead of
     *               taking the low bits alone
     */
    public CacheLevel(String name, int sizeBytes, int ways, int latency, boolean hashed) {
        int lines = sizeBytes >>> LINE_SHIFT;
        if (lines % ways != 0 || Integer.bitCount(lines / ways) != 1) {
            throw new IllegalArgumentException(name + ": sets must be a power of two (" + sizeBytes + " B, " + ways + "-way)");
        }
        this.name = name;
        this.sets = lines / ways;
        this.setBits = Integer.numberOfTrailingZeros(sets);
        this.hashed = hashed && setBits > 0;
        this.ways = ways;
        this.latency = latency;
        this.tag = new long[lines];
        this.lastUse = new long[lines];
        this.dirty = new boolean[lines];
    }

    public String name() {
        return name;
    }

    public int latency() {
        return latency;
    }

    public int sets() {
        return sets;
    }

    public int ways() {
        return ways;
    }

    public boolean hashed() {
        return hashed;
    }

    /** The first way's slot of the set holding line address {@code lineAddr}. */
    int setBase(long lineAddr) {
        long x = lineAddr;
        if (hashed) {
            for (long rest = lineAddr >>> setBits; rest != 0; rest >>>= setBits) {
                x ^= rest;
            }
        }
        return (int) (x & (sets - 1)) * ways;
    }

    public long hits() {
        return hits;
    }

    public long misses() {
        return misses;
    }

    /** Looks up the line holding {@code pa}; on a miss the line is filled (evicting the LRU way). */
    public boolean access(long pa) {
        long line = (pa >>> LINE_SHIFT) + 1;
        int base = setBase(line - 1);
        int victim = base;
        for (int i = base, end = base + ways; i < end; i++) {
            if (tag[i] == line) {
                lastUse[i] = ++clock;
                hits++;
                return true;
            }
            if (lastUse[i] < lastUse[victim] || tag[i] == 0 && tag[victim] != 0) {
                victim = i;
            }
        }
        tag[victim] = line;
        lastUse[victim] = ++clock;
        dirty[victim] = false; // the victim's data, if modified, went back to the next level
        misses++;
        return false;
    }

    /** The way holding {@code pa}'s line, or -1; no LRU update. */
    private int find(long pa) {
        long line = (pa >>> LINE_SHIFT) + 1;
        int base = setBase(line - 1);
        for (int i = base, end = base + ways; i < end; i++) {
            if (tag[i] == line) {
                return i;
            }
        }
        return -1;
    }

    /** Marks the line holding {@code pa} Modified, when present. */
    public void markDirty(long pa) {
        int i = find(pa);
        if (i >= 0) {
            dirty[i] = true;
        }
    }

    /** True when the line holding {@code pa} is present and Modified; it is then Shared (clean) afterwards. */
    public boolean cleanIfDirty(long pa) {
        int i = find(pa);
        if (i >= 0 && dirty[i]) {
            dirty[i] = false;
            return true;
        }
        return false;
    }

    /** Drops the line holding {@code pa} if present; true when it was. */
    public boolean invalidate(long pa) {
        long line = (pa >>> LINE_SHIFT) + 1;
        int base = setBase(line - 1);
        for (int i = base, end = base + ways; i < end; i++) {
            if (tag[i] == line) {
                tag[i] = 0;
                lastUse[i] = 0;
                dirty[i] = false;
                return true;
            }
        }
        return false;
    }

    public void invalidateAll() {
        Arrays.fill(tag, 0);
        Arrays.fill(dirty, false);
    }
}
