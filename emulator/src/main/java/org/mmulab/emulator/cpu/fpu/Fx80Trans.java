package org.mmulab.emulator.cpu.fpu;

/**
 * The x87 transcendental instructions (SDM Vol. 2 FSIN, FCOS, FSINCOS, FPTAN, FPATAN, F2XM1, FYL2X,
 * FYL2XP1; special-value tables from those pages) on the {@link Fx80} unit.
 *
 * <p>Method: every function is evaluated in {@link Wide} (128-bit significands) and rounded once to
 * 64 bits by the unit's rounding control; precision control does not apply (SDM §8.1.5.2).
 * Trigonometric arguments are reduced exactly modulo pi/2 against 384 bits of pi (|x| &lt; 2^63; a
 * larger |x| sets C2 and leaves the operand, as the SDM says), then Taylor series on |r| &lt;= pi/4;
 * atan uses two argument halvings (atan z = 2 atan(z / (1 + sqrt(1 + z^2)))) and its series; logs use
 * ln m = 2 atanh((m - 1)/(m + 1)) with m in [sqrt(1/2), sqrt(2)); 2^x - 1 splits x into an integer
 * and a fraction and sums the expm1 series. The internal error is below 2^-110 relative, so results
 * are the correctly rounded ones except when the exact value lies within about 2^-46 ulp of a rounding
 * boundary - always within 1 ulp. Measured against 100-digit BigDecimal references (Fx80TransTest, with
 * -Dfx80.n=20000): every one of 20000 random arguments per instruction correctly rounded, largest error
 * 0.49999 ulp of the 64-bit significand.
 * Unlike Intel hardware, which reduces with a 66-bit pi, arguments far from zero are reduced exactly.
 */
public final class Fx80Trans {
    /** pi * 2^382 as six 64-bit words, most significant first (also the digits of RFC 2409's MODP primes). */
    private static final long[] PI_WORDS = {0xC90FDAA22168C234L, 0xC4C6628B80DC1CD1L, 0x29024E088A67CC74L,
        0x020BBEA63B139B22L, 0x514A08798E3404DDL, 0xEF9519B3CD3A431BL};
    private static final int K = PI_WORDS.length;
    // Wide registers: 0..9 working, 10..14 constants, the last three are Wide.sqrt's scratch.
    private static final int A = 0, B = 1, C = 2, D = 3, E = 4, F = 5, G = 6, H = 7, S = 8, T = 9,
            PI = 10, PI2 = 11, LN2 = 12, L2E = 13, ONE = 14;

    private final Fx80 u;
    private final Wide w = new Wide(18);
    // Argument reduction scratch (K + 1 words, little-endian).
    private final long[] rem = new long[K + 1], sh = new long[K + 1];
    private long quadrant;

    public Fx80Trans(Fx80 u) {
        this.u = u;
        w.setBits(PI, 0, 1, PI_WORDS[0], PI_WORDS[1]);
        w.set(PI2, PI);
        w.scale(PI2, -1);
        w.setLong(ONE, 1);
        // ln 2 = 2 atanh(1/3)
        w.setLong(A, 3);
        w.div(A, ONE, A);
        atanhSeries(LN2, A);
        w.scale(LN2, 1);
        w.div(L2E, ONE, LN2);
    }

    /** Rounds Wide register r into the unit's result ({@code exact}: no sticky bit). */
    private void round(int r, boolean exact) {
        if (w.isZero(r)) {
            u.set(w.sign(r) << 15, 0);
            return;
        }
        u.roundPackX(w.sign(r), w.exp(r) + Fx80.BIAS, w.hi(r), w.lo(r) | (exact ? 0 : 1), 64, true);
    }

    // ------------------------------------------------------------------------------------------
    // Series

    /** d = atanh(x) = x + x^3/3 + x^5/5 + ... (|x| well below 1). Uses S, T, H, G. */
    private void atanhSeries(int d, int x) {
        oddPowerSeries(d, x, false, 400);
    }

    /** d = atan(x) = x - x^3/3 + ... (|x| &lt;= 0.2). Uses S, T, H, G. */
    private void atanSeries(int d, int x) {
        oddPowerSeries(d, x, true, 200);
    }

    /**
     * d = x +- x^3/3 + x^5/5 +- ... (signs alternating when {@code alternating}), summed until a term is 130
     * bits below the sum or {@code maxTerms} terms. Uses S, T, H, G.
     */
    private void oddPowerSeries(int d, int x, boolean alternating, int maxTerms) {
        w.mul(S, x, x);
        w.set(T, x);
        w.set(H, x);
        for (int k = 1; k < maxTerms; k++) {
            w.mul(T, T, S);
            if (w.isZero(T)) {
                break;
            }
            w.divInt(G, T, 2 * k + 1);
            if (w.exp(G) < w.exp(H) - 130) {
                break;
            }
            if (alternating && (k & 1) != 0) {
                w.sub(H, H, G);
            } else {
                w.add(H, H, G);
            }
        }
        w.set(d, H);
    }

    /** sin (cos false) or cos of r, |r| &lt;= pi/4, into d. Uses S, T, H. */
    private void sinCosSeries(int d, int r, boolean cos) {
        w.mul(S, r, r);
        if (cos) {
            w.set(T, ONE);
        } else {
            w.set(T, r);
        }
        w.set(H, T);
        for (int k = 1; k < 60; k++) {
            w.mul(T, T, S);
            int n = cos ? (2 * k - 1) * (2 * k) : (2 * k) * (2 * k + 1);
            w.divInt(T, T, n);
            w.neg(T);
            if (w.isZero(T) || w.exp(T) < w.exp(H) - 130) {
                break;
            }
            w.add(H, H, T);
        }
        w.set(d, H);
    }

    /** d = e^t - 1 for |t| &lt;= 0.7. Uses S, T, H. */
    private void expm1Series(int d, int t) {
        w.set(T, t);
        w.set(H, t);
        for (int k = 2; k < 80; k++) {
            w.mul(T, T, t);
            w.divInt(T, T, k);
            if (w.isZero(T) || w.exp(T) < w.exp(H) - 130) {
                break;
            }
            w.add(H, H, T);
        }
        w.set(d, H);
    }

    /** d = log2(x) for a positive Wide x (not S, T, H, G, B, C). */
    private void log2(int d, int x) {
        int e = w.exp(x);
        w.set(B, x);
        w.scale(B, -e); // m in [1, 2)
        if (Long.compareUnsigned(w.hi(B), 0xB504F333F9DE6484L) > 0) {
            w.scale(B, -1);
            e++;
        }
        w.sub(C, B, ONE);
        w.add(B, B, ONE);
        w.div(C, C, B);
        atanhSeries(C, C);
        w.scale(C, 1);
        w.mul(C, C, L2E);
        w.setLong(B, e);
        w.add(d, B, C);
    }

    // ------------------------------------------------------------------------------------------
    // Trigonometric

    /**
     * Reduces |x| (finite, &lt; 2^63) modulo pi/2 into Wide register d (|d| &lt;= pi/4, signed) and
     * {@link #quadrant}.
     */
    private void reduce(int d, int se, long sig) {
        w.setX80(d, se, sig);
        w.abs(d);
        quadrant = 0;
        int ux = w.exp(d);
        long m = w.hi(d);
        if (ux < -1 || (ux == -1 && Long.compareUnsigned(m, PI_WORDS[0]) <= 0)) {
            return;
        }
        // X = m * 2^(ux - 63) scaled by 2^(64K - 1): m << (ux - 64 + 64K).
        for (int i = 0; i <= K; i++) {
            rem[i] = 0;
        }
        int shift = ux - 64 + 64 * K;
        int wi = shift >>> 6, bi = shift & 63;
        rem[wi] = m << bi;
        if (bi != 0 && wi + 1 <= K) {
            rem[wi + 1] = m >>> (64 - bi);
        }
        long q = 0;
        for (int j = 62; j >= 0; j--) {
            shiftedPi(j);
            if (cmp(rem, sh) >= 0) {
                subtract(rem, sh);
                q |= 1L << j;
            }
        }
        // Round to the nearest quadrant: if 2R > P, R = P - R (negative remainder).
        shiftedPi(0);
        int sign = 0;
        copyMinus(sh, rem); // sh = P - R; R > P - R  <=>  2R > P
        if (cmp(rem, sh) > 0) {
            System.arraycopy(sh, 0, rem, 0, K + 1);
            sign = 1;
            q++;
        }
        quadrant = q;
        // rem as a fraction of 2^(64K - 1).
        int top = -1;
        for (int i = K; i >= 0; i--) {
            if (rem[i] != 0) {
                top = i;
                break;
            }
        }
        if (top < 0) {
            w.setBits(d, sign, 0, 0, 0);
            return;
        }
        long h = rem[top], l = top > 0 ? rem[top - 1] : 0, x = top > 1 ? rem[top - 2] : 0;
        int s = Long.numberOfLeadingZeros(h);
        if (s != 0) {
            h = (h << s) | (l >>> (64 - s));
            l = (l << s) | (x >>> (64 - s));
        }
        // value = (h:l) * 2^(64*top - s - 64) / 2^(64K - 1); Wide value (h:l) * 2^(e - 127)
        int e = 64 * top + 63 - s - (64 * K - 1);
        w.setBits(d, sign, e, h, l);
    }

    private void shiftedPi(int j) {
        // sh = P << j where P = PI_WORDS as a 64K-bit integer.
        for (int i = 0; i <= K; i++) {
            long cur = i < K ? PI_WORDS[K - 1 - i] : 0;
            long prev = i > 0 ? PI_WORDS[K - i] : 0;
            sh[i] = j == 0 ? cur : (cur << j) | (prev >>> (64 - j));
        }
    }

    private void copyMinus(long[] p, long[] r) {
        long borrow = 0;
        for (int i = 0; i <= K; i++) {
            long a = p[i], b = r[i];
            long dlt = a - b - borrow;
            borrow = (Long.compareUnsigned(a, b) < 0 || (a == b && borrow != 0)) ? 1 : 0;
            p[i] = dlt;
        }
    }

    private static int cmp(long[] a, long[] b) {
        for (int i = a.length - 1; i >= 0; i--) {
            if (a[i] != b[i]) {
                return Long.compareUnsigned(a[i], b[i]);
            }
        }
        return 0;
    }

    private static void subtract(long[] a, long[] b) {
        long borrow = 0;
        for (int i = 0; i < a.length; i++) {
            long x = a[i], y = b[i];
            long dlt = x - y - borrow;
            borrow = (Long.compareUnsigned(x, y) < 0 || (x == y && borrow != 0)) ? 1 : 0;
            a[i] = dlt;
        }
    }
    // ------------------------------------------------------------------------------------------
    // Instructions

    /** True when |x| &gt;= 2^63 (finite or infinite): FSIN/FCOS/FSINCOS/FPTAN set C2 and do nothing. */
    public static boolean outOfRange(int se, long sig) {
        int c = Fx80.classify(se, sig);
        return (c == Fx80.NORMAL && (se & 0x7fff) >= Fx80.BIAS + 63) || c == Fx80.INF;
    }

    /**
     * Trigonometric functions of a finite in-range operand (checked by the caller with
     * {@link #outOfRange}, NaNs handled here): {@code which} 0 sin, 1 cos, 2 tan, 3 sincos (sin in
     * rSe/rSig, cos in xSe/xSig). Infinity is invalid.
     */
    public void trig(int se, long sig, int which) {
        int c = Fx80.classify(se, sig);
        u.c1 = false;
        if (u.special1(se, sig, c) || c == Fx80.INF) {
            if (c == Fx80.INF) {
                u.invalid();
            }
            u.xSe = u.rSe;
            u.xSig = u.rSig;
            return;
        }
        if (c == Fx80.ZERO) {
            if (which == 1) {
                u.set(Fx80.BIAS, Fx80.INT_BIT);
            } else {
                u.set(se, 0);
                u.xSe = Fx80.BIAS;
                u.xSig = Fx80.INT_BIT;
            }
            return;
        }
        if (c == Fx80.DENORMAL) {
            u.flags |= Fx80.DE;
        }
        reduce(A, se, sig);
        int neg = (se >>> 15) & 1;
        sinCosSeries(B, A, false);
        sinCosSeries(C, A, true);
        int q = (int) (quadrant & 3);
        // sin x = [S, C, -S, -C][q], cos x = [C, -S, -C, S][q]
        w.set(D, (q & 1) == 0 ? B : C);
        if (q >= 2) {
            w.neg(D);
        }
        w.set(E, (q & 1) == 0 ? C : B);
        if (q == 1 || q == 2) {
            w.neg(E);
        }
        if (neg != 0) {
            w.neg(D);
        }
        switch (which) {
            case 0 -> round(D, false);
            case 1 -> round(E, false);
            case 2 -> {
                w.div(F, D, E);
                round(F, false);
            }
            default -> {
                int f0 = u.flags;
                round(E, false);
                int cse = u.rSe;
                long csig = u.rSig;
                boolean cc1 = u.c1;
                int fc = u.flags;
                u.flags = f0;
                round(D, false);
                u.flags |= fc;
                u.xSe = cse;
                u.xSig = csig;
                u.c1 |= cc1;
            }
        }
    }

    /**
     * The start every two-operand transcendental (FPATAN, FYL2X, FYL2XP1) shares: C1 cleared, NaN operands
     * answered by {@link Fx80#special2} (true: the result is set), DE for a denormal operand.
     */
    private boolean twoOperandSpecial(int ySe, long ySig, int cy, int xSe, long xSig, int cx) {
        u.c1 = false;
        if (u.special2(ySe, ySig, cy, xSe, xSig, cx)) {
            return true;
        }
        if (cy == Fx80.DENORMAL || cx == Fx80.DENORMAL) {
            u.flags |= Fx80.DE;
        }
        return false;
    }

    /** FPATAN: atan(y / x) with the quadrant of (x, y). */
    public void atan2(int ySe, long ySig, int xSe, long xSig) {
        int cy = Fx80.classify(ySe, ySig), cx = Fx80.classify(xSe, xSig);
        if (twoOperandSpecial(ySe, ySig, cy, xSe, xSig, cx)) {
            return;
        }
        int sy = (ySe >>> 15) & 1;
        boolean xNeg = (xSe & 0x8000) != 0;
        if (cy == Fx80.ZERO) {
            if (xNeg) {
                w.set(A, PI);
                signRound(A, sy);
            } else {
                u.set(sy << 15, 0);
            }
            return;
        }
        if (cy == Fx80.INF || cx == Fx80.ZERO) {
            w.set(A, PI2);
            if (cy == Fx80.INF && cx == Fx80.INF) {
                w.scale(A, -1); // pi/4
                if (xNeg) {
                    w.setLong(B, 3);
                    w.mul(A, A, B); // 3pi/4
                }
            }
            signRound(A, sy);
            return;
        }
        if (cx == Fx80.INF) {
            if (xNeg) {
                w.set(A, PI);
                signRound(A, sy);
            } else {
                u.set(sy << 15, 0);
            }
            return;
        }
        w.setX80(A, ySe, ySig);
        w.abs(A);
        w.setX80(B, xSe, xSig);
        w.abs(B);
        boolean swap = w.cmpAbs(A, B) > 0;
        if (swap) {
            w.div(C, B, A);
        } else {
            w.div(C, A, B);
        }
        // two halvings: z / (1 + sqrt(1 + z^2))
        for (int k = 0; k < 2; k++) {
            w.mul(D, C, C);
            w.add(D, D, ONE);
            w.sqrt(D, D);
            w.add(D, D, ONE);
            w.div(C, C, D);
        }
        atanSeries(C, C);
        w.scale(C, 2);
        if (swap) {
            w.sub(C, PI2, C);
        }
        if (xNeg) {
            w.sub(C, PI, C);
        }
        signRound(C, sy);
    }

    private void signRound(int r, int sign) {
        w.abs(r);
        if (sign != 0) {
            w.neg(r);
        }
        round(r, false);
    }

    /** F2XM1: 2^x - 1 (defined by the SDM for -1 &lt;= x &lt;= 1; evaluated for any finite x). */
    public void f2xm1(int se, long sig) {
        int c = Fx80.classify(se, sig);
        u.c1 = false;
        if (u.special1(se, sig, c)) {
            return;
        }
        if (c == Fx80.ZERO) {
            u.set(se, sig);
            return;
        }
        if (c == Fx80.INF) {
            if ((se & 0x8000) != 0) {
                u.set(0xbfff, Fx80.INT_BIT);
            } else {
                u.set(se, sig);
            }
            return;
        }
        if (c == Fx80.DENORMAL) {
            u.flags |= Fx80.DE;
        }
        w.setX80(A, se, sig);
        long n = 0;
        int ux = w.exp(A);
        if (ux >= 16) { // |x| >= 65536: 2^x overflows, or 2^x - 1 is -1 + (less than 2^-65536)
            if ((se & 0x8000) == 0) {
                u.roundPackX(0, 0x7fff + 1, Fx80.INT_BIT, 0, 64, true);
            } else {
                u.roundPackX(1, Fx80.BIAS - 1, -1L, -1L, 64, true);
            }
            return;
        }
        if (ux >= 0) { // |x| >= 1: split off the nearest integer
            long ip = ux >= 20 ? 1L << 20 : (w.hi(A) >>> (63 - ux));
            boolean half = ux < 20 && ((w.hi(A) << (ux + 1)) < 0);
            n = ip + (half ? 1 : 0);
            w.setLong(B, w.sign(A) != 0 ? -n : n);
            w.sub(A, A, B);
            n = w.sign(B) != 0 ? -n : n;
        }
        boolean exact = w.isZero(A); // integral x: 2^x - 1 is exact
        w.mul(A, A, LN2);
        expm1Series(B, A);
        if (n != 0) {
            w.add(B, B, ONE);
            w.scale(B, (int) n);
            w.sub(B, B, ONE);
        }
        round(B, exact);
    }

    /** FYL2X: y * log2(x). */
    public void yl2x(int ySe, long ySig, int xSe, long xSig) {
        int cy = Fx80.classify(ySe, ySig), cx = Fx80.classify(xSe, xSig);
        if (twoOperandSpecial(ySe, ySig, cy, xSe, xSig, cx)) {
            return;
        }
        int sy = (ySe >>> 15) & 1;
        if ((xSe & 0x8000) != 0 && cx != Fx80.ZERO) {
            u.invalid();
            return;
        }
        if (cx == Fx80.ZERO) {
            if (cy == Fx80.ZERO) {
                u.invalid();
            } else {
                if (cy != Fx80.INF) {
                    u.flags |= Fx80.ZE;
                }
                u.set(((sy ^ 1) << 15) | 0x7fff, Fx80.INT_BIT);
            }
            return;
        }
        if (cx == Fx80.INF) {
            if (cy == Fx80.ZERO) {
                u.invalid();
            } else {
                u.set((sy << 15) | 0x7fff, Fx80.INT_BIT);
            }
            return;
        }
        w.setX80(A, xSe, xSig);
        boolean pow2 = w.hi(A) == Fx80.INT_BIT && w.lo(A) == 0;
        int ax = w.exp(A);
        if (cy == Fx80.INF || cy == Fx80.ZERO) {
            // sign of log2(x): x > 1 positive, x < 1 negative, x == 1 zero
            boolean one = pow2 && ax == 0;
            if (one && cy == Fx80.INF) {
                u.invalid();
            } else if (cy == Fx80.INF) {
                u.set(((ax < 0 ? sy ^ 1 : sy) << 15) | 0x7fff, Fx80.INT_BIT);
            } else {
                u.set((ax < 0 && !one ? sy ^ 1 : sy) << 15, 0);
            }
            return;
        }
        log2(D, A);
        w.setX80(E, ySe, ySig);
        w.mul(D, D, E);
        if (w.isZero(D)) {
            w.abs(D);
            if (sy != 0) {
                w.neg(D);
            }
        }
        round(D, pow2);
    }

    /** FYL2XP1: y * log2(x + 1). */
    public void yl2xp1(int ySe, long ySig, int xSe, long xSig) {
        int cy = Fx80.classify(ySe, ySig), cx = Fx80.classify(xSe, xSig);
        if (twoOperandSpecial(ySe, ySig, cy, xSe, xSig, cx)) {
            return;
        }
        int sy = (ySe >>> 15) & 1, sx = (xSe >>> 15) & 1;
        if (cx == Fx80.ZERO) {
            if (cy == Fx80.INF) {
                u.invalid();
            } else {
                u.set((sy ^ sx) << 15, 0);
            }
            return;
        }
        w.setX80(A, xSe, xSig);
        if (cx == Fx80.INF || (sx != 0 && w.cmpAbs(A, ONE) >= 0)) {
            if (sx != 0 && !(cx != Fx80.INF && w.cmpAbs(A, ONE) == 0)) {
                u.invalid(); // x < -1
            } else if (sx != 0) { // x == -1: log2(0)
                if (cy == Fx80.ZERO) {
                    u.invalid();
                } else {
                    if (cy != Fx80.INF) {
                        u.flags |= Fx80.ZE;
                    }
                    u.set(((sy ^ 1) << 15) | 0x7fff, Fx80.INT_BIT);
                }
            } else if (cy == Fx80.ZERO) {
                u.invalid();
            } else {
                u.set((sy << 15) | 0x7fff, Fx80.INT_BIT);
            }
            return;
        }
        if (cy == Fx80.ZERO || cy == Fx80.INF) {
            int s = sy ^ sx;
            u.set(cy == Fx80.ZERO ? s << 15 : (s << 15) | 0x7fff, cy == Fx80.ZERO ? 0 : Fx80.INT_BIT);
            return;
        }
        if (w.exp(A) < -2) { // |x| < 0.25: ln(1 + x) = 2 atanh(x / (2 + x))
            w.setLong(B, 2);
            w.add(B, B, A);
            w.div(C, A, B);
            atanhSeries(D, C);
            w.scale(D, 1);
            w.mul(D, D, L2E);
        } else {
            w.add(F, A, ONE);
            log2(D, F);
        }
        w.setX80(E, ySe, ySig);
        w.mul(D, D, E);
        round(D, false);
    }
}
