package org.mmulab.emulator.mmu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@link PagingStructureCache}'s recency list against the per-slot clock it replaced ({@link Reference}: a fill
 * takes the first free slot, else the slot of the smallest last-use time, scanning): a seeded random sequence of
 * lookups, fills, invalidations and flushes (all, one PCID) must give the same slot on every lookup, the same
 * next table and rights on a hit, and the same contents slot by slot after every operation. The seed is
 * printed; {@code -Dpsc.lru.seed=N} replays one.
 */
class PagingStructureCacheLruTest {
    private static final long SEED = Long.getLong("psc.lru.seed", System.nanoTime());
    private static final int OPS = 30_000;

    /** entries, shift: the Skylake PML4E/PDPTE/PDE caches, TINY's, odd and larger sizes. */
    @ParameterizedTest
    @CsvSource({"2,39", "4,30", "32,21", "1,21", "3,30", "64,21"})
    void sameSlotsAndVictimsAsTheClockLru(int entries, int shift) {
        long seed = SEED ^ entries * 0x9E37_79B9_7F4A_7C15L ^ shift;
        System.out.println("PagingStructureCacheLruTest " + entries + " entries, shift " + shift + ": seed " + SEED
                + " (replay with -Dpsc.lru.seed=" + SEED + ")");
        SplittableRandom r = new SplittableRandom(seed);
        PagingStructureCache c = new PagingStructureCache("t", entries, shift);
        Reference ref = new Reference(entries, shift);
        long lruEvictions = 0;
        for (int op = 0; op < OPS; op++) {
            String at = "seed " + SEED + ", " + entries + " entries, op " + op;
            long va = (long) r.nextInt(2 * entries + 3) << shift | (r.nextBoolean() ? 0xffff_8000_0000_0000L : 0);
            int pcid = r.nextInt(3);
            int kind = r.nextInt(100);
            if (kind < 45) {
                int slot = ref.lookup(va, pcid);
                assertEquals(slot, c.lookup(va, pcid), at + ": lookup");
                if (slot >= 0) {
                    assertEquals(ref.next[slot], c.nextTable(slot), at);
                    assertEquals(ref.rights[slot], c.rights(slot), at);
                }
            } else if (kind < 88) {
                long table = (long) r.nextInt(1 << 20) << 12;
                int rights = r.nextInt(8);
                if (ref.fill(va, pcid, table, rights)) {
                    lruEvictions++;
                }
                c.fill(va, pcid, table, rights);
            } else if (kind < 99) {
                ref.invalidate(va, pcid);
                c.invalidate(va, pcid);
            } else if (r.nextInt(10) == 0) { // rare: a flush empties what the LRU needs full
                int only = r.nextBoolean() ? -1 : pcid;
                ref.flush(only);
                c.flush(only);
            }
            assertEquals(ref.contents(), contents(c), at + ": contents");
            assertEquals(ref.contents().size(), c.validCount(), at + ": valid count");
        }
        System.out.println("  " + lruEvictions + " fills evicted the least recently used entry");
        assertTrue(lruEvictions > OPS / 100, "the sequence exercised the LRU victim choice: " + lruEvictions);
    }

    private static List<String> contents(PagingStructureCache c) {
        List<String> l = new ArrayList<>();
        c.forEach((va, pcid, next) -> l.add(Long.toHexString(va) + "/" + pcid + "/" + Long.toHexString(next)));
        return l;
    }

    /** The scanning, per-slot-clock paging-structure cache. */
    private static final class Reference {
        final int shift;
        final long[] key;
        final long[] next;
        final int[] rights;
        final long[] lastUse;
        long clock;

        Reference(int entries, int shift) {
            this.shift = shift;
            key = new long[entries];
            next = new long[entries];
            rights = new int[entries];
            lastUse = new long[entries];
        }

        long keyOf(long va, int pcid) {
            return ((((va & 0x0000_ffff_ffff_ffffL) >>> shift) + 1) << 12) | pcid;
        }

        int lookup(long va, int pcid) {
            long k = keyOf(va, pcid);
            for (int i = 0; i < key.length; i++) {
                if (key[i] == k) {
                    lastUse[i] = ++clock;
                    return i;
                }
            }
            return -1;
        }

        /** Returns true if the fill evicted another valid entry. */
        boolean fill(long va, int pcid, long table, int r) {
            long k = keyOf(va, pcid);
            int victim = -1;
            for (int i = 0; i < key.length; i++) {
                if (key[i] == k) {
                    victim = i;
                }
            }
            boolean evicted = false;
            if (victim < 0) {
                victim = 0;
                for (int i = 0; i < key.length; i++) {
                    if (key[i] == 0) {
                        victim = i;
                        break;
                    }
                    if (lastUse[i] < lastUse[victim]) {
                        victim = i;
                    }
                }
                evicted = key[victim] != 0;
            }
            key[victim] = k;
            next[victim] = table;
            rights[victim] = r;
            lastUse[victim] = ++clock;
            return evicted;
        }

        void invalidate(long va, int pcid) {
            int s = lookup(va, pcid);
            if (s >= 0) {
                key[s] = 0;
            }
        }

        void flush(int onlyPcid) {
            for (int i = 0; i < key.length; i++) {
                if (key[i] != 0 && (onlyPcid < 0 || (int) (key[i] & 0xfff) == onlyPcid)) {
                    key[i] = 0;
                }
            }
        }

        List<String> contents() {
            List<String> l = new ArrayList<>();
            for (int i = 0; i < key.length; i++) {
                if (key[i] != 0) {
                    long va = (((key[i] >>> 12) - 1) << shift) << 16 >> 16;
                    l.add(Long.toHexString(va) + "/" + (key[i] & 0xfff) + "/" + Long.toHexString(next[i]));
                }
            }
            return l;
        }
    }
}
