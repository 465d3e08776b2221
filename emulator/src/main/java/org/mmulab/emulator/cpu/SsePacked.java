package org.mmulab.emulator.cpu;

/**
 * SSE2 packed-integer binary operations (SDM Vol. 2 PADDB ... PUNPCKLQDQ, PSADBW, PMADDWD, PACKSSWB,
 * PSRLW/PSRAW/PSLLW by XMM count): dst = dst op src on two 64-bit halves, lane by lane; the logic and
 * add/subtract forms use SWAR arithmetic on whole halves.
 */
final class SsePacked {
    private static final long B7 = 0x7f7f7f7f7f7f7f7fL, B8 = 0x8080808080808080L;
    private static final long W7 = 0x7fff7fff7fff7fffL, W8 = 0x8000800080008000L;
    private static final long D7 = 0x7fffffff7fffffffL, D8 = 0x8000000080000000L;

    private SsePacked() {
    }

    /** Shift each {@code width}-bit lane: k 0 = logical right, 1 = arithmetic right, 2 = left. */
    static long shiftLanes(long v, int width, int k, long count) {
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

    static long satS(long v, int width) {
        long max = (1L << (width - 1)) - 1;
        long min = -(1L << (width - 1));
        return v > max ? max : v < min ? min : v;
    }

    static long satU(long v, int width) {
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

    static void binary(int op, long[] x, int d, long blo, long bhi) {
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

    /**
     * The MMX form of a binary op ({@link Mmx}): dst = a op b on one 64-bit register. Unpacks take the
     * low (L) or high (H) 32 bits of each operand; PACK* narrow a (low result half) then b; PMULUDQ
     * multiplies the low dwords.
     */
    static long binary64(int op, long a, long b) {
        switch (op) {
            case Sse.PUNPCKLBW: case Sse.PUNPCKLWD: case Sse.PUNPCKLDQ:
                return interleave(a, b, op == Sse.PUNPCKLBW ? 8 : op == Sse.PUNPCKLWD ? 16 : 32, false);
            case Sse.PUNPCKHBW: case Sse.PUNPCKHWD: case Sse.PUNPCKHDQ:
                return interleave(a, b, op == Sse.PUNPCKHBW ? 8 : op == Sse.PUNPCKHWD ? 16 : 32, true);
            case Sse.PACKSSWB:
                return pack(a, b, 16, false);
            case Sse.PACKUSWB:
                return pack(a, b, 16, true);
            case Sse.PACKSSDW:
                return pack(a, b, 32, false);
            case Sse.PMULUDQ:
                return (a & 0xffff_ffffL) * (b & 0xffff_ffffL);
            case Sse.PMADDWD:
                return maddwd(a, b);
            case Sse.PSADBW:
                return sad(a, b);
            case Sse.PSRLW: case Sse.PSRLD: case Sse.PSRLQ: case Sse.PSRAW: case Sse.PSRAD:
            case Sse.PSLLW: case Sse.PSLLD: case Sse.PSLLQ: {
                int width = op == Sse.PSRLW || op == Sse.PSRAW || op == Sse.PSLLW ? 16
                        : op == Sse.PSRLQ || op == Sse.PSLLQ ? 64 : 32;
                int k = op == Sse.PSRAW || op == Sse.PSRAD ? 1 : op >= Sse.PSLLW ? 2 : 0;
                return shiftLanes(a, width, k, b);
            }
            default:
                return lanes(op, a, b);
        }
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
