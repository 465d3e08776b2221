package org.mmulab.emulator.cpu.fpu;

/**
 * A small register file of 128-bit-significand binary floating-point numbers, the internal precision
 * of {@link Fx80Trans} (the transcendental instructions compute in about 125 bits and round once to
 * the 64-bit extended significand). Register r holds (-1)^sg[r] * (hi[r]:lo[r]) / 2^127 * 2^ex[r] with
 * bit 63 of hi set, or zero (hi = lo = 0). Operations truncate (each loses under 2^-126 relative);
 * operands may alias the destination. Nothing allocates after construction.
 */
final class Wide {
    private final int[] sg, ex;
    private final long[] hi, lo;
    /** Scratch registers for {@link #sqrt}: the last three. */
    private final int t0, t1, t2;

    Wide(int n) {
        sg = new int[n];
        ex = new int[n];
        hi = new long[n];
        lo = new long[n];
        t0 = n - 1;
        t1 = n - 2;
        t2 = n - 3;
    }

    boolean isZero(int r) {
        return hi[r] == 0 && lo[r] == 0;
    }

    int sign(int r) {
        return sg[r];
    }

    int exp(int r) {
        return ex[r];
    }

    long hi(int r) {
        return hi[r];
    }

    long lo(int r) {
        return lo[r];
    }

    void neg(int r) {
        sg[r] ^= 1;
    }

    void abs(int r) {
        sg[r] = 0;
    }

    /** r *= 2^k. */
    void scale(int r, int k) {
        if (!isZero(r)) {
            ex[r] += k;
        }
    }

    void set(int d, int s) {
        sg[d] = sg[s];
        ex[d] = ex[s];
        hi[d] = hi[s];
        lo[d] = lo[s];
    }

    /** Normalizes and stores (h:l) * 2^(e - 127). */
    void put(int d, int sign, int e, long h, long l) {
        if (h == 0) {
            if (l == 0) {
                sg[d] = sign;
                ex[d] = 0;
                hi[d] = 0;
                lo[d] = 0;
                return;
            }
            h = l;
            l = 0;
            e -= 64;
        }
        int s = Long.numberOfLeadingZeros(h);
        if (s != 0) {
            h = (h << s) | (l >>> (64 - s));
            l <<= s;
            e -= s;
        }
        sg[d] = sign;
        ex[d] = e;
        hi[d] = h;
        lo[d] = l;
    }

    /** An extended value (finite; denormals are normalized). */
    void setX80(int d, int se, long sig) {
        int e = se & 0x7fff;
        put(d, (se >>> 15) & 1, (e == 0 ? 1 : e) - Fx80.BIAS, sig, 0);
    }

    void setLong(int d, long v) {
        put(d, v < 0 ? 1 : 0, 63, v < 0 ? -v : v, 0);
    }

    /** Sets from a 128-bit fraction (h:l) with value (h:l) * 2^(e - 127). */
    void setBits(int d, int sign, int e, long h, long l) {
        put(d, sign, e, h, l);
    }

    double toDouble(int r) {
        if (isZero(r)) {
            return 0;
        }
        double m = (double) (hi[r] >>> 11) / (1L << 52);
        return (sg[r] != 0 ? -m : m) * Math.pow(2, ex[r]);
    }

    void setDouble(int d, double v) {
        if (v == 0) {
            put(d, 0, 0, 0, 0);
            return;
        }
        long b = Double.doubleToRawLongBits(v);
        int e = (int) ((b >>> 52) & 0x7ff) - 1023;
        put(d, (int) (b >>> 63), e, (1L << 63) | ((b & 0xf_ffff_ffff_ffffL) << 11), 0);
    }

    /** Compares magnitudes: -1, 0, 1. */
    int cmpAbs(int a, int b) {
        if (isZero(a) || isZero(b)) {
            return isZero(a) ? (isZero(b) ? 0 : -1) : 1;
        }
        if (ex[a] != ex[b]) {
            return ex[a] < ex[b] ? -1 : 1;
        }
        int c = Long.compareUnsigned(hi[a], hi[b]);
        return c != 0 ? c : Long.compareUnsigned(lo[a], lo[b]);
    }

    void mul(int d, int a, int b) {
        int sign = sg[a] ^ sg[b];
        if (isZero(a) || isZero(b)) {
            put(d, sign, 0, 0, 0);
            return;
        }
        long ah = hi[a], al = lo[a], bh = hi[b], bl = lo[b];
        long h = Fx80.umulh(ah, bh), l = ah * bh;
        long m1 = Fx80.umulh(ah, bl), m2 = Fx80.umulh(al, bh);
        long l2 = l + m1;
        if (Long.compareUnsigned(l2, l) < 0) {
            h++;
        }
        long l3 = l2 + m2;
        if (Long.compareUnsigned(l3, l2) < 0) {
            h++;
        }
        int e = ex[a] + ex[b];
        if (h < 0) {
            put(d, sign, e + 1, h, l3);
        } else {
            put(d, sign, e, (h << 1) | (l3 >>> 63), l3 << 1);
        }
    }

    void add(int d, int a, int b) {
        addSigned(d, a, b, 0);
    }

    void sub(int d, int a, int b) {
        addSigned(d, a, b, 1);
    }

    private void addSigned(int d, int a, int b, int negB) {
        int sb = sg[b] ^ negB;
        if (isZero(b)) {
            set(d, a);
            return;
        }
        if (isZero(a)) {
            set(d, b);
            sg[d] = sb;
            return;
        }
        int sa = sg[a];
        int ea = ex[a], eb = ex[b];
        long ah = hi[a], al = lo[a], bh = hi[b], bl = lo[b];
        if (eb > ea || (eb == ea && (Long.compareUnsigned(bh, ah) > 0 || (bh == ah && Long.compareUnsigned(bl, al) > 0)))) {
            int t = ea;
            ea = eb;
            eb = t;
            long u = ah;
            ah = bh;
            bh = u;
            u = al;
            al = bl;
            bl = u;
            t = sa;
            sa = sb;
            sb = t;
        }
        int k = ea - eb;
        if (k >= 128) {
            bh = 0;
            bl = 0;
        } else if (k >= 64) {
            bl = k == 64 ? bh : bh >>> (k - 64);
            bh = 0;
        } else if (k > 0) {
            bl = (bl >>> k) | (bh << (64 - k));
            bh >>>= k;
        }
        if (sa == sb) {
            long l = al + bl;
            long c0 = Long.compareUnsigned(l, al) < 0 ? 1 : 0;
            long h1 = ah + bh;
            boolean carry = Long.compareUnsigned(h1, ah) < 0;
            long h = h1 + c0;
            carry |= c0 == 1 && h == 0;
            if (carry) {
                put(d, sa, ea + 1, (h >>> 1) | (1L << 63), (l >>> 1) | (h << 63));
            } else {
                put(d, sa, ea, h, l);
            }
        } else {
            long l = al - bl;
            long h = ah - bh - (Long.compareUnsigned(al, bl) < 0 ? 1 : 0);
            put(d, sa, ea, h, l);
        }
    }

    /** d = a / b (b non-zero): restoring division to 128 quotient bits. */
    void div(int d, int a, int b) {
        int sign = sg[a] ^ sg[b];
        if (isZero(a)) {
            put(d, sign, 0, 0, 0);
            return;
        }
        long rh = hi[a], rl = lo[a], bh = hi[b], bl = lo[b];
        int e = ex[a] - ex[b];
        long qh = 0, ql = 0;
        int n = 128;
        if (Long.compareUnsigned(rh, bh) > 0 || (rh == bh && Long.compareUnsigned(rl, bl) >= 0)) {
            long nl = rl - bl;
            rh = rh - bh - (Long.compareUnsigned(rl, bl) < 0 ? 1 : 0);
            rl = nl;
            ql = 1;
            n = 127;
        } else {
            e--;
        }
        for (int i = 0; i < n; i++) {
            boolean carry = rh < 0;
            rh = (rh << 1) | (rl >>> 63);
            rl <<= 1;
            qh = (qh << 1) | (ql >>> 63);
            ql <<= 1;
            if (carry || Long.compareUnsigned(rh, bh) > 0 || (rh == bh && Long.compareUnsigned(rl, bl) >= 0)) {
                long nl = rl - bl;
                rh = rh - bh - (Long.compareUnsigned(rl, bl) < 0 ? 1 : 0);
                rl = nl;
                ql |= 1;
            }
        }
        put(d, sign, e, qh, ql);
    }

    /** d = a / n for 0 < n < 2^31. */
    void divInt(int d, int a, int n) {
        if (isZero(a)) {
            set(d, a);
            return;
        }
        long h = hi[a], l = lo[a];
        long rem = 0;
        long q0, q1, q2, q3, q4;
        long cur = h >>> 32;
        q0 = cur / n;
        rem = cur % n;
        cur = (rem << 32) | (h & 0xffff_ffffL);
        q1 = cur / n;
        rem = cur % n;
        cur = (rem << 32) | (l >>> 32);
        q2 = cur / n;
        rem = cur % n;
        cur = (rem << 32) | (l & 0xffff_ffffL);
        q3 = cur / n;
        rem = cur % n;
        q4 = (rem << 32) / n;
        long qh = (q0 << 32) | q1, ql = (q2 << 32) | q3;
        int s = Long.numberOfLeadingZeros(qh);
        if (s != 0) {
            qh = (qh << s) | (ql >>> (64 - s));
            ql = (ql << s) | (q4 << 32 >>> (64 - s));
        }
        sg[d] = sg[a];
        ex[d] = ex[a] - s;
        hi[d] = qh;
        lo[d] = ql;
    }

    /** d = sqrt(a), a &gt; 0: Newton iterations from a double estimate. */
    void sqrt(int d, int a) {
        if (isZero(a)) {
            set(d, a);
            return;
        }
        int e = ex[a];
        int half = e >> 1; // floor
        set(t0, a);
        ex[t0] = e - 2 * half; // t0 in [1, 4)
        setDouble(t1, Math.sqrt(toDouble(t0)));
        for (int i = 0; i < 3; i++) {
            div(t2, t0, t1);
            add(t1, t1, t2);
            ex[t1]--;
        }
        set(d, t1);
        ex[d] += half;
    }
}
