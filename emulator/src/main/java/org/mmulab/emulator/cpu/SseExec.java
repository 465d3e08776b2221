package org.mmulab.emulator.cpu;

import org.mmulab.emulator.mmu.Mmu;

/**
 * SSE/SSE2 execution (the {@link Op#SSE} group). XMM registers are {@code state.xmm[2*i]} (bits 63:0)
 * and {@code state.xmm[2*i+1]} (bits 127:64). Packed operations with a 128-bit memory operand require
 * 16-byte alignment (#GP(0)) except the explicitly unaligned moves (SDM Vol. 1 §10.4.1.1); 128-bit
 * stores check both pages for write before writing either half, so a fault commits nothing.
 */
final class SseExec {

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
        int op = it.curSub();
        if (op == Sse.FXSAVE || op == Sse.FXRSTOR) {
            DeviceNotAvailable.x87(it.state()); // FXSAVE/FXRSTOR: #NM for EM as well as TS
        } else {
            DeviceNotAvailable.simd(it.state());
        }
        long[] x = x(it);
        int d = 2 * it.curReg();
        long[] t = it.scratch128;
        if (op >= Sse.FP) {
            SseFp.exec(it, op, x, d);
            return;
        }
        if (op >= Sse.BIN) {
            src128(it, true, t);
            SsePacked.binary(op, x, d, t[0], t[1]);
            return;
        }
        Mmu m = it.mmu();
        switch (op) {
            case Sse.MOVUPS_LD:
            case Sse.MOVDQU_LD:
            case Sse.LDDQU:
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
                x[e] = SsePacked.shiftLanes(x[e], width, k, c);
                x[e + 1] = SsePacked.shiftLanes(x[e + 1], width, k, c);
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
            case Sse.MOVDDUP: {
                long v = src64(it);
                x[d] = v;
                x[d + 1] = v;
                return;
            }
            case Sse.MOVSLDUP:
                src128(it, true, t);
                x[d] = (t[0] & 0xffff_ffffL) | (t[0] << 32);
                x[d + 1] = (t[1] & 0xffff_ffffL) | (t[1] << 32);
                return;
            case Sse.MOVSHDUP:
                src128(it, true, t);
                x[d] = (t[0] >>> 32) | (t[0] & 0xffff_ffff_0000_0000L);
                x[d + 1] = (t[1] >>> 32) | (t[1] & 0xffff_ffff_0000_0000L);
                return;
            case Sse.MASKMOVDQU:
                maskmovdqu(it, x, d);
                return;
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

    /**
     * MASKMOVDQU: bytes of XMM(reg) whose mask byte in XMM(rm) has bit 7 set go to DS:[RDI/EDI]. Every
     * page a selected byte falls in is checked for write first, so a fault commits nothing; an all-zero
     * mask accesses no memory.
     */
    private static void maskmovdqu(Interpreter it, long[] x, int d) {
        int e = 2 * it.curRm();
        maskedStore(it, msb8(x[e]) | (msb8(x[e + 1]) << 8), x[d], x[d + 1]);
    }

    /**
     * The store of MASKMOVDQU and MASKMOVQ ({@link Mmx}): byte i of lo:hi goes to DS:[RDI + i] when bit i
     * of {@code mask} is set.
     */
    static void maskedStore(Interpreter it, long mask, long lo, long hi) {
        if (mask == 0) {
            return;
        }
        long rdi = it.gpr(CpuState.RDI, 3);
        if ((it.curInfo() & Decoder.ASZ32) != 0) {
            rdi &= 0xffff_ffffL;
        }
        long first = Long.numberOfTrailingZeros(mask);
        long last = 63 - Long.numberOfLeadingZeros(mask);
        Mmu m = it.mmu();
        long va0 = it.curLinear(rdi + first);
        long va1 = it.curLinear(rdi + last);
        m.translateWrite(va0);
        if ((va0 >>> 12) != (va1 >>> 12)) {
            m.translateWrite(va1);
        }
        for (int i = 0; i < 16; i++) {
            if ((mask & (1L << i)) != 0) {
                m.write8(it.curLinear(rdi + i), (int) ((i < 8 ? lo : hi) >>> (8 * (i & 7))) & 0xff);
            }
        }
    }

    private static long dword(long lo, long hi, int i) {
        return (((i & 2) == 0 ? lo : hi) >>> (32 * (i & 1))) & 0xffff_ffffL;
    }

    private static long dword(long[] v, int i) {
        return (v[i >>> 1] >>> (32 * (i & 1))) & 0xffff_ffffL;
    }

    static long msb8(long v) {
        long r = 0;
        for (int i = 0; i < 8; i++) {
            r |= ((v >>> (8 * i + 7)) & 1) << i;
        }
        return r;
    }
}
