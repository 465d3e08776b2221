package org.mmulab.emulator.cpu;

/**
 * The SSE floating-point environment of one vCPU and IEEE 754 binary32/binary64 arithmetic under it
 * (SDM Vol. 1 §4.8 and §11.5, MXCSR in §10.2.3): rounding per MXCSR.RC, DAZ (denormal operands read
 * as signed zeros, no #D), FTZ (every tiny result, exact ones too, flushed to a signed zero with UE and
 * PE when underflow is masked, as recorded on hardware), and the six exception flags; tininess is
 * detected after rounding, as x86 does.
 *
 * <p>NaN rules (SDM Vol. 1 Table 4-7, §4.8.3.5): an SNaN operand signals IE; a NaN result is the
 * first operand if it is a NaN, else the second, quieted; an invalid operation without NaN operands
 * gives the default QNaN (sign set). Values are raw bits: binary32 in the low 32 bits of a long.
 *
 * <p>Fast path: while RC is round-to-nearest, DAZ/FTZ are off and PE is already set and masked (what
 * every program reaches after its first inexact operation), an operation whose operands are normal or
 * zero and whose result is a normal number not at the bottom binade can raise no flag but PE, so Java's
 * own (round-to-nearest-even) arithmetic gives the result. Everything else goes through the exact
 * path: operands unpacked to a 53-bit significand, an exact (or sticky-jammed) intermediate, and one
 * rounding in {@link #roundPack}. No allocation on either path.
 *
 * <p>Usage per instruction: {@link #begin}, the operations, then {@link #commit} before any result is
 * written: an unmasked exception raises #XM with the destination unchanged and the flags set.
 */
final class SoftFloat {
    static final int IE = 1, DE = 2, ZE = 4, OE = 8, UE = 16, PE = 32, DAZ = 64, FZ = 1 << 15;
    static final int F32 = 0, F64 = 1;
    static final long DNAN64 = 0xfff8_0000_0000_0000L;
    static final long DNAN32 = 0xffc0_0000L;

    // Per-format parameters, indexed by F32/F64.
    private static final int[] FRAC = {23, 52};
    private static final int[] BIAS = {127, 1023};
    private static final int[] EXPMAX = {0xff, 0x7ff};
    private static final long[] SIGN = {0x8000_0000L, 0x8000_0000_0000_0000L};

    /** MXCSR.RC: 0 nearest, 1 down, 2 up, 3 toward zero. */
    int rc;
    boolean ftz, daz, ueMasked;
    /** Exception flags raised by the current instruction. */
    int flags;
    /** True while the fast path is allowed (see the class comment). */
    boolean fast;

    void begin(int mxcsr) {
        rc = (mxcsr >>> 13) & 3;
        ftz = (mxcsr & FZ) != 0;
        daz = (mxcsr & DAZ) != 0;
        ueMasked = (mxcsr & (UE << 7)) != 0;
        fast = (mxcsr & (0x6000 | FZ | DAZ | PE | (PE << 7))) == (PE | (PE << 7));
        flags = 0;
    }

    /**
     * Ends an instruction: ORs the flags into MXCSR, or raises #XM if any raised flag is unmasked (then
     * only the pre-computation ones IE/DE/ZE are reported if any of them occurred).
     */
    void commit(CpuState s) {
        int f = flags;
        if (f == 0) {
            return;
        }
        int mx = s.mxcsr;
        if ((f & ~(mx >>> 7) & 0x3f) != 0) {
            if ((f & (IE | DE | ZE)) != 0) {
                f &= IE | DE | ZE;
            }
            s.mxcsr = mx | f;
            throw GuestFault.raise(s, Vectors.XM, 0);
        }
        s.mxcsr = mx | f;
    }

    // ------------------------------------------------------------------------------------------
    // Classification.

    static int exp(int fmt, long v) {
        return (int) (v >>> FRAC[fmt]) & EXPMAX[fmt];
    }

    static long frac(int fmt, long v) {
        return v & ((1L << FRAC[fmt]) - 1);
    }

    static boolean isNaN(int fmt, long v) {
        return exp(fmt, v) == EXPMAX[fmt] && frac(fmt, v) != 0;
    }

    static boolean isSNaN(int fmt, long v) {
        return isNaN(fmt, v) && (v & (1L << (FRAC[fmt] - 1))) == 0;
    }

    static boolean isDenormal(int fmt, long v) {
        return exp(fmt, v) == 0 && frac(fmt, v) != 0;
    }

    static long quiet(int fmt, long v) {
        return v | (1L << (FRAC[fmt] - 1));
    }

    static long dnan(int fmt) {
        return fmt == F32 ? DNAN32 : DNAN64;
    }

    static boolean neg(int fmt, long v) {
        return (v & SIGN[fmt]) != 0;
    }

    /** Applies DAZ or raises DE for a denormal operand; returns the operand to use. */
    long operand(int fmt, long v) {
        if (isDenormal(fmt, v)) {
            if (daz) {
                return v & SIGN[fmt];
            }
            flags |= DE;
        }
        return v;
    }

    /** NaN result of a two-operand operation with at least one NaN: IE on an SNaN, then the SSE rule. */
    private long nan2(int fmt, long a, long b) {
        if (isSNaN(fmt, a) || isSNaN(fmt, b)) {
            flags |= IE;
        }
        return quiet(fmt, isNaN(fmt, a) ? a : b);
    }

    long invalid(int fmt) {
        flags |= IE;
        return dnan(fmt);
    }

    private static long inf(int fmt, boolean negative) {
        return (negative ? SIGN[fmt] : 0) | ((long) EXPMAX[fmt] << FRAC[fmt]);
    }

    private static long zero(int fmt, boolean negative) {
        return negative ? SIGN[fmt] : 0;
    }

    // Unpacked operand of the exact path: value = uSig / 2^52 * 2^uExp, uSig in [2^52, 2^53).
    long uSig;
    int uExp;

    /** Unpacks a finite non-zero operand (denormals normalized). */
    void unpack(int fmt, long v) {
        int e = exp(fmt, v);
        long f = frac(fmt, v);
        int fb = FRAC[fmt];
        if (e == 0) {
            int k = Long.numberOfLeadingZeros(f) - 11;
            uSig = f << k;
            uExp = 52 + (1 - BIAS[fmt]) - fb - k;
        } else {
            uSig = (f | (1L << fb)) << (52 - fb);
            uExp = e - BIAS[fmt];
        }
    }

    static long shiftRightJam(long v, int d) {
        if (d <= 0) {
            return v;
        }
        if (d >= 63) {
            return v != 0 ? 1 : 0;
        }
        return (v >>> d) | ((v & ((1L << d) - 1)) != 0 ? 1 : 0);
    }

    private boolean roundUp(boolean negative, long kept, long rem, long half) {
        switch (rc) {
            case 0:
                return rem > half || (rem == half && (kept & 1) != 0);
            case 1:
                return negative && rem != 0;
            case 2:
                return !negative && rem != 0;
            default:
                return false;
        }
    }

    /**
     * Rounds value = s / 2^62 * 2^ue (s has bit 62 set, lower bits may carry a jammed sticky bit) to
     * the format under MXCSR, raising PE/UE/OE, applying FTZ.
     */
    long roundPack(int fmt, boolean negative, int ue, long s) {
        int fb = FRAC[fmt];
        int e = ue + BIAS[fmt];
        int sh = 62 - fb;
        long half = 1L << (sh - 1);
        long lowMask = (1L << sh) - 1;
        boolean tiny = false;
        if (e < 1) {
            if (e < 0) {
                tiny = true;
            } else {
                long kept = s >>> sh;
                long rem = s & lowMask;
                tiny = !(roundUp(negative, kept, rem, half) && kept + 1 == 1L << (fb + 1));
            }
            s = shiftRightJam(s, 1 - e);
            e = 0;
        }
        long kept = s >>> sh;
        long rem = s & lowMask;
        if (tiny && ftz && ueMasked) { // FTZ: every tiny result, exact or not, is a signed zero with UE and PE
            flags |= UE | PE;
            return zero(fmt, negative);
        }
        if (roundUp(negative, kept, rem, half)) {
            kept++;
        }
        if (rem != 0) {
            flags |= PE;
        }
        if (tiny && (rem != 0 || !ueMasked)) {
            flags |= UE;
        }
        long bits = e == 0 ? kept : ((long) (e - 1) << fb) + kept;
        if ((bits >>> fb) >= EXPMAX[fmt]) {
            flags |= OE | PE;
            long max = ((long) (EXPMAX[fmt] - 1) << fb) | ((1L << fb) - 1);
            boolean toInf = rc == 0 || (rc == 1 && negative) || (rc == 2 && !negative);
            bits = toInf ? (long) EXPMAX[fmt] << fb : max;
        }
        return (negative ? SIGN[fmt] : 0) | bits;
    }

    // ------------------------------------------------------------------------------------------
    // Arithmetic.

    long add(int fmt, long a, long b) {
        if (fast && fmt == F64) {
            double r = Double.longBitsToDouble(a) + Double.longBitsToDouble(b);
            long rb = Double.doubleToRawLongBits(r);
            if (plain64(a) && plain64(b) && normal64(rb)) {
                return rb;
            }
        } else if (fast) {
            float r = Float.intBitsToFloat((int) a) + Float.intBitsToFloat((int) b);
            long rb = Float.floatToRawIntBits(r) & 0xffff_ffffL;
            if (plain32(a) && plain32(b) && normal32(rb)) {
                return rb;
            }
        }
        return addSlow(fmt, a, b, false);
    }

    long sub(int fmt, long a, long b) {
        if (fast && fmt == F64) {
            double r = Double.longBitsToDouble(a) - Double.longBitsToDouble(b);
            long rb = Double.doubleToRawLongBits(r);
            if (plain64(a) && plain64(b) && normal64(rb)) {
                return rb;
            }
        } else if (fast) {
            float r = Float.intBitsToFloat((int) a) - Float.intBitsToFloat((int) b);
            long rb = Float.floatToRawIntBits(r) & 0xffff_ffffL;
            if (plain32(a) && plain32(b) && normal32(rb)) {
                return rb;
            }
        }
        return addSlow(fmt, a, b, true);
    }

    long mul(int fmt, long a, long b) {
        if (fast && fmt == F64) {
            double r = Double.longBitsToDouble(a) * Double.longBitsToDouble(b);
            long rb = Double.doubleToRawLongBits(r);
            if (plain64(a) && plain64(b) && normal64(rb)) {
                return rb;
            }
        } else if (fast) {
            float r = Float.intBitsToFloat((int) a) * Float.intBitsToFloat((int) b);
            long rb = Float.floatToRawIntBits(r) & 0xffff_ffffL;
            if (plain32(a) && plain32(b) && normal32(rb)) {
                return rb;
            }
        }
        return mulSlow(fmt, a, b);
    }

    long div(int fmt, long a, long b) {
        if (fast && fmt == F64) {
            double r = Double.longBitsToDouble(a) / Double.longBitsToDouble(b);
            long rb = Double.doubleToRawLongBits(r);
            if (plain64(a) && plain64(b) && normal64(rb)) {
                return rb;
            }
        } else if (fast) {
            float r = Float.intBitsToFloat((int) a) / Float.intBitsToFloat((int) b);
            long rb = Float.floatToRawIntBits(r) & 0xffff_ffffL;
            if (plain32(a) && plain32(b) && normal32(rb)) {
                return rb;
            }
        }
        return divSlow(fmt, a, b);
    }

    long sqrt(int fmt, long a) {
        if (fast && fmt == F64) {
            long rb = Double.doubleToRawLongBits(Math.sqrt(Double.longBitsToDouble(a)));
            if (plain64(a) && normal64(rb)) {
                return rb;
            }
        } else if (fast) {
            // sqrt of a binary32 rounded once through binary64 is correctly rounded (2p+2 <= 53)
            long rb = Float.floatToRawIntBits((float) Math.sqrt(Float.intBitsToFloat((int) a))) & 0xffff_ffffL;
            if (plain32(a) && normal32(rb)) {
                return rb;
            }
        }
        return sqrtSlow(fmt, a);
    }

    /** Operand usable by the fast path: normal or zero. */
    private static boolean plain64(long v) {
        long e = v & 0x7ff0_0000_0000_0000L;
        return e != 0x7ff0_0000_0000_0000L && (e != 0 || (v << 1) == 0);
    }

    private static boolean plain32(long v) {
        long e = v & 0x7f80_0000L;
        return e != 0x7f80_0000L && (e != 0 || (v << 33) == 0);
    }

    /** Result the fast path may return: finite, normal, above the lowest binade. */
    private static boolean normal64(long v) {
        long e = (v >>> 52) & 0x7ff;
        return e > 1 && e < 0x7ff;
    }

    private static boolean normal32(long v) {
        long e = (v >>> 23) & 0xff;
        return e > 1 && e < 0xff;
    }

    private long addSlow(int fmt, long a, long b, boolean subtract) {
        if (isNaN(fmt, a) || isNaN(fmt, b)) {
            return nan2(fmt, a, b);
        }
        a = operand(fmt, a);
        b = operand(fmt, b);
        boolean sa = neg(fmt, a);
        boolean sb = neg(fmt, b) ^ subtract;
        boolean infA = exp(fmt, a) == EXPMAX[fmt];
        boolean infB = exp(fmt, b) == EXPMAX[fmt];
        if (infA || infB) {
            if (infA && infB && sa != sb) {
                return invalid(fmt);
            }
            return inf(fmt, infA ? sa : sb);
        }
        long mag = SIGN[fmt] - 1;
        boolean zA = (a & mag) == 0;
        boolean zB = (b & mag) == 0;
        if (zA && zB) {
            return zero(fmt, sa == sb ? sa : rc == 1);
        }
        if (zB) {
            return flushExact(fmt, a);
        }
        if (zA) {
            return flushExact(fmt, b ^ (subtract ? SIGN[fmt] : 0));
        }
        unpack(fmt, a);
        long sigA = uSig;
        int expA = uExp;
        unpack(fmt, b);
        long sigB = uSig;
        int expB = uExp;
        if (expA < expB || (expA == expB && sigA < sigB)) {
            long t = sigA;
            sigA = sigB;
            sigB = t;
            int te = expA;
            expA = expB;
            expB = te;
            boolean ts = sa;
            sa = sb;
            sb = ts;
        }
        long x = sigA << 9;
        long y = shiftRightJam(sigB << 9, expA - expB);
        long s;
        if (sa == sb) {
            s = x + y;
        } else {
            s = x - y;
            if (s == 0) {
                return zero(fmt, rc == 1);
            }
        }
        // value = s / 2^61 * 2^expA
        int k = Long.numberOfLeadingZeros(s) - 1;
        return roundPack(fmt, sa, expA + 1 - k, s << k);
    }

    /** An exact result: under FTZ (underflow masked) a denormal becomes a signed zero with UE and PE. */
    private long flushExact(int fmt, long r) {
        if (ftz && ueMasked && isDenormal(fmt, r)) {
            flags |= UE | PE;
            return r & SIGN[fmt];
        }
        return r;
    }

    private long mulSlow(int fmt, long a, long b) {
        if (isNaN(fmt, a) || isNaN(fmt, b)) {
            return nan2(fmt, a, b);
        }
        a = operand(fmt, a);
        b = operand(fmt, b);
        boolean sign = neg(fmt, a) ^ neg(fmt, b);
        long mag = SIGN[fmt] - 1;
        boolean zA = (a & mag) == 0;
        boolean zB = (b & mag) == 0;
        boolean infA = exp(fmt, a) == EXPMAX[fmt];
        boolean infB = exp(fmt, b) == EXPMAX[fmt];
        if (infA || infB) {
            if (zA || zB) {
                return invalid(fmt);
            }
            return inf(fmt, sign);
        }
        if (zA || zB) {
            return zero(fmt, sign);
        }
        unpack(fmt, a);
        long sigA = uSig;
        int expA = uExp;
        unpack(fmt, b);
        long hi = Math.multiplyHigh(sigA, uSig);
        long lo = sigA * uSig;
        // product in [2^104, 2^106): shift right by 44 with jam -> [2^60, 2^62)
        long s = (hi << 20) | (lo >>> 44) | ((lo & ((1L << 44) - 1)) != 0 ? 1 : 0);
        int k = Long.numberOfLeadingZeros(s) - 1;
        // value = s / 2^60 * 2^(expA + expB)
        return roundPack(fmt, sign, expA + uExp + 2 - k, s << k);
    }

    private long divSlow(int fmt, long a, long b) {
        if (isNaN(fmt, a) || isNaN(fmt, b)) {
            return nan2(fmt, a, b);
        }
        long mag = SIGN[fmt] - 1;
        b = operand(fmt, b);
        if ((b & mag) == 0 && exp(fmt, a) != EXPMAX[fmt] && isDenormal(fmt, a) && !daz) {
            flags |= ZE; // finite / 0 with a denormal dividend: ZE, and no DE (recorded on hardware)
            return inf(fmt, neg(fmt, a) ^ neg(fmt, b));
        }
        a = operand(fmt, a);
        boolean sign = neg(fmt, a) ^ neg(fmt, b);
        boolean zA = (a & mag) == 0;
        boolean zB = (b & mag) == 0;
        boolean infA = exp(fmt, a) == EXPMAX[fmt];
        boolean infB = exp(fmt, b) == EXPMAX[fmt];
        if (infA) {
            return infB ? invalid(fmt) : inf(fmt, sign);
        }
        if (infB) {
            return zero(fmt, sign);
        }
        if (zB) {
            if (zA) {
                return invalid(fmt);
            }
            flags |= ZE;
            return inf(fmt, sign);
        }
        if (zA) {
            return zero(fmt, sign);
        }
        unpack(fmt, a);
        long r = uSig;
        int expA = uExp;
        unpack(fmt, b);
        long d = uSig;
        long q = 0;
        for (int i = 0; i < 63; i++) {
            q <<= 1;
            if (r >= d) {
                r -= d;
                q |= 1;
            }
            r <<= 1;
        }
        // q = floor(sigA / sigB * 2^62), in [2^61, 2^63)
        q |= r != 0 ? 1 : 0;
        int e = expA - uExp;
        if (q < 0) {
            q = shiftRightJam(q, 1) & Long.MAX_VALUE;
            e++;
        } else if ((q & (1L << 62)) == 0) {
            q <<= 1;
            e--;
        }
        return roundPack(fmt, sign, e, q);
    }

    private long sqrtSlow(int fmt, long a) {
        if (isNaN(fmt, a)) {
            if (isSNaN(fmt, a)) {
                flags |= IE;
            }
            return quiet(fmt, a);
        }
        long mag = SIGN[fmt] - 1;
        if (neg(fmt, a) && (a & mag) != 0 && !(daz && isDenormal(fmt, a))) {
            return invalid(fmt); // invalid before denormal: no DE for a negative denormal
        }
        a = operand(fmt, a);
        if ((a & mag) == 0) {
            return a;
        }
        if (exp(fmt, a) == EXPMAX[fmt]) {
            return a;
        }
        unpack(fmt, a);
        long sig = uSig;
        int e = uExp - 52; // value = sig * 2^e
        if ((e & 1) != 0) {
            sig <<= 1;
            e--;
        }
        // root = floor(sqrt(sig * 2^66)), sig * 2^66 = (sig << 2) * 2^64
        long hi = sig << 2;
        long root = 0;
        long rem = 0;
        for (int i = 59; i >= 0; i--) {
            int bit = 2 * i;
            long pair = bit >= 64 ? (hi >>> (bit - 64)) & 3 : 0;
            rem = (rem << 2) | pair;
            long trial = (root << 2) | 1;
            root <<= 1;
            if (rem >= trial) {
                rem -= trial;
                root |= 1;
            }
        }
        long s = (root << 3) | (rem != 0 ? 1 : 0);
        return roundPack(fmt, false, e / 2 + 26, s); // value = s / 2^62 * 2^(e/2 + 26)
    }
}
