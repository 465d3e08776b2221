package org.mmulab.emulator.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/**
 * One-operand MUL and IMUL at every operand size (SDM Vol. 2 MUL, IMUL): where the double-width product
 * goes (AX for a byte operand; DX:AX, EDX:EAX, RDX:RAX otherwise), what a 16-bit write preserves and a
 * 32-bit write zero-extends, and CF = OF = "the high half is significant" (MUL: non-zero; IMUL: not the
 * sign extension of the low half). Machine code assembled with GNU as.
 */
class MultTest {
    static final long CODE = 0x40_0000L;
    static final long CF_OF = CpuState.CF | CpuState.OF;

    /** Runs one instruction with RAX = {@code rax}, RBX = {@code rbx}, RDX = {@code rdx}; returns the state. */
    private static CpuState run(String hex, long rax, long rbx, long rdx) {
        TestMachine m = new TestMachine();
        m.mapNew(CODE, TestMachine.P | TestMachine.US);
        m.load(CODE, TestMachine.hex(hex));
        m.s.rip = CODE;
        m.s.gpr[CpuState.RAX] = rax;
        m.s.gpr[CpuState.RBX] = rbx;
        m.s.gpr[CpuState.RDX] = rdx;
        assertEquals(Exit.BUDGET, m.cpu.run(1));
        return m.s;
    }

    private static void check(String what, CpuState s, long rax, long rdx, boolean high) {
        assertEquals(Long.toHexString(rax), Long.toHexString(s.gpr[CpuState.RAX]), what + ": rax");
        assertEquals(Long.toHexString(rdx), Long.toHexString(s.gpr[CpuState.RDX]), what + ": rdx");
        assertEquals(high ? CF_OF : 0, s.getRflags() & CF_OF, what + ": CF/OF");
    }

    @Test
    void mulPutsTheProductInTheAccumulatorPair() {
        long hi = 0x1122_3344_5566_0000L, dx = 0x7777_8888_9999_aaaaL;
        check("mul bl", run("f6e3", hi | 0xf0, 0x10, dx), hi | 0x0f00, dx, true);
        check("mul bl, small", run("f6e3", hi | 0x03, 0x05, dx), hi | 0x000f, dx, false);
        check("mul bx", run("66f7e3", hi | 0xffff, 2, dx), hi | 0xfffe, (dx & ~0xffffL) | 1, true);
        check("mul ebx", run("f7e3", 0xffff_ffffL, 2, dx), 0xffff_fffeL, 1, true);
        check("mul ebx, small", run("f7e3", 0xdead_0000_0000_0003L, 4, dx), 12, 0, false);
        check("mul rbx", run("48f7e3", -1L, 2, dx), -2L, 1, true);
    }

    @Test
    void imulSignExtendsAndFlagsASignificantHighHalf() {
        long hi = 0x1122_3344_5566_0000L, dx = 0x7777_8888_9999_aaaaL;
        check("imul bl, fits", run("f6eb", hi | 0xfe, 3, dx), hi | 0xfffa, dx, false);
        check("imul bl, overflows", run("f6eb", hi | 0x40, 4, dx), hi | 0x0100, dx, true);
        check("imul bx", run("66f7eb", hi | 0x8000, 0xffff, dx), hi | 0x8000, dx & ~0xffffL, true);
        check("imul ebx", run("f7eb", -3L & 0xffff_ffffL, 5, dx), 0xffff_fff1L, 0xffff_ffffL, false);
        check("imul ebx, overflows", run("f7eb", 0x1_0000, 0x1_0000, dx), 0, 1, true);
        check("imul rbx", run("48f7eb", -3L, 5, dx), -15L, -1L, false);
    }
}
