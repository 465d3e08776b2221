package org.mmulab.emulator.mmu;

import org.mmulab.emulator.memory.PhysicalMemory;
import org.mmulab.emulator.timing.WalkTiming;

/**
 * Data accesses of one {@link Mmu} that straddle a 4 KiB page boundary (Intel SDM Vol. 3A §4.10.2.3 does
 * not let a TLB entry span pages; §6.15 / §4.7: the access faults before any byte is written): both pages
 * are translated, with their own TLB lookups and faults, before memory is touched; under cycle timing each
 * page's line is charged.
 */
final class PageCrossingAccess {
    private final Mmu mmu;

    PageCrossingAccess(Mmu mmu) {
        this.mmu = mmu;
    }

    /** Reads bytes at {@code va} that may straddle a page: both pages are translated first. */
    long read(long va, int len, int acc) {
        long pa0 = Mmu.orThrow(mmu.translateOrFault(va, acc));
        long pa1 = Mmu.orThrow(mmu.translateOrFault((va | 0xfff) + 1, acc));
        int first = (int) (0x1000 - (va & 0xfff));
        WalkTiming timing = mmu.timing;
        if (timing != null) {
            timing.dataAccess(pa0 + first - 1);
            timing.dataAccess(pa1);
        }
        PhysicalMemory mem = mmu.mem;
        long v = 0;
        for (int i = 0; i < len; i++) {
            long b = i < first ? mem.read8(pa0 + i) : mem.read8(pa1 + (i - first));
            v |= b << (8 * i);
        }
        return v;
    }

    /** A write straddling a page: both pages must be writable before any byte is written. */
    void write(long va, int len, long v, int acc) {
        long pa0 = Mmu.orThrow(mmu.translateOrFault(va, acc | PfErr.W));
        long pa1 = Mmu.orThrow(mmu.translateOrFault((va | 0xfff) + 1, acc | PfErr.W));
        int first = (int) (0x1000 - (va & 0xfff));
        WalkTiming timing = mmu.timing;
        if (timing != null) {
            timing.dataStore(pa0 + first - 1);
            timing.dataStore(pa1);
        }
        PhysicalMemory mem = mmu.mem;
        for (int i = 0; i < len; i++) {
            int b = (int) (v >>> (8 * i)) & 0xff;
            if (i < first) {
                mem.write8(pa0 + i, b);
            } else {
                mem.write8(pa1 + (i - first), b);
            }
        }
    }
}
