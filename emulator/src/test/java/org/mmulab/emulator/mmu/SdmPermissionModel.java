package org.mmulab.emulator.mmu;

/**
 * An independent reference model of paging permission checks, written straight from Intel SDM Vol. 3A
 * §4.4 (PAE), §4.5 (4-level), §4.6 (access rights), §4.7 (page-fault error code) and §4.8 (A/D).
 * It shares no code with {@link Mmu}: plain booleans, one level at a time, the SDM's wording in comments.
 */
final class SdmPermissionModel {
    static final int READ = 0, WRITE = 1, FETCH = 2;

    /** What the SDM says happens. */
    record Outcome(boolean gp, boolean pageFault, int errorCode, int leafLevel) {
        static Outcome ok(int leafLevel) {
            return new Outcome(false, false, 0, leafLevel);
        }
    }

    /** The machine configuration of one case. */
    record Config(boolean pae, boolean wp, boolean smep, boolean smap, boolean nxe, boolean ac, boolean cpl3,
            boolean implicit, int access, int maxPhys) {
        boolean userAccess() {
            return cpl3 && !implicit; // implicit supervisor accesses are supervisor-mode even at CPL 3 (§4.6)
        }
    }

    private static boolean bit(long e, int b) {
        return ((e >>> b) & 1) != 0;
    }

    /** Bits MAXPHYADDR..hi are reserved (must be 0). */
    private static boolean highReserved(long e, int maxPhys, int hi) {
        for (int b = maxPhys; b <= hi; b++) {
            if (bit(e, b)) {
                return true;
            }
        }
        return false;
    }

    /**
     * @param entries entries from the top level down: 4-level = PML4E, PDPTE, PDE, PTE; PAE = PDPTE
     *                (the register value), PDE, PTE. Entries below the leaf are ignored.
     */
    static Outcome evaluate(Config c, long[] entries) {
        boolean user = c.userAccess();
        int base = (c.access == WRITE ? 2 : 0) | (user ? 4 : 0)
                | (c.access == FETCH && (c.smep || c.nxe) ? 16 : 0); // I/D: PAE/4-level with NXE or SMEP
        // PAE: PDPTE register load at MOV CR3 checks reserved bits 2:1, 8:5, 63:MAXPHYADDR → #GP (§4.4.1).
        int first = 0;
        if (c.pae) {
            long pdpte = entries[0];
            if (bit(pdpte, 0) && (bit(pdpte, 1) || bit(pdpte, 2) || bit(pdpte, 5) || bit(pdpte, 6) || bit(pdpte, 7)
                    || bit(pdpte, 8) || highReserved(pdpte, c.maxPhys, 63))) {
                return new Outcome(true, false, 0, 0);
            }
            if (!bit(pdpte, 0)) {
                return new Outcome(false, true, base, 0);
            }
            first = 1;
        }
        boolean allUser = true;
        boolean allWritable = true;
        boolean anyXd = false;
        int levels = entries.length;
        int leaf = -1;
        for (int i = first; i < levels; i++) {
            long e = entries[i];
            int level = levels - i; // 4..1 (4-level) or 2..1 (PAE)
            if (!bit(e, 0)) {
                return new Outcome(false, true, base, 0); // P=0: not present, P flag of error code clear
            }
            boolean rsvd;
            if (c.pae) {
                rsvd = highReserved(e, c.maxPhys, 62); // PAE PDE/PTE: 62:MAXPHYADDR reserved
            } else {
                rsvd = highReserved(e, c.maxPhys, 51); // 4-level: 51:MAXPHYADDR reserved, 62:52 ignored
            }
            if (!c.nxe && bit(e, 63)) {
                rsvd = true; // XD with IA32_EFER.NXE = 0
            }
            boolean ps = bit(e, 7);
            if (!c.pae && level == 4 && ps) {
                rsvd = true; // PML4E bit 7 reserved
            }
            if (ps && level == 3 && !c.pae) {
                for (int b = 13; b <= 29; b++) {
                    rsvd |= bit(e, b); // 1-GByte page: bits 29:13 reserved
                }
            }
            if (ps && level == 2) {
                for (int b = 13; b <= 20; b++) {
                    rsvd |= bit(e, b); // 2-MByte page: bits 20:13 reserved
                }
            }
            if (rsvd) {
                return new Outcome(false, true, base | 1 | 8, 0);
            }
            allUser &= bit(e, 2);
            allWritable &= bit(e, 1);
            anyXd |= c.nxe && bit(e, 63);
            if (level == 1 || (ps && (level == 2 || level == 3))) {
                leaf = level;
                break;
            }
        }
        if (!allowed(c, allUser, allWritable, anyXd)) {
            return new Outcome(false, true, base | 1, 0);
        }
        return Outcome.ok(leaf);
    }

    /** §4.6.1 "Determination of Access Rights", case by case. */
    private static boolean allowed(Config c, boolean userPage, boolean writable, boolean xd) {
        if (c.userAccess()) {
            // User-mode access: only user-mode addresses; writes need R/W=1 at every level;
            // instruction fetches need XD=0 (when NXE=1).
            if (!userPage) {
                return false;
            }
            if (c.access == WRITE) {
                return writable;
            }
            if (c.access == FETCH) {
                return !xd;
            }
            return true;
        }
        // Supervisor-mode access.
        if (c.access == FETCH) {
            if (userPage) {
                return !c.smep && !xd; // SMEP forbids fetching from user-mode addresses
            }
            return !xd;
        }
        if (userPage && c.smap) {
            // SMAP: data accesses to user-mode addresses are allowed only for explicit accesses at
            // CPL < 3 with EFLAGS.AC = 1.
            boolean explicitWithAc = !c.implicit && !c.cpl3 && c.ac;
            if (!explicitWithAc) {
                return false;
            }
        }
        if (c.access == WRITE) {
            return !c.wp || writable; // CR0.WP = 0: supervisor writes ignore R/W
        }
        return true;
    }
}
