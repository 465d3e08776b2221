package org.mmulab.emulator.mmu;

import java.util.Arrays;

/**
 * One paging-structure cache (SDM Vol. 3A §4.10.3): a small fully associative array mapping the upper
 * linear-address bits that select an entry (bits 47:39 for the PML4E cache, 47:30 for the PDPTE
 * cache, 47:21 for the PDE cache) to the physical address of the next paging structure and the
 * rights accumulated so far (R/W and U/S ANDed, XD ORed). A hit lets the walker skip the levels above.
 * Entries are tagged with the PCID, are never global, and are dropped by INVLPG, MOV CR3 and
 * INVPCID as §4.10.4.1 says. Replacement is LRU.
 */
public final class PagingStructureCache {
    private final String name;
    /** Linear-address shift of the bits this cache is keyed by: 39, 30 or 21. */
    private final int shift;
    private final long[] key; // (va >>> shift) + 1; 0 = invalid
    private final int[] pcid;
    private final long[] next;
    private final int[] rights;
    private final long[] lastUse;
    private long clock;

    public PagingStructureCache(String name, int entries, int shift) {
        this.name = name;
        this.shift = shift;
        this.key = new long[entries];
        this.pcid = new int[entries];
        this.next = new long[entries];
        this.rights = new int[entries];
        this.lastUse = new long[entries];
    }

    public String name() {
        return name;
    }

    public int entries() {
        return key.length;
    }

    /** Slot caching the structure for {@code va}, or -1. */
    public int lookup(long va, int curPcid) {
        long k = ((va & 0x0000_ffff_ffff_ffffL) >>> shift) + 1;
        for (int i = 0; i < key.length; i++) {
            if (key[i] == k && pcid[i] == curPcid) {
                lastUse[i] = ++clock;
                return i;
            }
        }
        return -1;
    }

    public long nextTable(int slot) {
        return next[slot];
    }

    public int rights(int slot) {
        return rights[slot];
    }

    public void fill(long va, int curPcid, long nextTable, int accumulatedRights) {
        if (key.length == 0) {
            return;
        }
        long k = ((va & 0x0000_ffff_ffff_ffffL) >>> shift) + 1;
        int victim = 0;
        for (int i = 0; i < key.length; i++) {
            if ((key[i] == k && pcid[i] == curPcid) || key[i] == 0) {
                victim = i;
                break;
            }
            if (lastUse[i] < lastUse[victim]) {
                victim = i;
            }
        }
        key[victim] = k;
        pcid[victim] = curPcid;
        next[victim] = nextTable;
        rights[victim] = accumulatedRights;
        lastUse[victim] = ++clock;
    }

    /** Drops the entry that would be used for {@code va} (after a page fault on it). */
    public void invalidate(long va, int curPcid) {
        int slot = lookup(va, curPcid);
        if (slot >= 0) {
            key[slot] = 0;
        }
    }

    /** Drops entries of one PCID, or all entries when {@code onlyPcid < 0}. */
    public void flush(int onlyPcid) {
        if (onlyPcid < 0) {
            Arrays.fill(key, 0);
            return;
        }
        for (int i = 0; i < key.length; i++) {
            if (pcid[i] == onlyPcid) {
                key[i] = 0;
            }
        }
    }

    /** True if a valid entry points at the table in frame {@code frame} ({@code Mmu.mayReach}). */
    public boolean references(long frame) {
        for (int i = 0; i < key.length; i++) {
            if (key[i] != 0 && (next[i] & ~0xfffL) == frame) {
                return true;
            }
        }
        return false;
    }

    public int validCount() {
        int n = 0;
        for (long k : key) {
            if (k != 0) {
                n++;
            }
        }
        return n;
    }
}
