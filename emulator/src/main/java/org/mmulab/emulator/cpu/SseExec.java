package org.mmulab.emulator.cpu;

import org.mmulab.emulator.mmu.Mmu;

/**
 * SSE/SSE2 execution (the {@link Op#SSE} group). XMM registers are {@code state.xmm[2*i]} (bits 63:0)
 * and {@code state.xmm[2*i+1]} (bits 127:64). Packed operations with a 128-bit memory operand require
 * 16-byte alignment (#GP(0)) except the explicitly unaligned moves (SDM Vol. 1 §10.4.1.1); 128-bit
 * stores check both pages for write before writing either half, so a fault commits nothing.
 */
final class SseExec {
    private static final long B7 = 0x7f7f7f7f7f7f7f7fL, B8 = 0x8080808080808080L;
    private static final long W7 = 0x7fff7fff7fff7fffL, W8 = 0x8000800080008000L;
    private static final long D7 = 0x7fffffff7fffffffL, D8 = 0x8000000080000000L;

    private SseExec() {
    }

    private static long[] x(Interpreter it) {
        return it.state().xmm;
    }

    /** Loads the 128-bit r/m operand into out[0..1]. */
    static void src128(Interpreter it, boolean aligned, long[] out) {
        if (!it.curHasMem()) {
            long[] x = x(it);
            int rm = it.curRm();
            out[0] = x[2 * rm];
            out[1] = x[2 * rm + 1];
            return;
        }
        long va = it.curEa();
        if (aligned && (va & 15) != 0) {
            throw GuestFault.raise(it.state(), Vectors.GP, 0);
        }
        Mmu m = it.mmu();
        out[0] = m.read64(va);
        out[1] = m.read64(va + 8);
    }

    private static void store128(Interpreter it, long va, boolean aligned, long lo, long hi) {
        if (aligned && (va & 15) != 0) {
            throw GuestFault.raise(it.state(), Vectors.GP, 0);
        }
        Mmu m = it.mmu();
        if ((va & 0xfff) > 0xff0) {
            m.translateWrite(va);
            m.translateWrite((va | 0xfff) + 1);
        }
        m.write64(va, lo);
        m.write64(va + 8, hi);
    }

    private static long src64(Interpreter it) {
        if (!it.curHasMem()) {
            return x(it)[2 * it.curRm()];
        }
        return it.mmu().read64(it.curEa());
    }

    static void exec(Interpreter it) {
        long[] x = x(it);
        int op = it.curSub();
        int d = 2 * it.curReg();
        long[] t = it.scratch128;
        if (op >= Sse.FP) {
            SseFp.exec(it, op, x, d);
            return;
        }
        if (op >= Sse.BIN) {
            src128(it, true, t);
            binary(op, x, d, t[0], t[1]);
            return;
        }
        Mmu m = it.mmu();
        switch (op) {
            case Sse.MOVUPS_LD:
            case Sse.MOVDQU_LD:
            case Sse.MOVAPS_LD:
                src128(it, op == Sse.MOVAPS_LD, t);
                x[d] = t[0];
                x[d + 1] = t[1];
                return;
            case Sse.MOVUPS_ST:
            case Sse.MOVDQU_ST:
            case Sse.MOVAPS_ST:
            case Sse.MOVNT_ST:
                if (it.curHasMem()) {
                    store128(it, it.curEa(), op == Sse.MOVAPS_ST || op == Sse.MOVNT_ST, x[d], x[d + 1]);
                } else {
                    int e = 2 * it.curRm();
                    x[e] = x[d];
                    x[e + 1] = x[d + 1];
                }
                return;
            case Sse.MOVLPS_LD:
                x[d] = m.read64(it.curEa());
                return;
            case Sse.MOVHPS_LD:
                x[d + 1] = m.read64(it.curEa());
                return;
            case Sse.MOVLPS_ST:
                m.write64(it.curEa(), x[d]);
                return;
            case Sse.MOVHPS_ST:
                m.write64(it.curEa(), x[d + 1]);
                return;
            case Sse.MOVHLPS:
                x[d] = x[2 * it.curRm() + 1];
                return;
            case Sse.MOVLHPS:
                x[d + 1] = x[2 * it.curRm()];
                return;
            case Sse.MOVSS_LD:
                if (it.curHasMem()) {
                    x[d] = m.read32(it.curEa()) & 0xffff_ffffL;
                    x[d + 1] = 0;
                } else {
                    x[d] = (x[d] & ~0xffff_ffffL) | (x[2 * it.curRm()] & 0xffff_ffffL);
                }
                return;
            case Sse.MOVSS_ST:
                if (it.curHasMem()) {
                    m.write32(it.curEa(), (int) x[d]);
                } else {
                    int e = 2 * it.curRm();
                    x[e] = (x[e] & ~0xffff_ffffL) | (x[d] & 0xffff_ffffL);
                }
                return;
            case Sse.MOVSD_LD:
                if (it.curHasMem()) {
                    x[d] = m.read64(it.curEa());
                    x[d + 1] = 0;
                } else {
                    x[d] = x[2 * it.curRm()];
                }
                return;
            case Sse.MOVSD_ST:
                if (it.curHasMem()) {
                    m.write64(it.curEa(), x[d]);
                } else {
                    x[2 * it.curRm()] = x[d];
                }
                return;
            case Sse.MOVD_LD:
                x[d] = it.readOperand(2);
                x[d + 1] = 0;
                return;
            case Sse.MOVQ_LD:
                x[d] = it.readOperand(3);
                x[d + 1] = 0;
                return;
            case Sse.MOVD_ST:
                it.writeOperand(2, x[d] & 0xffff_ffffL);
                return;
            case Sse.MOVQ_ST:
                it.writeOperand(3, x[d]);
                return;
            case Sse.MOVQ_XLD:
                x[d] = src64(it);
                x[d + 1] = 0;
                return;
            case Sse.MOVQ_XST:
                if (it.curHasMem()) {
                    m.write64(it.curEa(), x[d]);
                } else {
                    int e = 2 * it.curRm();
                    x[e] = x[d];
                    x[e + 1] = 0;
                }
                return;
            case Sse.MOVMSKPS: {
                int e = 2 * it.curRm();
                long v = ((x[e] >>> 31) & 1) | ((x[e] >>> 62) & 2) | ((x[e + 1] >>> 29) & 4) | ((x[e + 1] >>> 60) & 8);
                it.setGpr(it.curReg(), 3, v);
                return;
            }
            case Sse.MOVMSKPD: {
                int e = 2 * it.curRm();
                it.setGpr(it.curReg(), 3, ((x[e] >>> 63) & 1) | ((x[e + 1] >>> 62) & 2));
                return;
            }
            case Sse.PMOVMSKB: {
                int e = 2 * it.curRm();
                it.setGpr(it.curReg(), 3, msb8(x[e]) | (msb8(x[e + 1]) << 8));
                return;
            }
            case Sse.PINSRW: {
                long w = it.readOperand(1) & 0xffff;
                int i = (int) it.curImm() & 7;
                int h = d + (i >>> 2);
                int sh = 16 * (i & 3);
                x[h] = (x[h] & ~(0xffffL << sh)) | (w << sh);
                return;
            }
            case Sse.PEXTRW: {
                int i = (int) it.curImm() & 7;
                int e = 2 * it.curRm() + (i >>> 2);
                it.setGpr(it.curReg(), 3, (x[e] >>> (16 * (i & 3))) & 0xffff);
                return;
            }
            case Sse.PSHUFD: {
                src128(it, true, t);
                int imm = (int) it.curImm();
                long lo = dword(t, imm & 3) | (dword(t, (imm >>> 2) & 3) << 32);
                long hi = dword(t, (imm >>> 4) & 3) | (dword(t, (imm >>> 6) & 3) << 32);
                x[d] = lo;
                x[d + 1] = hi;
                return;
            }
            case Sse.PSHUFLW:
            case Sse.PSHUFHW: {
                src128(it, true, t);
                int imm = (int) it.curImm();
                int half = op == Sse.PSHUFLW ? 0 : 1;
                long w = t[half];
                long res = 0;
                for (int i = 0; i < 4; i++) {
                    res |= ((w >>> (16 * ((imm >>> (2 * i)) & 3))) & 0xffff) << (16 * i);
                }
                x[d + half] = res;
                x[d + 1 - half] = t[1 - half];
                return;
            }
            case Sse.SHUFPS: {
                src128(it, true, t);
                int imm = (int) it.curImm();
                long lo = dword(x[d], x[d + 1], imm & 3) | (dword(x[d], x[d + 1], (imm >>> 2) & 3) << 32);
                long hi = dword(t, (imm >>> 4) & 3) | (dword(t, (imm >>> 6) & 3) << 32);
                x[d] = lo;
                x[d + 1] = hi;
                return;
            }
            case Sse.SHUFPD: {
                src128(it, true, t);
                int imm = (int) it.curImm();
                long lo = (imm & 1) == 0 ? x[d] : x[d + 1];
                long hi = (imm & 2) == 0 ? t[0] : t[1];
                x[d] = lo;
                x[d + 1] = hi;
                return;
            }
            case Sse.PSRLW_I:
            case Sse.PSRAW_I:
            case Sse.PSLLW_I:
            case Sse.PSRLD_I:
            case Sse.PSRAD_I:
            case Sse.PSLLD_I:
            case Sse.PSRLQ_I:
            case Sse.PSLLQ_I: {
                int e = 2 * it.curRm();
                long c = it.curImm() & 0xff;
                int kind = op - Sse.PSRLW_I; // 0 srlw 1 sraw 2 sllw 3 srld 4 srad 5 slld 6 srlq 7 -, 8 sllq
                int width = kind < 3 ? 16 : kind < 6 ? 32 : 64;
                int k = kind < 6 ? kind % 3 : kind == 6 ? 0 : 2;
                x[e] = shiftLanes(x[e], width, k, c);
                x[e + 1] = shiftLanes(x[e + 1], width, k, c);
                return;
            }
            case Sse.PSRLDQ:
            case Sse.PSLLDQ: {
                int e = 2 * it.curRm();
                int n = (int) (it.curImm() & 0xff);
                long lo = x[e];
                long hi = x[e + 1];
                if (n > 15) {
                    lo = 0;
                    hi = 0;
                } else if (op == Sse.PSRLDQ) {
                    int bits = n * 8;
                    if (bits >= 64) {
                        lo = hi >>> (bits - 64);
                        hi = 0;
                    } else if (bits > 0) {
                        lo = (lo >>> bits) | (hi << (64 - bits));
                        hi = hi >>> bits;
                    }
                } else {
                    int bits = n * 8;
                    if (bits >= 64) {
                        hi = lo << (bits - 64);
                        lo = 0;
                    } else if (bits > 0) {
                        hi = (hi << bits) | (lo >>> (64 - bits));
                        lo = lo << bits;
                    }
                }
                x[e] = lo;
                x[e + 1] = hi;
                return;
            }
            case Sse.LDMXCSR: {
                int v = m.read32(it.curEa());
                if ((v & ~0xffff) != 0) {
                    throw GuestFault.raise(it.state(), Vectors.GP, 0);
                }
                it.state().mxcsr = v;
                return;
            }
            case Sse.STMXCSR:
                m.write32(it.curEa(), it.state().mxcsr);
                return;
            case Sse.FXSAVE:
                X87Env.fxsave(it);
                return;
            case Sse.FXRSTOR:
                X87Env.fxrstor(it);
                return;
            default:
                throw it.undefinedOpcode();
        }
    }

    private static long dword(long lo, long hi, int i) {
        return (((i & 2) == 0 ? lo : hi) >>> (32 * (i & 1))) & 0xffff_ffffL;
    }

    private static long dword(long[] v, int i) {
        return (v[i >>> 1] >>> (32 * (i & 1))) & 0xffff_ffffL;
    }

    private static long msb8(long v) {
        long r = 0;
        for (int i = 0; i < 8; i++) {
            r |= ((v >>> (8 * i + 7)) & 1) << i;
        }
        return r;
    }

    /** Shift each {@code width}-bit lane: k 0 = logical right, 1 = arithmetic right, 2 = left. */
    private static long shiftLanes(long v, int width, int k, long count) {
        if (width == 64) {
            if (Long.compareUnsigned(count, 63) > 0) {
                return 0;
            }
            int c = (int) count;
            return k == 2 ? v << c : v >>> c;
        }
        long lm = (1L << width) - 1;
        long res = 0;
        for (int i = 0; i < 64; i += width) {
            long lane = (v >>> i) & lm;
            long o;
            if (Long.compareUnsigned(count, width - 1) > 0) {
                o = k == 1 ? ((lane >>> (width - 1)) != 0 ? lm : 0) : 0;
            } else {
                int c = (int) count;
                if (k == 0) {
                    o = lane >>> c;
                } else if (k == 2) {
                    o = (lane << c) & lm;
                } else {
                    long sl = (lane << (64 - width)) >> (64 - width);
                    o = (sl >> c) & lm;
                }
            }
            res |= o << i;
        }
        return res;
    }

    private static long satS(long v, int width) {
        long max = (1L << (width - 1)) - 1;
        long min = -(1L << (width - 1));
        return v > max ? max : v < min ? min : v;
    }

    private static long satU(long v, int width) {
        long max = (1L << width) - 1;
        return v > max ? max : v < 0 ? 0 : v;
    }

    /** Element-wise lane operation on one 64-bit half. */
    private static long lanes(int op, long a, long b) {
        switch (op) {
            case Sse.PAND:
                return a & b;
            case Sse.PANDN:
                return ~a & b;
            case Sse.POR:
                return a | b;
            case Sse.PXOR:
                return a ^ b;
            case Sse.PADDB:
                return ((a & B7) + (b & B7)) ^ ((a ^ b) & B8);
            case Sse.PADDW:
                return ((a & W7) + (b & W7)) ^ ((a ^ b) & W8);
            case Sse.PADDD:
                return ((a & D7) + (b & D7)) ^ ((a ^ b) & D8);
            case Sse.PADDQ:
                return a + b;
            case Sse.PSUBB:
                return ((a | B8) - (b & B7)) ^ ((a ^ ~b) & B8);
            case Sse.PSUBW:
                return ((a | W8) - (b & W7)) ^ ((a ^ ~b) & W8);
            case Sse.PSUBD:
                return ((a | D8) - (b & D7)) ^ ((a ^ ~b) & D8);
            case Sse.PSUBQ:
                return a - b;
            default:
                break;
        }
        int width;
        switch (op) {
            case Sse.PCMPEQB: case Sse.PCMPGTB: case Sse.PADDSB: case Sse.PADDUSB: case Sse.PSUBSB:
            case Sse.PSUBUSB: case Sse.PMINUB: case Sse.PMAXUB: case Sse.PAVGB:
                width = 8;
                break;
            case Sse.PCMPEQD: case Sse.PCMPGTD:
                width = 32;
                break;
            default:
                width = 16;
        }
        long lm = (1L << width) - 1;
        int sh = 64 - width;
        long res = 0;
        for (int i = 0; i < 64; i += width) {
            long ua = (a >>> i) & lm;
            long ub = (b >>> i) & lm;
            long sa = (ua << sh) >> sh;
            long sb = (ub << sh) >> sh;
            long o;
            switch (op) {
                case Sse.PCMPEQB: case Sse.PCMPEQW: case Sse.PCMPEQD:
                    o = ua == ub ? lm : 0;
                    break;
                case Sse.PCMPGTB: case Sse.PCMPGTW: case Sse.PCMPGTD:
                    o = sa > sb ? lm : 0;
                    break;
                case Sse.PADDSB: case Sse.PADDSW:
                    o = satS(sa + sb, width);
                    break;
                case Sse.PADDUSB: case Sse.PADDUSW:
                    o = satU(ua + ub, width);
                    break;
                case Sse.PSUBSB: case Sse.PSUBSW:
                    o = satS(sa - sb, width);
                    break;
                case Sse.PSUBUSB: case Sse.PSUBUSW:
                    o = satU(ua - ub, width);
                    break;
                case Sse.PMINUB:
                    o = Math.min(ua, ub);
                    break;
                case Sse.PMAXUB:
                    o = Math.max(ua, ub);
                    break;
                case Sse.PMINSW:
                    o = Math.min(sa, sb);
                    break;
                case Sse.PMAXSW:
                    o = Math.max(sa, sb);
                    break;
                case Sse.PAVGB: case Sse.PAVGW:
                    o = (ua + ub + 1) >>> 1;
                    break;
                case Sse.PMULLW:
                    o = sa * sb;
                    break;
                case Sse.PMULHW:
                    o = (sa * sb) >> 16;
                    break;
                case Sse.PMULHUW:
                    o = (ua * ub) >>> 16;
                    break;
                default:
                    throw new IllegalStateException("sse lane op " + op);
            }
            res |= (o & lm) << i;
        }
        return res;
    }

    private static long interleave(long a, long b, int width, boolean high) {
        // Interleave the low (or high) 32 bits of a and b lane by lane.
        long lm = width == 64 ? -1L : (1L << width) - 1;
        int base = high ? 32 : 0;
        long res = 0;
        int out = 0;
        for (int i = 0; i < 32; i += width) {
            res |= ((a >>> (base + i)) & lm) << out;
            out += width;
            res |= ((b >>> (base + i)) & lm) << out;
            out += width;
        }
        return res;
    }

    private static long pack(long lo, long hi, int inWidth, boolean unsigned) {
        int outWidth = inWidth / 2;
        long lm = (1L << inWidth) - 1;
        long om = (1L << outWidth) - 1;
        int sh = 64 - inWidth;
        long res = 0;
        int out = 0;
        for (int half = 0; half < 2; half++) {
            long v = half == 0 ? lo : hi;
            for (int i = 0; i < 64; i += inWidth) {
                long s = (((v >>> i) & lm) << sh) >> sh;
                long o = unsigned ? satU(s, outWidth) : satS(s, outWidth);
                res |= (o & om) << out;
                out += outWidth;
            }
        }
        return res;
    }

    private static void binary(int op, long[] x, int d, long blo, long bhi) {
        long alo = x[d];
        long ahi = x[d + 1];
        long rlo;
        long rhi;
        switch (op) {
            case Sse.PUNPCKLBW:
            case Sse.PUNPCKLWD:
            case Sse.PUNPCKLDQ: {
                int w = op == Sse.PUNPCKLBW ? 8 : op == Sse.PUNPCKLWD ? 16 : 32;
                rlo = interleave(alo, blo, w, false);
                rhi = interleave(alo, blo, w, true);
                break;
            }
            case Sse.PUNPCKHBW:
            case Sse.PUNPCKHWD:
            case Sse.PUNPCKHDQ: {
                int w = op == Sse.PUNPCKHBW ? 8 : op == Sse.PUNPCKHWD ? 16 : 32;
                rlo = interleave(ahi, bhi, w, false);
                rhi = interleave(ahi, bhi, w, true);
                break;
            }
            case Sse.UNPCKLPS:
                rlo = interleave(alo, blo, 32, false);
                rhi = interleave(alo, blo, 32, true);
                break;
            case Sse.UNPCKHPS:
                rlo = interleave(ahi, bhi, 32, false);
                rhi = interleave(ahi, bhi, 32, true);
                break;
            case Sse.PUNPCKLQDQ:
            case Sse.UNPCKLPD:
                rlo = alo;
                rhi = blo;
                break;
            case Sse.PUNPCKHQDQ:
            case Sse.UNPCKHPD:
                rlo = ahi;
                rhi = bhi;
                break;
            case Sse.PACKSSWB:
                rlo = pack(alo, ahi, 16, false);
                rhi = pack(blo, bhi, 16, false);
                break;
            case Sse.PACKUSWB:
                rlo = pack(alo, ahi, 16, true);
                rhi = pack(blo, bhi, 16, true);
                break;
            case Sse.PACKSSDW:
                rlo = pack(alo, ahi, 32, false);
                rhi = pack(blo, bhi, 32, false);
                break;
            case Sse.PMULUDQ:
                rlo = (alo & 0xffff_ffffL) * (blo & 0xffff_ffffL);
                rhi = (ahi & 0xffff_ffffL) * (bhi & 0xffff_ffffL);
                break;
            case Sse.PMADDWD:
                rlo = maddwd(alo, blo);
                rhi = maddwd(ahi, bhi);
                break;
            case Sse.PSADBW:
                rlo = sad(alo, blo);
                rhi = sad(ahi, bhi);
                break;
            case Sse.PSRLW:
            case Sse.PSRLD:
            case Sse.PSRLQ:
            case Sse.PSRAW:
            case Sse.PSRAD:
            case Sse.PSLLW:
            case Sse.PSLLD:
            case Sse.PSLLQ: {
                int width = op == Sse.PSRLW || op == Sse.PSRAW || op == Sse.PSLLW ? 16
                        : op == Sse.PSRLQ || op == Sse.PSLLQ ? 64 : 32;
                int k = op == Sse.PSRAW || op == Sse.PSRAD ? 1 : op >= Sse.PSLLW ? 2 : 0;
                rlo = shiftLanes(alo, width, k, blo);
                rhi = shiftLanes(ahi, width, k, blo);
                break;
            }
            default:
                rlo = lanes(op, alo, blo);
                rhi = lanes(op, ahi, bhi);
                break;
        }
        x[d] = rlo;
        x[d + 1] = rhi;
    }

    private static long maddwd(long a, long b) {
        long res = 0;
        for (int i = 0; i < 2; i++) {
            long s = 0;
            for (int j = 0; j < 2; j++) {
                int sh = 32 * i + 16 * j;
                s += (long) (short) (a >>> sh) * (short) (b >>> sh);
            }
            res |= (s & 0xffff_ffffL) << (32 * i);
        }
        return res;
    }

    private static long sad(long a, long b) {
        long s = 0;
        for (int i = 0; i < 64; i += 8) {
            s += Math.abs(((a >>> i) & 0xff) - ((b >>> i) & 0xff));
        }
        return s;
    }
}
