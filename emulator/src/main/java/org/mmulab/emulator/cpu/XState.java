package org.mmulab.emulator.cpu;

import org.mmulab.emulator.cpu.fpu.X87State;
import org.mmulab.emulator.mmu.Mmu;

/**
 * The XSAVE feature set for the state components mmulab implements, x87 (component 0) and SSE
 * (component 1): XSAVE, XRSTOR, XSAVEOPT, XSAVEC and XGETBV (SDM Vol. 1 ch. 13 "Managing State Using
 * the XSAVE Feature Set", Vol. 2 XSAVE/XRSTOR/XSAVEOPT/XSAVEC/XGETBV). CPUID leaf 0DH describes
 * exactly this: XCR0 may hold bits 0 and 1, the area is the 512-byte legacy region (the FXSAVE
 * image) plus the 64-byte XSAVE header, 576 bytes in either format.
 *
 * <p>All of them are #UD unless CR4.OSXSAVE is set (the OS enables XSAVE by setting it and writing
 * XCR0 with XSETBV, which is #GP(0) at CPL 3). XSAVE/XRSTOR/XSAVEOPT/XSAVEC need a 64-byte aligned
 * area (#GP(0)); the whole area is checked for writability before anything is stored, so a #PF
 * leaves memory untouched. XINUSE is reported as 1 for both components (the SDM allows a processor
 * to report a component in its initial configuration as in use), so XSAVEOPT stores what XSAVE
 * stores and XSAVEC writes every requested component. XRSTOR checks the header as the SDM's
 * "XRSTOR Operation" does (standard form: XCOMP_BV and bytes 16..63 zero, XSTATE_BV within XCR0;
 * compacted form: XCOMP_BV within XCR0, XSTATE_BV within XCOMP_BV, bytes 16..63 zero) and
 * initialises a requested component whose XSTATE_BV bit is clear. MXCSR goes with component 1
 * (standard form: loaded whenever RFBM[1] is set; compacted: when XSTATE_BV[1] is, else 1F80H).
 * In 32-bit mode only XMM0-7 are saved and restored.
 *
 * <p>The legacy region's x87 part is written and read by {@link X87Env#saveLegacy} and
 * {@link X87Env#loadLegacy}, which FXSAVE and FXRSTOR use too.
 */
final class XState {
    static final int XSAVE = 0, XRSTOR = 1, XSAVEOPT = 2, XSAVEC = 3, XGETBV = 4;
    /** XCR0 bits this processor supports: x87 and SSE. */
    static final long XCR0_SUPPORTED = 3;
    static final int LEGACY_SIZE = 512, HEADER_SIZE = 64, AREA_SIZE = LEGACY_SIZE + HEADER_SIZE;
    private static final long XCOMP_COMPACT = 1L << 63;

    private XState() {
    }

    static void execute(Interpreter it, int sub) {
        CpuState s = it.state();
        if ((s.cr4 & CpuState.CR4_OSXSAVE) == 0) {
            throw it.undefinedOpcode();
        }
        long[] r = s.gpr;
        if (sub == XGETBV) {
            if ((int) r[CpuState.RCX] != 0) {
                throw GuestFault.raise(s, Vectors.GP, 0); // XGETBV ECX=1 is not enumerated (CPUID.(0DH,1):EAX[2]=0)
            }
            r[CpuState.RAX] = s.xcr0 & 0xffff_ffffL;
            r[CpuState.RDX] = s.xcr0 >>> 32;
            return;
        }
        DeviceNotAvailable.xsave(s);
        long va = it.curEa();
        if ((va & 63) != 0) {
            throw GuestFault.raise(s, Vectors.GP, 0);
        }
        long rfbm = s.xcr0 & ((r[CpuState.RDX] << 32) | (r[CpuState.RAX] & 0xffff_ffffL));
        boolean rexW = it.curSize() == 3;
        if (sub == XRSTOR) {
            xrstor(it, s, va, rfbm, rexW);
        } else {
            xsave(it, s, va, rfbm, rexW, sub == XSAVEC);
        }
    }

    private static void xsave(Interpreter it, CpuState s, long va, long rfbm, boolean rexW, boolean compacted) {
        Mmu m = it.mmu();
        for (long p = va; p < va + AREA_SIZE; p = (p | 0xfff) + 1) {
            m.translateWrite(p);
        }
        m.translateWrite(va + AREA_SIZE - 1);
        if ((rfbm & 1) != 0) {
            saveX87(it, va, rexW);
        }
        if ((rfbm & 2) != 0) {
            m.write32(va + 24, s.mxcsr);
            m.write32(va + 28, 0xffff); // MXCSR_MASK: every MXCSR bit 15:0 writable (DAZ supported)
            saveXmm(s, m, va);
        }
        long xinuse = XCR0_SUPPORTED;
        long bv = m.read64(va + LEGACY_SIZE);
        bv = compacted ? rfbm & xinuse : (bv & ~rfbm) | (rfbm & xinuse);
        m.write64(va + LEGACY_SIZE, bv);
        if (compacted) {
            m.write64(va + LEGACY_SIZE + 8, rfbm | XCOMP_COMPACT);
        }
    }

    private static void xrstor(Interpreter it, CpuState s, long va, long rfbm, boolean rexW) {
        Mmu m = it.mmu();
        long bv = m.read64(va + LEGACY_SIZE);
        long comp = m.read64(va + LEGACY_SIZE + 8);
        boolean compacted = (comp & XCOMP_COMPACT) != 0;
        boolean bad;
        if (compacted) {
            bad = (comp & ~XCOMP_COMPACT & ~s.xcr0) != 0 || (bv & ~comp & ~XCOMP_COMPACT) != 0;
        } else {
            bad = comp != 0 || (bv & ~s.xcr0) != 0;
        }
        for (int o = 16; o < HEADER_SIZE && !bad; o += 8) {
            bad = m.read64(va + LEGACY_SIZE + o) != 0;
        }
        if (bad) {
            throw GuestFault.raise(s, Vectors.GP, 0);
        }
        boolean sse = (rfbm & 2) != 0;
        int mx = s.mxcsr;
        if (sse && (!compacted || (bv & 2) != 0)) {
            mx = m.read32(va + 24);
            if ((mx & ~0xffff) != 0) {
                throw GuestFault.raise(s, Vectors.GP, 0);
            }
        } else if (sse) {
            mx = 0x1f80;
        }
        int nx = s.longMode64 ? 16 : 8;
        long[] xmm = null;
        if (sse && (bv & 2) != 0) {
            xmm = new long[2 * nx]; // slow path: read everything before committing anything
            for (int i = 0; i < nx; i++) {
                xmm[2 * i] = m.read64(va + 160 + 16 * i);
                xmm[2 * i + 1] = m.read64(va + 168 + 16 * i);
            }
        }
        if ((rfbm & 1) != 0) {
            loadX87(it, va, rexW, (bv & 1) != 0);
        }
        if (sse) {
            if (xmm != null) {
                System.arraycopy(xmm, 0, s.xmm, 0, 2 * nx);
            } else {
                java.util.Arrays.fill(s.xmm, 0, 2 * nx, 0L);
            }
            s.mxcsr = mx;
        }
    }

    private static void saveXmm(CpuState s, Mmu m, long va) {
        int nx = s.longMode64 ? 16 : 8;
        for (int i = 0; i < nx; i++) {
            m.write64(va + 160 + 16 * i, s.xmm[2 * i]);
            m.write64(va + 168 + 16 * i, s.xmm[2 * i + 1]);
        }
    }

    /** The x87 part of the legacy region: {@link X87Env#saveLegacy}, shared with FXSAVE. */
    static void saveX87(Interpreter it, long va, boolean rexW) {
        X87Env.saveLegacy(it, va, rexW);
    }

    /**
     * XRSTOR's x87 component: from the image when XSTATE_BV[0] is set ({@link X87Env#loadLegacy}, shared
     * with FXRSTOR), else the x87 initial configuration (SDM Vol. 1 §13.6: FCW 037FH, FSW 0, all empty,
     * FOP/FIP/FDP 0, registers 0).
     */
    static void loadX87(Interpreter it, long va, boolean rexW, boolean fromMemory) {
        if (fromMemory) {
            X87Env.loadLegacy(it, va, rexW);
        } else {
            X87State f = it.state().fpu;
            f.init();
            java.util.Arrays.fill(f.sig, 0);
            java.util.Arrays.fill(f.se, 0);
        }
    }
}
