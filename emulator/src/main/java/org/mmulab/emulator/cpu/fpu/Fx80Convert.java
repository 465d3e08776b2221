package org.mmulab.emulator.cpu.fpu;

/**
 * Conversions between the extended format and the x87 memory formats (SDM Vol. 1 §4.2 data types,
 * §8.2 "x87 FPU data types": single, double, word/short/long integer, 18-digit packed BCD): loads are
 * exact (FLD m32/m64 flag a denormal source with DE and quiet an SNaN with IE); stores round per RC
 * with the masked responses of SDM §4.9 (integer indefinite 8000..0 and BCD indefinite FFFF C000..0 for
 * NaN, infinity and out-of-range values). Results come back through the {@link Fx80} unit's fields.
 */
public final class Fx80Convert {
    public static final int F32_INDEF = 0xFFC0_0000;
    public static final long F64_INDEF = 0xFFF8_0000_0000_0000L;
    /** FBSTP indefinite: bytes 7..0 and bytes 9..8. */
    public static final long BCD_INDEF_LO = 0xC000_0000_0000_0000L;
    public static final int BCD_INDEF_HI = 0xffff;
    private static final long BCD_LIMIT = 1_000_000_000_000_000_000L; // 10^18

    private Fx80Convert() {
    }

    /** FILD: exact. */
    public static void fromInt(Fx80 u, long v) {
        u.packInt(v < 0 ? 1 : 0, v < 0 ? -v : v);
    }

    public static void fromF32(Fx80 u, int bits) {
        widen(u, bits >>> 31, (bits >>> 23) & 0xff, bits & 0x7fffffL, 23, 127);
    }

    public static void fromF64(Fx80 u, long bits) {
        widen(u, (int) (bits >>> 63), (int) (bits >>> 52) & 0x7ff, bits & 0xf_ffff_ffff_ffffL, 52, 1023);
    }

    /**
     * Loads an IEEE binary32/binary64 value (sign, biased exponent {@code e}, fraction {@code m} of
     * {@code fracBits} bits, exponent bias {@code bias}) exactly: an SNaN is quieted with IE, a denormal
     * is normalised with DE.
     */
    private static void widen(Fx80 u, int sign, int e, long m, int fracBits, int bias) {
        int shift = 63 - fracBits;
        if (e == 2 * bias + 1) { // all-ones exponent: infinity or NaN
            long sig = Fx80.INT_BIT | (m << shift);
            if (m != 0 && (m & (1L << (fracBits - 1))) == 0) {
                u.flags |= Fx80.IE;
                sig |= Fx80.QUIET;
            }
            u.set((sign << 15) | 0x7fff, sig);
        } else if (e == 0) {
            if (m == 0) {
                u.set(sign << 15, 0);
            } else {
                u.flags |= Fx80.DE;
                int s = Long.numberOfLeadingZeros(m);
                // value m * 2^(1 - bias - fracBits) = (m << s) * 2^(1 - bias - fracBits - 63 + s)
                u.set((sign << 15) | (Fx80.BIAS + 1 - bias - fracBits + 63 - s), m << s);
            }
        } else {
            u.set((sign << 15) | (e - bias + Fx80.BIAS), Fx80.INT_BIT | (m << shift));
        }
    }

    /** Common special handling for FST m32/m64: returns true when {@code u.rSe/rSig} holds the NaN/inf/zero. */
    private static boolean storeSpecial(Fx80 u, int se, long sig, int c) {
        u.c1 = false;
        switch (c) {
            case Fx80.UNSUPPORTED -> u.invalid();
            case Fx80.SNAN -> {
                u.flags |= Fx80.IE;
                u.set(se, sig | Fx80.QUIET);
            }
            case Fx80.QNAN, Fx80.INF, Fx80.ZERO -> u.set(se, sig);
            default -> {
                return false;
            }
        }
        return true;
    }

    /** FST m32. */
    public static int toF32(Fx80 u, int se, long sig) {
        int c = Fx80.classify(se, sig);
        int sign = (se >>> 15) & 1;
        if (storeSpecial(u, se, sig, c)) {
            if ((u.rSe & 0x7fff) == 0x7fff) {
                return ((u.rSe >>> 15) << 31) | 0x7f80_0000 | (int) ((u.rSig << 1) >>> 41);
            }
            return sign << 31;
        }
        int e = se & 0x7fff;
        int exp = e;
        long m = sig;
        if (e == 0) { // extended denormal: far below the single range
            int s = Long.numberOfLeadingZeros(sig);
            m = sig << s;
            exp = 1 - s;
        }
        u.roundPack(sign, exp, m, 0, 24, Fx80.BIAS - 126, Fx80.BIAS + 127, false);
        return packF32(u, sign);
    }

    private static int packF32(Fx80 u, int sign) {
        int bits;
        if (u.rSig == Fx80.INT_BIT && rExpOf(u) > Fx80.BIAS + 127) {
            bits = 0x7f80_0000;
        } else if (u.rSig >= 0) {
            bits = (int) (u.rSig >>> 40);
        } else {
            bits = ((rExpOf(u) - Fx80.BIAS + 127) << 23) | (int) ((u.rSig >>> 40) & 0x7fffff);
        }
        return (sign << 31) | bits;
    }

    /** FST m64. */
    public static long toF64(Fx80 u, int se, long sig) {
        int c = Fx80.classify(se, sig);
        long sign = (se >>> 15) & 1;
        if (storeSpecial(u, se, sig, c)) {
            if ((u.rSe & 0x7fff) == 0x7fff) {
                return (((long) (u.rSe >>> 15) & 1) << 63) | 0x7ff0_0000_0000_0000L | ((u.rSig << 1) >>> 12);
            }
            return sign << 63;
        }
        int e = se & 0x7fff;
        int exp = e;
        long m = sig;
        if (e == 0) {
            int s = Long.numberOfLeadingZeros(sig);
            m = sig << s;
            exp = 1 - s;
        }
        u.roundPack((int) sign, exp, m, 0, 53, Fx80.BIAS - 1022, Fx80.BIAS + 1023, false);
        long bits;
        if (u.rSig == Fx80.INT_BIT && rExpOf(u) > Fx80.BIAS + 1023) {
            bits = 0x7ff0_0000_0000_0000L;
        } else if (u.rSig >= 0) {
            bits = u.rSig >>> 11;
        } else {
            bits = ((long) (rExpOf(u) - Fx80.BIAS + 1023) << 52) | ((u.rSig >>> 11) & 0xf_ffff_ffff_ffffL);
        }
        return (sign << 63) | bits;
    }

    private static int rExpOf(Fx80 u) {
        return u.roundedExp();
    }

    /**
     * FIST/FISTP ({@code truncate} false: round per RC) and FISTTP (truncate): the two's-complement
     * integer of {@code bits} width, or the integer indefinite (only the sign bit set) with IE.
     */
    public static long toInt(Fx80 u, int se, long sig, int bits, boolean truncate) {
        int c = Fx80.classify(se, sig);
        long indef = 1L << (bits - 1);
        u.c1 = false;
        if (c >= Fx80.INF) {
            u.flags |= Fx80.IE;
            return bits == 64 ? indef : indef & ((1L << bits) - 1);
        }
        int saved = u.flags;
        long mag = Fx80Ops.roundToInt(u, se, sig, truncate ? Fx80.RC_ZERO : u.rc());
        boolean neg = (se & 0x8000) != 0;
        boolean over = u.partial || (neg ? Long.compareUnsigned(mag, indef) > 0 : Long.compareUnsigned(mag, indef) >= 0);
        u.partial = false;
        if (over) {
            u.flags = saved | Fx80.IE;
            u.c1 = false;
            return bits == 64 ? indef : indef & ((1L << bits) - 1);
        }
        long v = neg ? -mag : mag;
        return bits == 64 ? v : v & ((1L << bits) - 1);
    }

    /** FBLD: 18 packed BCD digits (bytes 0-8) and the sign (byte 9 bit 7). Exact. */
    public static void fromBcd(Fx80 u, long lo, int hi) {
        long v = 0;
        long m = 1;
        for (int i = 0; i < 16; i++) {
            v += ((lo >>> (4 * i)) & 15) * m;
            m *= 10;
        }
        v += (hi & 15) * m;
        v += ((hi >>> 4) & 15) * m * 10;
        int sign = (hi >>> 15) & 1;
        u.packInt(sign, v);
    }

    /** FBSTP: bytes 7..0 of the packed BCD in {@code u.xSig}, bytes 9..8 in {@code u.xSe}. */
    public static void toBcd(Fx80 u, int se, long sig) {
        int c = Fx80.classify(se, sig);
        u.c1 = false;
        if (c >= Fx80.INF) {
            u.flags |= Fx80.IE;
            u.xSig = BCD_INDEF_LO;
            u.xSe = BCD_INDEF_HI;
            return;
        }
        int saved = u.flags;
        long mag = Fx80Ops.roundToInt(u, se, sig, u.rc());
        if (u.partial || Long.compareUnsigned(mag, BCD_LIMIT) >= 0) {
            u.partial = false;
            u.flags = saved | Fx80.IE;
            u.c1 = false;
            u.xSig = BCD_INDEF_LO;
            u.xSe = BCD_INDEF_HI;
            return;
        }
        long lo = 0;
        for (int i = 0; i < 16; i++) {
            lo |= (mag % 10) << (4 * i);
            mag /= 10;
        }
        int hi = (int) (mag % 10) | (int) ((mag / 10) << 4);
        if ((se & 0x8000) != 0) {
            hi |= 0x8000;
        }
        u.xSig = lo;
        u.xSe = hi;
    }
}
