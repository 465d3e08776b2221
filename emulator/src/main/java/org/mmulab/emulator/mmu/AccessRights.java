package org.mmulab.emulator.mmu;

import org.mmulab.emulator.cpu.CpuState;

/**
 * Access rights of a translation (Intel SDM Vol. 3A §4.6): the rights accumulated over a walk's levels
 * (R/W and U/S ANDed, XD ORed when EFER.NXE) and whether an access may proceed with them — U/S, R/W
 * with CR0.WP, XD, SMEP, and SMAP with RFLAGS.AC and implicit supervisor accesses. The rights use the
 * {@link TlbArray} {@code ATTR_*} bits, as TLB entries and paging-structure caches store them.
 */
final class AccessRights {
    private AccessRights() {
    }

    /** Rights after one more paging-structure entry {@code e} (§4.6.1: the combination over levels). */
    static int combine(int rights, long e, boolean nxe) {
        if ((e & Pte.RW) == 0) {
            rights &= ~TlbArray.ATTR_RW;
        }
        if ((e & Pte.US) == 0) {
            rights &= ~TlbArray.ATTR_US;
        }
        if (nxe && (e & Pte.XD) != 0) {
            rights |= TlbArray.ATTR_XD;
        }
        return rights;
    }

    /** §4.6: may an access ({@link PfErr} bits W, U, I, IMPLICIT) proceed with these combined rights? */
    static boolean permitted(CpuState s, int rights, int access) {
        if ((access & (PfErr.U | PfErr.I)) == PfErr.U) {
            // User data access, the common case: U/S, and R/W for a write (CR0.WP does not matter).
            return (rights & TlbArray.ATTR_US) != 0 && ((access & PfErr.W) == 0 || (rights & TlbArray.ATTR_RW) != 0);
        }
        return permittedOther(s, rights, access);
    }

    /** {@link #permitted} for fetches and supervisor data accesses (kept apart so the common case inlines small). */
    private static boolean permittedOther(CpuState s, int rights, int access) {
        boolean user = (rights & TlbArray.ATTR_US) != 0;
        boolean write = (access & PfErr.W) != 0;
        if ((access & PfErr.I) != 0) {
            if ((rights & TlbArray.ATTR_XD) != 0) {
                return false;
            }
            if ((access & PfErr.U) != 0) {
                return user;
            }
            return !(user && (s.cr4 & CpuState.CR4_SMEP) != 0);
        }
        // Supervisor data access.
        if (user && (s.cr4 & CpuState.CR4_SMAP) != 0) {
            boolean implicit = (access & PfErr.IMPLICIT) != 0;
            if (implicit || (s.getRflags() & CpuState.AC) == 0) {
                return false;
            }
        }
        return !write || (rights & TlbArray.ATTR_RW) != 0 || (s.cr0 & CpuState.CR0_WP) == 0;
    }
}
