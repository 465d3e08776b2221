package org.mmulab.emulator.cpu.fpu;

/**
 * The x87 FPU's architectural state (SDM Vol. 1 §8.1): the eight data registers R0-R7 (physical
 * numbering; ST(i) is R((TOP + i) mod 8)), the status word (FSW: exception flags 5:0, SF, ES, C0-C3,
 * TOP 13:11, B), the control word (FCW), the tag word, and the last-instruction pointers FIP/FCS,
 * FDP/FDS and the opcode FOP.
 *
 * <p>Tags are kept abridged, one "valid" bit per physical register, as the processor does (SDM §8.1.7:
 * the full tag word is computed from register contents when FSTENV/FSAVE store it; FLDENV/FRSTOR
 * only distinguish empty from non-empty). {@link #fsw} holds every status bit except TOP.
 */
public final class X87State {
    public static final int SF = 1 << 6, ES = 1 << 7, C0 = 1 << 8, C1 = 1 << 9, C2 = 1 << 10, C3 = 1 << 14,
            B = 1 << 15, TOP_MASK = 7 << 11;

    /** Physical registers R0-R7: sign/exponent and significand. */
    public final int[] se = new int[8];
    public final long[] sig = new long[8];
    public int top;
    /** Status word without TOP. */
    public int fsw;
    public int fcw = 0x037f;
    /** Bit i set: physical register Ri is not empty. */
    public int valid;
    public long fip, fdp;
    public int fcs, fds, fop;
    /** The arithmetic unit (scratch, not architectural). */
    public final Fx80 unit = new Fx80();
    /** Scratch for FRSTOR/FXRSTOR, which read the whole image before changing anything. */
    public final long[] scratchSig = new long[8], scratchXmm = new long[32];
    public final int[] scratchSe = new int[8];
    /** Transcendental evaluation on {@link #unit} (scratch, not architectural). */
    public final Fx80Trans trans = new Fx80Trans(unit);

    /** FNINIT (SDM Vol. 2 FINIT): FCW 037F, FSW 0, all tags empty, pointers and FOP cleared. */
    public void init() {
        fcw = 0x037f;
        fsw = 0;
        top = 0;
        valid = 0;
        fip = fdp = 0;
        fcs = fds = fop = 0;
    }

    public int statusWord() {
        return (fsw & ~TOP_MASK & 0xffff) | (top << 11);
    }

    public void setStatusWord(int v) {
        top = (v >>> 11) & 7;
        fsw = v & ~TOP_MASK & 0xffff;
    }

    public int phys(int i) {
        return (top + i) & 7;
    }

    public boolean empty(int i) {
        return (valid & (1 << phys(i))) == 0;
    }

    public int stSe(int i) {
        return se[phys(i)];
    }

    public long stSig(int i) {
        return sig[phys(i)];
    }

    public void setSt(int i, int e, long s) {
        int p = phys(i);
        se[p] = e & 0xffff;
        sig[p] = s;
        valid |= 1 << p;
    }

    public void push(int e, long s) {
        top = (top - 1) & 7;
        setSt(0, e, s);
    }

    public void pop() {
        valid &= ~(1 << top);
        top = (top + 1) & 7;
    }

    /** Two-bit tag of physical register p from its contents: 00 valid, 01 zero, 10 special, 11 empty. */
    public int tagOf(int p) {
        if ((valid & (1 << p)) == 0) {
            return 3;
        }
        return switch (Fx80.classify(se[p], sig[p])) {
            case Fx80.NORMAL -> 0;
            case Fx80.ZERO -> 1;
            default -> 2;
        };
    }

    /** The full 16-bit tag word (physical register order). */
    public int tagWord() {
        int t = 0;
        for (int p = 0; p < 8; p++) {
            t |= tagOf(p) << (2 * p);
        }
        return t;
    }

    /** FLDENV/FRSTOR: only "empty" (11) is significant. */
    public void setTagWord(int t) {
        int v = 0;
        for (int p = 0; p < 8; p++) {
            if (((t >>> (2 * p)) & 3) != 3) {
                v |= 1 << p;
            }
        }
        valid = v;
    }

    /** The FXSAVE abridged tag byte. */
    public int abridgedTag() {
        return valid;
    }

    /** ES and B follow the unmasked exception flags (after FLDCW/FLDENV/FRSTOR/FNCLEX). */
    public void updateSummary() {
        if ((fsw & ~fcw & 0x3f) != 0) {
            fsw |= ES | B;
        } else {
            fsw &= ~(ES | B);
        }
    }

    public void copyFrom(X87State o) {
        System.arraycopy(o.se, 0, se, 0, 8);
        System.arraycopy(o.sig, 0, sig, 0, 8);
        top = o.top;
        fsw = o.fsw;
        fcw = o.fcw;
        valid = o.valid;
        fip = o.fip;
        fdp = o.fdp;
        fcs = o.fcs;
        fds = o.fds;
        fop = o.fop;
    }
}
