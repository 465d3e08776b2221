package org.mmulab.emulator.mmu;

import org.mmulab.emulator.memory.PhysicalMemory;

/** Test helper: builds 4-level paging structures in guest RAM by hand, from a bump allocator. */
final class PageTableBuilder {
    final PhysicalMemory mem;
    final long root;
    private long next;

    PageTableBuilder(PhysicalMemory mem, long firstFreeFrame) {
        this.mem = mem;
        this.next = firstFreeFrame;
        this.root = allocTable();
    }

    long allocTable() {
        long pa = next;
        next += 4096;
        mem.zeroFrame(pa);
        return pa;
    }

    /** Address of the entry for {@code va} at {@code level} (4..1), creating tables with {@code upperFlags}. */
    long entryAddress(long va, int level, long upperFlags) {
        long table = root;
        for (int l = 4; l > level; l--) {
            long ea = table + (((va >>> (12 + 9 * (l - 1))) & 511) << 3);
            long e = mem.read64(ea);
            if ((e & Pte.P) == 0) {
                long t = allocTable();
                e = t | upperFlags;
                mem.write64(ea, e);
            }
            table = e & Pte.ADDR_MASK;
        }
        return table + (((va >>> (12 + 9 * (level - 1))) & 511) << 3);
    }

    /** Maps a 4K page; upper levels get {@code upperFlags}. Returns the PTE's physical address. */
    long map4k(long va, long pa, long flags, long upperFlags) {
        long ea = entryAddress(va, 1, upperFlags);
        mem.write64(ea, pa | flags);
        return ea;
    }

    long map4k(long va, long pa, long flags) {
        return map4k(va, pa, flags, Pte.P | Pte.RW | Pte.US);
    }

    long map2m(long va, long pa, long flags) {
        long ea = entryAddress(va, 2, Pte.P | Pte.RW | Pte.US);
        mem.write64(ea, pa | flags | Pte.PS);
        return ea;
    }

    long map1g(long va, long pa, long flags) {
        long ea = entryAddress(va, 3, Pte.P | Pte.RW | Pte.US);
        mem.write64(ea, pa | flags | Pte.PS);
        return ea;
    }
}
