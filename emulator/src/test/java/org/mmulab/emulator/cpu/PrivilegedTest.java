package org.mmulab.emulator.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Instructions user mode may not execute are #GP(0) with RIP at the instruction and nothing retired
 * (SDM Vol. 2, each instruction's "Protected Mode Exceptions": "#GP(0) If the current privilege level
 * is not 0"); RETF validates the popped CS (SDM Vol. 2 RET, far return) against the user code segments
 * in {@link CpuState#userCs64}/{@link CpuState#userCs32} and switches between 64-bit and compatibility
 * mode when it returns to the other one. Encodings were assembled with GNU as.
 */
class PrivilegedTest {
    static final long CODE = 0x40_0000L, STACK = 0x7f_f000L;
    TestMachine m;

    @BeforeEach
    void setUp() {
        m = new TestMachine();
        m.mapNew(CODE, TestMachine.P | TestMachine.US);
        m.mapNew(STACK, TestMachine.P | TestMachine.RW | TestMachine.US | TestMachine.NX);
        m.s.gpr[CpuState.RSP] = STACK + 0x800;
        m.s.rip = CODE;
        m.s.userCs64 = 0x33;
        m.s.userCs32 = 0x23;
    }

    private void code(String hex) {
        m.load(CODE, TestMachine.hex(hex));
    }

    private void assertFault(String what, int vector, long error) {
        assertEquals(Exit.EXCEPTION, m.cpu.run(1), what);
        assertEquals(vector, m.s.exceptionVector, what);
        assertEquals(error, m.s.exceptionErrorCode, what);
        assertEquals(CODE, m.s.rip, what + ": RIP at the faulting instruction");
        assertEquals(0, m.s.instructions, what + ": nothing retired");
        assertEquals(STACK + 0x800, m.s.gpr[CpuState.RSP], what + ": RSP unchanged");
    }

    @Test
    void privilegedInstructionsAreGpZero() {
        String[][] insns = {{"f4", "hlt"}, {"fa", "cli"}, {"fb", "sti"}, {"e480", "in al,0x80"}, {"ec", "in al,dx"},
                {"ee", "out dx,al"}, {"0f20d8", "mov rax,cr3"}, {"0f22c0", "mov cr0,rax"}, {"440f20c0", "mov rax,cr8"},
                {"0f21f8", "mov rax,dr7"}, {"0f23c0", "mov dr0,rax"}, {"0f0110", "lgdt [rax]"}, {"0f0118", "lidt [rax]"},
                {"0f0138", "invlpg [rax]"}, {"0f01f0", "lmsw ax"}, {"0f01f8", "swapgs"}, {"0f01d1", "xsetbv"},
                {"0f00d0", "lldt ax"}, {"0f00d8", "ltr ax"}, {"0f30", "wrmsr"}, {"0f32", "rdmsr"}, {"0f33", "rdpmc"},
                {"0f09", "wbinvd"}, {"0f08", "invd"}, {"0f06", "clts"}, {"480f07", "sysretq"}, {"0f35", "sysexit"}};
        for (String[] i : insns) {
            setUp();
            code(i[0]);
            assertFault(i[1], Vectors.GP, 0);
            assertTrue(m.cpu.lastFaultDescription().startsWith("privileged instruction " + i[0].substring(0, 2)),
                    m.cpu.lastFaultDescription());
        }
    }

    @Test
    void controlRegistersThatDoNotExistAreUd() {
        for (String op : new String[] {"0f20c8", "0f22e8", "440f20c8", "440f21c0"}) { // cr1, cr5, cr9, dr8
            setUp();
            code(op);
            assertFault(op, Vectors.UD, 0);
        }
    }

    private void stack(long... words) {
        long sp = m.s.gpr[CpuState.RSP];
        for (int i = 0; i < words.length; i++) {
            m.mem.write64(m.pa(sp + 8L * i), words[i]);
        }
    }

    @Test
    void retfToABadSelectorIsGpWithTheSelector() {
        long[][] cases = {{0x2b, 0x28}, {0x10, 0x10}, {0x13, 0x10}, {0x37, 0x34}, {0x30, 0x30}, {0, 0}, {3, 0}};
        for (long[] c : cases) {
            setUp();
            code("48cb"); // lretq
            stack(CODE + 0x100, c[0]);
            assertFault("selector 0x" + Long.toHexString(c[0]), Vectors.GP, c[1]);
        }
        setUp();
        code("48cb");
        stack(0x0000_8000_0000_0000L, 0x33);
        assertFault("non-canonical target", Vectors.GP, 0);
        setUp();
        m.s.userCs64 = -1;
        code("48cb");
        stack(CODE + 0x100, 0x33);
        assertFault("no 64-bit code segment", Vectors.GP, 0x30);
    }

    @Test
    void retfToUserCsReturnsWithEachOperandSize() {
        code("48cb"); // lretq: 8-byte offset, 8-byte CS slot
        stack(CODE + 0x100, 0x33);
        assertEquals(Exit.BUDGET, m.cpu.run(1));
        assertEquals(CODE + 0x100, m.s.rip);
        assertEquals(STACK + 0x810, m.s.gpr[CpuState.RSP]);
        assertTrue(m.s.longMode64);

        setUp();
        code("cb"); // lretl: 4-byte offset and 4-byte CS slot in 64-bit mode too
        stack(((long) 0x33 << 32) | (CODE + 0x40));
        assertEquals(Exit.BUDGET, m.cpu.run(1));
        assertEquals(CODE + 0x40, m.s.rip);
        assertEquals(STACK + 0x808, m.s.gpr[CpuState.RSP]);

        setUp();
        code("48ca1000"); // lretq $16
        stack(CODE + 0x80, 0x33);
        assertEquals(Exit.BUDGET, m.cpu.run(1));
        assertEquals(CODE + 0x80, m.s.rip);
        assertEquals(STACK + 0x820, m.s.gpr[CpuState.RSP]);
    }

    @Test
    void retfSwitchesBetween64BitAndCompatibilityMode() {
        // 64-bit: lretq to __USER32_CS at CODE+0x10, where 40 is INC EAX (a REX prefix in 64-bit mode)
        // and CB returns to __USER_CS at CODE+0x20 with a 32-bit pop of offset and selector.
        byte[] c = new byte[0x30];
        byte[] a = TestMachine.hex("48cb");
        System.arraycopy(a, 0, c, 0, a.length);
        byte[] b = TestMachine.hex("40" + "cb");
        System.arraycopy(b, 0, c, 0x10, b.length);
        byte[] d = TestMachine.hex("48ffc0"); // inc rax
        System.arraycopy(d, 0, c, 0x20, d.length);
        m.load(CODE, c);
        stack(CODE + 0x10, 0x23, ((long) 0x33 << 32) | (CODE + 0x20));
        assertEquals(Exit.BUDGET, m.cpu.run(1));
        assertFalse(m.s.longMode64, "CS = __USER32_CS: compatibility mode");
        assertEquals(CODE + 0x10, m.s.rip);
        assertEquals(Exit.BUDGET, m.cpu.run(1));
        assertEquals(1, m.s.gpr[CpuState.RAX], "40 decoded as INC EAX");
        assertEquals(Exit.BUDGET, m.cpu.run(1));
        assertTrue(m.s.longMode64, "back to __USER_CS");
        assertEquals(CODE + 0x20, m.s.rip);
        assertEquals(STACK + 0x818, m.s.gpr[CpuState.RSP]);
        assertEquals(Exit.BUDGET, m.cpu.run(1));
        assertEquals(2, m.s.gpr[CpuState.RAX]);
        assertEquals(4, m.s.instructions);
    }

    @Test
    void aModeSwitchInTheMiddleOfABudgetEndsTheRun() {
        byte[] c = new byte[0x20];
        System.arraycopy(TestMachine.hex("90" + "48cb"), 0, c, 0, 3);
        System.arraycopy(TestMachine.hex("40" + "40"), 0, c, 0x10, 2);
        m.load(CODE, c);
        stack(CODE + 0x10, 0x23);
        assertEquals(Exit.BUDGET, m.cpu.run(100));
        assertEquals(2, m.s.instructions, "the run returns right after the far return");
        assertEquals(CODE + 0x10, m.s.rip);
        assertEquals(Exit.BUDGET, m.cpu.run(2));
        assertEquals(2, m.s.gpr[CpuState.RAX], "then decodes in compatibility mode");
    }
}
