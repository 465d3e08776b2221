package org.mmulab.emulator.cpu;

import static org.mmulab.emulator.cpu.SoftFloat.F32;
import static org.mmulab.emulator.cpu.SoftFloat.F64;

/**
 * SSE4.1 floating point (SDM Vol. 2 ROUNDPS/PD/SS/SD, DPPS, DPPD) through the vCPU's {@link SoftFloat}:
 * ROUND* per imm8 (mode, MXCSR.RC select, PE suppression); DPPS/DPPD multiply the lanes imm8[7:4]
 * selects (+0.0 elsewhere), add pairwise in the SDM's order with MXCSR rounding after every step,
 * and broadcast the sum to the lanes imm8[3:0] selects (+0.0 elsewhere).
 */
final class Sse41Fp {
    private Sse41Fp() {
    }

    static void exec(Interpreter it, int op) {
        long[] x = it.state().xmm;
        int d = 2 * it.curReg();
        long[] t = it.scratch128;
        int imm = (int) (it.curImm() & 0xff);
        SoftFloat sf = it.sf;
        CpuState st = it.state();
        sf.begin(st.mxcsr);
        long r0;
        long r1;
        switch (op) {
            case SseX.ROUNDSS:
                r0 = SseCvt.roundInt(sf, F32, SseFp.scalarSrc(it, x, false), imm);
                sf.commit(st);
                x[d] = (x[d] & ~0xffff_ffffL) | r0;
                return;
            case SseX.ROUNDSD:
                r0 = SseCvt.roundInt(sf, F64, SseFp.scalarSrc(it, x, true), imm);
                sf.commit(st);
                x[d] = r0;
                return;
            case SseX.ROUNDPS:
                SseExec.src128(it, true, t);
                r0 = round2(sf, t[0], imm);
                r1 = round2(sf, t[1], imm);
                break;
            case SseX.ROUNDPD:
                SseExec.src128(it, true, t);
                r0 = SseCvt.roundInt(sf, F64, t[0], imm);
                r1 = SseCvt.roundInt(sf, F64, t[1], imm);
                break;
            case SseX.DPPS: {
                SseExec.src128(it, true, t);
                long p0 = (imm & 0x10) != 0 ? sf.mul(F32, x[d] & 0xffff_ffffL, t[0] & 0xffff_ffffL) : 0;
                long p1 = (imm & 0x20) != 0 ? sf.mul(F32, x[d] >>> 32, t[0] >>> 32) : 0;
                long p2 = (imm & 0x40) != 0 ? sf.mul(F32, x[d + 1] & 0xffff_ffffL, t[1] & 0xffff_ffffL) : 0;
                long p3 = (imm & 0x80) != 0 ? sf.mul(F32, x[d + 1] >>> 32, t[1] >>> 32) : 0;
                long s = sf.add(F32, sf.add(F32, p0, p1), sf.add(F32, p2, p3));
                r0 = ((imm & 1) != 0 ? s : 0) | ((imm & 2) != 0 ? s << 32 : 0);
                r1 = ((imm & 4) != 0 ? s : 0) | ((imm & 8) != 0 ? s << 32 : 0);
                break;
            }
            case SseX.DPPD: {
                SseExec.src128(it, true, t);
                long p0 = (imm & 0x10) != 0 ? sf.mul(F64, x[d], t[0]) : 0;
                long p1 = (imm & 0x20) != 0 ? sf.mul(F64, x[d + 1], t[1]) : 0;
                long s = sf.add(F64, p0, p1);
                r0 = (imm & 1) != 0 ? s : 0;
                r1 = (imm & 2) != 0 ? s : 0;
                break;
            }
            default:
                throw it.undefinedOpcode();
        }
        sf.commit(st);
        x[d] = r0;
        x[d + 1] = r1;
    }

    private static long round2(SoftFloat sf, long v, int imm) {
        return SseCvt.roundInt(sf, F32, v & 0xffff_ffffL, imm) | (SseCvt.roundInt(sf, F32, v >>> 32, imm) << 32);
    }
}
