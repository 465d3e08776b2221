package org.mmulab.emulator.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mmulab.emulator.cpu.TierExactnessTest.CODE;
import static org.mmulab.emulator.cpu.TierExactnessTest.DATA;
import static org.mmulab.emulator.cpu.TierExactnessTest.assertSameState;
import static org.mmulab.emulator.cpu.TierExactnessTest.compiled;
import static org.mmulab.emulator.cpu.TierExactnessTest.machine;
import static org.mmulab.emulator.cpu.TierExactnessTest.runUntilExit;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.mmulab.emulator.cpu.tier.Engine;

/**
 * Instructions the tier runs by calling the interpreter's implementation from a compiled block
 * ({@code Interpreter.execForTier}, {@link FastOps#tierCall}): compute's mix (DIV, one-operand IMUL,
 * ADC/SBB, an ALU read-modify-write of memory, byte and word stores, shifts by CL, CLTQ/CQTO, BSF/BSR,
 * BSWAP, REP MOVS/STOS, REPE CMPS, REPNE SCAS, CLD, indirect JMP and CALL, RET imm, XCHG), a #DE in the
 * middle of a hot loop and a #PF in the middle of a REP MOVSB. Each runs with the tier and with the
 * interpreter alone (TierExactnessTest's machines and comparison: registers, RFLAGS, RIP, retired
 * instructions, exception, CR2, MMU counters and, under cycle timing, the whole cycle account) plus the
 * guest memory the program wrote. Under either timing each also requires that compiled code retired
 * almost all instructions, so the calls are what is compared: under cycle timing the account includes
 * the called instructions' fetches, base costs, data accesses through the cache model, REP elements
 * (also those completed before a #PF) and a faulting instruction's issue point.
 * Programs (GNU as, at CODE + 0x400; listings in the comments of each case).
 */
class TierCallTest {
    private static final long AT = CODE + 0x400, SRC = DATA + 0x2000, STACK = DATA + 0x5000;

    /**
     * <pre>
     * mix: mov %rcx,%rax; xor %edx,%edx; lea 3(%rcx),%r8; div %r8; add %rdx,%r9; adc %rax,%r10; sbb $3,%r11
     *      addl %eax,(%rsi); movb %al,8(%rsi); movw $0x1234,10(%rsi); mov %rcx,%r12; shl %cl,%r12; cltq; cqto
     *      bsf %r12,%r13; bsr %r12,%r14; bswap %r13; imul %r13; push %rsi; push %rdi; push %rcx
     *      lea 64(%rsi),%rsi; mov $16,%ecx; cld; rep movsb; mov $0x55,%al; mov $8,%ecx; rep stosb
     *      lea -24(%rdi),%rdi; lea -16(%rsi),%rsi; mov $24,%ecx; repe cmpsb; mov $0x55,%al; mov $32,%ecx
     *      repne scasb; sete %r15b; pop %rcx; pop %rdi; pop %rsi; lea one(%rip),%rax; lea two(%rip),%rdx
     *      test $1,%cl; cmovne %rdx,%rax; jmp *%rax
     * one: add $1,%rbp; push %rbp; lea fn(%rip),%rax; call *%rax; jmp join
     * two: add $2,%rbp
     * join: xchg %r9,%r10; dec %rcx; jne mix; syscall
     * fn:  add %rcx,%rbx; ret $8
     * </pre>
     */
    private static final String MIX = "4889c831d24c8d410349f7f04901d14911c24983db03010688460866c7460a34124989cc49d3e4"
            + "489848994d0fbcec4d0fbdf4490fcd49f7ed565751488d7640b910000000fcf3a4b055b908000000f3aa488d7fe8488d76f0"
            + "b918000000f3a6b055b920000000f2ae410f94c7595f5e488d0510000000488d1519000000f6c101480f45c2ffe04883c501"
            + "55488d0516000000ffd0eb044883c5024d87ca48ffc90f8559ffffff0f054801cbc20800";

    /** <pre>dz: add $1,%rbx; mov %rcx,%rax; xor %edx,%edx; lea -5(%rcx),%r8; div %r8; add %rax,%rbp; dec %rcx; jnz dz; syscall</pre> */
    private static final String DIVIDE = "4883c3014889c831d24c8d41fb49f7f04801c548ffc975e80f05";

    /** <pre>pf: add $1,%rbx; lea (%rdx),%rsi; mov $24,%ecx; lea (%rdi),%rdi; rep movsb; dec %r8; jnz pf; syscall</pre> */
    private static final String REP_MOVS = "4883c301488d32b918000000488d3ff3a449ffc875ea0f05";

    /** DIVIDE after 51 one-byte NOPs: the loop starts at AT + 0x33 and its DIV at AT + 0x40, the start of a line. */
    private static final String DIVIDE_AT_LINE = "90".repeat(0x33) + DIVIDE;

    private static TestMachine[] machines(boolean cycle, String program) {
        TestMachine[] ms = {machine(Engine.TIER, cycle), machine(Engine.INTERP, cycle)};
        for (TestMachine m : ms) {
            m.load(AT, TestMachine.hex(program));
            m.s.rip = AT;
            m.mapNew(STACK - 0x1000, TestMachine.P | TestMachine.RW | TestMachine.US | TestMachine.NX);
            m.s.gpr[CpuState.RSP] = STACK;
            m.mapNew(SRC, TestMachine.P | TestMachine.RW | TestMachine.US | TestMachine.NX);
            for (int k = 0; k < 512; k++) {
                m.mem.write64(m.pa(SRC + 8L * k), 0x0123_4567_89ab_cdefL * (k + 1));
            }
        }
        return ms;
    }

    private static long checksum(TestMachine m, long va, int bytes) {
        long h = 0;
        for (int k = 0; k < bytes; k += 8) {
            h = h * 31 + m.mem.read64(m.pa(va + k));
        }
        return h;
    }

    /**
     * Compiled code ran the calls: no hot offset fell back to the interpreter (without the calls, each of
     * these instructions would be a hot entry the tier hands back: Tier.fallbacks), and compiled code
     * retired most instructions (all but the passes before the loop got hot).
     */
    private static void assertCallsCompiled(TestMachine t) {
        assertTrue(compiled(t) > 0, "blocks compiled");
        assertEquals(0, java.util.Arrays.stream(t.cpu.tier().fallbacks).sum(), "hot entries run by the interpreter");
        long inTier = t.cpu.tier().insnsRetired;
        assertTrue(inTier * 4 >= t.s.instructions * 3, "compiled code retired " + inTier + " of " + t.s.instructions);
    }

    @ParameterizedTest(name = "cycle timing {0}")
    @ValueSource(booleans = {false, true})
    void computeMixRunsTheSameInCompiledBlocks(boolean cycle) {
        TestMachine[] ms = machines(cycle, MIX);
        for (TestMachine m : ms) {
            m.mapNew(DATA, TestMachine.P | TestMachine.RW | TestMachine.US | TestMachine.NX);
            m.mem.write64(m.pa(DATA + 64), 0x5555_5555_5555_5555L); // REPE CMPSB meets a difference late
            m.s.gpr[CpuState.RSI] = DATA;
            m.s.gpr[CpuState.RDI] = DATA + 0x800;
            m.s.gpr[CpuState.RCX] = 300;
            m.s.gpr[CpuState.R9] = 0x1234;
            assertEquals(Exit.SYSCALL, runUntilExit(m, 1009));
        }
        assertCallsCompiled(ms[0]);
        assertEquals(AT + 0xa9, ms[0].s.rip, "RIP after the SYSCALL");
        assertSameState(ms[0], ms[1]);
        assertEquals(checksum(ms[1], DATA, 4096), checksum(ms[0], DATA, 4096), "memory written");
        assertEquals(checksum(ms[1], STACK - 0x1000, 4096), checksum(ms[0], STACK - 0x1000, 4096), "stack written");
    }

    @ParameterizedTest(name = "cycle timing {0}")
    @ValueSource(booleans = {false, true})
    void divideErrorInTheMiddleOfACompiledPass(boolean cycle) {
        TestMachine t = runToDivideError(cycle, DIVIDE);
        assertEquals(AT + 0xd, t.s.rip, "RIP at the DIV");
        assertEquals(196, t.s.gpr[CpuState.RBX], "the ADD of the faulting pass retired");
        assertEquals(5, t.s.gpr[CpuState.RAX]);
        assertEquals(5, t.s.gpr[CpuState.RCX]);
        assertEquals(195L * 8 + 4, t.s.instructions);
    }

    /**
     * Runs a DIVIDE loop (RCX = 200 passes) on the tier and the interpreter until its #DE, checks that the
     * calls ran compiled, the vector, and that both engines end in the same state; returns the tier's machine.
     */
    private static TestMachine runToDivideError(boolean cycle, String program) {
        TestMachine[] ms = machines(cycle, program);
        for (TestMachine m : ms) {
            m.s.gpr[CpuState.RCX] = 200;
            assertEquals(Exit.EXCEPTION, runUntilExit(m, 97));
        }
        TestMachine t = ms[0];
        assertCallsCompiled(t);
        assertEquals(Vectors.DE, t.s.exceptionVector);
        assertSameState(ms[0], ms[1]);
        return t;
    }

    /**
     * A called instruction that starts a code line (the line before it holds the loop's first
     * instructions): under cycle timing the block fetches its line as the interpreter does (the fetch
     * dedupe keys on the previous instruction's line), and the #DE's issue point is the DIV's.
     */
    @ParameterizedTest(name = "cycle timing {0}")
    @ValueSource(booleans = {false, true})
    void calledInstructionAtALineStartIsFetched(boolean cycle) {
        TestMachine t = runToDivideError(cycle, DIVIDE_AT_LINE);
        assertEquals(AT + 0x40, t.s.rip, "RIP at the DIV");
        assertEquals(0x33 + 195L * 8 + 4, t.s.instructions);
    }

    @ParameterizedTest(name = "cycle timing {0}")
    @ValueSource(booleans = {false, true})
    void pageFaultInsideRepMovsRetiresTheCompletedIterations(boolean cycle) {
        TestMachine[] ms = machines(cycle, REP_MOVS);
        for (TestMachine m : ms) {
            m.mapNew(DATA, TestMachine.P | TestMachine.RW | TestMachine.US | TestMachine.NX); // DATA + 0x1000 unmapped
            m.s.gpr[CpuState.RDX] = SRC;
            m.s.gpr[CpuState.RDI] = DATA;
            m.s.gpr[CpuState.R8] = 1000;
            assertEquals(Exit.EXCEPTION, runUntilExit(m, 89));
        }
        TestMachine t = ms[0];
        assertCallsCompiled(t);
        // Pass 171 starts at DATA + 170 * 24 = DATA + 0xff0: 16 bytes fit, the 17th faults.
        assertEquals(Vectors.PF, t.s.exceptionVector);
        assertEquals(AT + 0xf, t.s.rip, "RIP at the REP MOVSB");
        assertEquals(DATA + 0x1000, t.s.cr2);
        assertEquals(8, t.s.gpr[CpuState.RCX], "iterations left");
        assertEquals(SRC + 16, t.s.gpr[CpuState.RSI]);
        assertEquals(DATA + 0x1000, t.s.gpr[CpuState.RDI]);
        assertEquals(171, t.s.gpr[CpuState.RBX]);
        assertEquals(170L * 7 + 4, t.s.instructions);
        assertSameState(ms[0], ms[1]);
        assertEquals(checksum(ms[1], DATA, 4096), checksum(ms[0], DATA, 4096), "bytes copied");

        // The kernel maps the page; the REP MOVSB resumes with its remaining iterations.
        for (TestMachine m : ms) {
            for (int p = 1; p < 8; p++) {
                m.mapNew(DATA + p * 0x1000L, TestMachine.P | TestMachine.RW | TestMachine.US | TestMachine.NX);
            }
            m.s.exceptionVector = -1;
            assertEquals(Exit.SYSCALL, runUntilExit(m, 4096));
        }
        assertEquals(DATA + 1000 * 24, ms[0].s.gpr[CpuState.RDI]);
        assertSameState(ms[0], ms[1]);
        assertEquals(checksum(ms[1], DATA + 0x1000, 4096), checksum(ms[0], DATA + 0x1000, 4096), "bytes copied after");
    }
}
