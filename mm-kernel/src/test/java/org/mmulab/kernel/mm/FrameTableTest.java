package org.mmulab.kernel.mm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.mmulab.emulator.memory.PhysicalMemory;

class FrameTableTest {
    @Test
    void allocatesEveryFrameButZeroOnceThenFailsAndMergesBack() {
        FrameTable ft = new FrameTable(new PhysicalMemory(8L << 20)); // 2048 frames
        assertEquals(2047, ft.freePages());
        Set<Long> seen = new HashSet<>();
        long pfn;
        while ((pfn = ft.allocPages(0)) >= 0) {
            assertTrue(pfn > 0 && pfn < 2048);
            assertTrue(seen.add(pfn), "handed out twice: " + pfn);
            assertEquals(1, ft.refcount(pfn));
        }
        assertEquals(2047, seen.size());
        assertEquals(0, ft.freePages());
        assertEquals(1, ft.allocFailures());
        long seed = System.nanoTime();
        System.out.println("FrameTableTest seed=" + seed);
        List<Long> order = new ArrayList<>(seen);
        Collections.shuffle(order, new Random(seed));
        for (long p : order) {
            ft.put(p);
        }
        assertEquals(2047, ft.freePages(), "seed " + seed);
        // Fully merged: the aligned top-order blocks are available again.
        long big = ft.allocPages(FrameTable.MAX_ORDER);
        assertEquals(1024, big, "seed " + seed);
    }

    @Test
    void putPagesFreesOnlyLastReferencesSkipsReservedAndMergesBack() {
        FrameTable ft = new FrameTable(new PhysicalMemory(1L << 20)); // 256 frames
        long before = ft.freePages();
        long[] batch = new long[8];
        for (int i = 0; i < batch.length; i++) {
            batch[i] = ft.allocPages(0);
        }
        long shared = batch[2];
        long reserved = batch[5];
        ft.get(shared);
        ft.reserve(reserved);
        List<Long> observed = new ArrayList<>();
        ft.setFreeObserver(observed::add);
        long[] copy = batch.clone();
        ft.putPages(copy, copy.length);
        ft.setFreeObserver(null);
        assertEquals(6, observed.size(), "the shared and the reserved frame survive");
        assertTrue(!observed.contains(shared) && !observed.contains(reserved));
        for (long p : batch) {
            assertEquals(p != shared && p != reserved, ft.refcount(p) == 0, "pfn " + p);
        }
        assertEquals(1, ft.refcount(shared));
        assertEquals(before - 2, ft.freePages());
        ft.put(shared);
        assertEquals(before - 1, ft.freePages());
        long[] again = {shared};
        assertThrows(IllegalStateException.class, () -> ft.putPages(again, 1), "put_page underflow");
    }

    @Test
    void newAnonRmapRefusesAFrameAlreadyMapped() {
        FrameTable ft = new FrameTable(new PhysicalMemory(1L << 20));
        long p = ft.allocZeroedPage();
        ft.addNewAnonRmap(p);
        assertEquals(1, ft.mapcount(p));
        assertTrue((ft.flags(p) & FrameTable.PG_ANON) != 0);
        assertThrows(IllegalStateException.class, () -> ft.addNewAnonRmap(p));
    }

    @Test
    void refcountsAndDoubleFree() {
        FrameTable ft = new FrameTable(new PhysicalMemory(1L << 20));
        long p = ft.allocZeroedPage();
        ft.get(p);
        ft.put(p);
        assertEquals(1, ft.refcount(p));
        ft.put(p);
        assertTrue(ft.isFree(p));
        assertThrows(IllegalStateException.class, () -> ft.put(p));
        assertThrows(IllegalStateException.class, () -> ft.get(p));
    }

    @Test
    void zeroPageIsNeverFreed() {
        Memory m = new Memory(new PhysicalMemory(1L << 20));
        long z = m.zeroPfn();
        m.frames().put(z);
        m.frames().put(z);
        assertTrue(!m.frames().isFree(z));
    }

    @Test
    void unmappedPageCachePagesAreReclaimedBeforeAllocationFails() {
        FrameTable ft = new FrameTable(new PhysicalMemory(1L << 20)); // 255 usable frames
        AddressSpace file = AddressSpace.file(ft, "img", new byte[100 * 4096]);
        for (int i = 0; i < 100; i++) {
            long p = file.getPage(i);
            if (i >= 10) {
                ft.put(p); // read once, no longer mapped: only the cache holds it
            }
        }
        int got = 0;
        while (ft.allocPages(0) >= 0) {
            got++;
        }
        assertEquals(255 - 10, got, "all but the 10 still-referenced cache pages");
        assertEquals(90, ft.reclaimedPages());
        assertEquals(10, file.cachedPages());
    }
}
