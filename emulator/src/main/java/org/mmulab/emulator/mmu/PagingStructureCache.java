package org.mmulab.emulator.mmu;

import java.util.Arrays;

/**
 * One paging-structure cache (SDM Vol. 3A §4.10.3): a small fully associative array mapping the upper
 * linear-address bits that select an entry (bits 47:39 for the PML4E cache, 47:30 for the PDPTE
 * cache, 47:21 for the PDE cache) to the physical address of the next paging structure and the
 * rights accumulated so far (R/W and U/S ANDed, XD ORed). A hit lets the walker skip the levels above.
 * Entries are tagged with the PCID, are never global, and are dropped by INVLPG, MOV CR3 and
 * INVPCID as §4.10.4.1 says. Replacement is LRU.
 *
 * <p>The model stays fully associative (any entry may hold any address), but a lookup does not scan:
 * a host-side open-addressing hash index (linear probing, backward-shift deletion) maps the packed
 * (address bits, PCID) key to its slot, and is updated by every fill, invalidation and flush. A fill
 * never creates a second entry for a key, so the index is exact and hits, misses and LRU victims are
 * those of a scan. Before hashing, a lookup tries the slot of the last hit: consecutive walks mostly share
 * their upper levels (512 pages under one PDE), and a key is in at most one slot, so a match there is the
 * index's answer.
 *
 * <p>LRU without a scan either: the valid slots form a doubly linked list in the order of their last use
 * (a lookup hit or a fill), so a fill of a full cache takes the list's tail, the slot a scan for the least
 * recent use would find; a fill while slots are free takes the first free slot, as before.
 */
public final class PagingStructureCache {
    private final String name;
    /** Linear-address shift of the bits this cache is keyed by: 39, 30 or 21. */
    private final int shift;
    /** ((va bits 47:shift) + 1) << 12 | pcid; 0 = invalid. */
    private final long[] key;
    /** The next table of each slot; -1 in an invalid slot, so a racy reader ({@link #references}) never pairs a new key with a dropped table. */
    private final long[] next;
    private final int[] rights;
    /** The recency list over the valid slots: the next more / less recently used slot, -1 at the ends. */
    private final int[] newer, older;
    /** The most and the least recently used valid slot, -1 while none is valid. */
    private int mru = -1, lru = -1;
    private int valid;
    /** slot + 1 of the entry whose key hashes here (or probes on from here), 0 = empty. */
    private final int[] index;
    private final int indexShift;
    /** The slot the last successful lookup returned (checked against its key before use). */
    private int lastHit;

    public PagingStructureCache(String name, int entries, int shift) {
        this.name = name;
        this.shift = shift;
        this.key = new long[entries];
        this.next = new long[entries];
        Arrays.fill(next, -1L);
        this.rights = new int[entries];
        this.newer = new int[entries];
        this.older = new int[entries];
        int cap = Integer.highestOneBit(Math.max(4, entries * 4 - 1)) << 1; // load factor <= 1/4
        this.index = new int[cap];
        this.indexShift = 64 - Integer.numberOfTrailingZeros(cap);
    }

    public String name() {
        return name;
    }

    public int entries() {
        return key.length;
    }

    private long keyOf(long va, int curPcid) {
        return ((((va & 0x0000_ffff_ffff_ffffL) >>> shift) + 1) << 12) | curPcid;
    }

    private int home(long k) {
        return (int) ((k * 0x9E37_79B9_7F4A_7C15L) >>> indexShift);
    }

    /** Slot holding key {@code k}, or -1. */
    private int find(long k) {
        int mask = index.length - 1;
        for (int h = home(k);; h = (h + 1) & mask) {
            int s = index[h] - 1;
            if (s < 0) {
                return -1;
            }
            if (key[s] == k) {
                return s;
            }
        }
    }

    private void indexInsert(int slot) {
        int mask = index.length - 1;
        int h = home(key[slot]);
        while (index[h] != 0) {
            h = (h + 1) & mask;
        }
        index[h] = slot + 1;
    }

    /** Removes {@code slot} (whose key is still in {@code key[slot]}) from the index: backward-shift deletion. */
    private void indexRemove(int slot) {
        int mask = index.length - 1;
        int h = home(key[slot]);
        while (index[h] != slot + 1) {
            h = (h + 1) & mask;
        }
        int hole = h;
        for (int j = (hole + 1) & mask; index[j] != 0; j = (j + 1) & mask) {
            int want = home(key[index[j] - 1]);
            // Move j's entry into the hole unless its home lies cyclically in (hole, j].
            boolean stays = hole <= j ? hole < want && want <= j : hole < want || want <= j;
            if (!stays) {
                index[hole] = index[j];
                hole = j;
            }
        }
        index[hole] = 0;
    }

    /** Slot caching the structure for {@code va}, or -1. */
    public int lookup(long va, int curPcid) {
        if (valid == 0) {
            return -1;
        }
        long k = keyOf(va, curPcid);
        int s = lastHit;
        if (key[s] != k) { // keys are never 0, so an emptied slot does not match
            s = find(k);
            if (s < 0) {
                return -1;
            }
            lastHit = s;
        }
        if (s != mru) {
            unlink(s);
            pushFront(s);
        }
        return s;
    }

    /** Takes valid slot {@code s} out of the recency list. */
    private void unlink(int s) {
        int n = newer[s], o = older[s];
        if (n >= 0) {
            older[n] = o;
        } else {
            mru = o;
        }
        if (o >= 0) {
            newer[o] = n;
        } else {
            lru = n;
        }
    }

    /** Makes slot {@code s} (not in the list) the most recently used. */
    private void pushFront(int s) {
        newer[s] = -1;
        older[s] = mru;
        if (mru >= 0) {
            newer[mru] = s;
        } else {
            lru = s;
        }
        mru = s;
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
        long k = keyOf(va, curPcid);
        int victim = find(k);
        if (victim >= 0) {
            unlink(victim); // refreshed in place
        } else {
            if (valid < key.length) { // the first free slot
                victim = 0;
                while (key[victim] != 0) {
                    victim++;
                }
                valid++;
            } else { // else the least recently used one
                victim = lru;
                unlink(victim);
                indexRemove(victim);
            }
            key[victim] = k;
            indexInsert(victim);
        }
        pushFront(victim);
        next[victim] = nextTable;
        rights[victim] = accumulatedRights;
    }

    /** Drops the entry that would be used for {@code va} (after a page fault on it). */
    public void invalidate(long va, int curPcid) {
        int slot = lookup(va, curPcid);
        if (slot >= 0) {
            drop(slot);
        }
    }

    private void drop(int slot) {
        unlink(slot);
        indexRemove(slot);
        key[slot] = 0;
        next[slot] = -1L;
        valid--;
    }

    /** Drops entries of one PCID, or all entries when {@code onlyPcid < 0}. */
    public void flush(int onlyPcid) {
        if (valid == 0) {
            return;
        }
        if (onlyPcid < 0) {
            Arrays.fill(key, 0);
            Arrays.fill(next, -1L);
            Arrays.fill(index, 0);
            valid = 0;
            mru = -1;
            lru = -1;
            return;
        }
        for (int i = 0; i < key.length; i++) {
            if (key[i] != 0 && (int) (key[i] & 0xfff) == onlyPcid) {
                drop(i);
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

    /**
     * Visits valid entries: the linear address of the region an entry covers (bits 47:shift, sign-extended),
     * its PCID and the next table's physical address (for {@code --check}'s reports, {@link FrameReach}).
     */
    public void forEach(EntryVisitor v) {
        for (int i = 0; i < key.length; i++) {
            long k = key[i];
            if (k != 0) {
                v.entry((((k >>> 12) - 1) << shift) << 16 >> 16, (int) (k & 0xfff), next[i]);
            }
        }
    }

    @FunctionalInterface
    public interface EntryVisitor {
        void entry(long va, int pcid, long nextTable);
    }

    public int validCount() {
        return valid;
    }
}
