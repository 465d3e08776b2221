package org.mmulab.emulator.cpu.fpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigInteger;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * {@link Fx80} against exact rational arithmetic ({@link Ref80}): seeded random operands (normal,
 * denormal, pseudo-denormal, near overflow/underflow, patterned significands) for every rounding
 * control and precision control, checking the result bits, PE, UE, OE and C1. The seed is printed;
 * re-run with -Dfx80.seed=N.
 */
class Fx80Test {
    static final int N = Integer.getInteger("fx80.n", 4000);

    static long seed() {
        long seed = Long.getLong("fx80.seed", System.nanoTime());
        System.out.println("Fx80Test seed " + seed + " (-Dfx80.seed=" + seed + ")");
        return seed;
    }

    static int randSe(SplittableRandom r) {
        int sign = r.nextInt(2) << 15;
        int k = r.nextInt(20);
        int e;
        if (k == 0) {
            e = 0; // denormal
        } else if (k == 1) {
            e = 1 + r.nextInt(70);
        } else if (k == 2) {
            e = 0x7ffe - r.nextInt(70);
        } else {
            e = 16383 + r.nextInt(130) - 65;
        }
        return sign | e;
    }

    static long randSig(SplittableRandom r, int se) {
        long m;
        switch (r.nextInt(6)) {
            case 0 -> m = -1L;
            case 1 -> m = 1L << r.nextInt(64);
            case 2 -> m = (1L << 63) | (1L << r.nextInt(63));
            case 3 -> m = -1L << r.nextInt(64);
            default -> m = r.nextLong();
        }
        if ((se & 0x7fff) == 0) {
            return r.nextInt(8) == 0 ? m | Long.MIN_VALUE : m & Long.MAX_VALUE; // pseudo-denormal or denormal
        }
        return m | Long.MIN_VALUE;
    }

    static int pcBits(int pc) {
        return pc == 0 ? 24 : pc == 2 ? 53 : 64;
    }

    /** Checks the unit's result against the reference rounding of sign * num / den. */
    static void check(Fx80 u, int sign, BigInteger num, BigInteger den, int p, int rc, String what) {
        if (num.signum() == 0 || den.signum() == 0) {
            return; // exact zeros are checked in the special tables
        }
        Ref80 ref = new Ref80().round(sign, num, den, p, -16382, 16383, rc);
        if (ref.overflow) {
            assertTrue((u.flags & Fx80.OE) != 0, what + " OE");
            boolean toInf = rc == 0 || (rc == 1 && sign != 0) || (rc == 2 && sign == 0);
            assertEquals(toInf ? (sign << 15) | 0x7fff : (sign << 15) | 0x7ffe, u.rSe, what + " overflow se");
            assertEquals(toInf ? Long.MIN_VALUE : -1L << (64 - p), u.rSig, what + " overflow sig");
            return;
        }
        String msg = what + String.format(" expected %04x:%016x got %04x:%016x", ref.se, ref.sig, u.rSe, u.rSig);
        assertEquals(ref.se, u.rSe, msg);
        assertEquals(ref.sig, u.rSig, msg);
        assertEquals(ref.inexact, (u.flags & Fx80.PE) != 0, msg + " PE");
        assertEquals(ref.up, u.c1, msg + " C1");
        assertEquals(ref.tiny && ref.inexact, (u.flags & Fx80.UE) != 0, msg + " UE");
        assertFalse((u.flags & Fx80.OE) != 0, msg + " OE");
    }

    static BigInteger[] mulR(BigInteger[] a, BigInteger[] b) {
        return new BigInteger[] {a[0].multiply(b[0]), a[1].multiply(b[1])};
    }

    @Test
    void arithmeticIsExactlyRoundedInEveryModeAndPrecision() {
        SplittableRandom r = new SplittableRandom(seed());
        Fx80 u = new Fx80();
        for (int i = 0; i < N; i++) {
            int aSe = randSe(r), bSe = randSe(r);
            long aSig = randSig(r, aSe), bSig = randSig(r, bSe);
            if (r.nextInt(4) == 0) { // close exponents for cancellation
                bSe = (bSe & 0x8000) | (aSe & 0x7fff);
                if ((aSe & 0x7fff) != 0 && r.nextBoolean()) {
                    bSig = aSig ^ (1L << r.nextInt(8));
                }
                if ((bSe & 0x7fff) != 0) {
                    bSig |= Long.MIN_VALUE;
                }
            }
            int rc = r.nextInt(4), pc = new int[] {0, 2, 3}[r.nextInt(3)];
            int p = pcBits(pc);
            u.cw = 0x3f | (pc << 8) | (rc << 10);
            BigInteger[] a = Ref80.rational(aSe, aSig), b = Ref80.rational(bSe, bSig);
            int sa = aSe >>> 15 & 1, sb = bSe >>> 15 & 1;
            String ops = String.format("%04x:%016x, %04x:%016x rc=%d pc=%d", aSe, aSig, bSe, bSig, rc, pc);
            // add / sub
            for (int k = 0; k < 2; k++) {
                u.flags = 0;
                u.add(aSe, aSig, bSe, bSig, k == 1);
                int sbb = sb ^ k;
                BigInteger an = a[0].multiply(b[1]), bn = b[0].multiply(a[1]);
                BigInteger sum = (sa == 0 ? an : an.negate()).add(sbb == 0 ? bn : bn.negate());
                check(u, sum.signum() < 0 ? 1 : 0, sum.abs(), a[1].multiply(b[1]), p, rc, (k == 0 ? "add " : "sub ") + ops);
            }
            u.flags = 0;
            u.mul(aSe, aSig, bSe, bSig);
            BigInteger[] pr = mulR(a, b);
            check(u, sa ^ sb, pr[0], pr[1], p, rc, "mul " + ops);
            u.flags = 0;
            u.div(aSe, aSig, bSe, bSig);
            check(u, sa ^ sb, a[0].multiply(b[1]), a[1].multiply(b[0]), p, rc, "div " + ops);
            // sqrt of |a|: 200-bit floor plus a sticky bit is as good as the exact value
            u.flags = 0;
            u.sqrt(aSe & 0x7fff, aSig);
            // scale a by 4^h so that it has about 300 integer bits: sqrt(a) = sqrt(a 4^h) / 2^h
            int h = (300 - (a[0].bitLength() - a[1].bitLength())) / 2;
            BigInteger sn = h >= 0 ? a[0].shiftLeft(2 * h) : a[0];
            BigInteger sd = h >= 0 ? a[1] : a[1].shiftLeft(-2 * h);
            BigInteger scaled = sn.divide(sd);
            BigInteger root = scaled.sqrt();
            boolean exact = root.multiply(root).equals(scaled) && sn.mod(sd).signum() == 0;
            BigInteger num = root.shiftLeft(1).add(exact ? BigInteger.ZERO : BigInteger.ONE);
            BigInteger den = BigInteger.ONE.shiftLeft(1);
            if (h >= 0) {
                den = den.shiftLeft(h);
            } else {
                num = num.shiftLeft(-h);
            }
            check(u, 0, num, den, p, rc, "sqrt " + ops);
        }
    }

    @Test
    void partialRemainderIsExactWithQuotientBits() {
        SplittableRandom r = new SplittableRandom(seed());
        Fx80 u = new Fx80();
        u.cw = 0x37f;
        for (int i = 0; i < N; i++) {
            int aSe = (r.nextInt(2) << 15) | (16383 + r.nextInt(80) - 10);
            int bSe = (r.nextInt(2) << 15) | (16383 + r.nextInt(20) - 10);
            long aSig = randSig(r, aSe), bSig = randSig(r, bSe);
            for (int ieee = 0; ieee < 2; ieee++) {
                u.flags = 0;
                Fx80Ops.rem(u, aSe, aSig, bSe, bSig, ieee == 1);
                String what = String.format("rem%s %04x:%016x, %04x:%016x", ieee == 1 ? "1" : "", aSe, aSig, bSe, bSig);
                if (u.partial) {
                    assertTrue((aSe & 0x7fff) - (bSe & 0x7fff) >= 64, what);
                    continue;
                }
                BigInteger[] a = Ref80.rational(aSe, aSig), b = Ref80.rational(bSe, bSig);
                // a/b = (a0 b1) / (a1 b0); |q| = trunc or round-half-even of |a/b|
                BigInteger n = a[0].multiply(b[1]), d = a[1].multiply(b[0]);
                BigInteger[] qr = n.divideAndRemainder(d);
                BigInteger q = qr[0];
                if (ieee == 1) {
                    int c = qr[1].shiftLeft(1).compareTo(d);
                    if (c > 0 || (c == 0 && q.testBit(0))) {
                        q = q.add(BigInteger.ONE);
                    }
                }
                // remainder = |a| - q |b| with the sign of a
                BigInteger den = a[1].multiply(b[1]);
                BigInteger rem = a[0].multiply(b[1]).subtract(q.multiply(b[0]).multiply(a[1]));
                int sign = (aSe >>> 15 & 1) ^ (rem.signum() < 0 ? 1 : 0);
                assertEquals(q.intValue() & 7, u.quot, what + " quotient bits");
                assertEquals(0, u.flags & Fx80.PE, what + " exact");
                if (rem.signum() == 0) {
                    assertEquals(aSe & 0x8000, u.rSe, what + " zero sign");
                    assertEquals(0, u.rSig, what);
                    continue;
                }
                check(u, sign, rem.abs(), den, 64, 0, what);
            }
        }
    }
}
