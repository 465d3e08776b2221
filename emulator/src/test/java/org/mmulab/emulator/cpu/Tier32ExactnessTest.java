package org.mmulab.emulator.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mmulab.emulator.cpu.TierExactnessTest.CODE;
import static org.mmulab.emulator.cpu.TierExactnessTest.DATA;
import static org.mmulab.emulator.cpu.TierExactnessTest.assertSameState;
import static org.mmulab.emulator.cpu.TierExactnessTest.compiled;
import static org.mmulab.emulator.cpu.TierExactnessTest.machine;
import static org.mmulab.emulator.cpu.TierExactnessTest.runUntilExit;

import java.util.function.Consumer;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.mmulab.emulator.cpu.tier.Engine;

/**
 * The translation tier on 32-bit code (CS.L=0: {@code CpuState.longMode64} false, as i386 images run under
 * compatibility mode; PAE itself is covered by the i386 images in TierDifferentialTest): the cases where
 * 32-bit rules differ from 64-bit ones, each run with {@code --engine tier} and with the interpreter alone,
 * under fast and cycle timing, comparing the whole state and cycle account ({@link TierExactnessTest}'s
 * {@code assertSameState}: all 64 bits of every register, so the upper halves too) and requiring compiled
 * blocks. Programs (GNU as --32), loaded at CODE + 0x400:
 * <pre>
 * 0x400 w:  add $1,%eax; mov 0x10001000(%esi),%edx; add %edx,%ebx; mov %ebx,0x10001004(%esi);
 *           add $8,%esi; and $0xfffff0ff,%esi; dec %ecx; jnz w; int $0x80
 * 0x440 s:  push %ecx; push %eax; pop %edx; add %edx,%ebx; pop %edx; add $1,%eax; dec %ecx; jnz s; int $0x80
 * 0x480 c:  call f; dec %ecx; jnz c; int $0x80
 *       f:  add $3,%eax; push %eax; pop %ebx; ret
 * 0x4c0     add $2,%ebx; jmp 0xffffffe0 (rel32 0xffbffb18: wraps below 0)
 * 0x500 x:  add $1,%ax; mov %ax,%dx; add %edx,%ebx; inc %di; lea 1(%esi),%esi; cmp $0x10,%si; jb x2;
 *           xor %esi,%esi
 *       x2: dec %ecx; jnz x; int $0x80
 * 0x540 p:  add $1,%eax; mov (%esi),%edx; add $0x1000,%esi; dec %ecx; jnz p; int $0x80
 * 0x580 l:  add $1,%eax; dec %ecx; jz 0 (rel32 0xffbffa76: page 0 is not mapped); jmp l
 * </pre>
 * and at 0xffffffe0 (top of the 4 GiB space): {@code add $1,%eax; dec %ecx; jz 0xffffffeb+5;
 * jmp CODE+0x4c0 (rel32 0x4004d5: wraps past 4 GiB); int $0x80}.
 */
class Tier32ExactnessTest {
    private static final String PROGRAM32 = ""
            + "83c0018b960010001001d3899e0410001083c60881e6fff0ffff4975e3cd800000000000000000000000000000000000"
            + "0000000000000000000000000000000051505a01d35a83c0014975f4cd80000000000000000000000000000000000000"
            + "0000000000000000000000000000000000000000000000000000000000000000e8050000004975f8cd8083c003505bc3"
            + "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
            + "83c302e918fbbfff00000000000000000000000000000000000000000000000000000000000000000000000000000000"
            + "000000000000000000000000000000006683c0016689c201d366478d76016683fe10720231f64975e7cd800000000000"
            + "000000000000000000000000000000000000000000000000000000000000000083c0018b1681c6001000004975f2cd80"
            + "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
            + "83c001490f8476fabfffebf4";
    private static final long TOP = 0xffff_f000L;
    private static final String AT_TOP = "83c001497405e9d5044000cd80";
    /** Garbage in the upper halves: 32-bit writes clear them, 16-bit ones and ESP-relative reads must not see them. */
    private static final long UPPER = 0x5a5a_0000_0000_0000L;

    /** The exit both engines' last run ended with (set by {@link #both}). */
    private int lastExit;

    /** Runs {@code setup} on a tier and an interpreter machine in 32-bit mode, each until int $0x80 or a fault. */
    private TestMachine[] both(boolean cycle, long rip, int budget, Consumer<TestMachine> setup) {
        TestMachine[] ms = {machine(Engine.TIER, cycle), machine(Engine.INTERP, cycle)};
        int[] exits = new int[2];
        for (TestMachine m : ms) {
            m.load(CODE + 0x400, TestMachine.hex(PROGRAM32));
            m.s.longMode64 = false;
            m.s.rip = rip;
            setup.accept(m);
            exits[m == ms[0] ? 0 : 1] = runUntilExit(m, budget);
        }
        assertTrue(compiled(ms[0]) > 0, "the tier compiled 32-bit blocks");
        assertSameState(ms[0], ms[1]);
        assertEquals(exits[1], exits[0], "exit");
        lastExit = exits[0];
        return ms;
    }

    /** Effective addresses wrap at 4 GiB: ESI near the top plus a displacement lands on DATA. */
    @ParameterizedTest(name = "cycle timing {0}")
    @ValueSource(booleans = {false, true})
    void effectiveAddressesWrapAt4GiB(boolean cycle) {
        TestMachine[] ms = both(cycle, CODE + 0x400, 97, m -> {
            m.mapNew(DATA, TestMachine.P | TestMachine.RW | TestMachine.US | TestMachine.NX);
            for (int k = 0; k < 64; k++) {
                m.mem.write32(m.pa(DATA + 8 * k), k + 1);
            }
            m.s.gpr[CpuState.RSI] = 0xffff_f000L;
            m.s.gpr[CpuState.RCX] = 3000;
        });
        assertEquals(Exit.INT80, lastExit);
        assertEquals(3000, ms[0].s.gpr[CpuState.RAX]);
    }

    /** ESP wraps below 0 and back (RSP's garbage upper half is ignored and cleared), PUSH/POP move 4 bytes. */
    @ParameterizedTest(name = "cycle timing {0}")
    @ValueSource(booleans = {false, true})
    void espWrapsAt4GiB(boolean cycle) {
        TestMachine[] ms = both(cycle, CODE + 0x440, 101, m -> {
            m.mapNew(TOP, TestMachine.P | TestMachine.RW | TestMachine.US | TestMachine.NX);
            m.s.gpr[CpuState.RSP] = UPPER;
            m.s.gpr[CpuState.RCX] = 2000;
            m.s.gpr[CpuState.RAX] = UPPER;
        });
        assertEquals(Exit.INT80, lastExit);
        assertEquals(0, ms[0].s.gpr[CpuState.RSP], "ESP back at 0 with the upper half cleared");
    }

    /** CALL pushes a 4-byte EIP and RET pops it, with the stack crossing 0. */
    @ParameterizedTest(name = "cycle timing {0}")
    @ValueSource(booleans = {false, true})
    void callAndRetMoveFourBytes(boolean cycle) {
        TestMachine[] ms = both(cycle, CODE + 0x480, 89, m -> {
            m.mapNew(TOP, TestMachine.P | TestMachine.RW | TestMachine.US | TestMachine.NX);
            m.s.gpr[CpuState.RSP] = 0;
            m.s.gpr[CpuState.RCX] = 2000;
        });
        assertEquals(Exit.INT80, lastExit);
        assertEquals(3 * 2000, ms[0].s.gpr[CpuState.RAX]);
        assertEquals(0, ms[0].s.gpr[CpuState.RSP]);
    }

    /** EIP wraps: a JMP at the top of the address space reaches low code, and one from there wraps back. */
    @ParameterizedTest(name = "cycle timing {0}")
    @ValueSource(booleans = {false, true})
    void eipWrapsAt4GiB(boolean cycle) {
        TestMachine[] ms = both(cycle, TOP + 0xfe0, 103, m -> {
            m.mapNew(TOP, TestMachine.P | TestMachine.US);
            m.load(TOP + 0xfe0, TestMachine.hex(AT_TOP));
            m.s.gpr[CpuState.RCX] = 3000;
        });
        assertEquals(Exit.INT80, lastExit);
        assertEquals(TOP + 0xfed, ms[0].s.rip);
        assertEquals(2 * 2999, ms[0].s.gpr[CpuState.RBX]);
    }

    /**
     * 16-bit operand forms (66h) between translated instructions: they stay with the interpreter (keeping
     * bits 63:16), the tier's blocks around them read the flags the 16-bit CMP left.
     */
    @ParameterizedTest(name = "cycle timing {0}")
    @ValueSource(booleans = {false, true})
    void sixteenBitOperandFormsBetweenBlocks(boolean cycle) {
        TestMachine[] ms = both(cycle, CODE + 0x500, 61, m -> {
            m.s.gpr[CpuState.RAX] = UPPER | 0xfff0;
            m.s.gpr[CpuState.RDI] = UPPER | 0xffff_fff0L;
            m.s.gpr[CpuState.RDX] = UPPER;
            m.s.gpr[CpuState.RCX] = 3000;
        });
        assertEquals(Exit.INT80, lastExit);
        assertEquals(UPPER | ((0xfff0 + 3000) & 0xffff), ms[0].s.gpr[CpuState.RAX], "AX wrapped, bits 63:16 kept");
    }

    /** #PF on a load in the middle of a hot 32-bit loop: the add before it retired, EIP is the load. */
    @ParameterizedTest(name = "cycle timing {0}")
    @ValueSource(booleans = {false, true})
    void pageFaultMidBlock(boolean cycle) {
        TestMachine[] ms = both(cycle, CODE + 0x540, 97, m -> {
            for (int p = 0; p < 100; p++) {
                m.mapNew(DATA + p * 0x1000L, TestMachine.P | TestMachine.US | TestMachine.NX);
                m.mem.write32(m.pa(DATA + p * 0x1000L), p);
            }
            m.s.gpr[CpuState.RSI] = DATA;
            m.s.gpr[CpuState.RCX] = 1000;
        });
        TestMachine t = ms[0];
        assertEquals(Exit.EXCEPTION, lastExit);
        assertEquals(Vectors.PF, t.s.exceptionVector);
        assertEquals(CODE + 0x543, t.s.rip, "EIP at the faulting load");
        assertEquals(DATA + 100 * 0x1000L, t.s.cr2);
        assertEquals(101, t.s.gpr[CpuState.RAX], "the add of the faulting pass retired");
        assertEquals(100 * 5 + 1, t.s.instructions);
        for (TestMachine m : ms) {
            for (int p = 100; p < 1000; p++) {
                m.mapNew(DATA + p * 0x1000L, TestMachine.P | TestMachine.US | TestMachine.NX);
            }
            m.s.exceptionVector = -1;
            assertEquals(Exit.INT80, runUntilExit(m, 65536));
        }
        assertSameState(ms[0], ms[1]);
    }

    /**
     * A compiled block's Jcc leaves for an unmapped page: the instruction fetch #PF is raised before any
     * instruction issues, so under cycle timing its latency starts at the issue point of the Jcc, the last
     * instruction the block retired (the block hands it back, as the interpreter would have recorded it).
     */
    @ParameterizedTest(name = "cycle timing {0}")
    @ValueSource(booleans = {false, true})
    void fetchFaultRightAfterABlock(boolean cycle) {
        TestMachine[] ms = both(cycle, CODE + 0x580, 1001, m -> m.s.gpr[CpuState.RCX] = 3000);
        assertEquals(Exit.EXCEPTION, lastExit);
        assertEquals(Vectors.PF, ms[0].s.exceptionVector);
        assertEquals(0, ms[0].s.rip);
        assertEquals(0, ms[0].s.cr2);
        assertEquals(4 * 2999 + 3, ms[0].s.instructions);
    }
}
