package org.mmulab.emulator.cpu;

import static org.mmulab.emulator.cpu.SoftFloat.F32;
import static org.mmulab.emulator.cpu.SoftFloat.F64;

import org.mmulab.emulator.mmu.Mmu;

/**
 * SSE/SSE2/SSE3 floating point (SDM Vol. 1 ch. 10-12; Vol. 2 ADDPS ... UCOMISS, ADDSUBPS, HADDPS):
 * scalar and packed single/double arithmetic, MIN/MAX, compares, conversions, RCP/RSQRT, ADDSUB and
 * horizontal add/subtract. Every operation goes through the vCPU's {@link SoftFloat}: results are
 * bit-exact with MXCSR rounding, DAZ/FTZ and the exception flags; an unmasked exception raises #XM
 * before anything is written. Operand order of horizontal ops follows the SDM pseudo-code.
 */
final class SseFp {
    private SseFp() {
    }

    static void exec(Interpreter it, int op, long[] x, int d) {
        SoftFloat sf = it.sf;
        CpuState st = it.state();
        sf.begin(st.mxcsr);
        if (op < Sse.FP_ARITH + 28) {
            arith(it, sf, op - Sse.FP_ARITH, x, d);
            return;
        }
        Mmu m = it.mmu();
        long[] t = it.scratch128;
        long r0;
        long r1;
        switch (op) {
            case Sse.CVTSI2SS:
            case Sse.CVTSI2SD: {
                long v = it.curSize() == 3 ? it.readOperand(3) : (int) it.readOperand(2);
                if (op == Sse.CVTSI2SS) {
                    r0 = SseCvt.fromInt(sf, F32, v);
                    sf.commit(st);
                    x[d] = (x[d] & ~0xffff_ffffL) | r0;
                } else {
                    r0 = SseCvt.fromInt(sf, F64, v);
                    sf.commit(st);
                    x[d] = r0;
                }
                return;
            }
            case Sse.CVTTSS2SI:
            case Sse.CVTSS2SI:
            case Sse.CVTTSD2SI:
            case Sse.CVTSD2SI: {
                boolean dbl = op == Sse.CVTTSD2SI || op == Sse.CVTSD2SI;
                boolean wide = it.curSize() == 3;
                r0 = SseCvt.toInt(sf, dbl ? F64 : F32, scalarSrc(it, x, dbl),
                        op == Sse.CVTTSS2SI || op == Sse.CVTTSD2SI, wide);
                sf.commit(st);
                it.setGpr(it.curReg(), wide ? 3 : 2, r0);
                return;
            }
            case Sse.UCOMISS:
            case Sse.COMISS:
            case Sse.UCOMISD:
            case Sse.COMISD: {
                boolean dbl = op == Sse.UCOMISD || op == Sse.COMISD;
                long f = SseCompare.comi(sf, dbl ? F64 : F32, dbl ? x[d] : x[d] & 0xffff_ffffL, scalarSrc(it, x, dbl),
                        op == Sse.COMISS || op == Sse.COMISD);
                sf.commit(st);
                st.flags.setBits(Flags.ARITH, f);
                return;
            }
            case Sse.CVTSS2SD:
                r0 = SseCvt.f2d(sf, scalarSrc(it, x, false));
                sf.commit(st);
                x[d] = r0;
                return;
            case Sse.CVTSD2SS:
                r0 = SseCvt.d2f(sf, scalarSrc(it, x, true));
                sf.commit(st);
                x[d] = (x[d] & ~0xffff_ffffL) | r0;
                return;
            case Sse.CVTPS2PD: {
                long lo = it.curHasMem() ? m.read64(it.curEa()) : x[2 * it.curRm()];
                r0 = SseCvt.f2d(sf, lo & 0xffff_ffffL);
                r1 = SseCvt.f2d(sf, lo >>> 32);
                break;
            }
            case Sse.CVTPD2PS:
                SseExec.src128(it, true, t);
                r0 = SseCvt.d2f(sf, t[0]) | (SseCvt.d2f(sf, t[1]) << 32);
                r1 = 0;
                break;
            case Sse.CVTDQ2PS:
                SseExec.src128(it, true, t);
                r0 = SseCvt.fromInt(sf, F32, (int) t[0]) | (SseCvt.fromInt(sf, F32, (int) (t[0] >>> 32)) << 32);
                r1 = SseCvt.fromInt(sf, F32, (int) t[1]) | (SseCvt.fromInt(sf, F32, (int) (t[1] >>> 32)) << 32);
                break;
            case Sse.CVTPS2DQ:
            case Sse.CVTTPS2DQ: {
                SseExec.src128(it, true, t);
                boolean tr = op == Sse.CVTTPS2DQ;
                r0 = SseCvt.toInt(sf, F32, t[0] & 0xffff_ffffL, tr, false)
                        | (SseCvt.toInt(sf, F32, t[0] >>> 32, tr, false) << 32);
                r1 = SseCvt.toInt(sf, F32, t[1] & 0xffff_ffffL, tr, false)
                        | (SseCvt.toInt(sf, F32, t[1] >>> 32, tr, false) << 32);
                break;
            }
            case Sse.CVTTPD2DQ:
            case Sse.CVTPD2DQ: {
                SseExec.src128(it, true, t);
                boolean tr = op == Sse.CVTTPD2DQ;
                r0 = SseCvt.toInt(sf, F64, t[0], tr, false) | (SseCvt.toInt(sf, F64, t[1], tr, false) << 32);
                r1 = 0;
                break;
            }
            case Sse.CVTDQ2PD: {
                long lo = it.curHasMem() ? m.read64(it.curEa()) : x[2 * it.curRm()];
                r0 = Double.doubleToRawLongBits((int) lo);
                r1 = Double.doubleToRawLongBits((int) (lo >>> 32));
                break;
            }
            case Sse.CMPSD:
                r0 = SseCompare.cmp(sf, F64, x[d], scalarSrc(it, x, true), (int) it.curImm()) ? -1L : 0;
                sf.commit(st);
                x[d] = r0;
                return;
            case Sse.CMPSS:
                r0 = SseCompare.cmp(sf, F32, x[d] & 0xffff_ffffL, scalarSrc(it, x, false), (int) it.curImm()) ? 0xffff_ffffL : 0;
                sf.commit(st);
                x[d] = (x[d] & ~0xffff_ffffL) | r0;
                return;
            case Sse.CMPPD: {
                SseExec.src128(it, true, t);
                int p = (int) it.curImm();
                r0 = SseCompare.cmp(sf, F64, x[d], t[0], p) ? -1L : 0;
                r1 = SseCompare.cmp(sf, F64, x[d + 1], t[1], p) ? -1L : 0;
                break;
            }
            case Sse.CMPPS: {
                SseExec.src128(it, true, t);
                int p = (int) it.curImm();
                r0 = cmpPair(sf, x[d], t[0], p);
                r1 = cmpPair(sf, x[d + 1], t[1], p);
                break;
            }
            case Sse.RCPSS:
            case Sse.RSQRTSS: {
                long v = scalarSrc(it, x, false) & 0xffff_ffffL;
                x[d] = (x[d] & ~0xffff_ffffL) | (op == Sse.RCPSS ? SseCvt.rcp(v) : SseCvt.rsqrt(v));
                return;
            }
            case Sse.RCPPS:
            case Sse.RSQRTPS: {
                SseExec.src128(it, true, t);
                boolean rcp = op == Sse.RCPPS;
                r0 = approx(t[0] & 0xffff_ffffL, rcp) | (approx(t[0] >>> 32, rcp) << 32);
                r1 = approx(t[1] & 0xffff_ffffL, rcp) | (approx(t[1] >>> 32, rcp) << 32);
                break;
            }
            case Sse.ADDSUBPD:
                SseExec.src128(it, true, t);
                r0 = sf.sub(F64, x[d], t[0]);
                r1 = sf.add(F64, x[d + 1], t[1]);
                break;
            case Sse.ADDSUBPS:
                SseExec.src128(it, true, t);
                r0 = pack(sf.sub(F32, lo32(x[d]), lo32(t[0])), sf.add(F32, x[d] >>> 32, t[0] >>> 32));
                r1 = pack(sf.sub(F32, lo32(x[d + 1]), lo32(t[1])), sf.add(F32, x[d + 1] >>> 32, t[1] >>> 32));
                break;
            case Sse.HADDPD:
            case Sse.HSUBPD: {
                SseExec.src128(it, true, t);
                boolean add = op == Sse.HADDPD;
                r0 = add ? sf.add(F64, x[d], x[d + 1]) : sf.sub(F64, x[d], x[d + 1]);
                r1 = add ? sf.add(F64, t[0], t[1]) : sf.sub(F64, t[0], t[1]);
                break;
            }
            case Sse.HADDPS:
            case Sse.HSUBPS: {
                SseExec.src128(it, true, t);
                boolean add = op == Sse.HADDPS;
                r0 = pack(hop(sf, add, x[d]), hop(sf, add, x[d + 1]));
                r1 = pack(hop(sf, add, t[0]), hop(sf, add, t[1]));
                break;
            }
            default:
                throw it.undefinedOpcode();
        }
        sf.commit(st);
        x[d] = r0;
        x[d + 1] = r1;
    }

    private static long lo32(long v) {
        return v & 0xffff_ffffL;
    }

    private static long pack(long lo, long hi) {
        return (lo & 0xffff_ffffL) | (hi << 32);
    }

    /** Horizontal op on the two binary32 lanes of a 64-bit half: lane0 op lane1. */
    private static long hop(SoftFloat sf, boolean add, long v) {
        return add ? sf.add(F32, lo32(v), v >>> 32) : sf.sub(F32, lo32(v), v >>> 32);
    }

    private static long approx(long v, boolean rcp) {
        return rcp ? SseCvt.rcp(v) : SseCvt.rsqrt(v);
    }

    private static long cmpPair(SoftFloat sf, long a, long b, int p) {
        long lo = SseCompare.cmp(sf, F32, lo32(a), lo32(b), p) ? 0xffff_ffffL : 0;
        long hi = SseCompare.cmp(sf, F32, a >>> 32, b >>> 32, p) ? 0xffff_ffffL : 0;
        return lo | (hi << 32);
    }

    /** Scalar source: low 32/64 bits of an XMM register or a 32/64-bit memory operand (no alignment). */
    static long scalarSrc(Interpreter it, long[] x, boolean dbl) {
        if (!it.curHasMem()) {
            long v = x[2 * it.curRm()];
            return dbl ? v : v & 0xffff_ffffL;
        }
        return dbl ? it.mmu().read64(it.curEa()) : it.mmu().read32(it.curEa()) & 0xffff_ffffL;
    }

    /** k: 0 SQRT 1 ADD 2 MUL 3 SUB 4 MIN 5 DIV 6 MAX. */
    static long op(SoftFloat sf, int fmt, int k, long a, long b) {
        switch (k) {
            case 0:
                return sf.sqrt(fmt, b);
            case 1:
                return sf.add(fmt, a, b);
            case 2:
                return sf.mul(fmt, a, b);
            case 3:
                return sf.sub(fmt, a, b);
            case 4:
                return SseCompare.minMax(sf, fmt, a, b, false);
            case 5:
                return sf.div(fmt, a, b);
            default:
                return SseCompare.minMax(sf, fmt, a, b, true);
        }
    }

    private static void arith(Interpreter it, SoftFloat sf, int code, long[] x, int d) {
        int k = code >>> 2;
        int form = code & 3;
        long[] t = it.scratch128;
        CpuState st = it.state();
        long r0;
        long r1;
        switch (form) {
            case 2: // SD
                r0 = op(sf, F64, k, x[d], scalarSrc(it, x, true));
                sf.commit(st);
                x[d] = r0;
                return;
            case 3: // SS
                r0 = op(sf, F32, k, lo32(x[d]), scalarSrc(it, x, false));
                sf.commit(st);
                x[d] = (x[d] & ~0xffff_ffffL) | (r0 & 0xffff_ffffL);
                return;
            case 1: // PD
                SseExec.src128(it, true, t);
                r0 = op(sf, F64, k, x[d], t[0]);
                r1 = op(sf, F64, k, x[d + 1], t[1]);
                break;
            default: // PS
                SseExec.src128(it, true, t);
                r0 = pack(op(sf, F32, k, lo32(x[d]), lo32(t[0])), op(sf, F32, k, x[d] >>> 32, t[0] >>> 32));
                r1 = pack(op(sf, F32, k, lo32(x[d + 1]), lo32(t[1])), op(sf, F32, k, x[d + 1] >>> 32, t[1] >>> 32));
                break;
        }
        sf.commit(st);
        x[d] = r0;
        x[d + 1] = r1;
    }
}
