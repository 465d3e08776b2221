package org.mmulab.emulator.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.mmulab.emulator.cpu.tier.Engine;
import org.mmulab.emulator.mmu.Mmu;

/**
 * The translation tier's exactness cases (issue 16 item 2), each run once with {@code --engine tier} and
 * once with the interpreter alone on a separate memory (decoded code is shared per memory), comparing the
 * whole architectural result: registers, RFLAGS, RIP, retired instructions, the exception and CR2, and the
 * MMU counters. Each also checks that the tier really compiled the code under test, so the comparison is
 * not interpreter against interpreter. Programs (assembled with GNU as, listing in the comments):
 * <pre>
 * 0x000 fault:  add $1,%rax; mov (%rsi),%rdx; add $0x1000,%rsi; dec %rcx; jnz fault; syscall
 * 0x040 start:  mov $100,%ecx
 *       inner:  add $1,%rax; dec %rcx; jnz inner; incb inner+3(%rip); dec %rbx; jnz start; syscall
 * 0x080 s2:     cmp $1,%rbx; mov %r8,%rdi; cmove %r9,%rdi; movl %ebx,(%rdi)
 * 0x08d next:   mov $0,%edx; add %rdx,%rax; dec %rbx; jnz s2; syscall
 * 0x0c0 x:      add $1,%rax; dec %rcx; jnz x; syscall
 * 0x100 w:      movb $7,x+3(%rip); syscall
 * 0x140 u:      add $1,%rax; dec %rcx; jnz u; div %rbx; syscall
 * </pre>
 */
class TierExactnessTest {
    private static final long CODE = 0x40_0000L, DATA = 0x1000_0000L;
    private static final String PROGRAM = ""
            + "4883c001488b164881c60010000048ffc975ed0f05000000000000000000000000000000000000000000000000000000"
            + "00000000000000000000000000000000b9640000004883c00148ffc975f7fe05f4ffffff48ffcb75e70f050000000000"
            + "00000000000000000000000000000000000000000000000000000000000000004883fb014c89c7490f44f9891fba0000"
            + "00004801d048ffcb75e60f05000000000000000000000000000000000000000000000000000000000000000000000000"
            + "4883c00148ffc975f70f0500000000000000000000000000000000000000000000000000000000000000000000000000"
            + "00000000000000000000000000000000c605bcffffff070f050000000000000000000000000000000000000000000000"
            + "00000000000000000000000000000000000000000000000000000000000000004883c00148ffc975f748f7f30f05";

    private static TestMachine machine(Engine e) {
        TestMachine m = new TestMachine();
        m.mapNew(CODE, TestMachine.P | TestMachine.RW | TestMachine.US);
        m.load(CODE, TestMachine.hex(PROGRAM));
        m.cpu.setEngine(e);
        return m;
    }

    /** Runs in quanta of {@code budget} until an exit other than BUDGET; returns it. */
    private static int runUntilExit(TestMachine m, long budget) {
        for (int i = 0; i < 1_000_000; i++) {
            int x = m.cpu.run(budget);
            if (x != Exit.BUDGET) {
                return x;
            }
        }
        throw new AssertionError("no exit");
    }

    private static void assertSameState(TestMachine a, TestMachine b) {
        assertArrayEquals(a.s.gpr, b.s.gpr, "registers");
        assertEquals(Long.toHexString(a.s.rip), Long.toHexString(b.s.rip), "rip");
        assertEquals(a.s.getRflags(), b.s.getRflags(), "rflags");
        assertEquals(a.s.instructions, b.s.instructions, "retired instructions");
        assertEquals(a.s.exceptionVector, b.s.exceptionVector, "vector");
        assertEquals(a.s.exceptionErrorCode, b.s.exceptionErrorCode, "error code");
        assertEquals(a.s.cr2, b.s.cr2, "cr2");
        assertEquals(counters(a.mmu), counters(b.mmu), "MMU counters");
    }

    private static String counters(Mmu mmu) {
        var c = mmu.counters;
        return c.dtlbHits + "/" + c.dtlbMisses + "/" + c.dtlbWalks + "/" + c.itlbHits + "/" + c.itlbMisses + "/" + c.stlbHits
                + "/" + c.walkerLoads;
    }

    private static long compiled(TestMachine m) {
        if (m.cpu.tier() == null) {
            return 0;
        }
        assertEquals(0, m.cpu.tier().compileFailures, "blocks the JVM refused");
        return m.cpu.tier().blocksCompiled;
    }

    /** #PF on the load in the middle of a hot loop: the add before it is retired, RIP is the load. */
    @Test
    void pageFaultMidBlockRestartsAtTheFaultingInstruction() {
        TestMachine[] ms = {machine(Engine.TIER), machine(Engine.INTERP)};
        for (TestMachine m : ms) {
            for (int p = 0; p < 100; p++) {
                m.mapNew(DATA + p * 0x1000L, TestMachine.P | TestMachine.US | TestMachine.NX);
                m.mem.write64(m.pa(DATA + p * 0x1000L), p);
            }
            m.s.rip = CODE;
            m.s.gpr[CpuState.RSI] = DATA;
            m.s.gpr[CpuState.RCX] = 1000;
            // Odd budgets: quanta end inside passes, so the tier also stops short of a pass.
            assertEquals(Exit.EXCEPTION, runUntilExit(m, 97));
        }
        TestMachine t = ms[0];
        assertTrue(compiled(t) > 0, "the loop was compiled");
        assertEquals(Vectors.PF, t.s.exceptionVector);
        assertEquals(CODE + 4, t.s.rip, "RIP at the faulting load");
        assertEquals(DATA + 100 * 0x1000L, t.s.cr2);
        assertEquals(101, t.s.gpr[CpuState.RAX], "the add of the faulting pass retired");
        assertEquals(99, t.s.gpr[CpuState.RDX], "the last load that completed");
        assertEquals(900, t.s.gpr[CpuState.RCX]);
        assertEquals(100 * 5 + 1, t.s.instructions);
        assertSameState(ms[0], ms[1]);

        // The kernel's answer to the fault: map the page and restart; the loop resumes at the load.
        for (TestMachine m : ms) {
            for (int p = 100; p < 1000; p++) {
                m.mapNew(DATA + p * 0x1000L, TestMachine.P | TestMachine.US | TestMachine.NX);
            }
            m.s.exceptionVector = -1;
            assertEquals(Exit.SYSCALL, runUntilExit(m, 65536));
        }
        assertEquals(1000, ms[0].s.gpr[CpuState.RAX]);
        assertSameState(ms[0], ms[1]);
    }

    /** #DE right after a hot loop: the block ends before DIV, the interpreter raises it at the right RIP. */
    @Test
    void divideErrorAfterACompiledLoop() {
        TestMachine[] ms = {machine(Engine.TIER), machine(Engine.INTERP)};
        for (TestMachine m : ms) {
            m.s.rip = CODE + 0x140;
            m.s.gpr[CpuState.RCX] = 5000;
            m.s.gpr[CpuState.RBX] = 0;
            assertEquals(Exit.EXCEPTION, runUntilExit(m, 1000));
        }
        assertTrue(compiled(ms[0]) > 0);
        assertEquals(Vectors.DE, ms[0].s.exceptionVector);
        assertEquals(CODE + 0x149, ms[0].s.rip);
        assertSameState(ms[0], ms[1]);
    }

    /** An interpreted INC m8 rewrites the immediate of a compiled loop: the next pass runs the new code. */
    @Test
    void selfModifyingCodeRecompiles() {
        TestMachine[] ms = {machine(Engine.TIER), machine(Engine.INTERP)};
        for (TestMachine m : ms) {
            m.s.rip = CODE + 0x40;
            m.s.gpr[CpuState.RBX] = 5;
            assertEquals(Exit.SYSCALL, runUntilExit(m, 65536));
        }
        assertEquals(100 * (1 + 2 + 3 + 4 + 5), ms[0].s.gpr[CpuState.RAX]);
        assertTrue(compiled(ms[0]) >= 2, "compiled before and after the write");
        assertSameState(ms[0], ms[1]);
    }

    /**
     * A store inside a compiled loop: 199 passes store to a data page, the last one (RBX = 1) into the
     * immediate of the very next instruction of the same block, which must then run patched (EDX = 1).
     */
    @Test
    void storeIntoItsOwnBlockTakesEffectAtTheNextInstruction() {
        TestMachine[] ms = {machine(Engine.TIER), machine(Engine.INTERP)};
        for (TestMachine m : ms) {
            m.mapNew(DATA, TestMachine.P | TestMachine.RW | TestMachine.US | TestMachine.NX);
            m.s.rip = CODE + 0x80;
            m.s.gpr[CpuState.RBX] = 200;
            m.s.gpr[CpuState.R8] = DATA;
            m.s.gpr[CpuState.R9] = CODE + 0x8e; // the imm32 of "mov $0,%edx"
            assertEquals(Exit.SYSCALL, runUntilExit(m, 65536));
        }
        assertTrue(compiled(ms[0]) > 0);
        assertEquals(1, ms[0].s.gpr[CpuState.RAX], "the patched mov ran right after the store");
        assertSameState(ms[0], ms[1]);
    }

    /**
     * Cross-modifying code: vCPU A runs a compiled loop, vCPU B (another interpreter on the same memory and
     * page tables) rewrites the loop's immediate; A's next quantum runs the new code.
     */
    @Test
    void codeWrittenByAnotherVcpuInvalidatesTheTranslation() {
        long[] rax = new long[2];
        long[] insns = new long[2];
        Engine[] engines = {Engine.TIER, Engine.INTERP};
        for (int k = 0; k < 2; k++) {
            TestMachine m = machine(engines[k]);
            m.s.rip = CODE + 0xc0;
            m.s.gpr[CpuState.RCX] = 1_000_000;
            assertEquals(Exit.BUDGET, m.cpu.run(30_000)); // 10,000 passes of add/dec/jnz
            assertEquals(10_000, m.s.gpr[CpuState.RAX]);
            if (k == 0) {
                assertTrue(compiled(m) > 0, "A's loop was compiled");
            }
            CpuState s2 = new CpuState();
            s2.cr3 = m.pml4;
            s2.cpl = 3;
            s2.cpuIndex = 1;
            Interpreter b = new Interpreter(s2, new Mmu(m.mem, s2, 39), m.mem);
            b.setEngine(engines[k]);
            s2.rip = CODE + 0x100;
            assertEquals(Exit.SYSCALL, b.run(10));
            assertEquals(Exit.BUDGET, m.cpu.run(30_000));
            rax[k] = m.s.gpr[CpuState.RAX];
            insns[k] = m.s.instructions;
        }
        assertEquals(10_000 + 7 * 10_000, rax[0], "after B's write every pass adds 7");
        assertEquals(rax[1], rax[0]);
        assertEquals(insns[1], insns[0]);
    }

    /**
     * An interrupt request that arrives at a walker yield point inside a compiled block (as another vCPU's
     * IPI does under deterministic scheduling) is seen at the interpreter's next poll point, not earlier
     * or later: both engines return at the same instruction count, a multiple of 1024.
     */
    @Test
    void interruptAtAWalkerYieldIsSeenAtTheInterpretersPollPoint() {
        TestMachine[] ms = {machine(Engine.TIER), machine(Engine.INTERP)};
        for (TestMachine m : ms) {
            for (int p = 0; p < 2000; p++) {
                m.mapNew(DATA + p * 0x1000L, TestMachine.P | TestMachine.US | TestMachine.NX);
            }
            m.s.rip = CODE;
            m.s.gpr[CpuState.RSI] = DATA;
            m.s.gpr[CpuState.RCX] = 2000;
            int[] loads = {0};
            m.mmu.setWalkerYield(new org.mmulab.emulator.mmu.WalkerYield() {
                @Override
                public void beforeLoad() {
                    if (++loads[0] == 1001) {
                        m.cpu.interrupt(); // another vCPU ran here and sent an IPI
                    }
                }

                @Override
                public void beforeAdUpdate() {
                }
            });
            assertEquals(Exit.BUDGET, m.cpu.run(9000));
        }
        assertTrue(compiled(ms[0]) > 0);
        assertTrue(ms[1].s.instructions < 9000 && ms[1].s.instructions % 1024 == 0, "" + ms[1].s.instructions);
        assertSameState(ms[0], ms[1]);
    }

    /** Budgets of one instruction (single-step, --trace-regs, breakpoints) give the interpreter's states. */
    @Test
    void singleStepsMatchTheInterpreter() {
        TestMachine[] ms = {machine(Engine.TIER), machine(Engine.INTERP)};
        for (TestMachine m : ms) {
            m.s.rip = CODE + 0xc0;
            m.s.gpr[CpuState.RCX] = 1000;
            assertEquals(Exit.BUDGET, m.cpu.run(600)); // hot and compiled in the tier run
        }
        assertTrue(compiled(ms[0]) > 0);
        for (int i = 0; i < 100; i++) {
            for (TestMachine m : ms) {
                assertEquals(Exit.BUDGET, m.cpu.run(1));
            }
            assertSameState(ms[0], ms[1]);
        }
    }
}
