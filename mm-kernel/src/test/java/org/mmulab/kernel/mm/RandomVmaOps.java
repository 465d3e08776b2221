package org.mmulab.kernel.mm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;

import org.mmulab.emulator.machine.Vcpu;

/**
 * The random operations the SMP stress tests ({@link MremapSmpTest}, {@link ShmemVmaStressTest}) share
 * over a row of {@code slots} VMA slots {@code stride} apart from {@code base}, each at most
 * {@code pages} pages: a load or store, and an mremap of a slot with random lengths and flags whose
 * result is kept inside the slots. Each draws from {@code rnd} in a fixed order, so a seed replays.
 */
final class RandomVmaOps {
    private final SmpRig rig;
    private final long base, stride;
    private final int slots, pages;

    RandomVmaOps(SmpRig rig, long base, int slots, long stride, int pages) {
        this.rig = rig;
        this.base = base;
        this.slots = slots;
        this.stride = stride;
        this.pages = pages;
    }

    /** A store of {@code value} or a load at {@code va} (either may fault: the slot may be unmapped now). */
    void access(Vcpu cpu, MmStruct mm, Random rnd, long va, long value) {
        if (rnd.nextBoolean()) {
            rig.store(cpu, mm, va, value);
        } else {
            rig.load(cpu, mm, va);
        }
    }

    /**
     * mremap of {@code slot} to random lengths with no flags, MAYMOVE, MAYMOVE|FIXED to another slot or
     * MAYMOVE|DONTUNMAP; a move out of the slots is brought back to {@code slot} (or unmapped), and a
     * FIXED result longer than a slot is trimmed to it.
     */
    void mremap(MmStruct mm, Random rnd, long slot) {
        long to = base + rnd.nextInt(slots) * stride;
        long oldLen = (1 + rnd.nextInt(16)) * 4096L, newLen = (1 + rnd.nextInt(pages)) * 4096L;
        int flags = switch (rnd.nextInt(4)) {
            case 0 -> 0;
            case 1 -> Mremap.MREMAP_MAYMOVE;
            case 2 -> Mremap.MREMAP_MAYMOVE | Mremap.MREMAP_FIXED;
            default -> Mremap.MREMAP_MAYMOVE | Mremap.MREMAP_DONTUNMAP;
        };
        if ((flags & Mremap.MREMAP_DONTUNMAP) != 0) {
            newLen = oldLen;
        }
        long r = rig.mmap.mremap(mm, slot, oldLen, newLen, flags, to);
        assertTrue(!Mmap.isErr(r) || r == -14 || r == -12 || r == -22, "mremap: " + r);
        if (!Mmap.isErr(r) && (r < base || r >= base + slots * stride)) {
            // MAYMOVE went elsewhere: bring it back into the slots (or drop it)
            long back = rig.mmap.mremap(mm, r, newLen, Math.min(newLen, pages * 4096L),
                    Mremap.MREMAP_MAYMOVE | Mremap.MREMAP_FIXED, slot);
            if (Mmap.isErr(back)) {
                assertEquals(0, rig.mmap.doMunmap(mm, r, newLen));
            }
        }
        if (!Mmap.isErr(r) && (flags & Mremap.MREMAP_FIXED) != 0 && newLen > pages * 4096L) {
            assertEquals(0, rig.mmap.doMunmap(mm, to + pages * 4096L, newLen - pages * 4096L));
        }
    }

    /** Every present PTE of {@code v} maps the page {@code object}'s cache holds at that index (none left stale). */
    static void assertMapsCachedPages(SmpRig rig, MmStruct mm, VmArea v, AddressSpace object, String what) {
        for (long a = v.start(); a < v.end(); a += 4096) {
            long pte = rig.memory.lookupPte(mm, a);
            if (PteBits.present(pte)) {
                assertEquals(object.cachedPfn(v.pageIndex(a)), PteBits.pfn(pte),
                        what + " at 0x" + Long.toHexString(a) + " maps a page the object no longer holds");
            }
        }
    }
}
