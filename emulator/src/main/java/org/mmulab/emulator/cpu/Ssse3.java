package org.mmulab.emulator.cpu;

/**
 * SSSE3 on XMM registers (SDM Vol. 2 PSHUFB, PHADDW/D, PHADDSW, PHSUBW/D, PHSUBSW, PMADDUBSW, PMULHRSW,
 * PSIGNB/W/D, PABSB/W/D, PALIGNR): dst = XMM(reg), src = XMM(rm) or a 16-byte-aligned m128. The
 * 64-bit MMX forms ({@link Mmx}) run {@link #op64} on one register with the same per-half helpers.
 */
final class Ssse3 {
    private Ssse3() {
    }

    static void exec(Interpreter it, int op) {
        long[] x = it.state().xmm;
        int d = 2 * it.curReg();
        long[] t = it.scratch128;
        SseExec.src128(it, true, t);
        long alo = x[d];
        long ahi = x[d + 1];
        long blo = t[0];
        long bhi = t[1];
        long rlo;
        long rhi;
        switch (op) {
            case SseX.PSHUFB: {
                rlo = 0;
                rhi = 0;
                for (int i = 0; i < 16; i++) {
                    int c = SseX.byteAt(blo, bhi, i);
                    long v = (c & 0x80) != 0 ? 0 : SseX.byteAt(alo, ahi, c & 15);
                    if (i < 8) {
                        rlo |= v << (8 * i);
                    } else {
                        rhi |= v << (8 * (i - 8));
                    }
                }
                break;
            }
            case SseX.PHADDW, SseX.PHSUBW, SseX.PHADDSW, SseX.PHSUBSW: {
                boolean sub = op == SseX.PHSUBW || op == SseX.PHSUBSW;
                boolean sat = op == SseX.PHADDSW || op == SseX.PHSUBSW;
                rlo = hword(alo, sub, sat) | (hword(ahi, sub, sat) << 32);
                rhi = hword(blo, sub, sat) | (hword(bhi, sub, sat) << 32);
                break;
            }
            case SseX.PHADDD, SseX.PHSUBD: {
                boolean sub = op == SseX.PHSUBD;
                rlo = hdword(alo, sub) | (hdword(ahi, sub) << 32);
                rhi = hdword(blo, sub) | (hdword(bhi, sub) << 32);
                break;
            }
            case SseX.PMADDUBSW:
                rlo = maddubs(alo, blo);
                rhi = maddubs(ahi, bhi);
                break;
            case SseX.PMULHRSW:
                rlo = mulhrs(alo, blo);
                rhi = mulhrs(ahi, bhi);
                break;
            case SseX.PSIGNB, SseX.PSIGNW, SseX.PSIGND: {
                int w = op == SseX.PSIGNB ? 8 : op == SseX.PSIGNW ? 16 : 32;
                rlo = sign(alo, blo, w);
                rhi = sign(ahi, bhi, w);
                break;
            }
            case SseX.PABSB, SseX.PABSW, SseX.PABSD: {
                int w = op == SseX.PABSB ? 8 : op == SseX.PABSW ? 16 : 32;
                rlo = abs(blo, w);
                rhi = abs(bhi, w);
                break;
            }
            case SseX.PALIGNR: {
                // (dst:src) >> (imm8 * 8), low 128 bits; src is the low half of the 256-bit value
                int n = (int) (it.curImm() & 0xff);
                rlo = 0;
                rhi = 0;
                for (int i = 0; i < 16; i++) {
                    int k = i + n;
                    long v = k < 16 ? SseX.byteAt(blo, bhi, k) : k < 32 ? SseX.byteAt(alo, ahi, k - 16) : 0;
                    if (i < 8) {
                        rlo |= v << (8 * i);
                    } else {
                        rhi |= v << (8 * (i - 8));
                    }
                }
                break;
            }
            default:
                throw it.undefinedOpcode();
        }
        x[d] = rlo;
        x[d + 1] = rhi;
    }

    /**
     * The MMX form (0F 38 xx / 0F 3A 0F without 66): dst = a op b on 64 bits; PSHUFB indexes with the
     * low three bits, PALIGNR shifts the 128-bit a:b right by {@code imm} bytes.
     */
    static long op64(int op, long a, long b, int imm) {
        switch (op) {
            case SseX.PSHUFB: {
                long r = 0;
                for (int i = 0; i < 8; i++) {
                    int c = (int) (b >>> (8 * i)) & 0xff;
                    long v = (c & 0x80) != 0 ? 0 : (a >>> (8 * (c & 7))) & 0xff;
                    r |= v << (8 * i);
                }
                return r;
            }
            case SseX.PHADDW, SseX.PHSUBW, SseX.PHADDSW, SseX.PHSUBSW: {
                boolean sub = op == SseX.PHSUBW || op == SseX.PHSUBSW;
                boolean sat = op == SseX.PHADDSW || op == SseX.PHSUBSW;
                return hword(a, sub, sat) | (hword(b, sub, sat) << 32);
            }
            case SseX.PHADDD, SseX.PHSUBD:
                return hdword(a, op == SseX.PHSUBD) | (hdword(b, op == SseX.PHSUBD) << 32);
            case SseX.PMADDUBSW:
                return maddubs(a, b);
            case SseX.PMULHRSW:
                return mulhrs(a, b);
            case SseX.PSIGNB, SseX.PSIGNW, SseX.PSIGND:
                return sign(a, b, op == SseX.PSIGNB ? 8 : op == SseX.PSIGNW ? 16 : 32);
            case SseX.PABSB, SseX.PABSW, SseX.PABSD:
                return abs(b, op == SseX.PABSB ? 8 : op == SseX.PABSW ? 16 : 32);
            case 0x0f: { // PALIGNR: bytes imm..imm+7 of b (0-7) : a (8-15), zero beyond
                long r = 0;
                for (int i = 0; i < 8; i++) {
                    int k = i + imm;
                    long v = k < 8 ? (b >>> (8 * k)) & 0xff : k < 16 ? (a >>> (8 * (k - 8))) & 0xff : 0;
                    r |= v << (8 * i);
                }
                return r;
            }
            default:
                throw new IllegalStateException("ssse3 mmx op " + op);
        }
    }

    private static long sat16(int v) {
        return (v > 32767 ? 32767 : v < -32768 ? -32768 : v) & 0xffff;
    }

    /** Horizontal word op on one 64-bit half: two 16-bit results (w0 op w1, w2 op w3) in the low 32 bits. */
    private static long hword(long v, boolean sub, boolean sat) {
        long r = 0;
        for (int i = 0; i < 2; i++) {
            int a = (short) (v >>> (32 * i));
            int b = (short) (v >>> (32 * i + 16));
            int s = sub ? a - b : a + b;
            r |= (sat ? sat16(s) : s & 0xffff) << (16 * i);
        }
        return r;
    }

    private static long hdword(long v, boolean sub) {
        int a = (int) v;
        int b = (int) (v >>> 32);
        return (sub ? a - b : a + b) & 0xffff_ffffL;
    }

    /** PMADDUBSW: unsigned bytes of dst times signed bytes of src, adjacent pairs added with signed saturation. */
    private static long maddubs(long a, long b) {
        long r = 0;
        for (int i = 0; i < 4; i++) {
            int s = 0;
            for (int j = 0; j < 2; j++) {
                int sh = 16 * i + 8 * j;
                s += (int) ((a >>> sh) & 0xff) * (byte) (b >>> sh);
            }
            r |= sat16(s) << (16 * i);
        }
        return r;
    }

    private static long mulhrs(long a, long b) {
        long r = 0;
        for (int i = 0; i < 4; i++) {
            int p = (short) (a >>> (16 * i)) * (short) (b >>> (16 * i));
            r |= (long) (((p >> 14) + 1) >> 1 & 0xffff) << (16 * i);
        }
        return r;
    }

    private static long sign(long a, long b, int w) {
        long m = (1L << w) - 1;
        int sh = 64 - w;
        long r = 0;
        for (int i = 0; i < 64; i += w) {
            long sb = ((b >>> i) << sh) >> sh;
            long av = (a >>> i) & m;
            long o = sb < 0 ? -av : sb == 0 ? 0 : av;
            r |= (o & m) << i;
        }
        return r;
    }

    private static long abs(long b, int w) {
        long m = (1L << w) - 1;
        int sh = 64 - w;
        long r = 0;
        for (int i = 0; i < 64; i += w) {
            long sb = ((b >>> i) << sh) >> sh;
            r |= (Math.abs(sb) & m) << i;
        }
        return r;
    }
}
