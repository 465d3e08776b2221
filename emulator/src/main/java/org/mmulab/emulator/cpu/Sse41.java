package org.mmulab.emulator.cpu;

import org.mmulab.emulator.mmu.Mmu;

/**
 * SSE4.1 integer and data-movement instructions, and PCMPGTQ of SSE4.2 (SDM Vol. 2: PBLENDVB, BLENDVPS/
 * PD, BLENDPS/PD, PBLENDW, PTEST, PMOVSX*, PMOVZX*, PMULDQ, PMULLD, PCMPEQQ, PCMPGTQ, MOVNTDQA, PACKUSDW,
 * PMINSB/SD/UW/UD, PMAXSB/SD/UW/UD, PHMINPOSUW, MPSADBW, PEXTRB/W/D/Q, EXTRACTPS, PINSRB/D/Q, INSERTPS).
 * Full 128-bit memory operands must be 16-byte aligned (#GP(0)); the narrower PMOVSX/ZX, PINSR*,
 * INSERTPS and PEXTR* memory operands are not. PTEST sets ZF/CF and clears AF/OF/PF/SF.
 */
final class Sse41 {
    private Sse41() {
    }

    static void exec(Interpreter it, int op) {
        long[] x = it.state().xmm;
        int d = 2 * it.curReg();
        long[] t = it.scratch128;
        int imm = (int) (it.curImm() & 0xff);
        switch (op) {
            case SseX.PMOVSXBW, SseX.PMOVSXBD, SseX.PMOVSXBQ, SseX.PMOVSXWD, SseX.PMOVSXWQ, SseX.PMOVSXDQ,
                    SseX.PMOVZXBW, SseX.PMOVZXBD, SseX.PMOVZXBQ, SseX.PMOVZXWD, SseX.PMOVZXWQ, SseX.PMOVZXDQ:
                pmovx(it, op, x, d);
                return;
            case SseX.PEXTRB, SseX.PEXTRW, SseX.PEXTRD, SseX.EXTRACTPS:
                extract(it, op, x, d, imm);
                return;
            case SseX.PINSRB, SseX.PINSRD, SseX.INSERTPS:
                insert(it, op, x, d, imm);
                return;
            case SseX.MOVNTDQA:
                if (!it.curHasMem()) {
                    throw it.undefinedOpcode();
                }
                SseExec.src128(it, true, t);
                x[d] = t[0];
                x[d + 1] = t[1];
                return;
            default:
                break;
        }
        SseExec.src128(it, true, t);
        long alo = x[d];
        long ahi = x[d + 1];
        long blo = t[0];
        long bhi = t[1];
        long rlo;
        long rhi;
        switch (op) {
            case SseX.PBLENDVB: {
                long mlo = byteMask(x[0]);
                long mhi = byteMask(x[1]);
                rlo = (alo & ~mlo) | (blo & mlo);
                rhi = (ahi & ~mhi) | (bhi & mhi);
                break;
            }
            case SseX.BLENDVPS:
                rlo = blend32(alo, blo, (int) (x[0] >>> 31) & 1 | (int) (x[0] >>> 62) & 2);
                rhi = blend32(ahi, bhi, (int) (x[1] >>> 31) & 1 | (int) (x[1] >>> 62) & 2);
                break;
            case SseX.BLENDVPD:
                rlo = x[0] < 0 ? blo : alo;
                rhi = x[1] < 0 ? bhi : ahi;
                break;
            case SseX.BLENDPS:
                rlo = blend32(alo, blo, imm & 3);
                rhi = blend32(ahi, bhi, (imm >>> 2) & 3);
                break;
            case SseX.BLENDPD:
                rlo = (imm & 1) != 0 ? blo : alo;
                rhi = (imm & 2) != 0 ? bhi : ahi;
                break;
            case SseX.PBLENDW: {
                long mlo = 0;
                long mhi = 0;
                for (int i = 0; i < 4; i++) {
                    mlo |= ((imm >>> i) & 1L) * (0xffffL << (16 * i));
                    mhi |= ((imm >>> (i + 4)) & 1L) * (0xffffL << (16 * i));
                }
                rlo = (alo & ~mlo) | (blo & mlo);
                rhi = (ahi & ~mhi) | (bhi & mhi);
                break;
            }
            case SseX.PTEST: {
                boolean zf = ((alo & blo) | (ahi & bhi)) == 0;
                boolean cf = ((~alo & blo) | (~ahi & bhi)) == 0;
                it.flagsReg().setBits(Flags.ARITH, (zf ? CpuState.ZF : 0) | (cf ? CpuState.CF : 0));
                return;
            }
            case SseX.PMULDQ:
                rlo = (long) (int) alo * (int) blo;
                rhi = (long) (int) ahi * (int) bhi;
                break;
            case SseX.PMULLD:
                rlo = mulld(alo, blo);
                rhi = mulld(ahi, bhi);
                break;
            case SseX.PCMPEQQ:
                rlo = alo == blo ? -1L : 0;
                rhi = ahi == bhi ? -1L : 0;
                break;
            case SseX.PCMPGTQ:
                rlo = alo > blo ? -1L : 0;
                rhi = ahi > bhi ? -1L : 0;
                break;
            case SseX.PACKUSDW:
                rlo = packusdw(alo) | (packusdw(ahi) << 32);
                rhi = packusdw(blo) | (packusdw(bhi) << 32);
                break;
            case SseX.PMINSB, SseX.PMAXSB, SseX.PMINUW, SseX.PMAXUW, SseX.PMINSD, SseX.PMAXSD, SseX.PMINUD,
                    SseX.PMAXUD: {
                int w = op == SseX.PMINSB || op == SseX.PMAXSB ? 8 : op == SseX.PMINUW || op == SseX.PMAXUW ? 16 : 32;
                boolean signed = op == SseX.PMINSB || op == SseX.PMAXSB || op == SseX.PMINSD || op == SseX.PMAXSD;
                boolean max = op >= SseX.PMAXSB;
                rlo = minMax(alo, blo, w, signed, max);
                rhi = minMax(ahi, bhi, w, signed, max);
                break;
            }
            case SseX.PHMINPOSUW: {
                int min = 0x10000;
                int idx = 0;
                for (int i = 0; i < 8; i++) {
                    int v = SseX.wordAt(blo, bhi, i);
                    if (v < min) {
                        min = v;
                        idx = i;
                    }
                }
                rlo = min | ((long) idx << 16);
                rhi = 0;
                break;
            }
            case SseX.MPSADBW: {
                int aoff = (imm & 4) != 0 ? 4 : 0;
                int boff = (imm & 3) * 4;
                rlo = 0;
                rhi = 0;
                for (int i = 0; i < 8; i++) {
                    long s = 0;
                    for (int j = 0; j < 4; j++) {
                        s += Math.abs(SseX.byteAt(alo, ahi, aoff + i + j) - SseX.byteAt(blo, bhi, boff + j));
                    }
                    if (i < 4) {
                        rlo |= s << (16 * i);
                    } else {
                        rhi |= s << (16 * (i - 4));
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

    /** 0xff in each byte whose bit 7 is set. */
    private static long byteMask(long m) {
        long hi = m & 0x8080_8080_8080_8080L;
        return (hi >>> 7) * 0xff;
    }

    private static long blend32(long a, long b, int sel) {
        long m = ((sel & 1) != 0 ? 0xffff_ffffL : 0) | ((sel & 2) != 0 ? 0xffff_ffff_0000_0000L : 0);
        return (a & ~m) | (b & m);
    }

    private static long mulld(long a, long b) {
        long lo = ((int) a * (int) b) & 0xffff_ffffL;
        long hi = (long) ((int) (a >>> 32) * (int) (b >>> 32)) << 32;
        return lo | hi;
    }

    private static long packusdw(long v) {
        long r = 0;
        for (int i = 0; i < 2; i++) {
            int s = (int) (v >>> (32 * i));
            r |= (long) (s < 0 ? 0 : Math.min(s, 0xffff)) << (16 * i);
        }
        return r;
    }

    private static long minMax(long a, long b, int w, boolean signed, boolean max) {
        long m = (1L << w) - 1;
        int sh = 64 - w;
        long r = 0;
        for (int i = 0; i < 64; i += w) {
            long ua = (a >>> i) & m;
            long ub = (b >>> i) & m;
            boolean aLess = signed ? ((ua << sh) >> sh) < ((ub << sh) >> sh) : ua < ub;
            long o = max ? (aLess ? ub : ua) : (aLess ? ua : ub);
            r |= o << i;
        }
        return r;
    }

    /** PMOVSX/PMOVZX: widen the low 8/4/2 elements of the source (register or m64/m32/m16). */
    private static void pmovx(Interpreter it, int op, long[] x, int d) {
        boolean sx = op < SseX.PMOVZXBW;
        int k = op & 7; // 0 BW 1 BD 2 BQ 3 WD 4 WQ 5 DQ
        int inW = k <= 2 ? 8 : k <= 4 ? 16 : 32;
        int outW = k == 0 ? 16 : k == 1 || k == 3 ? 32 : 64;
        int n = 128 / outW;
        long src;
        if (it.curHasMem()) {
            Mmu m = it.mmu();
            long va = it.curEa();
            int bytes = n * inW / 8;
            src = bytes == 8 ? m.read64(va) : bytes == 4 ? m.read32(va) & 0xffff_ffffL : m.read16(va) & 0xffffL;
        } else {
            src = x[2 * it.curRm()];
        }
        long inM = (1L << inW) - 1;
        long outM = outW == 64 ? -1L : (1L << outW) - 1;
        long lo = 0;
        long hi = 0;
        for (int i = 0; i < n; i++) {
            long v = (src >>> (inW * i)) & inM;
            if (sx) {
                v = (v << (64 - inW)) >> (64 - inW);
            }
            v &= outM;
            int bit = outW * i;
            if (bit < 64) {
                lo |= v << bit;
            } else {
                hi |= v << (bit - 64);
            }
        }
        x[d] = lo;
        x[d + 1] = hi;
    }

    /** PEXTRB/W/D/Q and EXTRACTPS: XMM(reg) element to r32/r64 (zero-extended) or memory. */
    private static void extract(Interpreter it, int op, long[] x, int d, int imm) {
        int sz;
        long v;
        switch (op) {
            case SseX.PEXTRB -> {
                sz = 0;
                v = SseX.byteAt(x[d], x[d + 1], imm & 15);
            }
            case SseX.PEXTRW -> {
                sz = 1;
                v = SseX.wordAt(x[d], x[d + 1], imm & 7);
            }
            case SseX.PEXTRD -> {
                if (it.curSize() == 3) { // PEXTRQ
                    sz = 3;
                    v = x[d + (imm & 1)];
                } else {
                    sz = 2;
                    v = (x[d + ((imm >>> 1) & 1)] >>> (32 * (imm & 1))) & 0xffff_ffffL;
                }
            }
            default -> { // EXTRACTPS
                sz = 2;
                v = (x[d + ((imm >>> 1) & 1)] >>> (32 * (imm & 1))) & 0xffff_ffffL;
            }
        }
        if (it.curHasMem()) {
            it.writeOperand(sz, v);
        } else {
            it.setGpr(it.curRm(), 3, v);
        }
    }

    /** PINSRB/D/Q and INSERTPS into XMM(reg). */
    private static void insert(Interpreter it, int op, long[] x, int d, int imm) {
        switch (op) {
            case SseX.PINSRB -> {
                long v = it.readOperand(0) & 0xff;
                int i = imm & 15;
                int h = d + (i >>> 3);
                int sh = 8 * (i & 7);
                x[h] = (x[h] & ~(0xffL << sh)) | (v << sh);
            }
            case SseX.PINSRD -> {
                if (it.curSize() == 3) { // PINSRQ
                    x[d + (imm & 1)] = it.readOperand(3);
                } else {
                    long v = it.readOperand(2) & 0xffff_ffffL;
                    int h = d + ((imm >>> 1) & 1);
                    int sh = 32 * (imm & 1);
                    x[h] = (x[h] & ~(0xffff_ffffL << sh)) | (v << sh);
                }
            }
            default -> { // INSERTPS
                long v;
                if (it.curHasMem()) {
                    v = it.mmu().read32(it.curEa()) & 0xffff_ffffL;
                } else {
                    int s = (imm >>> 6) & 3;
                    v = (x[2 * it.curRm() + (s >>> 1)] >>> (32 * (s & 1))) & 0xffff_ffffL;
                }
                int dst = (imm >>> 4) & 3;
                int h = d + (dst >>> 1);
                int sh = 32 * (dst & 1);
                x[h] = (x[h] & ~(0xffff_ffffL << sh)) | (v << sh);
                long zlo = ((imm & 1) != 0 ? 0xffff_ffffL : 0) | ((imm & 2) != 0 ? 0xffff_ffff_0000_0000L : 0);
                long zhi = ((imm & 4) != 0 ? 0xffff_ffffL : 0) | ((imm & 8) != 0 ? 0xffff_ffff_0000_0000L : 0);
                x[d] &= ~zlo;
                x[d + 1] &= ~zhi;
            }
        }
    }
}
