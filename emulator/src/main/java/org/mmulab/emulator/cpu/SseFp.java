package org.mmulab.emulator.cpu;

import org.mmulab.emulator.mmu.Mmu;

/**
 * SSE/SSE2 floating point: scalar and packed single/double arithmetic, conversions, compares.
 *
 * <p>Results are IEEE 754 round-to-nearest-even (Java arithmetic); MXCSR.RC is honoured by the
 * CVTSS2SI/CVTSD2SI/CVTPS2DQ/CVTPD2DQ conversions only, and MXCSR exception flags are not
 * accumulated (exceptions are masked by default, so no #XM is ever raised). NaN results follow
 * the SSE rules: a NaN operand is propagated quieted (first operand first), an invalid operation
 * yields the default QNaN (sign set); out-of-range float-to-integer conversions give the
 * "integer indefinite" value (sign bit only).
 */
final class SseFp {
    private static final long DNAN = 0xfff8_0000_0000_0000L;
    private static final int FNAN = 0xffc0_0000;

    private SseFp() {
    }

    static void exec(Interpreter it, int op, long[] x, int d) {
        if (op < Sse.FP_ARITH + 28) {
            arith(it, op - Sse.FP_ARITH, x, d);
            return;
        }
        Mmu m = it.mmu();
        long[] t = it.scratch128;
        switch (op) {
            case Sse.CVTSI2SS: {
                long v = it.curSize() == 3 ? it.readOperand(3) : (int) it.readOperand(2);
                x[d] = (x[d] & ~0xffff_ffffL) | (Float.floatToRawIntBits((float) v) & 0xffff_ffffL);
                return;
            }
            case Sse.CVTSI2SD: {
                long v = it.curSize() == 3 ? it.readOperand(3) : (int) it.readOperand(2);
                x[d] = Double.doubleToRawLongBits((double) v);
                return;
            }
            case Sse.CVTTSS2SI:
            case Sse.CVTSS2SI: {
                float f = Float.intBitsToFloat((int) scalarSrc(it, x, false));
                double v = op == Sse.CVTTSS2SI ? trunc(f) : round(it, f);
                it.setGpr(it.curReg(), it.curSize() == 3 ? 3 : 2, toInt(v, it.curSize() == 3));
                return;
            }
            case Sse.CVTTSD2SI:
            case Sse.CVTSD2SI: {
                double f = Double.longBitsToDouble(scalarSrc(it, x, true));
                double v = op == Sse.CVTTSD2SI ? trunc(f) : round(it, f);
                it.setGpr(it.curReg(), it.curSize() == 3 ? 3 : 2, toInt(v, it.curSize() == 3));
                return;
            }
            case Sse.UCOMISS:
            case Sse.UCOMISD: {
                double a;
                double b;
                if (op == Sse.UCOMISS) {
                    a = Float.intBitsToFloat((int) x[d]);
                    b = Float.intBitsToFloat((int) scalarSrc(it, x, false));
                } else {
                    a = Double.longBitsToDouble(x[d]);
                    b = Double.longBitsToDouble(scalarSrc(it, x, true));
                }
                long f;
                if (Double.isNaN(a) || Double.isNaN(b)) {
                    f = CpuState.ZF | CpuState.PF | CpuState.CF;
                } else if (a > b) {
                    f = 0;
                } else if (a < b) {
                    f = CpuState.CF;
                } else {
                    f = CpuState.ZF;
                }
                it.state().flags.setBits(Flags.ARITH, f);
                return;
            }
            case Sse.CVTSS2SD: {
                float f = Float.intBitsToFloat((int) scalarSrc(it, x, false));
                x[d] = Double.isNaN(f) ? quietD(f2dNan(Float.floatToRawIntBits(f))) : Double.doubleToRawLongBits(f);
                return;
            }
            case Sse.CVTSD2SS: {
                double v = Double.longBitsToDouble(scalarSrc(it, x, true));
                x[d] = (x[d] & ~0xffff_ffffL) | (d2f(v) & 0xffff_ffffL);
                return;
            }
            case Sse.CVTPS2PD: {
                long lo = it.curHasMem() ? m.read64(it.curEa()) : x[2 * it.curRm()];
                float f0 = Float.intBitsToFloat((int) lo);
                float f1 = Float.intBitsToFloat((int) (lo >>> 32));
                x[d] = Double.isNaN(f0) ? quietD(f2dNan((int) lo)) : Double.doubleToRawLongBits(f0);
                x[d + 1] = Double.isNaN(f1) ? quietD(f2dNan((int) (lo >>> 32))) : Double.doubleToRawLongBits(f1);
                return;
            }
            case Sse.CVTPD2PS: {
                SseExec.src128(it, true, t);
                x[d] = (d2f(Double.longBitsToDouble(t[0])) & 0xffff_ffffL) | ((long) d2f(Double.longBitsToDouble(t[1])) << 32);
                x[d + 1] = 0;
                return;
            }
            case Sse.CVTDQ2PS: {
                SseExec.src128(it, true, t);
                x[d] = i2f((int) t[0]) | (i2f((int) (t[0] >>> 32)) << 32);
                x[d + 1] = i2f((int) t[1]) | (i2f((int) (t[1] >>> 32)) << 32);
                return;
            }
            case Sse.CVTPS2DQ:
            case Sse.CVTTPS2DQ: {
                SseExec.src128(it, true, t);
                boolean tr = op == Sse.CVTTPS2DQ;
                long r0 = f2i(it, Float.intBitsToFloat((int) t[0]), tr);
                long r1 = f2i(it, Float.intBitsToFloat((int) (t[0] >>> 32)), tr);
                long r2 = f2i(it, Float.intBitsToFloat((int) t[1]), tr);
                long r3 = f2i(it, Float.intBitsToFloat((int) (t[1] >>> 32)), tr);
                x[d] = r0 | (r1 << 32);
                x[d + 1] = r2 | (r3 << 32);
                return;
            }
            case Sse.CVTTPD2DQ:
            case Sse.CVTPD2DQ: {
                SseExec.src128(it, true, t);
                boolean tr = op == Sse.CVTTPD2DQ;
                long r0 = f2i(it, Double.longBitsToDouble(t[0]), tr);
                long r1 = f2i(it, Double.longBitsToDouble(t[1]), tr);
                x[d] = r0 | (r1 << 32);
                x[d + 1] = 0;
                return;
            }
            case Sse.CVTDQ2PD: {
                long lo = it.curHasMem() ? m.read64(it.curEa()) : x[2 * it.curRm()];
                x[d] = Double.doubleToRawLongBits((int) lo);
                x[d + 1] = Double.doubleToRawLongBits((int) (lo >>> 32));
                return;
            }
            case Sse.CMPSD: {
                double a = Double.longBitsToDouble(x[d]);
                double b = Double.longBitsToDouble(scalarSrc(it, x, true));
                x[d] = cmp(a, b, (int) it.curImm()) ? -1L : 0;
                return;
            }
            case Sse.CMPSS: {
                float a = Float.intBitsToFloat((int) x[d]);
                float b = Float.intBitsToFloat((int) scalarSrc(it, x, false));
                x[d] = (x[d] & ~0xffff_ffffL) | (cmp(a, b, (int) it.curImm()) ? 0xffff_ffffL : 0);
                return;
            }
            case Sse.CMPPD: {
                SseExec.src128(it, true, t);
                int p = (int) it.curImm();
                x[d] = cmp(Double.longBitsToDouble(x[d]), Double.longBitsToDouble(t[0]), p) ? -1L : 0;
                x[d + 1] = cmp(Double.longBitsToDouble(x[d + 1]), Double.longBitsToDouble(t[1]), p) ? -1L : 0;
                return;
            }
            case Sse.CMPPS: {
                SseExec.src128(it, true, t);
                int p = (int) it.curImm();
                for (int h = 0; h < 2; h++) {
                    long a = x[d + h];
                    long b = t[h];
                    long lo = cmp(Float.intBitsToFloat((int) a), Float.intBitsToFloat((int) b), p) ? 0xffff_ffffL : 0;
                    long hi = cmp(Float.intBitsToFloat((int) (a >>> 32)), Float.intBitsToFloat((int) (b >>> 32)), p)
                            ? 0xffff_ffffL : 0;
                    x[d + h] = lo | (hi << 32);
                }
                return;
            }
            default:
                throw it.undefinedOpcode();
        }
    }

    /** Scalar source: low 32/64 bits of an XMM register or a 32/64-bit memory operand (no alignment). */
    private static long scalarSrc(Interpreter it, long[] x, boolean dbl) {
        if (!it.curHasMem()) {
            return x[2 * it.curRm()];
        }
        return dbl ? it.mmu().read64(it.curEa()) : it.mmu().read32(it.curEa()) & 0xffff_ffffL;
    }

    private static boolean cmp(double a, double b, int pred) {
        boolean un = Double.isNaN(a) || Double.isNaN(b);
        switch (pred & 7) {
            case 0:
                return a == b;
            case 1:
                return a < b;
            case 2:
                return a <= b;
            case 3:
                return un;
            case 4:
                return !(a == b);
            case 5:
                return !(a < b);
            case 6:
                return !(a <= b);
            default:
                return !un;
        }
    }

    private static long i2f(int v) {
        return Float.floatToRawIntBits((float) v) & 0xffff_ffffL;
    }

    private static int d2f(double v) {
        if (Double.isNaN(v)) {
            long bits = Double.doubleToRawLongBits(v);
            return (int) ((bits >>> 32) & 0x8000_0000L) | 0x7fc0_0000 | (int) ((bits >>> 29) & 0x003f_ffff);
        }
        return Float.floatToRawIntBits((float) v);
    }

    private static long f2dNan(int f) {
        return ((long) (f & 0x8000_0000) << 32) | 0x7ff0_0000_0000_0000L | ((long) (f & 0x007f_ffff) << 29);
    }

    private static long quietD(long bits) {
        return bits | 0x0008_0000_0000_0000L;
    }

    private static double trunc(double v) {
        return v < 0 ? Math.ceil(v) : Math.floor(v);
    }

    private static double round(Interpreter it, double v) {
        switch ((it.state().mxcsr >>> 13) & 3) {
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

    /** Integer conversion with the "integer indefinite" result for NaN and out-of-range values. */
    private static long toInt(double v, boolean wide) {
        if (wide) {
            if (Double.isNaN(v) || v >= 0x1p63 || v < -0x1p63) {
                return Long.MIN_VALUE;
            }
            return (long) v;
        }
        if (Double.isNaN(v) || v >= 0x1p31 || v < -0x1p31) {
            return 0x8000_0000L;
        }
        return (long) v & 0xffff_ffffL;
    }

    private static long f2i(Interpreter it, double v, boolean truncate) {
        return toInt(truncate ? trunc(v) : round(it, v), false);
    }

    private static void arith(Interpreter it, int code, long[] x, int d) {
        int k = code >>> 2;
        int form = code & 3;
        long[] t = it.scratch128;
        switch (form) {
            case 2: { // SD
                long b = scalarSrc(it, x, true);
                x[d] = opD(k, x[d], b);
                return;
            }
            case 3: { // SS
                long b = scalarSrc(it, x, false);
                x[d] = (x[d] & ~0xffff_ffffL) | (opF(k, (int) x[d], (int) b) & 0xffff_ffffL);
                return;
            }
            case 1: // PD
                SseExec.src128(it, true, t);
                x[d] = opD(k, x[d], t[0]);
                x[d + 1] = opD(k, x[d + 1], t[1]);
                return;
            default: // PS
                SseExec.src128(it, true, t);
                for (int h = 0; h < 2; h++) {
                    long a = x[d + h];
                    long b = t[h];
                    long lo = opF(k, (int) a, (int) b) & 0xffff_ffffL;
                    long hi = opF(k, (int) (a >>> 32), (int) (b >>> 32)) & 0xffff_ffffL;
                    x[d + h] = lo | (hi << 32);
                }
        }
    }

    private static long opD(int k, long ab, long bb) {
        double a = Double.longBitsToDouble(ab);
        double b = Double.longBitsToDouble(bb);
        double r;
        switch (k) {
            case 0:
                r = Math.sqrt(b);
                if (Double.isNaN(r)) {
                    return Double.isNaN(b) ? quietD(bb) : DNAN;
                }
                return Double.doubleToRawLongBits(r);
            case 1:
                r = a + b;
                break;
            case 2:
                r = a * b;
                break;
            case 3:
                r = a - b;
                break;
            case 4:
                return a < b ? ab : bb; // MINSD: the second operand if unordered or both zero
            case 5:
                r = a / b;
                break;
            default:
                return a > b ? ab : bb;
        }
        if (Double.isNaN(r)) {
            return Double.isNaN(a) ? quietD(ab) : Double.isNaN(b) ? quietD(bb) : DNAN;
        }
        return Double.doubleToRawLongBits(r);
    }

    private static int opF(int k, int ab, int bb) {
        float a = Float.intBitsToFloat(ab);
        float b = Float.intBitsToFloat(bb);
        float r;
        switch (k) {
            case 0:
                r = (float) Math.sqrt(b); // exact: sqrt of a float rounds identically via double
                if (Float.isNaN(r)) {
                    return Float.isNaN(b) ? bb | 0x0040_0000 : FNAN;
                }
                return Float.floatToRawIntBits(r);
            case 1:
                r = a + b;
                break;
            case 2:
                r = a * b;
                break;
            case 3:
                r = a - b;
                break;
            case 4:
                return a < b ? ab : bb;
            case 5:
                r = a / b;
                break;
            default:
                return a > b ? ab : bb;
        }
        if (Float.isNaN(r)) {
            return Float.isNaN(a) ? ab | 0x0040_0000 : Float.isNaN(b) ? bb | 0x0040_0000 : FNAN;
        }
        return Float.floatToRawIntBits(r);
    }
}
