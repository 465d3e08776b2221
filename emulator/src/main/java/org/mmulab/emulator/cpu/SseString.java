package org.mmulab.emulator.cpu;

/**
 * SSE4.2 packed string compares PCMPESTRI, PCMPESTRM, PCMPISTRI, PCMPISTRM (SDM Vol. 2B §4.1 "Imm8
 * Control Byte Operation for PCMPESTRI / PCMPESTRM / PCMPISTRI / PCMPISTRM").
 *
 * <p>imm8[1:0] source format (unsigned/signed bytes/words), [3:2] aggregation (equal any, ranges, equal
 * each, equal ordered), [5:4] polarity, [6] least/most significant index (STRI) or bit/element mask
 * (STRM). Src1 is XMM(reg), Src2 is XMM(rm) or an m128 that need not be aligned. Lengths: explicit
 * from EAX/EDX (RAX/RDX with REX.W), absolute value saturated to the element count; implicit up to the
 * first zero element. Invalid elements override the comparisons as Table 4-7 lists. Results: ECX (the
 * index, or the element count if IntRes2 is 0, RCX zero-extended) or XMM0 (the mask); flags CF =
 * IntRes2 != 0, ZF = Src2 shorter than the register, SF = Src1 shorter, OF = IntRes2[0], AF = PF = 0.
 * Comparisons are evaluated on demand while aggregating (no matrix, no allocation).
 */
final class SseString {
    private static final int EQUAL_ANY = 0, RANGES = 1, EQUAL_EACH = 2, EQUAL_ORDERED = 3;

    private SseString() {
    }

    static void exec(Interpreter it, int op) {
        long[] x = it.state().xmm;
        int d = 2 * it.curReg();
        long[] t = it.scratch128;
        SseExec.src128(it, false, t);
        int imm = (int) (it.curImm() & 0xff);
        boolean words = (imm & 1) != 0;
        boolean signed = (imm & 2) != 0;
        int n = words ? 8 : 16;
        long alo = x[d];
        long ahi = x[d + 1];
        long blo = t[0];
        long bhi = t[1];
        boolean explicit = op == SseX.PCMPESTRI || op == SseX.PCMPESTRM;
        int len1;
        int len2;
        if (explicit) {
            boolean wide = it.curSize() == 3;
            len1 = explicitLen(it.gpr(CpuState.RAX, 3), wide, n);
            len2 = explicitLen(it.gpr(CpuState.RDX, 3), wide, n);
        } else {
            len1 = implicitLen(alo, ahi, words, n);
            len2 = implicitLen(blo, bhi, words, n);
        }
        int res = aggregate(alo, ahi, blo, bhi, words, signed, (imm >>> 2) & 3, len1, len2, n);
        int full = (1 << n) - 1;
        switch ((imm >>> 4) & 3) {
            case 1 -> res ^= full;
            case 3 -> res ^= (1 << len2) - 1;
            default -> {
            }
        }
        long f = (res != 0 ? CpuState.CF : 0) | (len2 < n ? CpuState.ZF : 0) | (len1 < n ? CpuState.SF : 0)
                | ((res & 1) != 0 ? CpuState.OF : 0);
        if (op == SseX.PCMPESTRI || op == SseX.PCMPISTRI) {
            int idx = res == 0 ? n : (imm & 0x40) != 0 ? 31 - Integer.numberOfLeadingZeros(res)
                    : Integer.numberOfTrailingZeros(res);
            it.setGpr(CpuState.RCX, 3, idx);
        } else if ((imm & 0x40) == 0) {
            x[0] = res & 0xffffL;
            x[1] = 0;
        } else {
            long lo = 0;
            long hi = 0;
            int w = words ? 16 : 8;
            long em = (1L << w) - 1;
            for (int i = 0; i < n; i++) {
                if ((res & (1 << i)) != 0) {
                    int bit = w * i;
                    if (bit < 64) {
                        lo |= em << bit;
                    } else {
                        hi |= em << (bit - 64);
                    }
                }
            }
            x[0] = lo;
            x[1] = hi;
        }
        it.flagsReg().setBits(Flags.ARITH, f);
    }

    private static int explicitLen(long v, boolean wide, int n) {
        if (!wide) {
            v = (int) v;
        }
        if (v < 0) {
            v = -v; // Long.MIN_VALUE stays negative: saturates below
        }
        return v < 0 || v > n ? n : (int) v;
    }

    private static int implicitLen(long lo, long hi, boolean words, int n) {
        for (int i = 0; i < n; i++) {
            if (elem(lo, hi, i, words, false) == 0) {
                return i;
            }
        }
        return n;
    }

    private static int elem(long lo, long hi, int i, boolean words, boolean signed) {
        if (words) {
            int v = SseX.wordAt(lo, hi, i);
            return signed ? (short) v : v;
        }
        int v = SseX.byteAt(lo, hi, i);
        return signed ? (byte) v : v;
    }

    /** IntRes1 (before polarity): bit j for Src2 element j. a = Src1 (reg), b = Src2 (rm). */
    private static int aggregate(long alo, long ahi, long blo, long bhi, boolean words, boolean signed, int agg,
            int len1, int len2, int n) {
        int res = 0;
        switch (agg) {
            case EQUAL_ANY:
                for (int j = 0; j < len2; j++) {
                    int bj = elem(blo, bhi, j, words, signed);
                    for (int i = 0; i < len1; i++) {
                        if (elem(alo, ahi, i, words, signed) == bj) {
                            res |= 1 << j;
                            break;
                        }
                    }
                }
                break;
            case RANGES:
                for (int j = 0; j < len2; j++) {
                    int bj = elem(blo, bhi, j, words, signed);
                    for (int i = 0; i + 1 < len1; i += 2) {
                        if (elem(alo, ahi, i, words, signed) <= bj && bj <= elem(alo, ahi, i + 1, words, signed)) {
                            res |= 1 << j;
                            break;
                        }
                    }
                }
                break;
            case EQUAL_EACH:
                for (int j = 0; j < n; j++) {
                    boolean v1 = j < len1;
                    boolean v2 = j < len2;
                    boolean r = v1 && v2 ? elem(alo, ahi, j, words, signed) == elem(blo, bhi, j, words, signed)
                            : !v1 && !v2;
                    if (r) {
                        res |= 1 << j;
                    }
                }
                break;
            default: // EQUAL_ORDERED: Src1 is the needle, searched at every position j of Src2
                for (int j = 0; j < n; j++) {
                    boolean r = true;
                    for (int i = 0; i < n - j; i++) {
                        int k = j + i;
                        if (i >= len1) {
                            break; // needle element invalid: forced true
                        }
                        if (k >= len2 || elem(alo, ahi, i, words, signed) != elem(blo, bhi, k, words, signed)) {
                            r = false;
                            break;
                        }
                    }
                    if (r) {
                        res |= 1 << j;
                    }
                }
                break;
        }
        return res;
    }
}
