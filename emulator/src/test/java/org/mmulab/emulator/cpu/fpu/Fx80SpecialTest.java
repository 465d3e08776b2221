package org.mmulab.emulator.cpu.fpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/**
 * Special operands and results of {@link Fx80}, {@link Fx80Ops} and {@link Fx80Convert}, as tables
 * (SDM Vol. 1 §4.8.3 table 4-7 for NaNs, §4.9.1 for the masked responses; the FADD/FDIV/FSQRT/FIST/
 * FBSTP/FST pages for their special cases). Row: operation, operands, cw, expected result and flags.
 */
class Fx80SpecialTest {
    static final int ONE = 0x3fff, NEG = 0x8000;
    static final long M = Long.MIN_VALUE;
    static final long QN = 0xC000_0000_0000_0001L, QN2 = 0xC000_0000_0000_0002L, SN = 0xA000_0000_0000_0000L;

    private static Fx80 unit(int cw) {
        Fx80 u = new Fx80();
        u.cw = cw;
        return u;
    }

    private static void expect(Fx80 u, int se, long sig, int flags, String what) {
        assertEquals(String.format("%04x:%016x flags %02x", se, sig, flags),
                String.format("%04x:%016x flags %02x", u.rSe, u.rSig, u.flags), what);
    }

    @Test
    void arithmeticSpecialCases() {
        Object[][] rows = {
            // op, aSe, aSig, bSe, bSig, cw, rSe, rSig, flags
            {"add", 0x7fff, M, 0xffff, M, 0x37f, Fx80.INDEF_SE, Fx80.INDEF_SIG, Fx80.IE},
            {"add", 0x7fff, M, ONE, M, 0x37f, 0x7fff, M, 0},
            {"add", 0, 0L, NEG, 0L, 0x37f, 0, 0L, 0},
            {"add", 0, 0L, NEG, 0L, 0x77f, NEG, 0L, 0},
            {"sub", ONE, M, ONE, M, 0x37f, 0, 0L, 0},
            {"sub", ONE, M, ONE, M, 0x77f, NEG, 0L, 0},
            {"add", 0x7fff, SN, ONE, M, 0x37f, 0x7fff, SN | Fx80.QUIET, Fx80.IE},
            {"add", 0x7fff, QN, 0x7fff, SN, 0x37f, 0x7fff, QN, Fx80.IE},
            {"add", 0x7fff, QN, 0xffff, QN2, 0x37f, 0xffff, QN2, 0},
            {"sub", ONE, M, 0x7fff, QN, 0x37f, 0x7fff, QN, 0},
            {"add", ONE, 0x4000_0000_0000_0000L, ONE, M, 0x37f, Fx80.INDEF_SE, Fx80.INDEF_SIG, Fx80.IE},
            {"add", 0, M, 0, 0L, 0x37f, 1, M, Fx80.DE}, // pseudo-denormal + 0: the normal it stands for
            {"mul", 0, 0L, 0x7fff, M, 0x37f, Fx80.INDEF_SE, Fx80.INDEF_SIG, Fx80.IE},
            {"mul", NEG, 3L, ONE, M, 0x37f, NEG, 3L, Fx80.DE},
            {"div", ONE, M, 0, 0L, 0x37f, 0x7fff, M, Fx80.ZE},
            {"div", NEG | ONE, M, 0, 0L, 0x37f, 0xffff, M, Fx80.ZE},
            {"div", 0, 0L, 0, 0L, 0x37f, Fx80.INDEF_SE, Fx80.INDEF_SIG, Fx80.IE},
            {"div", 0x7fff, M, 0xffff, M, 0x37f, Fx80.INDEF_SE, Fx80.INDEF_SIG, Fx80.IE},
            {"div", ONE, M, 0x7fff, M, 0x37f, 0, 0L, 0},
            {"sqrt", NEG | ONE, M, 0, 0L, 0x37f, Fx80.INDEF_SE, Fx80.INDEF_SIG, Fx80.IE},
            {"sqrt", NEG, 0L, 0, 0L, 0x37f, NEG, 0L, 0},
            {"sqrt", 0x7fff, M, 0, 0L, 0x37f, 0x7fff, M, 0},
            {"mul", 0x7ffe, M, 0x7ffe, M, 0x37f, 0x7fff, M, Fx80.OE | Fx80.PE},
            {"mul", 0x7ffe, M, 0x7ffe, M, 0xf7f, 0x7ffe, -1L, Fx80.OE | Fx80.PE},
            {"mul", 0x7ffe, M, 0x7ffe, M, 0x377, 2 * 0x7ffe - Fx80.BIAS - Fx80.BIAS_ADJ, M, Fx80.OE},
            {"mul", 1, M, 0x3ffe, M, 0x37f, 0, 0x4000_0000_0000_0000L, 0}, // exact denormal: no UE
            {"mul", 1, M | 1, 0x3ffe, M, 0x37f, 0, 0x4000_0000_0000_0000L, Fx80.UE | Fx80.PE},
            {"rem", 0x4001, 0xA000_0000_0000_0000L, 0x7fff, M, 0x37f, 0x4001, 0xA000_0000_0000_0000L, 0},
            {"rem", 0x7fff, M, ONE, M, 0x37f, Fx80.INDEF_SE, Fx80.INDEF_SIG, Fx80.IE},
            {"scale", ONE, M, 0x7fff, M, 0x37f, 0x7fff, M, 0},
            {"scale", 0, 0L, 0x7fff, M, 0x37f, Fx80.INDEF_SE, Fx80.INDEF_SIG, Fx80.IE},
            {"scale", ONE, M, 0xffff, M, 0x37f, 0, 0L, 0},
        };
        for (Object[] r : rows) {
            Fx80 u = unit((Integer) r[5]);
            int aSe = (Integer) r[1], bSe = (Integer) r[3];
            long aSig = (Long) r[2], bSig = (Long) r[4];
            switch ((String) r[0]) {
                case "add" -> u.add(aSe, aSig, bSe, bSig, false);
                case "sub" -> u.add(aSe, aSig, bSe, bSig, true);
                case "mul" -> u.mul(aSe, aSig, bSe, bSig);
                case "div" -> u.div(aSe, aSig, bSe, bSig);
                case "sqrt" -> u.sqrt(aSe, aSig);
                case "rem" -> Fx80Ops.rem(u, aSe, aSig, bSe, bSig, false);
                default -> Fx80Ops.scale(u, aSe, aSig, bSe, bSig);
            }
            expect(u, (Integer) r[6], (Long) r[7], (Integer) r[8],
                    String.format("%s %04x:%016x %04x:%016x cw %x", r[0], aSe, aSig, bSe, bSig, (Integer) r[5]));
        }
    }

    @Test
    void conversionSpecialCases() {
        Fx80 u = unit(0x37f);
        assertEquals(0x7ff0_0000_0000_0000L, Fx80Convert.toF64(u, 0x7ffe, -1L));
        assertEquals(Fx80.OE | Fx80.PE, u.flags);
        u = unit(0xf7f);
        assertEquals(0x7fef_ffff_ffff_ffffL, Fx80Convert.toF64(u, 0x7ffe, -1L), "toward zero: max double");
        u = unit(0x37f);
        Fx80Convert.fromF64(u, Double.doubleToRawLongBits(1e-40));
        assertEquals(Float.floatToRawIntBits((float) 1e-40), Fx80Convert.toF32(u, u.rSe, u.rSig), "single denormal");
        assertEquals(Fx80.UE | Fx80.PE, u.flags);
        u = unit(0x37f);
        assertEquals(0xFFC0_0000, Fx80Convert.toF32(u, 0x3fff, 0x4000_0000_0000_0000L), "unsupported: indefinite");
        assertEquals(Fx80.IE, u.flags);
        u = unit(0x37f);
        assertEquals(0x7fc0_0001, Fx80Convert.toF32(u, 0x7fff, 0x8000_0100_0000_0000L), "SNaN quieted, truncated");
        assertEquals(Fx80.IE, u.flags);
        u = unit(0x37f);
        assertEquals(Long.MIN_VALUE, Fx80Convert.toInt(u, Fx80.BIAS + 63, M, 64, false), "2^63 overflows int64");
        assertEquals(Fx80.IE, u.flags);
        u = unit(0x37f);
        assertEquals(Long.MIN_VALUE, Fx80Convert.toInt(u, NEG | (Fx80.BIAS + 63), M, 64, false), "-2^63 fits");
        assertEquals(0, u.flags);
        u = unit(0x37f);
        assertEquals(0x8000, Fx80Convert.toInt(u, Fx80.BIAS + 14, 0xFFFF_0000_0000_0000L, 16, false), "32767.5 -> 32768");
        assertEquals(Fx80.IE, u.flags);
        u = unit(0x37f);
        assertEquals(0x7fff, Fx80Convert.toInt(u, Fx80.BIAS + 14, 0xFFFF_0000_0000_0000L, 16, true), "FISTTP truncates");
        assertEquals(Fx80.PE, u.flags);
        u = unit(0x37f);
        Fx80Convert.toBcd(u, Fx80.BIAS + 59, 0xDE0B_6B3A_7640_0000L); // 10^18
        assertEquals(Fx80Convert.BCD_INDEF_LO, u.xSig);
        assertEquals(Fx80Convert.BCD_INDEF_HI, u.xSe);
        assertEquals(Fx80.IE, u.flags);
        u = unit(0x37f);
        Fx80Convert.toBcd(u, NEG | (Fx80.BIAS - 1), M); // -0.5 rounds to -0
        assertEquals(0, u.xSig);
        assertEquals(0x8000, u.xSe);
        u = unit(0x37f);
        Fx80Convert.fromF32(u, 0x7f80_0001);
        assertEquals(0x7fff, u.rSe);
        assertEquals(0xC000_0100_0000_0000L, u.rSig);
        assertEquals(Fx80.IE, u.flags);
        u = unit(0x37f);
        Fx80Convert.fromF64(u, 1L);
        assertEquals(Fx80.BIAS - 1074, u.rSe);
        assertEquals(M, u.rSig);
        assertEquals(Fx80.DE, u.flags);
        u = unit(0x37f);
        Fx80Convert.fromBcd(u, 0x0000_0012_3456_7890L, 0x8000);
        assertEquals(NEG | (Fx80.BIAS + 30), u.rSe);
        assertEquals(1234567890L << 33, u.rSig);
    }
}
