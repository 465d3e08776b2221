package org.mmulab.emulator.cpu.fpu;

import java.math.BigDecimal;
import java.math.BigInteger;

/**
 * Test-side reference for extended-precision rounding: exact rationals (BigInteger numerator and
 * denominator) rounded to p bits per RC in a given exponent range, by the definitions of SDM Vol. 1
 * §4.8.4 and IEEE 754, with no shortcuts shared with {@link Fx80}.
 */
final class Ref80 {
    /** Result: se/sig, inexact, rounded up in magnitude, tiny-before-rounding, overflow. */
    int se;
    long sig;
    boolean inexact, up, tiny, overflow;

    static BigInteger[] rational(int se, long sig) {
        int e = se & 0x7fff;
        if (e == 0) {
            e = 1;
        }
        BigInteger m = new BigInteger(Long.toUnsignedString(sig));
        int k = e - 16383 - 63;
        if (k >= 0) {
            return new BigInteger[] {m.shiftLeft(k), BigInteger.ONE};
        }
        return new BigInteger[] {m, BigInteger.ONE.shiftLeft(-k)};
    }

    static BigDecimal decimal(int se, long sig) {
        BigInteger[] r = rational(se, sig);
        BigDecimal v = new BigDecimal(r[0]).divide(new BigDecimal(r[1]));
        return (se & 0x8000) != 0 ? v.negate() : v;
    }

    /**
     * Rounds sign * num/den (num &gt; 0) to p significand bits, normal exponents [emin, emax] (unbiased),
     * per rc (0 nearest-even, 1 down, 2 up, 3 zero). Encodes as extended (se, sig) with the bias.
     */
    Ref80 round(int sign, BigInteger num, BigInteger den, int p, int emin, int emax, int rc) {
        // floor(log2(num/den))
        int e = num.bitLength() - den.bitLength();
        while (cmpPow(num, den, e) < 0) {
            e--;
        }
        while (cmpPow(num, den, e + 1) >= 0) {
            e++;
        }
        // Tininess after rounding: tiny unless rounding to p bits with an unbounded exponent reaches 2^emin.
        tiny = e < emin && !(e == emin - 1 && roundUnbounded(sign, num, den, e - (p - 1), rc).bitLength() > p);
        int eff = Math.max(e, emin);
        int qexp = eff - (p - 1); // quantum 2^qexp
        // v / 2^qexp = num / (den * 2^qexp)
        BigInteger n2 = qexp >= 0 ? num : num.shiftLeft(-qexp);
        BigInteger d2 = qexp >= 0 ? den.shiftLeft(qexp) : den;
        BigInteger[] qr = n2.divideAndRemainder(d2);
        BigInteger m = qr[0];
        inexact = qr[1].signum() != 0;
        int cmpHalf = qr[1].shiftLeft(1).compareTo(d2);
        boolean inc = switch (rc) {
            case 0 -> cmpHalf > 0 || (cmpHalf == 0 && m.testBit(0));
            case 1 -> sign != 0 && inexact;
            case 2 -> sign == 0 && inexact;
            default -> false;
        };
        up = inc;
        if (inc) {
            m = m.add(BigInteger.ONE);
        }
        if (m.bitLength() > p) {
            m = m.shiftRight(1);
            eff++;
        }
        if (m.bitLength() == p && eff > emax) {
            overflow = true;
            return this;
        }
        long s = m.longValue() << (64 - p);
        if (m.bitLength() < p) {
            se = sign << 15; // denormal or zero at emin
        } else {
            se = (sign << 15) | (eff + 16383);
        }
        sig = s;
        return this;
    }

    private static BigInteger roundUnbounded(int sign, BigInteger num, BigInteger den, int qexp, int rc) {
        BigInteger n2 = qexp >= 0 ? num : num.shiftLeft(-qexp);
        BigInteger d2 = qexp >= 0 ? den.shiftLeft(qexp) : den;
        BigInteger[] qr = n2.divideAndRemainder(d2);
        boolean inexact = qr[1].signum() != 0;
        int cmpHalf = qr[1].shiftLeft(1).compareTo(d2);
        boolean inc = switch (rc) {
            case 0 -> cmpHalf > 0 || (cmpHalf == 0 && qr[0].testBit(0));
            case 1 -> sign != 0 && inexact;
            case 2 -> sign == 0 && inexact;
            default -> false;
        };
        return inc ? qr[0].add(BigInteger.ONE) : qr[0];
    }

    private static int cmpPow(BigInteger num, BigInteger den, int e) {
        // compare num/den with 2^e
        return e >= 0 ? num.compareTo(den.shiftLeft(e)) : num.shiftLeft(-e).compareTo(den);
    }
}
