package org.mmulab.emulator.cpu;

import static org.mmulab.emulator.cpu.SoftFloat.F32;
import static org.mmulab.emulator.cpu.SoftFloat.F64;

/**
 * Conversions and rounding of the SSE floating-point environment ({@link SoftFloat}): CVT* between
 * binary32, binary64 and 32/64-bit integers (SDM Vol. 2A CVTSD2SI ... CVTTPS2DQ; §11.5.2 for the
 * "integer indefinite" result of an invalid conversion), ROUNDPS/PD/SS/SD (SSE4.1), and the RCPPS/
 * RSQRTPS approximations.
 *
 * <p>RCPPS/RCPSS/RSQRTPS/RSQRTSS: the SDM only bounds the relative error (at most 1.5 * 2^-12) and
 * Intel and AMD parts give different bits; mmulab returns 1/x correctly rounded to binary32 and
 * 1/sqrt(x) rounded through binary64, the same bits on every host (well inside the bound), with the
 * architectural special cases:
 * denormal inputs read as zeros of the same sign (result +-inf), results below 2^-126 flushed to +-0,
 * RSQRT of a negative non-zero value is the default QNaN, NaNs are returned quieted; no flags.
 */
final class SseCvt {
    private SseCvt() {
    }

    /** binary32 -> binary64 (exact): SNaN signals IE, NaNs keep their payload (quieted), DE/DAZ on denormals. */
    static long f2d(SoftFloat sf, long a) {
        if (SoftFloat.isNaN(F32, a)) {
            if (SoftFloat.isSNaN(F32, a)) {
                sf.flags |= SoftFloat.IE;
            }
            return ((a & 0x8000_0000L) << 32) | 0x7ff8_0000_0000_0000L | ((a & 0x003f_ffffL) << 29);
        }
        a = sf.operand(F32, a);
        return Double.doubleToRawLongBits(Float.intBitsToFloat((int) a));
    }

    /** binary64 -> binary32 rounded per MXCSR. */
    static long d2f(SoftFloat sf, long a) {
        if (SoftFloat.isNaN(F64, a)) {
            if (SoftFloat.isSNaN(F64, a)) {
                sf.flags |= SoftFloat.IE;
            }
            return ((a >>> 32) & 0x8000_0000L) | 0x7fc0_0000L | ((a >>> 29) & 0x003f_ffffL);
        }
        a = sf.operand(F64, a);
        long sign = (a >>> 32) & 0x8000_0000L;
        if ((a & Long.MAX_VALUE) == 0) {
            return sign;
        }
        if (SoftFloat.exp(F64, a) == 0x7ff) {
            return sign | 0x7f80_0000L;
        }
        sf.unpack(F64, a);
        return sf.roundPack(F32, sign != 0, sf.uExp, sf.uSig << 10);
    }

    /** Signed 64-bit integer (an int32 sign-extended for the 32-bit forms) -> binary32/64 rounded per MXCSR. */
    static long fromInt(SoftFloat sf, int fmt, long v) {
        if (v == 0) {
            return 0;
        }
        boolean negative = v < 0;
        long mag = negative ? -v : v;
        int k = Long.numberOfLeadingZeros(mag);
        if (k == 0) { // 2^63
            return sf.roundPack(fmt, negative, 63, mag >>> 1);
        }
        return sf.roundPack(fmt, negative, 63 - k, mag << (k - 1));
    }

    /**
     * binary32/64 -> 32-bit (wide=false) or 64-bit integer, truncating or rounding per MXCSR.RC; NaN or
     * out of range: IE and the integer indefinite (sign bit only); inexact: PE. The 32-bit result is
     * returned zero-extended.
     */
    static long toInt(SoftFloat sf, int fmt, long a, boolean truncate, boolean wide) {
        if (SoftFloat.isNaN(fmt, a)) {
            sf.flags |= SoftFloat.IE;
            return wide ? Long.MIN_VALUE : 0x8000_0000L;
        }
        if (sf.daz && SoftFloat.isDenormal(fmt, a)) {
            return 0;
        }
        double v = fmt == F64 ? Double.longBitsToDouble(a) : Float.intBitsToFloat((int) a);
        double r = truncate ? trunc(v) : roundMode(v, sf.rc);
        boolean out = wide ? r >= 0x1p63 || r < -0x1p63 : r >= 0x1p31 || r < -0x1p31;
        if (out) {
            sf.flags |= SoftFloat.IE;
            return wide ? Long.MIN_VALUE : 0x8000_0000L;
        }
        if (r != v) {
            sf.flags |= SoftFloat.PE;
        }
        long i = (long) r;
        return wide ? i : i & 0xffff_ffffL;
    }

    static double trunc(double v) {
        return v < 0 ? Math.ceil(v) : Math.floor(v);
    }

    /** Rounds to an integral value: 0 nearest-even, 1 down, 2 up, 3 toward zero (signs of zero kept). */
    static double roundMode(double v, int mode) {
        switch (mode & 3) {
            case 0:
                return Math.rint(v);
            case 1:
                return Math.floor(v);
            case 2:
                return Math.ceil(v);
            default:
                return trunc(v);
        }
    }

    /**
     * ROUNDPS/PD/SS/SD: imm8 bits 1:0 the mode unless bit 2 selects MXCSR.RC; bit 3 suppresses PE.
     * SNaN: IE and quieted; denormals read as zero under DAZ (no DE, as the SDM lists none).
     */
    static long roundInt(SoftFloat sf, int fmt, long a, int imm) {
        if (SoftFloat.isNaN(fmt, a)) {
            if (SoftFloat.isSNaN(fmt, a)) {
                sf.flags |= SoftFloat.IE;
            }
            return SoftFloat.quiet(fmt, a);
        }
        if (sf.daz && SoftFloat.isDenormal(fmt, a)) {
            a &= fmt == F64 ? Long.MIN_VALUE : 0x8000_0000L;
        }
        int mode = (imm & 4) != 0 ? sf.rc : imm & 3;
        if (fmt == F64) {
            double v = Double.longBitsToDouble(a);
            double r = roundMode(v, mode);
            if (r != v && (imm & 8) == 0) {
                sf.flags |= SoftFloat.PE;
            }
            return Double.doubleToRawLongBits(r);
        }
        float v = Float.intBitsToFloat((int) a);
        double r = roundMode(v, mode);
        if (r != v && (imm & 8) == 0) {
            sf.flags |= SoftFloat.PE;
        }
        return Float.floatToRawIntBits((float) r) & 0xffff_ffffL;
    }

    /** RCPSS/RCPPS on one binary32 lane (see the class comment). */
    static long rcp(long a) {
        if (SoftFloat.isNaN(F32, a)) {
            return SoftFloat.quiet(F32, a);
        }
        long sign = a & 0x8000_0000L;
        if (SoftFloat.exp(F32, a) == 0) {
            return sign | 0x7f80_0000L;
        }
        float r = 1.0f / Float.intBitsToFloat((int) a);
        if (Math.abs(r) < Float.MIN_NORMAL) {
            return sign;
        }
        return Float.floatToRawIntBits(r) & 0xffff_ffffL;
    }

    /** RSQRTSS/RSQRTPS on one binary32 lane (see the class comment). */
    static long rsqrt(long a) {
        if (SoftFloat.isNaN(F32, a)) {
            return SoftFloat.quiet(F32, a);
        }
        long sign = a & 0x8000_0000L;
        if (SoftFloat.exp(F32, a) == 0) {
            return sign | 0x7f80_0000L;
        }
        if (sign != 0) {
            return SoftFloat.DNAN32;
        }
        float r = (float) (1.0 / Math.sqrt(Float.intBitsToFloat((int) a)));
        return Float.floatToRawIntBits(r) & 0xffff_ffffL;
    }
}
