package org.mmulab.emulator.mmu;

/**
 * A TLB for one access class (instruction or data): one {@link TlbArray} per page size, as Skylake's
 * L1 dTLB has separate 4K/2M/1G arrays (SDM Vol. 3A §4.10.2.2 and the optimization manual).
 * A lookup returns a handle {@code (sizeIndex << 28) | slot} or -1, so no object is created. The 4 KiB
 * array is always there and looked up first; a large-page array is skipped while it holds nothing
 * ({@link TlbArray#mayHold}: a process that never maps 2 MiB or 1 GiB pages pays one flag test each).
 */
public final class Tlb {
    public static final int SIZE_4K = 0, SIZE_2M = 1, SIZE_1G = 2;
    private static final int SLOT_BITS = 28;
    private static final int SLOT_MASK = (1 << SLOT_BITS) - 1;

    private final TlbArray[] arrays;
    /** The 4 KiB array, always there: read directly by the STLB-hit path ({@link TlbRefill}). */
    final TlbArray a4k;
    private final TlbArray a2m;
    private final TlbArray a1g;

    public Tlb(TlbArray a4k, TlbArray a2m, TlbArray a1g) {
        this.arrays = new TlbArray[] {a4k, a2m, a1g};
        this.a4k = java.util.Objects.requireNonNull(a4k, "a TLB always has a 4 KiB array");
        this.a2m = a2m;
        this.a1g = a1g;
    }

    public TlbArray array(int sizeIndex) {
        return arrays[sizeIndex];
    }

    public int lookup(long va, int pcid) {
        int slot = a4k.lookup(va, pcid);
        if (slot >= 0) {
            return slot; // size index 0
        }
        return lookupLarge(va, pcid);
    }

    /** {@link #lookup} in the 2 MiB and 1 GiB arrays, after the 4 KiB array missed. */
    int lookupLarge(long va, int pcid) {
        int slot;
        TlbArray a = a2m;
        if (a != null && a.mayHold() && (slot = a.lookup(va, pcid)) >= 0) {
            return (SIZE_2M << SLOT_BITS) | slot;
        }
        a = a1g;
        if (a != null && a.mayHold() && (slot = a.lookup(va, pcid)) >= 0) {
            return (SIZE_1G << SLOT_BITS) | slot;
        }
        return -1;
    }

    /** The array a handle points into (the 4 KiB one without an array load). */
    private TlbArray arrayOf(int handle) {
        int size = handle >>> SLOT_BITS;
        return size == SIZE_4K ? a4k : arrays[size];
    }

    public long physical(int handle, long va) {
        return arrayOf(handle).physical(handle & SLOT_MASK, va);
    }

    public int attrs(int handle) {
        return arrayOf(handle).attrs(handle & SLOT_MASK);
    }

    public int sizeIndex(int handle) {
        return handle >>> SLOT_BITS;
    }

    public void invalidate(int handle) {
        arrays[handle >>> SLOT_BITS].invalidateSlot(handle & SLOT_MASK);
    }

    /**
     * Inserts a translation. Returns -1, or the evicted entry's linear base address with its size
     * index in bits 1:0 (bases are page-aligned, so the low bits are free).
     */
    public long fill(int sizeIndex, long va, int pcid, long frame, int attrs) {
        TlbArray a = sizeIndex == SIZE_4K ? a4k : arrays[sizeIndex];
        if (a == null) {
            return fillSplinter(sizeIndex, va, pcid, frame, attrs);
        }
        long ev = a.fill(va, pcid, frame, attrs);
        return ev < 0 ? -1 : ev | sizeIndex;
    }

    /**
     * No array for this size: the hardware splinters the large page into 4K entries, each remembering the
     * size of the page it came from so INVLPG can drop them all.
     */
    private long fillSplinter(int sizeIndex, long va, int pcid, long frame, int attrs) {
        long within = va & ((1L << pageShift(sizeIndex)) - 1) & ~0xfffL;
        long ev = a4k.fill(va, pcid, frame + within, attrs | sizeIndex << TlbArray.ATTR_SPLIT_SHIFT);
        return ev < 0 ? -1 : ev | SIZE_4K;
    }

    /** Refreshes the LRU age of a looked-up entry (a fast-path hit is an L1 hit). */
    public void touch(int handle) {
        arrayOf(handle).touch(handle & SLOT_MASK);
    }

    /**
     * Drops the entries that translate {@code va} (current PCID, and global ones) in every page-size array,
     * splinters of the large page holding it included. Returns a bit mask of the page-size indexes
     * (4K = bit 0, 2M = bit 1, 1G = bit 2) whose translations of {@code va} were dropped: a dropped
     * splinter of a 1 GiB page sets bit 2, as all of that page's entries went.
     */
    public int invalidatePage(long va, int pcid) {
        int dropped = 0;
        for (int s = 0; s < arrays.length; s++) {
            TlbArray a = arrays[s];
            if (a != null && a.invalidatePage(va, pcid) > 0) {
                dropped |= 1 << s | a.droppedSplinterSizes();
            }
        }
        return dropped;
    }

    /** INVPCID type 0: drops the non-global entries for {@code va} in {@code pcid}. */
    public void invalidatePageNonGlobal(long va, int pcid) {
        for (TlbArray a : arrays) {
            if (a != null) {
                a.invalidatePageNonGlobal(va, pcid);
            }
        }
    }

    public void flush(boolean keepGlobal, int onlyPcid) {
        for (TlbArray a : arrays) {
            if (a != null) {
                a.flush(keepGlobal, onlyPcid);
            }
        }
    }

    public static int pageShift(int sizeIndex) {
        return 12 + 9 * sizeIndex;
    }
}
