package org.mmulab.emulator.mmu;

/**
 * Page-fault error-code bits (SDM Vol. 3A §4.7, figure 4-12). mmulab also uses the W, U and I bits
 * to describe an access request, so the error code of a fault is just the access bits plus P/RSVD.
 */
public final class PfErr {
    /** 0: non-present page; 1: protection violation. */
    public static final int P = 1;
    /** The access was a write. */
    public static final int W = 1 << 1;
    /** The access was a user-mode access (CPL=3 and not an implicit supervisor access). */
    public static final int U = 1 << 2;
    /** A reserved bit was set in some paging-structure entry. */
    public static final int RSVD = 1 << 3;
    /** The access was an instruction fetch (reported when NXE=1 or SMEP=1). */
    public static final int I = 1 << 4;
    /** Protection-key violation (PKRU); mmulab has no protection keys, so never set. */
    public static final int PK = 1 << 5;

    /** Access-request bits, not part of the error code: an implicit supervisor access (SDM §4.6). */
    public static final int IMPLICIT = 1 << 16;

    private PfErr() {
    }

    public static String describe(long code) {
        return ((code & P) != 0 ? "protection" : "not-present") + ((code & W) != 0 ? " write" : " read")
                + ((code & U) != 0 ? " user" : " supervisor") + ((code & RSVD) != 0 ? " rsvd" : "")
                + ((code & I) != 0 ? " ifetch" : "");
    }
}
