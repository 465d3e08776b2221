package org.mmulab.emulator.mmu;

/**
 * The packed word of one {@link TlbArray} way (SDM Vol. 3A §4.10.2.2: a TLB entry is tagged by page number
 * and, with CR4.PCIDE, PCID; a global entry matches any PCID): bits 63:19 the page number + 1 (0 = an invalid
 * way), bits 18:7 the PCID, bits 6:0 the {@code TlbArray.ATTR_*} bits. A lookup is then one load and one
 * compare per way. Static and tiny, so the JIT inlines every use.
 */
final class TlbEntryWord {
    static final int PCID_SHIFT = 7, TAG_SHIFT = 19;
    /** The attribute bits. */
    static final long ATTR_BITS = (1L << PCID_SHIFT) - 1;
    /** Tag and PCID: what must equal for a non-global hit. */
    static final long TAG_PCID_MASK = ~ATTR_BITS;
    /** The PCID field. */
    static final long PCID_MASK = 0xfffL << PCID_SHIFT;
    /** Tag only: what must equal for a global hit. */
    static final long TAG_MASK = -1L << TAG_SHIFT;

    private TlbEntryWord() {
    }

    static long pack(long vpnPlus1, int pcid, int attrs) {
        return vpnPlus1 << TAG_SHIFT | (long) pcid << PCID_SHIFT | attrs;
    }

    /** The page number + 1 of entry {@code e}. */
    static long tagOf(long e) {
        return e >>> TAG_SHIFT;
    }

    static int pcidOf(long e) {
        return (int) (e >>> PCID_SHIFT) & 0xfff;
    }

    static boolean global(long e) {
        return (e & TlbArray.ATTR_G) != 0;
    }

    /** True if a lookup of {@code key} (page number + 1 and PCID) hits entry {@code e}: same tag; its PCID or global. */
    static boolean hits(long e, long key) {
        long d = e ^ key;
        return (d & TAG_MASK) == 0 && ((d & PCID_MASK) == 0 || global(e));
    }
}
