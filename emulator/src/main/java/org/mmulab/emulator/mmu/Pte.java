package org.mmulab.emulator.mmu;

/** Paging-structure entry bits shared by 4-level and PAE paging (SDM Vol. 3A §4.4-4.5, tables 4-14..4-20). */
public final class Pte {
    public static final long P = 1L, RW = 1L << 1, US = 1L << 2, PWT = 1L << 3, PCD = 1L << 4, A = 1L << 5,
            D = 1L << 6, PS = 1L << 7, G = 1L << 8, PAT_LARGE = 1L << 12, XD = 1L << 63;
    /** Bits 51:12 — the widest physical address field; callers mask further with MAXPHYADDR. */
    public static final long ADDR_MASK = 0x000f_ffff_ffff_f000L;
    /** Software-available bits (11:9 and 62:52) that the hardware ignores. */
    public static final long SW_MASK = 0x7ff0_0000_0000_0e00L;

    private Pte() {
    }

    public static String flags(long e) {
        StringBuilder b = new StringBuilder();
        b.append((e & P) != 0 ? 'P' : '-').append((e & RW) != 0 ? 'W' : 'r').append((e & US) != 0 ? 'U' : 's')
                .append((e & A) != 0 ? 'A' : '-').append((e & D) != 0 ? 'D' : '-').append((e & PS) != 0 ? 'S' : '-')
                .append((e & G) != 0 ? 'G' : '-').append((e & XD) != 0 ? 'X' : '-');
        return b.toString();
    }
}
