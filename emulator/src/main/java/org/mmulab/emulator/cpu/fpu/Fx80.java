package org.mmulab.emulator.cpu.fpu;

/**
 * Exact software 80-bit extended-precision arithmetic as the x87 FPU performs it (SDM Vol. 1 §4.2.2,
 * §4.8 "Real numbers and floating-point formats", §4.9 "Floating-point exception conditions", §8.1.5
 * precision and rounding control). A value is a sign/exponent half-word {@code se} (bit 15 sign,
 * bits 14:0 biased exponent) and a 64-bit significand {@code sig} with an explicit integer bit 63.
 *
 * <p>One instance is an arithmetic unit: {@link #cw} supplies rounding control (RC, bits 11:10),
 * precision control (PC, bits 9:8; the reserved 01 acts as 64 bits) and the exception masks (bits
 * 5:0); every operation writes its result to {@link #rSe}/{@link #rSig}, ORs the exceptions it
 * detected into {@link #flags} and sets {@link #c1} when the result was rounded up in magnitude.
 * Nothing allocates. Semantics followed:
 * <ul>
 * <li>Results are rounded once from the exact value: round-to-nearest-even, down, up, toward zero;
 *     PC limits the significand of FADD/FSUB/FMUL/FDIV/FSQRT results (not the exponent range).</li>
 * <li>Denormal operands (including pseudo-denormals, exponent 0 with the integer bit set, which act as
 *     exponent 1) set DE; unnormals, pseudo-infinities and pseudo-NaNs are unsupported formats: IE and
 *     the real indefinite (sign 1, exponent 7FFF, significand C000000000000000).</li>
 * <li>NaN operands propagate as SDM table 4-7 gives it (SNaN quieted with IE; of two NaNs the QNaN, or
 *     the larger significand); invalid operations produce the real indefinite.</li>
 * <li>Tininess is detected after rounding (a result that rounds up to the smallest normal is not
 *     tiny: checked against native x87 runs); a masked underflow is signalled only when the tiny
 *     result is also inexact. When OE or UE is unmasked, a result for a register
 *     destination is delivered with its exponent biased by -/+24576 (SDM §4.9.2); the executor decides
 *     what is stored when IE/DE/ZE are unmasked.</li>
 * <li>A denormal operand is not reported together with IE or ZE (they rank above DE; native runs
 *     agree).</li>
 * </ul>
 * This class holds rounding, the four rules and the square root; {@link Fx80Ops} the remainders,
 * FSCALE, FRNDINT, FXTRACT and compares, {@link Fx80Convert} the memory formats.
 * Modelled on Berkeley SoftFloat 3's {@code roundPackToExtF80} and Bochs' {@code fpu/} (own code).
 */
public final class Fx80 {
    public static final int IE = 1, DE = 2, ZE = 4, OE = 8, UE = 16, PE = 32;
    public static final int RC_NEAREST = 0, RC_DOWN = 1, RC_UP = 2, RC_ZERO = 3;
    /** Operand classes ({@link #classify}). */
    public static final int ZERO = 0, NORMAL = 1, DENORMAL = 2, INF = 3, QNAN = 4, SNAN = 5, UNSUPPORTED = 6;
    public static final int INDEF_SE = 0xffff;
    public static final long INDEF_SIG = 0xC000_0000_0000_0000L;
    public static final long INT_BIT = Long.MIN_VALUE, QUIET = 1L << 62;
    /** Exponent bias adjustment for unmasked overflow/underflow (SDM §4.9.1.4). */
    public static final int BIAS_ADJ = 24576;
    public static final int EXP_MAX = 0x7ffe, BIAS = 16383;

    /** Control word: masks, PC and RC. */
    public int cw = 0x037f;
    /** Exceptions detected (FSW bits 5:0), accumulated until the caller clears them. */
    public int flags;
    /** The last rounding increased the magnitude (FSW.C1 after an inexact result). */
    public boolean c1;
    /** Result. */
    public int rSe;
    public long rSig;
    /** Second result (FXTRACT's exponent), or the partial-remainder quotient bits. */
    public int xSe;
    public long xSig;
    /** FPREM/FPREM1: low three quotient bits and whether the reduction is incomplete (C2). */
    public int quot;
    public boolean partial;

    // Scratch of the last normalization / rounding.
    int nExp;
    long nSig;
    private int rExp, rSign;

    /** Biased exponent of the last {@link #roundPack} (emin for denormals, emax + 1 for infinity). */
    public int roundedExp() {
        return rExp;
    }

    public static int classify(int se, long sig) {
        int e = se & 0x7fff;
        if (e == 0) {
            return sig == 0 ? ZERO : DENORMAL;
        }
        if (sig >= 0) {
            return UNSUPPORTED;
        }
        if (e == 0x7fff) {
            if ((sig << 1) == 0) {
                return INF;
            }
            return (sig & QUIET) != 0 ? QNAN : SNAN;
        }
        return NORMAL;
    }

    public int rc() {
        return (cw >>> 10) & 3;
    }

    /** Significand bits selected by PC. */
    public int pcBits() {
        int pc = (cw >>> 8) & 3;
        return pc == 0 ? 24 : pc == 2 ? 53 : 64;
    }

    public void set(int se, long sig) {
        rSe = se;
        rSig = sig;
    }

    /** Invalid operation: IE and the real indefinite (a denormal operand is then not reported: DE ranks below). */
    public void invalid() {
        flags = (flags & ~DE) | IE;
        set(INDEF_SE, INDEF_SIG);
    }

    /** One-operand NaN/unsupported handling; true when the result is set. */
    public boolean special1(int se, long sig, int c) {
        if (c == UNSUPPORTED) {
            invalid();
            return true;
        }
        if (c == SNAN) {
            flags |= IE;
            set(se, sig | QUIET);
            return true;
        }
        if (c == QNAN) {
            set(se, sig);
            return true;
        }
        return false;
    }

    /** Two-operand NaN/unsupported handling (SDM table 4-7); true when the result is set. */
    public boolean special2(int aSe, long aSig, int ca, int bSe, long bSig, int cb) {
        if (ca == UNSUPPORTED || cb == UNSUPPORTED) {
            invalid();
            return true;
        }
        boolean an = ca >= QNAN, bn = cb >= QNAN;
        if (!an && !bn) {
            return false;
        }
        if (ca == SNAN || cb == SNAN) {
            flags |= IE;
        }
        boolean pickA;
        if (!bn) {
            pickA = true;
        } else if (!an) {
            pickA = false;
        } else if (ca != cb) {
            pickA = ca == QNAN;
        } else {
            int c = Long.compareUnsigned(aSig, bSig);
            pickA = c != 0 ? c > 0 : (aSe & 0xffff) < (bSe & 0xffff);
        }
        if (pickA) {
            set(aSe, aSig | QUIET);
        } else {
            set(bSe, bSig | QUIET);
        }
        return true;
    }

    /** Normalizes a finite non-zero operand into {@link #nExp}/{@link #nSig} (exponent may go below 1). */
    void normalize(int se, long sig) {
        int e = se & 0x7fff;
        if (e == 0) {
            int s = Long.numberOfLeadingZeros(sig);
            nSig = sig << s;
            nExp = 1 - s;
        } else {
            nExp = e;
            nSig = sig;
        }
    }

    void denormalCheck(int ca, int cb) {
        if (ca == DENORMAL || cb == DENORMAL) {
            flags |= DE;
        }
    }

    // ------------------------------------------------------------------------------------------
    // Rounding

    /**
     * Rounds the exact value (-1)^sign * (hi:lo / 2^127) * 2^(exp - 16383 + ... ) - i.e. hi is the
     * significand with its integer bit at bit 63 and lo holds the bits below (any non-zero low bit acts
     * as sticky) - to {@code p} significand bits in the exponent range [emin, emax] (biased as the
     * extended format). Result in rSign/rExp/rSig: rSig with bit 63 clear is a denormal or zero (rExp =
     * emin then); rExp = emax + 1 is infinity. {@code regDest}: an x87 register destination, which takes
     * the biased result when OE/UE is unmasked.
     */
    public void roundPack(int sign, int exp, long hi, long lo, int p, int emin, int emax, boolean regDest) {
        boolean tiny = false;
        if (exp < emin && (exp < emin - 1 || !roundsToNormal(sign, hi, lo, p))) {
            tiny = true;
        }
        if (exp < emin) {
            if (regDest && (cw & UE) == 0 && tiny) {
                exp += BIAS_ADJ;
                flags |= UE;
            } else {
                int d = emin - exp;
                if (d < 64) {
                    long sticky = (lo << (64 - d)) != 0 ? 1 : 0;
                    lo = (lo >>> d) | (hi << (64 - d)) | sticky;
                    hi >>>= d;
                } else if (d < 128) {
                    long sticky = lo != 0 || (d > 64 && (hi << (128 - d)) != 0) ? 1 : 0;
                    lo = (d == 64 ? hi : hi >>> (d - 64)) | sticky;
                    hi = 0;
                } else {
                    lo = (hi | lo) != 0 ? 1 : 0;
                    hi = 0;
                }
                exp = emin;
            }
        }
        int sh = 64 - p;
        long keep, rb;
        if (sh == 0) {
            keep = hi;
            rb = lo;
        } else {
            keep = hi >>> sh;
            rb = (hi << (64 - sh)) | (lo != 0 ? 1 : 0);
        }
        boolean inc;
        switch (rc()) {
            case RC_NEAREST -> inc = rb < 0 && (rb != Long.MIN_VALUE || (keep & 1) != 0);
            case RC_DOWN -> inc = sign != 0 && rb != 0;
            case RC_UP -> inc = sign == 0 && rb != 0;
            default -> inc = false;
        }
        boolean inexact = rb != 0;
        if (inc) {
            keep++;
            if (sh == 0 ? keep == 0 : keep == 1L << p) {
                keep = 1L << (p - 1);
                exp++;
            }
        }
        long sig = keep << sh;
        rSign = sign;
        if (exp > emax) {
            if (regDest && (cw & OE) == 0) {
                exp -= BIAS_ADJ;
                flags |= OE;
            } else {
                flags |= OE | PE;
                int rc = rc();
                boolean toInf = rc == RC_NEAREST || (rc == RC_DOWN && sign != 0) || (rc == RC_UP && sign == 0);
                if (toInf) {
                    rExp = emax + 1;
                    rSig = INT_BIT;
                    c1 = true;
                } else {
                    rExp = emax;
                    rSig = -1L << sh;
                    c1 = false;
                }
                return;
            }
        }
        if (tiny && ((cw & UE) == 0 || inexact)) {
            flags |= UE;
        }
        if (inexact) {
            flags |= PE;
        }
        c1 = inc;
        rExp = exp;
        rSig = sig;
    }

    /**
     * Tininess after rounding (what x87 hardware does, verified against native runs): a result one
     * binade below the smallest normal is not tiny when rounding it to p bits with an unbounded
     * exponent carries into the next binade.
     */
    private boolean roundsToNormal(int sign, long hi, long lo, int p) {
        int sh = 64 - p;
        long keep = sh == 0 ? hi : hi >>> sh;
        long rb = sh == 0 ? lo : (hi << (64 - sh)) | (lo != 0 ? 1 : 0);
        boolean inc = switch (rc()) {
            case RC_NEAREST -> rb < 0 && (rb != Long.MIN_VALUE || (keep & 1) != 0);
            case RC_DOWN -> sign != 0 && rb != 0;
            case RC_UP -> sign == 0 && rb != 0;
            default -> false;
        };
        return inc && keep == (sh == 0 ? -1L : (1L << p) - 1);
    }

    /** {@link #roundPack} into the extended format, result in rSe/rSig. */
    public void roundPackX(int sign, int exp, long hi, long lo, int p, boolean regDest) {
        roundPack(sign, exp, hi, lo, p, 1, EXP_MAX, regDest);
        rSe = (sign << 15) | (rSig < 0 ? rExp : 0);
    }

    /** Packs an exact unsigned magnitude as an extended value (FILD, FXTRACT exponent, FRNDINT). */
    public void packInt(int sign, long mag) {
        if (mag == 0) {
            set(sign << 15, 0);
            return;
        }
        int s = Long.numberOfLeadingZeros(mag);
        set((sign << 15) | (BIAS + 63 - s), mag << s);
    }

    // ------------------------------------------------------------------------------------------
    // Arithmetic

    /** a + b, or a - b when {@code subtract} (FADD/FSUB; FSUBR swaps the operands). */
    public void add(int aSe, long aSig, int bSe, long bSig, boolean subtract) {
        int ca = classify(aSe, aSig), cb = classify(bSe, bSig);
        if (special2(aSe, aSig, ca, bSe, bSig, cb)) {
            return; // NaNs propagate with their own sign
        }
        if (subtract) {
            bSe ^= 0x8000;
        }
        denormalCheck(ca, cb);
        int sa = (aSe >>> 15) & 1, sb = (bSe >>> 15) & 1;
        c1 = false;
        if (ca == INF || cb == INF) {
            if (ca == INF && cb == INF && sa != sb) {
                invalid();
            } else {
                set(ca == INF ? aSe : bSe, INT_BIT);
            }
            return;
        }
        if (ca == ZERO && cb == ZERO) {
            set((sa == sb ? sa : rc() == RC_DOWN ? 1 : 0) << 15, 0);
            return;
        }
        if (cb == ZERO || ca == ZERO) {
            int s = cb == ZERO ? sa : sb;
            normalize(cb == ZERO ? aSe : bSe, cb == ZERO ? aSig : bSig);
            roundPackX(s, nExp, nSig, 0, pcBits(), true);
            return;
        }
        normalize(aSe, aSig);
        int ea = nExp;
        long ma = nSig;
        normalize(bSe, bSig);
        int eb = nExp;
        long mb = nSig;
        if (eb > ea || (eb == ea && Long.compareUnsigned(mb, ma) > 0)) {
            int t = ea;
            ea = eb;
            eb = t;
            long u = ma;
            ma = mb;
            mb = u;
            t = sa;
            sa = sb;
            sb = t;
        }
        int d = ea - eb;
        long bh, bl;
        if (d == 0) {
            bh = mb;
            bl = 0;
        } else if (d < 64) {
            bh = mb >>> d;
            bl = mb << (64 - d);
        } else if (d == 64) {
            bh = 0;
            bl = mb;
        } else if (d < 128) {
            bh = 0;
            bl = (mb >>> (d - 64)) | ((mb << (128 - d)) != 0 ? 1 : 0);
        } else {
            bh = 0;
            bl = 1;
        }
        long hi, lo;
        int e = ea;
        if (sa == sb) {
            lo = bl;
            hi = ma + bh;
            if (Long.compareUnsigned(hi, ma) < 0) {
                lo = (lo >>> 1) | (hi << 63) | (lo & 1);
                hi = (hi >>> 1) | INT_BIT;
                e++;
            }
        } else {
            lo = -bl;
            hi = ma - bh - (bl != 0 ? 1 : 0);
            if (hi == 0 && lo == 0) {
                set((rc() == RC_DOWN ? 1 : 0) << 15, 0);
                return;
            }
            if (hi == 0) {
                hi = lo;
                lo = 0;
                e -= 64;
            }
            int s = Long.numberOfLeadingZeros(hi);
            if (s != 0) {
                hi = (hi << s) | (lo >>> (64 - s));
                lo <<= s;
                e -= s;
            }
        }
        roundPackX(sa, e, hi, lo, pcBits(), true);
    }

    /** Unsigned high 64 bits of a 64x64 product. */
    public static long umulh(long a, long b) {
        return Math.multiplyHigh(a, b) + ((a >> 63) & b) + ((b >> 63) & a);
    }

    public void mul(int aSe, long aSig, int bSe, long bSig) {
        int ca = classify(aSe, aSig), cb = classify(bSe, bSig);
        if (special2(aSe, aSig, ca, bSe, bSig, cb)) {
            return;
        }
        denormalCheck(ca, cb);
        int sign = ((aSe ^ bSe) >>> 15) & 1;
        c1 = false;
        if (ca == INF || cb == INF) {
            if (ca == ZERO || cb == ZERO) {
                invalid();
            } else {
                set((sign << 15) | 0x7fff, INT_BIT);
            }
            return;
        }
        if (ca == ZERO || cb == ZERO) {
            set(sign << 15, 0);
            return;
        }
        normalize(aSe, aSig);
        int ea = nExp;
        long ma = nSig;
        normalize(bSe, bSig);
        int e = ea + nExp - BIAS;
        long hi = umulh(ma, nSig), lo = ma * nSig;
        if (hi >= 0) {
            hi = (hi << 1) | (lo >>> 63);
            lo <<= 1;
        } else {
            e++;
        }
        roundPackX(sign, e, hi, lo, pcBits(), true);
    }

    public void div(int aSe, long aSig, int bSe, long bSig) {
        int ca = classify(aSe, aSig), cb = classify(bSe, bSig);
        if (special2(aSe, aSig, ca, bSe, bSig, cb)) {
            return;
        }
        int sign = ((aSe ^ bSe) >>> 15) & 1;
        c1 = false;
        if (ca == INF) {
            denormalCheck(ca, cb);
            if (cb == INF) {
                invalid();
            } else {
                set((sign << 15) | 0x7fff, INT_BIT);
            }
            return;
        }
        if (cb == INF) {
            denormalCheck(ca, cb);
            set(sign << 15, 0);
            return;
        }
        if (cb == ZERO) {
            if (ca == ZERO) {
                invalid();
            } else {
                flags |= ZE; // DE ranks below ZE: a denormal dividend is not reported
                set((sign << 15) | 0x7fff, INT_BIT);
            }
            return;
        }
        denormalCheck(ca, cb);
        if (ca == ZERO) {
            set(sign << 15, 0);
            return;
        }
        normalize(aSe, aSig);
        int ea = nExp;
        long ma = nSig;
        normalize(bSe, bSig);
        long d = nSig;
        int e = ea - nExp + BIAS;
        // q = floor(ma * 2^63 / d) when ma >= d, else floor(ma * 2^64 / d): 64 bits with bit 63 set.
        long q;
        if (Long.compareUnsigned(ma, d) >= 0) {
            q = divlu(ma >>> 1, ma << 63, d);
        } else {
            q = divlu(ma, 0, d);
            e--;
        }
        long r = divRem;
        // Round/sticky from the remainder: compare 2r with d (r < d).
        long lo;
        if (r == 0) {
            lo = 0;
        } else {
            int c = r < 0 ? 1 : Long.compareUnsigned(r << 1, d);
            lo = c > 0 ? 0xC000_0000_0000_0000L : c == 0 ? INT_BIT : 0x4000_0000_0000_0000L;
        }
        roundPackX(sign, e, q, lo, pcBits(), true);
    }

    /** Remainder of the last {@link #divlu}. */
    private long divRem;

    /**
     * Unsigned (u1:u0) / v for a normalized v (bit 63 set) and u1 &lt; v: the 64-bit quotient, remainder in
     * {@link #divRem} (Hacker's Delight, divlu: two steps of 32-bit digits with quotient correction).
     */
    long divlu(long u1, long u0, long v) {
        final long b = 1L << 32;
        long vn1 = v >>> 32, vn0 = v & 0xffff_ffffL;
        long un1 = u0 >>> 32, un0 = u0 & 0xffff_ffffL;
        long q1 = Long.divideUnsigned(u1, vn1);
        long rhat = u1 - q1 * vn1;
        while (Long.compareUnsigned(q1, b) >= 0 || Long.compareUnsigned(q1 * vn0, (rhat << 32) + un1) > 0) {
            q1--;
            rhat += vn1;
            if (Long.compareUnsigned(rhat, b) >= 0) {
                break;
            }
        }
        long un21 = (u1 << 32) + un1 - q1 * v;
        long q0 = Long.divideUnsigned(un21, vn1);
        rhat = un21 - q0 * vn1;
        while (Long.compareUnsigned(q0, b) >= 0 || Long.compareUnsigned(q0 * vn0, (rhat << 32) + un0) > 0) {
            q0--;
            rhat += vn1;
            if (Long.compareUnsigned(rhat, b) >= 0) {
                break;
            }
        }
        divRem = (un21 << 32) + un0 - q0 * v;
        return (q1 << 32) + q0;
    }

    public void sqrt(int aSe, long aSig) {
        int ca = classify(aSe, aSig);
        if (special1(aSe, aSig, ca)) {
            return;
        }
        c1 = false;
        if (ca == ZERO) {
            set(aSe, aSig);
            return;
        }
        if ((aSe & 0x8000) != 0) {
            if (ca == DENORMAL) {
                flags |= DE;
            }
            invalid();
            return;
        }
        if (ca == INF) {
            set(aSe, aSig);
            return;
        }
        if (ca == DENORMAL) {
            flags |= DE;
        }
        normalize(aSe, aSig);
        int u = nExp - BIAS;
        int k = (u & 1) != 0 ? 64 : 63;
        long nh = k == 64 ? nSig : nSig >>> 1, nl = k == 64 ? 0 : nSig << 63;
        long root = 0, remH = 0, remL = 0;
        for (int i = 63; i >= 0; i--) {
            long two = i >= 32 ? (nh >>> (2 * (i - 32))) & 3 : (nl >>> (2 * i)) & 3;
            remH = (remH << 2) | (remL >>> 62);
            remL = (remL << 2) | two;
            long tH = root >>> 62, tL = (root << 2) | 1;
            if (remH > tH || (remH == tH && Long.compareUnsigned(remL, tL) >= 0)) {
                long nl2 = remL - tL;
                remH = remH - tH - (Long.compareUnsigned(remL, tL) < 0 ? 1 : 0);
                remL = nl2;
                root = (root << 1) | 1;
            } else {
                root <<= 1;
            }
        }
        long lo;
        if (remH == 0 && remL == 0) {
            lo = 0;
        } else if (remH != 0 || Long.compareUnsigned(remL, root) > 0) {
            lo = 0xC000_0000_0000_0000L;
        } else {
            lo = 0x4000_0000_0000_0000L;
        }
        int e = BIAS + 63 + (u - 63 - k) / 2;
        roundPackX(0, e, root, lo, pcBits(), true);
    }
}
