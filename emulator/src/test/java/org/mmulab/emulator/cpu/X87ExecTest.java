package org.mmulab.emulator.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.mmulab.emulator.cpu.fpu.Fx80;
import org.mmulab.emulator.cpu.fpu.Fx80Convert;
import org.mmulab.emulator.cpu.fpu.X87State;

/**
 * x87 instructions through the interpreter (decode, stack discipline, memory formats, flags, #MF,
 * environment images). Machine code assembled with GNU as (Intel syntax); expected results per the
 * SDM instruction pages. Bit-exact arithmetic is Fx80Test's; transcendental accuracy Fx80TransTest's.
 */
class X87ExecTest {
    static final long CODE = TestMachine.USER_CODE, DATA = TestMachine.USER_DATA, OUT = 0x60_0800L;
    TestMachine m;

    @BeforeEach
    void setUp() {
        m = TestMachine.withUserPages();
        m.s.gpr[CpuState.RDI] = DATA;
        m.s.gpr[CpuState.RSI] = OUT;
        m.s.rip = CODE;
        m.s.fpu.init();
    }

    private X87State f() {
        return m.s.fpu;
    }

    private void run(String hex, int n) {
        m.load(CODE, TestMachine.hex(hex));
        assertEquals(Exit.BUDGET, m.cpu.run(n));
    }

    private double st(int i) {
        Fx80 u = new Fx80();
        return Double.longBitsToDouble(Fx80Convert.toF64(u, f().stSe(i), f().stSig(i)));
    }

    private void putD(long va, double d) {
        m.mmu.write64(va, Double.doubleToRawLongBits(d));
    }

    @Test
    void loadsEveryMemoryFormat() {
        m.mmu.write32(DATA, Float.floatToRawIntBits(1.5f));
        putD(DATA + 8, -2.25);
        m.mmu.write64(DATA + 16, 0xC90FDAA22168C235L); // pi as extended
        m.mmu.write16(DATA + 24, 0x4000);
        m.mmu.write16(DATA + 32, -7);
        m.mmu.write32(DATA + 36, 100000);
        m.mmu.write64(DATA + 40, -(1L << 62));
        m.mmu.write64(DATA + 48, 0x0000_0012_3456_7890L); // BCD 1234567890
        m.mmu.write16(DATA + 56, 0x8000); // negative
        run("d907dd4708db6f10df4720db4724df6f28df6730", 7);
        assertEquals(-1234567890.0, st(0));
        assertEquals(-(double) (1L << 62), st(1));
        assertEquals(100000.0, st(2));
        assertEquals(-7.0, st(3));
        assertEquals(0x4000, f().stSe(4));
        assertEquals(0xC90FDAA22168C235L, f().stSig(4));
        assertEquals(-2.25, st(5));
        assertEquals(1.5, st(6));
        assertEquals(1, f().top, "seven pushes from TOP 0");
        assertEquals(0xfe, f().valid, "R1-R7 in use");
    }

    @Test
    void storesRoundAndConvert() {
        // 2.5 + 2^-40: rounds to 2.5 (single), FIST rounds to nearest even 2 (3 with the tie broken up)
        m.mmu.write64(DATA, 0xA000_0000_0000_0000L | (1L << 22));
        m.mmu.write16(DATA + 8, 0x4000);
        run("db2fd916dd5608df5610db5614df7e18db2fdf7620db2fdb4e30db2fdb7e40", 12);
        assertEquals(2.5f, Float.intBitsToFloat(m.mmu.read32(OUT)));
        assertEquals(2.5 + Math.pow(2, -40), Double.longBitsToDouble(m.mmu.read64(OUT + 8)));
        assertEquals(3, m.mmu.read16(OUT + 16), "2.5+ rounds up");
        assertEquals(3, m.mmu.read32(OUT + 20));
        assertEquals(3, m.mmu.read64(OUT + 24));
        assertEquals(0x03, m.mmu.read64(OUT + 32), "FBSTP");
        assertEquals(0, m.mmu.read16(OUT + 40));
        assertEquals(2, m.mmu.read32(OUT + 48), "FISTTP truncates");
        assertEquals(0xA000_0000_0000_0000L | (1L << 22), m.mmu.read64(OUT + 64));
        assertEquals(0x4000, m.mmu.read16(OUT + 72));
        assertEquals(0, f().valid, "every store popped");
        assertTrue((f().fsw & Fx80.PE) != 0);
    }

    @Test
    void integerStoreOverflowGivesTheIndefinite() {
        putD(DATA, 1e10);
        run("dd07" + "df5e10" + "db5e14", 3); // fld qword [rdi]; fistp word [rsi+16]; fistp dword [rsi+20]
        assertEquals(0x8000, m.mmu.read16(OUT + 16));
        assertEquals(0x8000_0000, m.mmu.read32(OUT + 20), "stack underflow stores the indefinite too");
        assertTrue((f().fsw & X87State.SF) != 0 && (f().fsw & Fx80.IE) != 0);
    }

    @Test
    void arithmeticFormsUseTheRightOperandOrder() {
        putD(DATA, 3.0);
        putD(DATA + 8, 2.0);
        m.mmu.write32(DATA + 16, 1);
        m.mmu.write16(DATA + 20, 5);
        m.load(CODE, TestMachine.hex("dd07dd4708d8e1d8e9dcf9dcf1dee9dd4708dee1dc7f08da6710de4f14"));
        m.cpu.run(3);
        assertEquals(-1.0, st(0), "fsub st,st1 = 2-3");
        m.cpu.run(1);
        assertEquals(4.0, st(0), "fsubr st,st1 = 3-(-1)");
        m.cpu.run(1);
        assertEquals(0.75, st(1), "fdiv st1,st = 3/4");
        m.cpu.run(1);
        assertEquals(4 / 0.75, st(1), 1e-15, "fdivr st1,st = 4/0.75");
        m.cpu.run(1);
        assertEquals(4 / 0.75 - 4, st(0), 1e-15, "fsubp = st1-st0");
        m.cpu.run(2);
        assertEquals(2 - (4 / 0.75 - 4), st(0), 1e-15, "fsubrp = st0-st1");
        m.cpu.run(1);
        assertEquals(3.0, st(0), 1e-15, "fdivr m64 = m/st0");
        m.cpu.run(2);
        assertEquals(10.0, st(0), 1e-14, "(st0 - 1) * 5");
    }

    @Test
    void comparesSetEflagsAndConditionCodes() {
        putD(DATA, 3.0);
        putD(DATA + 8, 2.0);
        run("dd07dd4708dbf1dfe9dc5708dfe0", 3); // 2 vs 3: fcomi -> CF
        assertEquals(CpuState.CF, m.s.getRflags() & (CpuState.CF | CpuState.ZF | CpuState.PF));
        m.cpu.run(1); // fucomip: pops
        assertEquals(1, Integer.bitCount(f().valid));
        m.cpu.run(2); // fcom m64 (3 vs 2: greater) ; fnstsw ax
        int sw = (int) m.s.gpr[CpuState.RAX] & 0xffff;
        assertEquals(0, sw & (X87State.C0 | X87State.C2 | X87State.C3));
        // NaN: unordered on fucomi without IE
        setUp();
        putD(DATA, Double.NaN);
        putD(DATA + 8, 2.0);
        run("dd07dd4708dbe9", 3); // fucomi st, st(1)
        assertEquals(CpuState.CF | CpuState.ZF | CpuState.PF, m.s.getRflags() & (CpuState.CF | CpuState.ZF | CpuState.PF));
        assertEquals(0, f().fsw & Fx80.IE);
    }

    @Test
    void stackOverflowPushesTheIndefiniteWithC1() {
        run("d9e8d9e8d9e8d9e8d9e8d9e8d9e8d9e8d9e8dfe0", 10);
        int sw = (int) m.s.gpr[CpuState.RAX] & 0xffff;
        assertEquals(Fx80.IE | X87State.SF | X87State.C1, sw & (Fx80.IE | X87State.SF | X87State.C1));
        assertEquals(Fx80.INDEF_SE, f().stSe(0));
        assertEquals(Fx80.INDEF_SIG, f().stSig(0));
    }

    @Test
    void unmaskedExceptionRaisesMfAtTheNextWaitingInstruction() {
        m.mmu.write16(DATA, 0x037b); // ZE unmasked
        m.load(CODE, TestMachine.hex("d92fd9e8d9eedef9d9e890"));
        assertEquals(Exit.BUDGET, m.cpu.run(4));
        assertEquals(1.0, st(1), "destination unchanged");
        assertEquals(0.0, st(0), "no pop");
        assertTrue((f().fsw & (X87State.ES | X87State.B | Fx80.ZE)) == (X87State.ES | X87State.B | Fx80.ZE));
        assertEquals(Exit.EXCEPTION, m.cpu.run(1));
        assertEquals(Vectors.MF, m.s.exceptionVector);
        assertEquals(CODE + 8, m.s.rip, "#MF at the fld1 after fdivp");
        // FWAIT raises it too; FNCLEX clears it.
        setUp();
        m.mmu.write16(DATA, 0x037b);
        m.load(CODE, TestMachine.hex("d92fd9e8d9eedef99b"));
        assertEquals(Exit.EXCEPTION, m.cpu.run(5));
        assertEquals(CODE + 8, m.s.rip);
        m.load(CODE + 8, TestMachine.hex("dbe29b"));
        assertEquals(Exit.BUDGET, m.cpu.run(2));
    }

    @Test
    void constantsFollowRoundingControl() {
        m.mmu.write16(DATA, 0x037f | (1 << 10)); // round down
        run("d92fd9ebd9ead9ecd9edd9e9", 6);
        assertEquals(0xC90FDAA22168C234L, f().stSig(4), "pi rounded down");
        assertEquals(0xB8AA3B295C17F0BBL, f().stSig(3), "log2(e) down");
        assertEquals(0x9A209A84FBCFF798L, f().stSig(2));
        assertEquals(0xB17217F7D1CF79ABL, f().stSig(1));
        assertEquals(0xD49A784BCD1B8AFEL, f().stSig(0));
        setUp();
        run("d9ebd9ead9ecd9edd9e9", 5); // nearest
        assertEquals(0xC90FDAA22168C235L, f().stSig(4));
        assertEquals(0xB8AA3B295C17F0BCL, f().stSig(3));
        assertEquals(0x9A209A84FBCFF799L, f().stSig(2));
        assertEquals(0xB17217F7D1CF79ACL, f().stSig(1));
        assertEquals(0xD49A784BCD1B8AFEL, f().stSig(0));
    }

    @Test
    void fxamFtstAndStackManipulation() {
        run("d9eed9e5dfe0", 3); // fldz; fxam; fnstsw ax: zero = C3
        assertEquals(X87State.C3, (int) m.s.gpr[CpuState.RAX] & (X87State.C0 | X87State.C1 | X87State.C2 | X87State.C3));
        m.load(CODE, TestMachine.hex("d9e0d9e5"));
        m.s.rip = CODE;
        m.cpu.run(2); // fchs; fxam: -0 -> C3 and C1
        assertEquals(X87State.C3 | X87State.C1, f().fsw & (X87State.C0 | X87State.C1 | X87State.C2 | X87State.C3));
        setUp();
        putD(DATA, 10.0);
        run("dd07d9f4", 2); // fxtract 10 -> 1.25, 3
        assertEquals(1.25, st(0));
        assertEquals(3.0, st(1));
        m.load(CODE, TestMachine.hex("d9fd"));
        m.s.rip = CODE;
        m.cpu.run(1); // fscale: 1.25 * 2^3
        assertEquals(10.0, st(0));
        m.load(CODE, TestMachine.hex("d9fad9fcd9f7d9f6"));
        m.s.rip = CODE;
        m.cpu.run(4); // fsqrt; frndint; fincstp; fdecstp
        assertEquals(3.0, st(0));
    }

    @Test
    void fcmovAndFcompp() {
        run("d9e8d9eef9dac1", 4); // fld1; fldz; stc; fcmovb st, st(1)
        assertEquals(1.0, st(0));
        m.load(CODE, TestMachine.hex("ded9"));
        m.s.rip = CODE;
        m.cpu.run(1); // fcompp: equal, both popped
        assertEquals(0, f().valid);
        assertEquals(X87State.C3, f().fsw & (X87State.C0 | X87State.C2 | X87State.C3));
    }

    @Test
    void partialRemainderSetsQuotientBits() {
        putD(DATA, 3.0);
        putD(DATA + 8, 17.0);
        run("dd07dd4708d9f8dfe0", 4); // 17 fprem 3 = 2, q = 5 (101b): C0=1, C3=0, C1=1
        assertEquals(2.0, st(0));
        int sw = (int) m.s.gpr[CpuState.RAX];
        assertEquals(X87State.C0 | X87State.C1, sw & (X87State.C0 | X87State.C1 | X87State.C2 | X87State.C3));
        setUp();
        putD(DATA, 3.0);
        putD(DATA + 8, 17.0);
        run("dd07dd4708d9f5", 3); // fprem1: 17 - 6*3 = -1
        assertEquals(-1.0, st(0));
    }

    @Test
    void environmentAndSaveImagesRoundTrip() {
        run("d9ebd9e8d937dd7720dfe0", 5);
        assertEquals(0x037f, m.mmu.read16(DATA) & 0xffff);
        assertEquals(0xffff, m.mmu.read16(DATA + 2) & 0xffff, "reserved half");
        assertEquals(0x0fff, m.mmu.read16(DATA + 8), "tags: R6, R7 valid, rest empty");
        assertEquals(CODE + 2, m.mmu.read32(DATA + 12) & 0xffffffffL, "FIP = fld1");
        assertEquals(0x1e8, m.mmu.read32(DATA + 16) >>> 16, "FOP of fld1");
        assertEquals(0x0fff, m.mmu.read16(DATA + 32 + 8));
        assertEquals(0x8000_0000_0000_0000L, m.mmu.read64(DATA + 32 + 28), "ST0 = 1.0");
        assertEquals(0, f().valid, "FNSAVE reinitializes");
        m.load(CODE + 11, TestMachine.hex("dd6720d9bfc8000000d9270fae8700010000dbe30fae8f00010000"));
        m.cpu.run(6);
        assertEquals(1.0, st(0));
        assertEquals(Math.PI, st(1), 1e-15);
        assertEquals(0x037f, m.mmu.read16(DATA + 200));
        assertEquals(0xc0, m.mmu.read8(DATA + 256 + 4), "abridged tag");
        assertEquals(0x8000_0000_0000_0000L, m.mmu.read64(DATA + 256 + 32));
        // 16-bit layout: 14-byte environment
        setUp();
        run("d9ebd9e866dd772066dd6720", 4);
        assertEquals(0x8000_0000_0000_0000L, m.mmu.read64(DATA + 32 + 14));
        assertEquals(1.0, st(0));
        assertEquals(Math.PI, st(1), 1e-15);
    }

    @Test
    void transcendentalsRunThroughTheInterpreter() {
        putD(DATA, 0.5);
        run("dd07d9fedd07d9ffdd07d9fbdd07d9f2", 8);
        assertEquals(1.0, st(0), "fptan pushes 1");
        assertEquals(Math.tan(0.5), st(1), 1e-15);
        assertEquals(Math.cos(0.5), st(2), 1e-15, "fsincos: cos on top");
        assertEquals(Math.sin(0.5), st(3), 1e-15);
        assertEquals(Math.cos(0.5), st(4), 1e-15);
        assertEquals(Math.sin(0.5), st(5), 1e-15);
        m.s.fpu.init();
        m.s.rip = CODE;
        run("d9e8dd07d9f3dd07d9f0d9e8dd07d9f1d9e8dd07d9f9", 11);
        assertEquals(Math.log1p(0.5) / Math.log(2), st(0), 1e-15);
        assertEquals(-1.0, st(1), "log2(0.5) exactly");
        assertEquals(Math.sqrt(2) - 1, st(2), 1e-15);
        assertEquals(Math.atan2(1, 0.5), st(3), 1e-15);
        assertEquals(0, f().fsw & (Fx80.IE | Fx80.ZE | Fx80.DE));
    }

    @Test
    void protectedMode32() {
        m.s.longMode64 = false;
        putD(DATA, 1.5);
        putD(DATA + 8, 4.0);
        m.mmu.write32(DATA + 16, -3);
        run("dd07dd4708dec9dd1ed97610db4710df5e30", 7);
        assertEquals(6.0, Double.longBitsToDouble(m.mmu.read64(OUT)));
        assertEquals(0xfffd, m.mmu.read16(OUT + 48));
        assertEquals(0, f().valid);
    }
}
