package org.mmulab.emulator.mmu;

import org.mmulab.emulator.cpu.CpuState;

/**
 * MOV to CR0/CR2/CR3/CR4/CR8 and WRMSR to IA32_EFER and the segment-base MSRs, as a CPU at CPL 0 performs them: the
 * #GP(0) checks of SDM Vol. 2B "MOV—Move to/from Control Registers" and "WRMSR", Vol. 3A §2.5 (reserved bits and
 * invalid combinations) and §4.10.4.1, then the paging effects the {@link Mmu} owns (CR3 load with the PAE PDPTE
 * registers, flush rules). A write that would raise #GP returns false and changes nothing: not the register, not
 * the TLBs, not the pending-exception fields. Guest code never gets here (it runs at CPL 3, where these are #GP);
 * the debugger's register writes do.
 *
 * <p>Reserved bits follow what {@link org.mmulab.emulator.cpu.Cpuid} advertises: CR4 may set TSD, PSE, PAE, PGE,
 * OSFXSR, OSXMMEXCPT, PCIDE, OSXSAVE, SMEP and SMAP, nothing else (no VME, DE, MCE, PCE, UMIP, LA57, FSGSBASE, PKE);
 * EFER has SCE, LME, LMA (read-only: writes keep the current value, as on Intel) and NXE. Linear addresses are
 * 48-bit (no LA57), so the base MSRs must be canonical at 48 bits. CR0 bits 28:19, 17 and 15:6 are ignored (read
 * back as 0).
 */
public final class ControlRegisterWrites {
    public static final long CR0_MP = 1L << 1, CR0_EM = 1L << 2, CR0_TS = 1L << 3, CR0_ET = 1L << 4,
            CR0_NE = 1L << 5, CR0_AM = 1L << 18, CR0_NW = 1L << 29, CR0_CD = 1L << 30;
    /** The CR0 bits that exist; the others in 31:0 are ignored on write. */
    public static final long CR0_DEFINED = CpuState.CR0_PE | CR0_MP | CR0_EM | CR0_TS | CR0_ET | CR0_NE
            | CpuState.CR0_WP | CR0_AM | CR0_NW | CR0_CD | CpuState.CR0_PG;
    public static final long CR4_TSD = 1L << 2, CR4_OSFXSR = 1L << 9, CR4_OSXMMEXCPT = 1L << 10;
    /** CR4 bits a write may set (the features {@code Cpuid} advertises); any other set bit is #GP. */
    public static final long CR4_SUPPORTED = CR4_TSD | CpuState.CR4_PSE | CpuState.CR4_PAE | CpuState.CR4_PGE
            | CR4_OSFXSR | CR4_OSXMMEXCPT | CpuState.CR4_PCIDE | CpuState.CR4_OSXSAVE | CpuState.CR4_SMEP | CpuState.CR4_SMAP;
    public static final long EFER_SUPPORTED = CpuState.EFER_SCE | CpuState.EFER_LME | CpuState.EFER_LMA
            | CpuState.EFER_NXE;
    private static final long CR3_NOFLUSH = 1L << 63;

    private ControlRegisterWrites() {
    }

    /** MOV to CR0. */
    public static boolean movToCr0(Mmu mmu, long value) {
        CpuState s = mmu.state();
        if ((value >>> 32) != 0) {
            return false;                                   // reserved bits 63:32
        }
        if ((value & CpuState.CR0_PG) != 0 && (value & CpuState.CR0_PE) == 0) {
            return false;                                   // PG without PE
        }
        if ((value & CR0_NW) != 0 && (value & CR0_CD) == 0) {
            return false;                                   // NW without CD
        }
        long efer = s.efer;
        boolean pgWas = (s.cr0 & CpuState.CR0_PG) != 0;
        boolean pgNow = (value & CpuState.CR0_PG) != 0;
        if (pgWas && !pgNow && s.pagingLongMode()) {
            if (s.longMode64) {
                return false;                               // clearing PG in 64-bit mode
            }
            efer &= ~CpuState.EFER_LMA;                     // compatibility mode: leaves IA-32e mode
        }
        if (!pgWas && pgNow && (s.efer & CpuState.EFER_LME) != 0) {
            if ((s.cr4 & CpuState.CR4_PAE) == 0) {
                return false;                               // IA-32e mode needs PAE
            }
            efer |= CpuState.EFER_LMA;
        }
        return apply(mmu, value & CR0_DEFINED, s.cr4, efer);
    }

    /** MOV to CR2 (no checks beyond the register's width outside IA-32e mode). */
    public static boolean movToCr2(Mmu mmu, long value) {
        CpuState s = mmu.state();
        if (!s.pagingLongMode() && (value >>> 32) != 0) {
            return false;
        }
        s.cr2 = value;
        return true;
    }

    /**
     * MOV to CR3: in IA-32e mode no address bit at or above MAXPHYADDR (bit 63 is the no-flush bit with CR4.PCIDE=1
     * and reserved without); outside it a 32-bit value; under PAE paging the four PDPTEs must load.
     */
    public static boolean movToCr3(Mmu mmu, long value) {
        CpuState s = mmu.state();
        if (s.pagingLongMode()) {
            long address = (s.cr4 & CpuState.CR4_PCIDE) != 0 ? value & ~CR3_NOFLUSH : value;
            if (address < 0 || mmu.cr3AddressReserved(address)) {
                return false;
            }
        } else if ((value >>> 32) != 0) {
            return false;
        }
        if (paePaging(s.cr0, s.cr4, s.efer) && !mmu.pdptesLoadable(value)) {
            return false;
        }
        mmu.writeCr3(value);
        return true;
    }

    /** MOV to CR4: supported bits only; PAE stays set in IA-32e mode; PCIDE needs IA-32e mode and CR3[11:0] = 0. */
    public static boolean movToCr4(Mmu mmu, long value) {
        CpuState s = mmu.state();
        if ((value & ~CR4_SUPPORTED) != 0) {
            return false;
        }
        if (s.pagingLongMode() && (value & CpuState.CR4_PAE) == 0) {
            return false;
        }
        if ((value & CpuState.CR4_PCIDE) != 0 && (s.cr4 & CpuState.CR4_PCIDE) == 0
                && (!s.pagingLongMode() || (s.cr3 & 0xfff) != 0)) {
            return false;
        }
        return apply(mmu, s.cr0, value, s.efer);
    }

    /** MOV to CR8: the task priority, bits 3:0. */
    public static boolean movToCr8(Mmu mmu, long value) {
        if ((value & ~0xfL) != 0) {
            return false;
        }
        mmu.state().cr8 = value;
        return true;
    }

    /** WRMSR IA32_EFER: supported bits only, LMA kept, LME unchanged while paging is on. */
    public static boolean wrmsrEfer(Mmu mmu, long value) {
        CpuState s = mmu.state();
        if ((value & ~EFER_SUPPORTED) != 0) {
            return false;
        }
        long efer = (value & ~CpuState.EFER_LMA) | (s.efer & CpuState.EFER_LMA);
        if (((efer ^ s.efer) & CpuState.EFER_LME) != 0 && (s.cr0 & CpuState.CR0_PG) != 0) {
            return false;
        }
        return apply(mmu, s.cr0, s.cr4, efer);
    }

    /** The segment-base MSRs whose writes {@link #wrmsrBase} performs. */
    public enum BaseMsr { FS_BASE, GS_BASE, KERNEL_GS_BASE }

    /** WRMSR IA32_FS_BASE / IA32_GS_BASE / IA32_KERNEL_GS_BASE: the address must be canonical. */
    public static boolean wrmsrBase(Mmu mmu, BaseMsr msr, long value) {
        if ((value << 16 >> 16) != value) {
            return false;
        }
        CpuState s = mmu.state();
        switch (msr) {
            case FS_BASE -> s.fsBase = value;
            case GS_BASE -> s.gsBase = value;
            case KERNEL_GS_BASE -> s.kernelGsBase = value;
        }
        return true;
    }

    private static boolean paePaging(long cr0, long cr4, long efer) {
        return (cr0 & CpuState.CR0_PG) != 0 && (cr4 & CpuState.CR4_PAE) != 0 && (efer & CpuState.EFER_LMA) == 0;
    }

    /**
     * Stores CR0/CR4/EFER and lets the MMU apply the flush rules, after checking that the PDPTE load such a change
     * triggers under PAE paging will succeed (so a refused write leaves no trace).
     */
    private static boolean apply(Mmu mmu, long cr0, long cr4, long efer) {
        CpuState s = mmu.state();
        long oldCr0 = s.cr0;
        long oldCr4 = s.cr4;
        long oldEfer = s.efer;
        if (cr0 == oldCr0 && cr4 == oldCr4 && efer == oldEfer) {
            return true;
        }
        boolean reloadsPdptes = paePaging(cr0, cr4, efer) && (((oldCr0 ^ cr0) & CpuState.CR0_PG) != 0
                || ((oldCr4 ^ cr4) & (CpuState.CR4_PAE | CpuState.CR4_PGE | CpuState.CR4_PSE | CpuState.CR4_SMEP)) != 0);
        if (reloadsPdptes && !mmu.pdptesLoadable(s.cr3)) {
            return false;
        }
        s.cr0 = cr0;
        s.cr4 = cr4;
        s.efer = efer;
        mmu.controlRegistersChanged(oldCr0, oldCr4, oldEfer);
        return true;
    }
}
