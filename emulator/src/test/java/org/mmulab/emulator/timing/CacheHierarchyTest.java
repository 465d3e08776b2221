package org.mmulab.emulator.timing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class CacheHierarchyTest {
    @Test
    void missThenHitInTheSameLine() {
        CacheHierarchy h = CacheHierarchy.skylake();
        assertEquals(246, h.load(0x1000));
        assertEquals(CacheHierarchy.MEMORY, h.lastLevel());
        assertEquals(5, h.load(0x1038), "same 64-byte line");
        assertEquals(CacheHierarchy.L1, h.lastLevel());
        assertEquals(246, h.load(0x1040), "next line");
    }

    @Test
    void lruEvictionWithinASet() {
        CacheLevel c = new CacheLevel("tiny", 4 * 64, 2, 1); // 2 sets x 2 ways
        long stride = 2 * 64; // same set
        assertFalse(c.access(0));
        assertFalse(c.access(stride));
        assertTrue(c.access(0)); // 0 is now most recent
        assertFalse(c.access(2 * stride)); // evicts `stride`
        assertTrue(c.access(0));
        assertFalse(c.access(stride));
        assertEquals(2, c.hits());
        assertEquals(4, c.misses());
    }

    @Test
    void l1EvictionFallsBackToL2() {
        CacheHierarchy h = CacheHierarchy.skylake();
        // 9 lines mapping to one L1D set (64 sets x 64 B = 4 KiB apart) overflow its 8 ways.
        for (int i = 0; i < 9; i++) {
            h.load(i * 4096L);
        }
        assertEquals(12, h.load(0), "evicted from L1D, still in L2");
        assertEquals(CacheHierarchy.L2, h.lastLevel());
    }

    @Test
    void rejectsGeometryThatIsNotAPowerOfTwo() {
        assertThrows(IllegalArgumentException.class, () -> new CacheLevel("bad", 3 * 64 * 5, 5, 1));
    }
}
