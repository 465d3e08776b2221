package org.mmulab.emulator.cpu;

import org.mmulab.emulator.cpu.fpu.X87State;
import org.mmulab.emulator.mmu.Mmu;

/**
 * x87 control and state-image instructions: FLDCW, FNSTCW, FNSTSW m16, FLDENV/FNSTENV, FRSTOR/FNSAVE
 * (protected-mode layouts, SDM Vol. 1 §8.1.10 figures 8-9/8-10 for 32-bit and 8-11 for 16-bit operand
 * size; the register image follows as ST(0)..ST(7), 10 bytes each) and FXSAVE/FXRSTOR (SDM Vol. 1
 * §10.5.1 table 10-2 and Vol. 2 FXSAVE: legacy region with the abridged tag, FOP, FIP/FDP as 32-bit
 * offset and selector, or 64-bit with REX.W, MXCSR, MXCSR_MASK, ST/MM and XMM registers; XMM8-15
 * only in 64-bit mode). Reserved halves of the 32-bit environment are stored as FFFF, as Intel parts
 * do; selectors as 0. Stores check every page for write first, so a fault commits nothing.
 */
final class X87Env {
    private X87Env() {
    }

    /** Memory forms D9 /4../7 and DD /4, /6, /7. */
    static void control(Interpreter it, X87State f, int opc, int reg) {
        CpuState s = it.state();
        Mmu m = it.mmu();
        long ea = it.curEa();
        boolean o16 = it.curSize() == 1;
        if (opc == 1) {
            switch (reg) {
                case 4 -> { // FLDENV
                    X87Exec.pending(s, f);
                    loadEnv(m, f, ea, o16);
                    f.updateSummary();
                }
                case 5 -> { // FLDCW
                    X87Exec.pending(s, f);
                    f.fcw = (m.read16(ea) & 0x1f3f) | 0x40;
                    f.updateSummary();
                }
                case 6 -> { // FNSTENV, then all exceptions masked
                    probe(m, ea, o16 ? 14 : 28);
                    storeEnv(m, f, ea, o16);
                    f.fcw |= 0x3f;
                }
                default -> m.write16(ea, f.fcw); // FNSTCW
            }
            return;
        }
        switch (reg) {
            case 4 -> { // FRSTOR
                X87Exec.pending(s, f);
                int n = o16 ? 14 : 28;
                // Read everything before changing anything (a fault must commit nothing).
                long[] sig = f.scratchSig;
                int[] se = f.scratchSe;
                for (int i = 0; i < 8; i++) {
                    sig[i] = m.read64(ea + n + 10L * i);
                    se[i] = m.read16(ea + n + 10L * i + 8);
                }
                loadEnv(m, f, ea, o16);
                for (int i = 0; i < 8; i++) {
                    int p = f.phys(i);
                    f.sig[p] = sig[i];
                    f.se[p] = se[i];
                }
                f.updateSummary();
            }
            case 6 -> { // FNSAVE, then FNINIT
                int n = o16 ? 14 : 28;
                probe(m, ea, n + 80);
                storeEnv(m, f, ea, o16);
                for (int i = 0; i < 8; i++) {
                    int p = f.phys(i);
                    m.write64(ea + n + 10L * i, f.sig[p]);
                    m.write16(ea + n + 10L * i + 8, f.se[p]);
                }
                f.init();
            }
            default -> m.write16(ea, f.statusWord()); // FNSTSW m16
        }
    }

    private static void probe(Mmu m, long ea, int len) {
        for (long p = ea; p < ea + len; p = (p | 0xfff) + 1) {
            m.translateWrite(p);
        }
        m.translateWrite(ea + len - 1);
    }

    private static void storeEnv(Mmu m, X87State f, long ea, boolean o16) {
        if (o16) {
            m.write16(ea, f.fcw);
            m.write16(ea + 2, f.statusWord());
            m.write16(ea + 4, f.tagWord());
            m.write16(ea + 6, (int) f.fip);
            m.write16(ea + 8, f.fcs);
            m.write16(ea + 10, (int) f.fdp);
            m.write16(ea + 12, f.fds);
        } else {
            m.write32(ea, 0xffff_0000 | f.fcw);
            m.write32(ea + 4, 0xffff_0000 | f.statusWord());
            m.write32(ea + 8, 0xffff_0000 | f.tagWord());
            m.write32(ea + 12, (int) f.fip);
            m.write32(ea + 16, (f.fcs & 0xffff) | ((f.fop & 0x7ff) << 16));
            m.write32(ea + 20, (int) f.fdp);
            m.write32(ea + 24, 0xffff_0000 | f.fds);
        }
    }

    private static void loadEnv(Mmu m, X87State f, long ea, boolean o16) {
        int cw, sw, tw;
        if (o16) {
            cw = m.read16(ea);
            sw = m.read16(ea + 2);
            tw = m.read16(ea + 4);
            f.fip = m.read16(ea + 6);
            f.fcs = m.read16(ea + 8);
            f.fdp = m.read16(ea + 10);
            f.fds = m.read16(ea + 12);
        } else {
            cw = m.read16(ea);
            sw = m.read16(ea + 4);
            tw = m.read16(ea + 8);
            f.fip = m.read32(ea + 12) & 0xffff_ffffL;
            int cs = m.read32(ea + 16);
            f.fcs = cs & 0xffff;
            f.fop = (cs >>> 16) & 0x7ff;
            f.fdp = m.read32(ea + 20) & 0xffff_ffffL;
            f.fds = m.read16(ea + 24);
        }
        f.fcw = (cw & 0x1f3f) | 0x40;
        f.setStatusWord(sw);
        f.setTagWord(tw);
    }

    /** FXSAVE (0F AE /0); REX.W: the 64-bit FIP/FDP format. */
    static void fxsave(Interpreter it) {
        CpuState s = it.state();
        long va = it.curEa();
        if ((va & 15) != 0) {
            throw GuestFault.raise(s, Vectors.GP, 0);
        }
        Mmu m = it.mmu();
        for (long p = va; p < va + 512; p = (p | 0xfff) + 1) {
            m.translateWrite(p);
        }
        saveLegacy(it, va, it.curSize() == 3);
        m.write32(va + 24, s.mxcsr);
        m.write32(va + 28, 0xffff); // MXCSR_MASK: DAZ supported
        int nx = s.longMode64 ? 16 : 8;
        long[] x = s.xmm;
        for (int i = 0; i < nx; i++) {
            m.write64(va + 160 + 16 * i, x[2 * i]);
            m.write64(va + 168 + 16 * i, x[2 * i + 1]);
        }
    }

    /**
     * The x87 part of an FXSAVE / XSAVE legacy region at {@code va} (SDM Vol. 1 table 10-2): FCW, FSW,
     * abridged FTW, FOP, FIP/FDP (64-bit with REX.W, else offset and selector) in bytes 0-23 (MXCSR
     * excluded) and ST(0)..ST(7) in 32-159. The pages must already be known writable.
     */
    static void saveLegacy(Interpreter it, long va, boolean rexW) {
        X87State f = it.state().fpu;
        Mmu m = it.mmu();
        m.write16(va, f.fcw);
        m.write16(va + 2, f.statusWord());
        m.write16(va + 4, f.abridgedTag());
        m.write16(va + 6, f.fop & 0x7ff);
        if (rexW) {
            m.write64(va + 8, f.fip);
            m.write64(va + 16, f.fdp);
        } else {
            m.write32(va + 8, (int) f.fip);
            m.write32(va + 12, f.fcs);
            m.write32(va + 16, (int) f.fdp);
            m.write32(va + 20, f.fds);
        }
        for (int i = 0; i < 8; i++) {
            int p = f.phys(i);
            m.write64(va + 32 + 16 * i, f.sig[p]);
            m.write64(va + 40 + 16 * i, f.se[p] & 0xffff);
        }
    }

    /** FXRSTOR (0F AE /1): #GP for MXCSR reserved bits; nothing changes before every read succeeded. */
    static void fxrstor(Interpreter it) {
        CpuState s = it.state();
        X87State f = s.fpu;
        long va = it.curEa();
        if ((va & 15) != 0) {
            throw GuestFault.raise(s, Vectors.GP, 0);
        }
        Mmu m = it.mmu();
        int mx = m.read32(va + 24);
        if ((mx & ~0xffff) != 0) {
            throw GuestFault.raise(s, Vectors.GP, 0);
        }
        int nx = s.longMode64 ? 16 : 8;
        long[] xs = f.scratchXmm;
        for (int i = 0; i < nx; i++) {
            xs[2 * i] = m.read64(va + 160 + 16 * i);
            xs[2 * i + 1] = m.read64(va + 168 + 16 * i);
        }
        loadLegacy(it, va, it.curSize() == 3); // reads all of its part, then commits it
        System.arraycopy(xs, 0, s.xmm, 0, 2 * nx);
        s.mxcsr = mx;
    }

    /**
     * Loads the x87 part of a legacy region (the layout of {@link #saveLegacy}): every field is read
     * before anything changes, so a fault part-way leaves the x87 state as it was.
     */
    static void loadLegacy(Interpreter it, long va, boolean rexW) {
        X87State f = it.state().fpu;
        Mmu m = it.mmu();
        int cw = m.read16(va), sw = m.read16(va + 2), tag = m.read8(va + 4), fop = m.read16(va + 6);
        long fip = rexW ? m.read64(va + 8) : m.read32(va + 8) & 0xffff_ffffL;
        long fdp = rexW ? m.read64(va + 16) : m.read32(va + 16) & 0xffff_ffffL;
        int fcs = rexW ? 0 : m.read16(va + 12), fds = rexW ? 0 : m.read16(va + 20);
        long[] sig = f.scratchSig;
        int[] se = f.scratchSe;
        for (int i = 0; i < 8; i++) {
            sig[i] = m.read64(va + 32 + 16 * i);
            se[i] = m.read16(va + 40 + 16 * i);
        }
        f.fcw = (cw & 0x1f3f) | 0x40;
        f.setStatusWord(sw);
        f.valid = tag & 0xff;
        f.fop = fop & 0x7ff;
        f.fip = fip;
        f.fdp = fdp;
        f.fcs = fcs;
        f.fds = fds;
        for (int i = 0; i < 8; i++) {
            int p = f.phys(i);
            f.sig[p] = sig[i];
            f.se[p] = se[i];
        }
        f.updateSummary();
    }
}
