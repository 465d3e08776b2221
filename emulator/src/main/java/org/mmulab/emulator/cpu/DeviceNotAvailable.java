package org.mmulab.emulator.cpu;

/**
 * The CR0.EM / CR0.MP / CR0.TS checks every x87, MMX and SSE instruction makes before it touches any
 * state (SDM Vol. 3A §2.5 and Table 2-2 "Action Taken By x87 FPU Instructions for Different
 * Combinations of EM, MP, and TS"; §13.1 / Vol. 1 §13.1 for SSE; the "Protected Mode Exceptions"
 * of each Vol. 2 entry): one place for the three groups, so they cannot drift apart.
 * <ul>
 * <li>x87 (every D8-DF escape, the non-waiting FN* forms too) and FXSAVE/FXRSTOR: #NM when EM or TS.
 * <li>FWAIT/WAIT: #NM only when TS and MP (the "monitor coprocessor" bit); EM does not matter.
 * <li>SSE/SSE2/SSE3/SSSE3/SSE4 and MMX (and LDMXCSR/STMXCSR): #UD when EM, else #NM when TS.
 * <li>XSAVE/XSAVEOPT/XSAVEC/XRSTOR: #NM when TS (after the CR4.OSXSAVE #UD).
 * </ul>
 * A kernel sets TS to switch FPU state lazily and EM to emulate the FPU; the first instruction of
 * the group then traps before changing any register or memory. Each check is a mask test on CR0
 * and allocates nothing.
 */
final class DeviceNotAvailable {
    private DeviceNotAvailable() {
    }

    /** An x87 escape, FXSAVE or FXRSTOR: #NM when CR0.EM or CR0.TS. */
    static void x87(CpuState s) {
        if ((s.cr0 & (CpuState.CR0_EM | CpuState.CR0_TS)) != 0) {
            throw GuestFault.raise(s, Vectors.NM, 0);
        }
    }

    /** FWAIT/WAIT: #NM when CR0.TS and CR0.MP are both set. */
    static void fwait(CpuState s) {
        if ((s.cr0 & (CpuState.CR0_TS | CpuState.CR0_MP)) == (CpuState.CR0_TS | CpuState.CR0_MP)) {
            throw GuestFault.raise(s, Vectors.NM, 0);
        }
    }

    /** An SSE or MMX instruction: #UD when CR0.EM, #NM when CR0.TS, in that order. */
    static void simd(CpuState s) {
        if ((s.cr0 & CpuState.CR0_EM) != 0) {
            throw GuestFault.raise(s, Vectors.UD, 0);
        }
        if ((s.cr0 & CpuState.CR0_TS) != 0) {
            throw GuestFault.raise(s, Vectors.NM, 0);
        }
    }

    /** The XSAVE family: #NM when CR0.TS. */
    static void xsave(CpuState s) {
        if ((s.cr0 & CpuState.CR0_TS) != 0) {
            throw GuestFault.raise(s, Vectors.NM, 0);
        }
    }
}
