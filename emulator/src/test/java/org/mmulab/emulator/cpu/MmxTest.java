package org.mmulab.emulator.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import java.util.function.LongBinaryOperator;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.mmulab.emulator.cpu.fpu.X87State;

/**
 * MMX ({@link Mmx}) run through the interpreter one instruction at a time, against reference models
 * written here lane by lane from the SDM Vol. 2 pseudo-code (independently of SsePacked/Ssse3), plus the
 * x87 aliasing of SDM Vol. 1 §9.5 and the #UD/#NM/#MF checks. Randomized tests print their seed.
 * Machine code assembled with GNU as (mm1 = destination, mm2 = source).
 */
class MmxTest {
    static final long CODE = TestMachine.USER_CODE, DATA = TestMachine.USER_DATA;
    TestMachine m;

    @BeforeEach
    void setUp() {
        m = TestMachine.withUserPages();
        m.s.gpr[CpuState.RDX] = DATA;
        m.s.fpu.init();
    }

    int exec(String hex) {
        return m.execOne(hex);
    }

    void ok(String hex) {
        assertEquals(Exit.BUDGET, exec(hex), () -> hex + ": vector " + m.s.exceptionVector);
    }

    X87State f() {
        return m.s.fpu;
    }

    void mm(int i, long v) {
        f().sig[i] = v;
    }

    long mm(int i) {
        return f().sig[i];
    }

    static Random seeded(String name) {
        long seed = Long.getLong("mmx.seed", System.nanoTime());
        System.out.println("MmxTest." + name + " seed " + seed + " (rerun with -Dmmx.seed=" + seed + ")");
        return new Random(seed);
    }

    /** Random operand with lanes biased towards the saturation and sign edges. */
    static long edgy(Random r) {
        long v = r.nextLong();
        for (int i = 0; i < 8; i++) {
            if (r.nextInt(3) == 0) {
                long[] e = {0x00, 0x7f, 0x80, 0xff, 0x01};
                v = (v & ~(0xffL << (8 * i))) | (e[r.nextInt(e.length)] << (8 * i));
            }
        }
        return v;
    }

    // ---- reference models (SDM Vol. 2 Operation sections) ----

    interface Lane {
        long apply(long a, long b, int w);
    }

    static long sx(long v, int w) {
        return (v << (64 - w)) >> (64 - w);
    }

    static long ux(long v, int w) {
        return w == 64 ? v : v & ((1L << w) - 1);
    }

    static long sat(long v, int w, boolean signed) {
        long lo = signed ? -(1L << (w - 1)) : 0;
        long hi = signed ? (1L << (w - 1)) - 1 : (1L << w) - 1;
        return Math.max(lo, Math.min(hi, v));
    }

    static long lanes(long a, long b, int w, Lane op) {
        long r = 0;
        for (int i = 0; i < 64; i += w) {
            r |= ux(op.apply(a >>> i, b >>> i, w), w) << i;
        }
        return r;
    }

    static LongBinaryOperator lane(int w, Lane op) {
        return (a, b) -> lanes(a, b, w, op);
    }

    static long unpack(long a, long b, int w, boolean high) {
        long r = 0;
        int base = high ? 32 : 0;
        for (int i = 0, o = 0; i < 32; i += w, o += 2 * w) {
            r |= ux(a >>> (base + i), w) << o;
            r |= ux(b >>> (base + i), w) << (o + w);
        }
        return r;
    }

    static long pack(long a, long b, int w, boolean signed) {
        long r = 0;
        int o = 0;
        for (long v : new long[] {a, b}) {
            for (int i = 0; i < 64; i += w, o += w / 2) {
                r |= ux(sat(sx(v >>> i, w), w / 2, signed), w / 2) << o;
            }
        }
        return r;
    }

    static final Object[][] BINARY = {
        {"0ffcca", "paddb", lane(8, (a, b, w) -> a + b)},
        {"0ffdca", "paddw", lane(16, (a, b, w) -> a + b)},
        {"0ffeca", "paddd", lane(32, (a, b, w) -> a + b)},
        {"0fd4ca", "paddq", (LongBinaryOperator) (a, b) -> a + b},
        {"0fecca", "paddsb", lane(8, (a, b, w) -> sat(sx(a, w) + sx(b, w), w, true))},
        {"0fedca", "paddsw", lane(16, (a, b, w) -> sat(sx(a, w) + sx(b, w), w, true))},
        {"0fdcca", "paddusb", lane(8, (a, b, w) -> sat(ux(a, w) + ux(b, w), w, false))},
        {"0fddca", "paddusw", lane(16, (a, b, w) -> sat(ux(a, w) + ux(b, w), w, false))},
        {"0ff8ca", "psubb", lane(8, (a, b, w) -> a - b)},
        {"0ff9ca", "psubw", lane(16, (a, b, w) -> a - b)},
        {"0ffaca", "psubd", lane(32, (a, b, w) -> a - b)},
        {"0ffbca", "psubq", (LongBinaryOperator) (a, b) -> a - b},
        {"0fe8ca", "psubsb", lane(8, (a, b, w) -> sat(sx(a, w) - sx(b, w), w, true))},
        {"0fe9ca", "psubsw", lane(16, (a, b, w) -> sat(sx(a, w) - sx(b, w), w, true))},
        {"0fd8ca", "psubusb", lane(8, (a, b, w) -> sat(ux(a, w) - ux(b, w), w, false))},
        {"0fd9ca", "psubusw", lane(16, (a, b, w) -> sat(ux(a, w) - ux(b, w), w, false))},
        {"0f74ca", "pcmpeqb", lane(8, (a, b, w) -> ux(a, w) == ux(b, w) ? -1 : 0)},
        {"0f75ca", "pcmpeqw", lane(16, (a, b, w) -> ux(a, w) == ux(b, w) ? -1 : 0)},
        {"0f76ca", "pcmpeqd", lane(32, (a, b, w) -> ux(a, w) == ux(b, w) ? -1 : 0)},
        {"0f64ca", "pcmpgtb", lane(8, (a, b, w) -> sx(a, w) > sx(b, w) ? -1 : 0)},
        {"0f65ca", "pcmpgtw", lane(16, (a, b, w) -> sx(a, w) > sx(b, w) ? -1 : 0)},
        {"0f66ca", "pcmpgtd", lane(32, (a, b, w) -> sx(a, w) > sx(b, w) ? -1 : 0)},
        {"0fdbca", "pand", (LongBinaryOperator) (a, b) -> a & b},
        {"0fdfca", "pandn", (LongBinaryOperator) (a, b) -> ~a & b},
        {"0febca", "por", (LongBinaryOperator) (a, b) -> a | b},
        {"0fefca", "pxor", (LongBinaryOperator) (a, b) -> a ^ b},
        {"0fd5ca", "pmullw", lane(16, (a, b, w) -> sx(a, w) * sx(b, w))},
        {"0fe5ca", "pmulhw", lane(16, (a, b, w) -> (sx(a, w) * sx(b, w)) >> 16)},
        {"0fe4ca", "pmulhuw", lane(16, (a, b, w) -> (ux(a, w) * ux(b, w)) >>> 16)},
        {"0ff5ca", "pmaddwd", lane(32, (a, b, w) -> sx(a, 16) * sx(b, 16) + sx(a >>> 16, 16) * sx(b >>> 16, 16))},
        {"0fdaca", "pminub", lane(8, (a, b, w) -> Math.min(ux(a, w), ux(b, w)))},
        {"0fdeca", "pmaxub", lane(8, (a, b, w) -> Math.max(ux(a, w), ux(b, w)))},
        {"0feaca", "pminsw", lane(16, (a, b, w) -> Math.min(sx(a, w), sx(b, w)))},
        {"0feeca", "pmaxsw", lane(16, (a, b, w) -> Math.max(sx(a, w), sx(b, w)))},
        {"0fe0ca", "pavgb", lane(8, (a, b, w) -> (ux(a, w) + ux(b, w) + 1) >> 1)},
        {"0fe3ca", "pavgw", lane(16, (a, b, w) -> (ux(a, w) + ux(b, w) + 1) >> 1)},
        {"0ff4ca", "pmuludq", (LongBinaryOperator) (a, b) -> ux(a, 32) * ux(b, 32)},
        {"0ff6ca", "psadbw", (LongBinaryOperator) (a, b) -> {
            long s = 0;
            for (int i = 0; i < 64; i += 8) {
                s += Math.abs(ux(a >>> i, 8) - ux(b >>> i, 8));
            }
            return s;
        }},
        {"0f60ca", "punpcklbw", (LongBinaryOperator) (a, b) -> unpack(a, b, 8, false)},
        {"0f61ca", "punpcklwd", (LongBinaryOperator) (a, b) -> unpack(a, b, 16, false)},
        {"0f62ca", "punpckldq", (LongBinaryOperator) (a, b) -> unpack(a, b, 32, false)},
        {"0f68ca", "punpckhbw", (LongBinaryOperator) (a, b) -> unpack(a, b, 8, true)},
        {"0f69ca", "punpckhwd", (LongBinaryOperator) (a, b) -> unpack(a, b, 16, true)},
        {"0f6aca", "punpckhdq", (LongBinaryOperator) (a, b) -> unpack(a, b, 32, true)},
        {"0f63ca", "packsswb", (LongBinaryOperator) (a, b) -> pack(a, b, 16, true)},
        {"0f6bca", "packssdw", (LongBinaryOperator) (a, b) -> pack(a, b, 32, true)},
        {"0f67ca", "packuswb", (LongBinaryOperator) (a, b) -> pack(a, b, 16, false)},
        // SSSE3 MMX forms
        {"0f3808ca", "psignb", lane(8, (a, b, w) -> sx(b, w) < 0 ? -a : sx(b, w) == 0 ? 0 : a)},
        {"0f3809ca", "psignw", lane(16, (a, b, w) -> sx(b, w) < 0 ? -a : sx(b, w) == 0 ? 0 : a)},
        {"0f380aca", "psignd", lane(32, (a, b, w) -> sx(b, w) < 0 ? -a : sx(b, w) == 0 ? 0 : a)},
        {"0f381cca", "pabsb", lane(8, (a, b, w) -> Math.abs(sx(b, w)))},
        {"0f381dca", "pabsw", lane(16, (a, b, w) -> Math.abs(sx(b, w)))},
        {"0f381eca", "pabsd", lane(32, (a, b, w) -> Math.abs(sx(b, w)))},
        {"0f380bca", "pmulhrsw", lane(16, (a, b, w) -> (((sx(a, w) * sx(b, w)) >> 14) + 1) >> 1)},
        {"0f3804ca", "pmaddubsw", lane(16, (a, b, w) -> sat(ux(a, 8) * sx(b, 8) + ux(a >>> 8, 8) * sx(b >>> 8, 8), 16, true))},
        {"0f3801ca", "phaddw", (LongBinaryOperator) (a, b) -> hor(a, b, 16, (x, y) -> x + y, false)},
        {"0f3803ca", "phaddsw", (LongBinaryOperator) (a, b) -> hor(a, b, 16, (x, y) -> x + y, true)},
        {"0f3805ca", "phsubw", (LongBinaryOperator) (a, b) -> hor(a, b, 16, (x, y) -> x - y, false)},
        {"0f3807ca", "phsubsw", (LongBinaryOperator) (a, b) -> hor(a, b, 16, (x, y) -> x - y, true)},
        {"0f3802ca", "phaddd", (LongBinaryOperator) (a, b) -> hor(a, b, 32, (x, y) -> x + y, false)},
        {"0f3806ca", "phsubd", (LongBinaryOperator) (a, b) -> hor(a, b, 32, (x, y) -> x - y, false)},
        {"0f3800ca", "pshufb", (LongBinaryOperator) (a, b) -> {
            long r = 0;
            for (int i = 0; i < 8; i++) {
                long c = ux(b >>> (8 * i), 8);
                r |= ((c & 0x80) != 0 ? 0 : ux(a >>> (8 * (c & 7)), 8)) << (8 * i);
            }
            return r;
        }},
    };

    /** PHADD/PHSUB: adjacent pairs of a give the low half of the result, of b the high half. */
    static long hor(long a, long b, int w, LongBinaryOperator op, boolean saturate) {
        long r = 0;
        int o = 0;
        for (long v : new long[] {a, b}) {
            for (int i = 0; i < 64; i += 2 * w, o += w) {
                long s = op.applyAsLong(sx(v >>> i, w), sx(v >>> (i + w), w));
                r |= ux(saturate ? sat(s, w, true) : s, w) << o;
            }
        }
        return r;
    }

    @Test
    void binaryOpsMatchTheSdmPseudoCode() {
        Random r = seeded("binaryOps");
        for (Object[] t : BINARY) {
            LongBinaryOperator ref = (LongBinaryOperator) t[2];
            for (int iter = 0; iter < 200; iter++) {
                long a = edgy(r), b = edgy(r);
                mm(1, a);
                mm(2, b);
                ok((String) t[0]);
                long want = ref.applyAsLong(a, b);
                assertEquals(want, mm(1), () -> String.format("%s %016x, %016x", t[1], a, b));
                assertEquals(b, mm(2));
            }
            // the m64 form: ModRM 0a = [rdx], any alignment
            long a = edgy(r), b = edgy(r);
            mm(1, a);
            m.mmu.write64(DATA + 3, b);
            m.s.gpr[CpuState.RDX] = DATA + 3;
            String hex = (String) t[0];
            ok(hex.substring(0, hex.length() - 2) + "0a");
            m.s.gpr[CpuState.RDX] = DATA;
            assertEquals(ref.applyAsLong(a, b), mm(1), (String) t[1] + " m64");
        }
    }

    @Test
    void edgeCasesOfSaturationPackAndMultiply() {
        mm(1, 0x8000_8000_8000_8000L);
        mm(2, 0x8000_8000_8000_8000L);
        ok("0ff5ca"); // pmaddwd: 2 * 0x8000 * 0x8000 = 0x80000000, the one overflowing case
        assertEquals(0x8000_0000_8000_0000L, mm(1));
        mm(1, 0x7fff_8000_0100_ff7fL);
        mm(2, 0x0080_ff80_007f_ff80L);
        ok("0f63ca"); // packsswb
        assertEquals(0x7f80_7f80_7f80_7f80L, mm(1));
        assertEquals(0x7f, (mm(1) >>> 24) & 0xff, "0x7fff -> 0x7f");
        assertEquals(0x80, (mm(1) >>> 16) & 0xff, "0x8000 -> 0x80");
        assertEquals(0x7f, (mm(1) >>> 8) & 0xff, "0x0100 -> 0x7f");
        assertEquals(0x80, mm(1) & 0xff, "0xff7f -> 0x80");
        mm(1, 0x0100_ffff_0080_007fL);
        mm(2, 0);
        ok("0f67ca"); // packuswb
        assertEquals(0xff00_807fL, mm(1));
        mm(1, 0x7fff_0001_8000_fffeL);
        mm(2, 0x0001_0001_ffff_ffffL);
        ok("0fedca"); // paddsw
        assertEquals(0x7fff_0002_8000_fffdL, mm(1));
    }

    @Test
    void shiftCountsAtAndBeyondTheWidth() {
        long v = 0x8001_7ffe_4000_0001L;
        Object[][] cases = { // code, count in mm2, expected
            {"0ff1ca", 15L, lanes(v, 0, 16, (a, b, w) -> a << 15)},
            {"0ff1ca", 16L, 0L},
            {"0fe1ca", 16L, lanes(v, 0, 16, (a, b, w) -> sx(a, w) >> 15)}, // psraw: sign fill
            {"0fe1ca", 1L << 32, lanes(v, 0, 16, (a, b, w) -> sx(a, w) >> 15)}, // whole 64-bit count counts
            {"0fd1ca", 1L << 32, 0L}, // psrlw
            {"0fd3ca", 63L, v >>> 63}, // psrlq
            {"0fd3ca", 64L, 0L},
            {"0ff3ca", 64L, 0L}, // psllq
            {"0ff2ca", 31L, lanes(v, 0, 32, (a, b, w) -> a << 31)}, // pslld
            {"0fe2ca", 40L, lanes(v, 0, 32, (a, b, w) -> sx(a, w) >> 31)}, // psrad
        };
        for (Object[] c : cases) {
            mm(1, v);
            mm(2, (Long) c[1]);
            ok((String) c[0]);
            assertEquals((long) (Long) c[2], mm(1), c[0] + " by " + c[1]);
        }
        Object[][] imm = {
            {"0f71f103", lanes(v, 0, 16, (a, b, w) -> a << 3)}, // psllw $3
            {"0f71e10f", lanes(v, 0, 16, (a, b, w) -> sx(a, w) >> 15)}, // psraw $15
            {"0f71e1ff", lanes(v, 0, 16, (a, b, w) -> sx(a, w) >> 15)}, // psraw $255
            {"0f71d110", 0L}, // psrlw $16
            {"0f72e104", lanes(v, 0, 32, (a, b, w) -> sx(a, w) >> 4)}, // psrad $4
            {"0f72d104", lanes(v, 0, 32, (a, b, w) -> ux(a, w) >>> 4)}, // psrld $4
            {"0f72f120", 0L}, // pslld $32
            {"0f73d101", v >>> 1}, // psrlq $1
            {"0f73f13f", v << 63}, // psllq $63
            {"0f73f140", 0L}, // psllq $64
        };
        for (Object[] c : imm) {
            mm(1, v);
            ok((String) c[0]);
            assertEquals((long) (Long) c[1], mm(1), (String) c[0]);
        }
        // 0F 73 /3 and /7 (PSRLDQ/PSLLDQ) and 0F 72 /4 with memory have no MMX form
        assertEquals(Exit.EXCEPTION, exec("0f73d901"));
        assertEquals(Vectors.UD, m.s.exceptionVector);
        assertEquals(Exit.EXCEPTION, exec("0f722204"));
        assertEquals(Vectors.UD, m.s.exceptionVector);
    }

    @Test
    void movesBetweenMmxGprsMemoryAndXmm() {
        m.s.gpr[CpuState.RAX] = 0x1122_3344_8899_aabbL;
        ok("0f6ec8"); // movd %eax,%mm1
        assertEquals(0x8899_aabbL, mm(1));
        ok("480f6ec8"); // movq %rax,%mm1
        assertEquals(0x1122_3344_8899_aabbL, mm(1));
        mm(1, 0xf0e0_d0c0_b0a0_9080L);
        ok("0f7ec8"); // movd %mm1,%eax (zero-extends into RAX)
        assertEquals(0xb0a0_9080L, m.s.gpr[CpuState.RAX]);
        ok("480f7ec8"); // movq %mm1,%rax
        assertEquals(0xf0e0_d0c0_b0a0_9080L, m.s.gpr[CpuState.RAX]);
        ok("0f7f0a"); // movq %mm1,(%rdx)
        assertEquals(0xf0e0_d0c0_b0a0_9080L, m.mmu.read64(DATA));
        m.mmu.write64(DATA + 8, 0x0102_0304_0506_0708L);
        m.s.gpr[CpuState.RDX] = DATA + 8;
        ok("0f6f0a"); // movq (%rdx),%mm1
        assertEquals(0x0102_0304_0506_0708L, mm(1));
        ok("0f6fd1"); // movq %mm1,%mm2 (load form)
        assertEquals(0x0102_0304_0506_0708L, mm(2));
        mm(1, 5);
        ok("0f7fcb"); // movq %mm1,%mm3 (store form)
        assertEquals(5, mm(3));
        mm(1, 0x1234);
        m.s.gpr[CpuState.RDX] = DATA + 16;
        ok("0fe70a"); // movntq %mm1,(%rdx)
        assertEquals(0x1234, m.mmu.read64(DATA + 16));
        assertEquals(Exit.EXCEPTION, exec("0fe7ca")); // movntq needs memory
        assertEquals(Vectors.UD, m.s.exceptionVector);
        mm(2, 0xabcdL);
        m.s.xmm[2] = 1;
        m.s.xmm[3] = 2;
        ok("f30fd6ca"); // movq2dq %mm2,%xmm1
        assertEquals(0xabcdL, m.s.xmm[2]);
        assertEquals(0, m.s.xmm[3]);
        m.s.xmm[4] = 0x77;
        ok("f20fd6ca"); // movdq2q %xmm2,%mm1
        assertEquals(0x77, mm(1));
    }

    @Test
    void sseIntegerFormsOnMmxRegisters() {
        mm(2, 0x4444_3333_2222_1111L);
        ok("0f70ca1b"); // pshufw $0x1b: reverse the words
        assertEquals(0x1111_2222_3333_4444L, mm(1));
        m.s.gpr[CpuState.RAX] = 0xffff_9999L;
        ok("0fc4c802"); // pinsrw $2,%eax,%mm1
        assertEquals(0x1111_9999_3333_4444L, mm(1));
        ok("0fc5c203"); // pextrw $3,%mm2,%eax
        assertEquals(0x4444L, m.s.gpr[CpuState.RAX]);
        mm(2, 0x80ff_7f00_0180_ff01L);
        ok("0fd7c2"); // pmovmskb %mm2,%eax
        assertEquals(0b1100_0110L, m.s.gpr[CpuState.RAX]);
        // maskmovq: bytes of mm1 whose mask byte in mm2 has bit 7 set go to [rdi]
        m.mmu.write64(DATA, 0);
        m.s.gpr[CpuState.RDI] = DATA;
        mm(1, 0x0807_0605_0403_0201L);
        ok("0ff7ca");
        assertEquals(0x0807_0000_0003_0200L, m.mmu.read64(DATA));
        mm(1, 0x0102_0304_0506_0708L);
        mm(2, 0x1122_3344_5566_7788L);
        ok("0f3a0fca03"); // palignr $3: bytes 3..10 of mm1:mm2
        assertEquals(0x0607_0811_2233_4455L, mm(1));
    }

    @Test
    void conversionsBetweenMmxAndXmm() {
        mm(2, ((long) -3 << 32) | 7);
        m.s.xmm[3] = 0x5555;
        ok("0f2aca"); // cvtpi2ps %mm2,%xmm1
        assertEquals(7.0f, Float.intBitsToFloat((int) m.s.xmm[2]));
        assertEquals(-3.0f, Float.intBitsToFloat((int) (m.s.xmm[2] >>> 32)));
        assertEquals(0x5555, m.s.xmm[3], "upper half kept");
        ok("660f2aca"); // cvtpi2pd %mm2,%xmm1
        assertEquals(7.0, Double.longBitsToDouble(m.s.xmm[2]));
        assertEquals(-3.0, Double.longBitsToDouble(m.s.xmm[3]));
        m.s.xmm[4] = ((long) Float.floatToRawIntBits(-2.5f) << 32) | Float.floatToRawIntBits(1.5f);
        ok("0f2dca"); // cvtps2pi: round to nearest even
        assertEquals(((long) -2 << 32) | 2, mm(1));
        ok("0f2cca"); // cvttps2pi: truncate
        assertEquals(((long) -2 << 32) | 1, mm(1));
        m.s.xmm[4] = Double.doubleToRawLongBits(3.5);
        m.s.xmm[5] = Double.doubleToRawLongBits(1e10);
        ok("660f2dca"); // cvtpd2pi: out of range gives the integer indefinite
        assertEquals(0x8000_0000_0000_0004L, mm(1));
        ok("660f2cca"); // cvttpd2pi
        assertEquals(0x8000_0000_0000_0003L, mm(1));
        m.mmu.write64(DATA, Double.doubleToRawLongBits(-1.0));
        m.mmu.write64(DATA + 8, Double.doubleToRawLongBits(2.0));
        ok("660f2d0a"); // cvtpd2pi (%rdx),%mm1
        assertEquals(((long) 2 << 32) | 0xffff_ffffL, mm(1));
        m.s.gpr[CpuState.RDX] = DATA + 8;
        assertEquals(Exit.EXCEPTION, exec("660f2d0a")); // the m128 source must be 16-byte aligned
        assertEquals(Vectors.GP, m.s.exceptionVector);
    }

    @Test
    void mmxRegistersAliasTheX87Registers() {
        ok("d9e8"); // fld1: TOP 7, R7 valid
        assertEquals(7, f().top);
        assertEquals(0x80, f().valid);
        m.s.gpr[CpuState.RAX] = 0x1234_5678_9abc_def0L;
        ok("480f6ee8"); // movq %rax,%mm5
        assertEquals(0, f().top, "every MMX instruction sets TOP = 0");
        assertEquals(0xff, f().valid, "and every tag valid");
        assertEquals(0x1234_5678_9abc_def0L, f().sig[5], "MM5 is R5's significand");
        assertEquals(0xffff, f().se[5], "a write sets R5's sign/exponent to all ones");
        assertEquals(0x3fff, f().se[7], "R7 (the 1.0) is not written");
        // FXSAVE: abridged tag all valid, MM5 at offset 32 + 16*5 with exponent bits FFFF
        ok("0fae02");
        assertEquals(0xff, m.mmu.read8(DATA + 4) & 0xff);
        assertEquals(0x1234_5678_9abc_def0L, m.mmu.read64(DATA + 32 + 16 * 5));
        assertEquals(0xffff, m.mmu.read16(DATA + 32 + 16 * 5 + 8) & 0xffff);
        assertEquals(0, (m.mmu.read16(DATA + 2) >>> 11) & 7, "TOP in FSW");
        // FNSAVE: ST(i) = R(i) with TOP 0, so MM5 is the sixth 10-byte register
        m.s.gpr[CpuState.RDX] = DATA + 0x200;
        ok("dd32");
        assertEquals(0x1234_5678_9abc_def0L, m.mmu.read64(DATA + 0x200 + 28 + 10 * 5));
        assertEquals(0xffff, m.mmu.read16(DATA + 0x200 + 28 + 10 * 5 + 8) & 0xffff);
        // EMMS empties every tag and leaves the values
        ok("480f6ee8");
        ok("0f77");
        assertEquals(0, f().valid);
        assertEquals(0x1234_5678_9abc_def0L, f().sig[5]);
        m.s.gpr[CpuState.RDX] = DATA + 0x400;
        ok("0fae02");
        assertEquals(0, m.mmu.read8(DATA + 0x400 + 4), "FXSAVE abridged tag after EMMS");
        // a read of an MMX register also makes the transition
        f().init();
        ok("d9e8");
        ok("0f7ee8"); // movd %mm5,%eax
        assertEquals(0, f().top);
        assertEquals(0xff, f().valid);
    }

    @Test
    void cr0AndPendingX87ExceptionChecks() {
        mm(1, 1);
        mm(2, 2);
        m.s.cr0 |= CpuState.CR0_TS;
        assertEquals(Exit.EXCEPTION, exec("0fd4ca"));
        assertEquals(Vectors.NM, m.s.exceptionVector);
        assertEquals(Exit.EXCEPTION, exec("0f77"));
        assertEquals(Vectors.NM, m.s.exceptionVector, "EMMS too");
        m.s.cr0 |= CpuState.CR0_EM;
        assertEquals(Exit.EXCEPTION, exec("0fd4ca"));
        assertEquals(Vectors.UD, m.s.exceptionVector, "EM before TS");
        m.s.cr0 &= ~(CpuState.CR0_EM | CpuState.CR0_TS);
        ok("d9e8");
        f().fsw |= X87State.ES | 1; // an unmasked IE pending
        assertEquals(Exit.EXCEPTION, exec("0fd4ca"));
        assertEquals(Vectors.MF, m.s.exceptionVector);
        assertEquals(1, mm(1), "nothing written");
        assertEquals(7, f().top, "no transition before #MF");
        // CVTPI2PS with a memory source is not an MMX instruction for these rules
        m.mmu.write64(DATA, 5);
        ok("0f2a0a");
        assertEquals(5.0f, Float.intBitsToFloat((int) m.s.xmm[2]));
        assertEquals(7, f().top);
    }
}
