package org.mmulab.emulator.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.util.Random;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * SSSE3, SSE4.1, SSE4.2, CRC32, MOVBE, LZCNT, POPCNT, CMPXCHG16B, LAHF/SAHF and the SSE2/SSE3 gap
 * fillers, run through the interpreter one instruction at a time and compared with reference models
 * written here from the SDM pseudo-code (independently of the emulator's code). Randomized tests print
 * their seed. Machine code assembled with GNU as (xmm1 = destination, xmm2 = source).
 */
class SseExtTest {
    static final long CODE = TestMachine.USER_CODE, DATA = TestMachine.USER_DATA;
    TestMachine m;

    @BeforeEach
    void setUp() {
        m = TestMachine.withUserPages();
    }

    /** Runs one instruction; returns the exit code. */
    int exec(String hex) {
        return m.execOne(hex);
    }

    void ok(String hex) {
        assertEquals(Exit.BUDGET, exec(hex), () -> hex + ": vector " + m.s.exceptionVector);
    }

    void xmm(int i, long lo, long hi) {
        m.s.xmm[2 * i] = lo;
        m.s.xmm[2 * i + 1] = hi;
    }

    static Random seeded(String name) {
        long seed = System.nanoTime();
        System.out.println("SseExtTest." + name + " seed " + seed);
        return new Random(seed);
    }

    static int byteOf(long lo, long hi, int i) {
        return (int) ((i < 8 ? lo : hi) >>> (8 * (i % 8))) & 0xff;
    }

    static long[] bytesToHalves(int[] b) {
        long lo = 0;
        long hi = 0;
        for (int i = 0; i < 16; i++) {
            if (i < 8) {
                lo |= (long) (b[i] & 0xff) << (8 * i);
            } else {
                hi |= (long) (b[i] & 0xff) << (8 * (i - 8));
            }
        }
        return new long[] {lo, hi};
    }

    // ------------------------------------------------------------------------------------------
    // SSSE3

    @Test
    void pshufbAndPalignrMatchTheSdmPseudoCode() {
        Random r = seeded("pshufbAndPalignr");
        for (int iter = 0; iter < 300; iter++) {
            long alo = r.nextLong(), ahi = r.nextLong(), blo = r.nextLong(), bhi = r.nextLong();
            xmm(1, alo, ahi);
            xmm(2, blo, bhi);
            ok("660f3800ca"); // pshufb xmm1, xmm2
            int[] want = new int[16];
            for (int i = 0; i < 16; i++) {
                int c = byteOf(blo, bhi, i);
                want[i] = c >= 128 ? 0 : byteOf(alo, ahi, c & 15);
            }
            long[] w = bytesToHalves(want);
            assertEquals(w[0], m.s.xmm[2]);
            assertEquals(w[1], m.s.xmm[3]);

            int n = r.nextInt(40);
            xmm(1, alo, ahi);
            ok("660f3a0fca" + String.format("%02x", n)); // palignr $n, xmm2, xmm1
            int[] cat = new int[32]; // src low, dst high
            for (int i = 0; i < 16; i++) {
                cat[i] = byteOf(blo, bhi, i);
                cat[16 + i] = byteOf(alo, ahi, i);
            }
            for (int i = 0; i < 16; i++) {
                want[i] = i + n < 32 ? cat[i + n] : 0;
            }
            w = bytesToHalves(want);
            assertEquals(w[0], m.s.xmm[2], "palignr " + n);
            assertEquals(w[1], m.s.xmm[3], "palignr " + n);
        }
    }

    static short word(long lo, long hi, int i) {
        return (short) ((i < 4 ? lo : hi) >>> (16 * (i % 4)));
    }

    static long[] wordsToHalves(int[] w) {
        long lo = 0;
        long hi = 0;
        for (int i = 0; i < 8; i++) {
            if (i < 4) {
                lo |= (long) (w[i] & 0xffff) << (16 * i);
            } else {
                hi |= (long) (w[i] & 0xffff) << (16 * (i - 4));
            }
        }
        return new long[] {lo, hi};
    }

    static int sat16(int v) {
        return Math.max(-32768, Math.min(32767, v));
    }

    @Test
    void wordArithmeticOfSsse3() {
        Random r = seeded("wordArithmeticOfSsse3");
        for (int iter = 0; iter < 300; iter++) {
            long alo = r.nextLong(), ahi = r.nextLong(), blo = r.nextLong(), bhi = r.nextLong();
            int[] want = new int[8];
            // PHADDSW: pairs of dst, then pairs of src, saturated
            xmm(1, alo, ahi);
            xmm(2, blo, bhi);
            ok("660f3803ca");
            for (int i = 0; i < 4; i++) {
                want[i] = sat16(word(alo, ahi, 2 * i) + word(alo, ahi, 2 * i + 1));
                want[4 + i] = sat16(word(blo, bhi, 2 * i) + word(blo, bhi, 2 * i + 1));
            }
            long[] w = wordsToHalves(want);
            assertEquals(w[0], m.s.xmm[2], "phaddsw");
            assertEquals(w[1], m.s.xmm[3], "phaddsw");
            // PMADDUBSW: unsigned dst bytes x signed src bytes
            xmm(1, alo, ahi);
            ok("660f3804ca");
            for (int i = 0; i < 8; i++) {
                int s = byteOf(alo, ahi, 2 * i) * (byte) byteOf(blo, bhi, 2 * i)
                        + byteOf(alo, ahi, 2 * i + 1) * (byte) byteOf(blo, bhi, 2 * i + 1);
                want[i] = sat16(s);
            }
            w = wordsToHalves(want);
            assertEquals(w[0], m.s.xmm[2], "pmaddubsw");
            assertEquals(w[1], m.s.xmm[3], "pmaddubsw");
            // PMULHRSW
            xmm(1, alo, ahi);
            ok("660f380bca");
            for (int i = 0; i < 8; i++) {
                int p = word(alo, ahi, i) * word(blo, bhi, i);
                want[i] = (p + 0x4000) >> 15; // SDM: ((a * b >> 14) + 1) >> 1
            }
            w = wordsToHalves(want);
            assertEquals(w[0], m.s.xmm[2], "pmulhrsw");
            assertEquals(w[1], m.s.xmm[3], "pmulhrsw");
        }
    }

    // ------------------------------------------------------------------------------------------
    // SSE4.1

    @Test
    void sse41IntegerOps() {
        Random r = seeded("sse41IntegerOps");
        for (int iter = 0; iter < 200; iter++) {
            long alo = r.nextLong(), ahi = r.nextLong(), blo = r.nextLong(), bhi = r.nextLong();
            // MPSADBW $5: dst offset 4, src dword 1
            xmm(1, alo, ahi);
            xmm(2, blo, bhi);
            ok("660f3a42ca05");
            int[] want = new int[8];
            for (int i = 0; i < 8; i++) {
                int s = 0;
                for (int j = 0; j < 4; j++) {
                    s += Math.abs(byteOf(alo, ahi, 4 + i + j) - byteOf(blo, bhi, 4 + j));
                }
                want[i] = s;
            }
            long[] w = wordsToHalves(want);
            assertEquals(w[0], m.s.xmm[2], "mpsadbw");
            assertEquals(w[1], m.s.xmm[3], "mpsadbw");
            // PHMINPOSUW
            ok("660f3841ca");
            int min = 0x10000;
            int at = 0;
            for (int i = 0; i < 8; i++) {
                int v = word(blo, bhi, i) & 0xffff;
                if (v < min) {
                    min = v;
                    at = i;
                }
            }
            assertEquals(min | ((long) at << 16), m.s.xmm[2]);
            assertEquals(0, m.s.xmm[3]);
            // PMINUD
            xmm(1, alo, ahi);
            ok("660f383bca");
            long lo = Integer.toUnsignedLong(Integer.compareUnsigned((int) alo, (int) blo) < 0 ? (int) alo : (int) blo)
                    | (long) (Integer.compareUnsigned((int) (alo >>> 32), (int) (blo >>> 32)) < 0 ? (int) (alo >>> 32)
                            : (int) (blo >>> 32)) << 32;
            assertEquals(lo, m.s.xmm[2], "pminud");
            // PMOVSXBW
            ok("660f3820ca");
            for (int i = 0; i < 8; i++) {
                want[i] = (byte) byteOf(blo, bhi, i);
            }
            w = wordsToHalves(want);
            assertEquals(w[0], m.s.xmm[2], "pmovsxbw");
            assertEquals(w[1], m.s.xmm[3], "pmovsxbw");
            // PTEST: ZF = (dst AND src) == 0, CF = (NOT dst AND src) == 0; others cleared
            long tlo = r.nextInt(3) == 0 ? blo & ~alo : blo;
            xmm(1, alo, ahi);
            xmm(2, tlo, r.nextBoolean() ? bhi & ahi : bhi);
            m.s.setRflags(CpuState.OF | CpuState.SF | CpuState.AF | CpuState.PF);
            ok("660f3817ca");
            long zf = ((alo & m.s.xmm[4]) | (ahi & m.s.xmm[5])) == 0 ? CpuState.ZF : 0;
            long cf = ((~alo & m.s.xmm[4]) | (~ahi & m.s.xmm[5])) == 0 ? CpuState.CF : 0;
            assertEquals(zf | cf, m.s.getRflags() & Flags.ARITH, "ptest");
            // PBLENDVB with the XMM0 mask
            xmm(0, r.nextLong(), r.nextLong());
            xmm(1, alo, ahi);
            xmm(2, blo, bhi);
            ok("660f3810ca");
            for (int i = 0; i < 16; i++) {
                int sel = byteOf(m.s.xmm[0], m.s.xmm[1], i) & 0x80;
                assertEquals(sel != 0 ? byteOf(blo, bhi, i) : byteOf(alo, ahi, i), byteOf(m.s.xmm[2], m.s.xmm[3], i));
            }
        }
    }

    @Test
    void insertExtractAndDotProduct() {
        xmm(1, 0x1111_1111_2222_2222L, 0x3333_3333_4444_4444L);
        xmm(2, 0x5555_5555_6666_6666L, 0x7777_7777_8888_8888L);
        ok("660f3a21ca9a"); // insertps: src dword 2, to dst dword 1, zero dwords 1 and 3 (mask 1010b)
        assertEquals(0x0000_0000_2222_2222L, m.s.xmm[2]);
        assertEquals(0x0000_0000_4444_4444L, m.s.xmm[3]);
        xmm(1, 1, 0xdead_beef_0000_0042L);
        ok("66480f3a16c801"); // pextrq $1, xmm1, rax
        assertEquals(0xdead_beef_0000_0042L, m.s.gpr[CpuState.RAX]);
        m.s.gpr[CpuState.RDX] = 0x1234_56ab;
        ok("660f3a20ca09"); // pinsrb $9, edx, xmm1
        assertEquals(0xdead_beef_0000_ab42L, m.s.xmm[3]);
        // DPPS $0xff: 1*5 + 2*6 + 3*7 + 4*8 = 70 in every lane
        xmm(1, pf(1, 2), pf(3, 4));
        xmm(2, pf(5, 6), pf(7, 8));
        ok("660f3a40caff");
        assertEquals(pf(70, 70), m.s.xmm[2]);
        assertEquals(pf(70, 70), m.s.xmm[3]);
    }

    static long pf(float lo, float hi) {
        return (Float.floatToRawIntBits(lo) & 0xffff_ffffL) | ((long) Float.floatToRawIntBits(hi) << 32);
    }

    // ------------------------------------------------------------------------------------------
    // SSE4.2 string compares against a matrix model of SDM Vol. 2B §4.1

    /** Reference PCMPxSTRx: returns {IntRes2, ecx-index, flags} for Src1 a, Src2 b. */
    static int[] pcmpstrRef(int[] a, int[] b, int len1, int len2, int imm) {
        boolean words = (imm & 1) != 0;
        int n = words ? 8 : 16;
        boolean[][] boolRes = new boolean[n][n]; // [i of Src1][j of Src2]
        int agg = (imm >> 2) & 3;
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                boolean v1 = i < len1;
                boolean v2 = j < len2;
                boolean cmp = agg == 1 ? ((i & 1) == 0 ? a[i] <= b[j] : a[i] >= b[j]) : a[i] == b[j];
                boolean res;
                if (v1 && v2) {
                    res = cmp;
                } else if (!v1 && !v2) { // Table 4-7
                    res = agg >= 2;
                } else if (!v1) {
                    res = agg == 3;
                } else {
                    res = false;
                }
                boolRes[i][j] = res;
            }
        }
        int res1 = 0;
        for (int j = 0; j < n; j++) {
            boolean bit = false;
            switch (agg) {
                case 0 -> {
                    for (int i = 0; i < n; i++) {
                        bit |= boolRes[i][j];
                    }
                }
                case 1 -> {
                    for (int i = 0; i + 1 < n; i += 2) {
                        bit |= boolRes[i][j] && boolRes[i + 1][j];
                    }
                }
                case 2 -> bit = boolRes[j][j];
                default -> {
                    bit = true;
                    for (int i = 0; i < n - j; i++) {
                        bit &= boolRes[i][j + i];
                    }
                }
            }
            if (bit) {
                res1 |= 1 << j;
            }
        }
        int res2 = switch ((imm >> 4) & 3) {
            case 1 -> res1 ^ ((1 << n) - 1);
            case 3 -> res1 ^ ((1 << len2) - 1);
            default -> res1;
        };
        int idx = res2 == 0 ? n : (imm & 0x40) != 0 ? 31 - Integer.numberOfLeadingZeros(res2)
                : Integer.numberOfTrailingZeros(res2);
        long f = (res2 != 0 ? CpuState.CF : 0) | (len2 < n ? CpuState.ZF : 0) | (len1 < n ? CpuState.SF : 0)
                | ((res2 & 1) != 0 ? CpuState.OF : 0);
        return new int[] {res2, idx, (int) f};
    }

    static int[] elems(long lo, long hi, int imm) {
        boolean words = (imm & 1) != 0;
        boolean signed = (imm & 2) != 0;
        int n = words ? 8 : 16;
        int[] e = new int[n];
        for (int i = 0; i < n; i++) {
            if (words) {
                int v = word(lo, hi, i) & 0xffff;
                e[i] = signed ? (short) v : v;
            } else {
                int v = byteOf(lo, hi, i);
                e[i] = signed ? (byte) v : v;
            }
        }
        return e;
    }

    static long randomString(Random r) {
        long v = 0;
        int alpha = 2 + r.nextInt(6);
        for (int i = 0; i < 8; i++) {
            long c = r.nextInt(8) == 0 ? r.nextInt(256) : 'a' + r.nextInt(alpha);
            if (r.nextInt(24) == 0) {
                c = 0;
            }
            v |= c << (8 * i);
        }
        return v;
    }

    @Test
    void pcmpxstrxEveryImm8ModeMatchesTheMatrixModel() {
        Random r = seeded("pcmpxstrx");
        for (int iter = 0; iter < 3000; iter++) {
            int imm = r.nextInt(128);
            long alo = randomString(r), ahi = randomString(r), blo = randomString(r), bhi = randomString(r);
            if (r.nextBoolean()) {
                blo = (blo << 24) | (alo & 0xffffff); // plant a needle prefix
            }
            int n = (imm & 1) != 0 ? 8 : 16;
            int[] a = elems(alo, ahi, imm);
            int[] b = elems(blo, bhi, imm);
            int kind = r.nextInt(4); // 0 ESTRI, 1 ESTRM, 2 ISTRI, 3 ISTRM
            int len1;
            int len2;
            long rax = 0;
            long rdx = 0;
            boolean rexW = r.nextInt(4) == 0;
            if (kind < 2) {
                rax = r.nextInt(4) == 0 ? r.nextLong() : r.nextInt(41) - 20;
                rdx = r.nextInt(4) == 0 ? r.nextLong() : r.nextInt(41) - 20;
                len1 = explicitLen(rax, rexW, n);
                len2 = explicitLen(rdx, rexW, n);
            } else {
                len1 = implicitLen(a, n);
                len2 = implicitLen(b, n);
            }
            xmm(1, alo, ahi);
            xmm(2, blo, bhi);
            m.s.gpr[CpuState.RAX] = rax;
            m.s.gpr[CpuState.RDX] = rdx;
            m.s.gpr[CpuState.RCX] = -1;
            m.s.setRflags(CpuState.AF | CpuState.PF);
            int opc = new int[] {0x61, 0x60, 0x63, 0x62}[kind];
            ok(String.format(rexW ? "66480f3a%02xca%02x" : "660f3a%02xca%02x", opc, imm));
            int[] want = pcmpstrRef(a, b, len1, len2, imm);
            String what = String.format("kind %d imm 0x%x a=%016x:%016x b=%016x:%016x len %d/%d", kind, imm, ahi, alo,
                    bhi, blo, len1, len2);
            assertEquals(want[2], m.s.getRflags() & Flags.ARITH, what);
            if (kind == 0 || kind == 2) {
                assertEquals(want[1], m.s.gpr[CpuState.RCX], what);
            } else if ((imm & 0x40) == 0) {
                assertEquals(want[0], m.s.xmm[0], what);
                assertEquals(0, m.s.xmm[1], what);
            } else {
                int w = (imm & 1) != 0 ? 16 : 8;
                for (int i = 0; i < n; i++) {
                    long el = ((i * w < 64 ? m.s.xmm[0] >>> (i * w) : m.s.xmm[1] >>> (i * w - 64))) & ((1L << w) - 1);
                    assertEquals((want[0] >> i & 1) != 0 ? (1L << w) - 1 : 0, el, what + " element " + i);
                }
            }
        }
    }

    static int explicitLen(long v, boolean wide, int n) {
        long x = wide ? v : (int) v;
        java.math.BigInteger abs = java.math.BigInteger.valueOf(x).abs();
        return abs.compareTo(java.math.BigInteger.valueOf(n)) > 0 ? n : abs.intValue();
    }

    static int implicitLen(int[] e, int n) {
        for (int i = 0; i < n; i++) {
            if (e[i] == 0) {
                return i;
            }
        }
        return n;
    }

    // ------------------------------------------------------------------------------------------
    // Scalar extensions

    static int crc32cBitwise(int crc, long v, int bytes) {
        for (int i = 0; i < 8 * bytes; i++) {
            int bit = (int) ((v >>> i) & 1) ^ (crc & 1);
            crc = (crc >>> 1) ^ (bit != 0 ? 0x82f63b78 : 0);
        }
        return crc;
    }

    @Test
    void crc32AllSizesAndMovbe() {
        Random r = seeded("crc32");
        String[] enc = {"f20f38f0c2", "66f20f38f1c2", "f20f38f1c2", "f2480f38f1c2"};
        for (int iter = 0; iter < 400; iter++) {
            int k = r.nextInt(4);
            long v = r.nextLong();
            long crc = r.nextLong();
            m.s.gpr[CpuState.RAX] = crc;
            m.s.gpr[CpuState.RDX] = v;
            m.s.setRflags(CpuState.CF | CpuState.ZF);
            ok(enc[k]);
            int want = crc32cBitwise((int) crc, v, 1 << k);
            assertEquals(Integer.toUnsignedLong(want), m.s.gpr[CpuState.RAX], "crc32 size " + (1 << k));
            assertEquals(CpuState.CF | CpuState.ZF, m.s.getRflags() & Flags.ARITH, "CRC32 changes no flags");
        }
        m.mmu.write64(DATA, 0x0102_0304_0506_0708L);
        m.s.gpr[CpuState.RDX] = DATA;
        ok("480f38f002"); // movbe (%rdx),%rax
        assertEquals(0x0807_0605_0403_0201L, m.s.gpr[CpuState.RAX]);
        ok("0f38f002"); // movbe (%rdx),%eax
        assertEquals(0x0807_0605L, m.s.gpr[CpuState.RAX]);
        m.s.gpr[CpuState.RAX] = 0xaabb;
        ok("660f38f102"); // movbe %ax,(%rdx)
        assertEquals(0x0102_0304_0506_bbaaL, m.mmu.read64(DATA));
        assertEquals(Exit.EXCEPTION, exec("0f38f0c2")); // MOVBE with a register operand is #UD
        assertEquals(Vectors.UD, m.s.exceptionVector);
    }

    @Test
    void lzcntPopcntAndTheirFlags() {
        long[] vals = {0, 1, 0x80, 0xffff_ffffL, Long.MIN_VALUE, 0x0000_0100_0000_0000L};
        for (long v : vals) {
            m.s.gpr[CpuState.RDX] = v;
            m.s.setRflags(CpuState.OF | CpuState.SF | CpuState.AF | CpuState.PF);
            ok("f3480fbdc2"); // lzcnt %rdx,%rax
            long n = Long.numberOfLeadingZeros(v);
            assertEquals(n, m.s.gpr[CpuState.RAX]);
            assertEquals(CpuState.OF | (v == 0 ? CpuState.CF : 0) | (n == 0 ? CpuState.ZF : 0),
                    m.s.getRflags() & Flags.ARITH, "lzcnt flags: OF kept, SF/AF/PF cleared (AMD)");
            m.s.gpr[CpuState.RAX] = 0x7777_7777_7777_7777L;
            ok("66f30fbdc2"); // lzcnt %dx,%ax
            long n16 = (v & 0xffff) == 0 ? 16 : Long.numberOfLeadingZeros(v & 0xffff) - 48;
            assertEquals(0x7777_7777_7777_0000L | n16, m.s.gpr[CpuState.RAX]);
            ok("f3480fb8c2"); // popcnt
            assertEquals(Long.bitCount(v), m.s.gpr[CpuState.RAX]);
            assertEquals(v == 0 ? CpuState.ZF : 0, m.s.getRflags() & Flags.ARITH);
        }
    }

    @Test
    void cmpxchg16bSucceedsFailsAndChecksAlignment() {
        m.mmu.write64(DATA + 16, 11);
        m.mmu.write64(DATA + 24, 22);
        m.s.gpr[CpuState.RSI] = DATA + 16;
        m.s.gpr[CpuState.RAX] = 11;
        m.s.gpr[CpuState.RDX] = 22;
        m.s.gpr[CpuState.RBX] = 33;
        m.s.gpr[CpuState.RCX] = 44;
        ok("f0480fc70e");
        assertEquals(CpuState.ZF, m.s.getRflags() & CpuState.ZF);
        assertEquals(33, m.mmu.read64(DATA + 16));
        assertEquals(44, m.mmu.read64(DATA + 24));
        ok("f0480fc70e"); // now RDX:RAX (22:11) differs: load 44:33, ZF = 0
        assertEquals(0, m.s.getRflags() & CpuState.ZF);
        assertEquals(33, m.s.gpr[CpuState.RAX]);
        assertEquals(44, m.s.gpr[CpuState.RDX]);
        assertEquals(33, m.mmu.read64(DATA + 16));
        m.s.gpr[CpuState.RSI] = DATA + 8;
        assertEquals(Exit.EXCEPTION, exec("f0480fc70e"));
        assertEquals(Vectors.GP, m.s.exceptionVector);
        assertEquals(CODE, m.s.rip);
    }

    @Test
    void lahfSahfIn64BitMode() {
        m.s.gpr[CpuState.RAX] = 0xd5_00L; // SF ZF AF PF CF
        ok("9e");
        assertEquals(0xd5, m.s.getRflags() & 0xd5);
        m.s.gpr[CpuState.RAX] = 0;
        ok("9f");
        assertEquals(0xd7_00L, m.s.gpr[CpuState.RAX]);
    }

    @Test
    void cpuidAdvertisesExactlyTheX8664V2Level() {
        long[] r = new long[16];
        r[0] = 1;
        Cpuid.execute(m.s, m.mmu.model(), r);
        long ecx = r[1];
        long edx = r[2];
        for (int bit : new int[] {0, 9, 13, 19, 20, 22, 23}) { // SSE3 SSSE3 CX16 SSE4.1 SSE4.2 MOVBE POPCNT
            assertEquals(1, (ecx >>> bit) & 1, "leaf 1 ECX bit " + bit);
        }
        for (int bit : new int[] {1, 12, 28, 29, 30}) { // PCLMUL FMA AVX F16C RDRAND (XSAVE is, for x87+SSE)
            assertEquals(0, (ecx >>> bit) & 1, "leaf 1 ECX bit " + bit);
        }
        assertEquals(1, (edx >>> 26) & 1); // SSE2
        assertEquals(1, (edx >>> 23) & 1); // MMX (part of the x86-64 baseline)
        r[0] = 0x80000001L;
        Cpuid.execute(m.s, m.mmu.model(), r);
        assertEquals(1, r[1] & 1); // LAHF-SAHF
        assertEquals(1, (r[1] >>> 5) & 1); // ABM (LZCNT)
        r[0] = 7;
        r[1] = 0;
        Cpuid.execute(m.s, m.mmu.model(), r);
        assertEquals(0, r[3] & ((1 << 3) | (1 << 5) | (1 << 8))); // no BMI1, AVX2, BMI2
    }

    @Test
    void ssse3WithoutItsMmxFormAndPclmulAreUndefined() {
        assertEquals(Exit.EXCEPTION, exec("0f3820ca")); // pmovsxbw needs 66: no MMX form
        assertEquals(Vectors.UD, m.s.exceptionVector);
        assertEquals(Exit.EXCEPTION, exec("660f3a44ca00")); // pclmulqdq: not advertised
        assertEquals(Vectors.UD, m.s.exceptionVector);
    }

    // ------------------------------------------------------------------------------------------
    // MXCSR

    @Test
    void ldmxcsrReservedBitsAreGpAndUnmaskedExceptionsRaiseXm() {
        m.mmu.write32(DATA, 0x1_1f80);
        m.s.gpr[CpuState.RDX] = DATA;
        assertEquals(Exit.EXCEPTION, exec("0fae12"));
        assertEquals(Vectors.GP, m.s.exceptionVector);
        assertEquals(0x1f80, m.s.mxcsr);
        // ZE unmasked: 1.0 / 0.0 raises #XM, the destination keeps its value, ZE is set
        m.s.mxcsr = 0x1f80 & ~(SoftFloat.ZE << 7);
        xmm(1, Double.doubleToRawLongBits(1.0), 7);
        xmm(2, 0, 0);
        assertEquals(Exit.EXCEPTION, exec("f20f5eca")); // divsd
        assertEquals(Vectors.XM, m.s.exceptionVector);
        assertEquals(Double.doubleToRawLongBits(1.0), m.s.xmm[2]);
        assertNotEquals(0, m.s.mxcsr & SoftFloat.ZE);
        // masked: +inf and ZE
        m.s.mxcsr = 0x1f80;
        ok("f20f5eca");
        assertEquals(Double.doubleToRawLongBits(Double.POSITIVE_INFINITY), m.s.xmm[2]);
        assertEquals(SoftFloat.ZE, m.s.mxcsr & 0x3f);
    }

    @Test
    void maskmovdquStoresSelectedBytesAtRdi() {
        m.mmu.write64(DATA, -1L);
        m.mmu.write64(DATA + 8, -1L);
        m.s.gpr[CpuState.RDI] = DATA;
        xmm(1, 0x0807_0605_0403_0201L, 0x100f_0e0d_0c0b_0a09L);
        xmm(2, 0x0000_0000_0000_8080L, 0x8000_0000_0000_0000L);
        ok("660ff7ca");
        assertEquals(0xffff_ffff_ffff_0201L, m.mmu.read64(DATA));
        assertEquals(0x10ff_ffff_ffff_ffffL, m.mmu.read64(DATA + 8));
    }
}
