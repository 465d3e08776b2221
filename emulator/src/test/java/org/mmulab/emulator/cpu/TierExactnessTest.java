package org.mmulab.emulator.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.Map;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.mmulab.emulator.cpu.tier.Engine;
import org.mmulab.emulator.mmu.Mmu;
import org.mmulab.emulator.mmu.cpudb.Zen5;
import org.mmulab.emulator.timing.TimingModel;
import org.mmulab.emulator.timing.VcpuClock;
import org.mmulab.emulator.timing.WalkTiming;

/**
 * The translation tier's exactness cases (issue 16 item 2), each run once with {@code --engine tier} and
 * once with the interpreter alone on a separate memory (decoded code is shared per memory), comparing the
 * whole architectural result: registers, RFLAGS, RIP, retired instructions, the exception and CR2, and the
 * MMU counters. Each also checks that the tier really compiled the code under test, so the comparison is
 * not interpreter against interpreter. Each case runs under fast timing and under cycle timing; under
 * cycle timing the cycle account must be identical too: clock and walk cycles, every cache-level counter
 * of fetches, data accesses and walker loads, and where the last fault issued. Programs (assembled with
 * GNU as, listing in the comments):
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
 * and, loaded by the cases that use them ({@link #THREE_ACCESSES}, {@link #ACROSS_LINES}, {@link #ACROSS_PAGES}):
 * <pre>
 * 0x200 a3:     mov (%rsi),%rax; add %rax,%rdx; mov %rdx,8(%rsi); mov (%rdi),%rbx; add $0x1000,%rdi;
 *               dec %rcx; jnz a3; syscall
 * 0x2f0 b:      add $1,%rax; mov %rax,(%rsi); nop; nop; nop; movabs $0x1122334455667788,%r8 (0x2fa-0x303,
 *               across a line); add %r8,%rdx; mov 0x40(%rsi),%rbx; dec %rcx; jnz b; syscall
 * 0xfe2 c:      add $1,%rax; mov %rax,(%rsi); add $2,%rdx; add $3,%rdx; add $4,%rdx; nop; nop; nop;
 *               movabs $0x1122334455667788,%r8 (0xff8-0x1001, across the page); dec %rcx; jnz c; syscall
 * 0x200 chase:  add $1,%rax; mov 0(%r13),%r13; cmp %rbx,%rax; jb chase; syscall   (tlb_stride's timed loop)
 * </pre>
 */
class TierExactnessTest {
    static final long CODE = 0x40_0000L, DATA = 0x1000_0000L;
    private static final String PROGRAM = ""
            + "4883c001488b164881c60010000048ffc975ed0f05000000000000000000000000000000000000000000000000000000"
            + "00000000000000000000000000000000b9640000004883c00148ffc975f7fe05f4ffffff48ffcb75e70f050000000000"
            + "00000000000000000000000000000000000000000000000000000000000000004883fb014c89c7490f44f9891fba0000"
            + "00004801d048ffcb75e60f05000000000000000000000000000000000000000000000000000000000000000000000000"
            + "4883c00148ffc975f70f0500000000000000000000000000000000000000000000000000000000000000000000000000"
            + "00000000000000000000000000000000c605bcffffff070f050000000000000000000000000000000000000000000000"
            + "00000000000000000000000000000000000000000000000000000000000000004883c00148ffc975f748f7f30f05";

    private static final String THREE_ACCESSES = "488b064801c248895608488b1f4881c70010000048ffc975e70f05";
    private static final String ACROSS_LINES = "4883c00148890690909049b888776655443322114c01c2488b5e4048ffc975e00f05";
    private static final String CHASE = "4883c0014d8b6d004839d872f30f05";
    private static final String ACROSS_PAGES =
            "4883c0014889064883c2024883c2034883c20490909049b8887766554433221148ffc975db0f05";

    /** Cycle timing of a machine (as Vcpu.configureTiming sets it up), and the exit of its last run call. */
    private static final class Cycle {
        final VcpuClock clock;
        final WalkTiming walk;
        final InstructionTiming it;
        int lastExit = -1;

        Cycle(VcpuClock clock, WalkTiming walk, InstructionTiming it) {
            this.clock = clock;
            this.walk = walk;
            this.it = it;
        }

        /** The whole account; the issue point only after an exception (the only time the vCPU reads it). */
        String account() {
            return "clock " + clock.cycles() + ", walk " + walk.cycles + " (walks " + walk.walkCycles + ", data "
                    + walk.dataCycles + ", fetch " + walk.fetchCycles + "), fetch lines "
                    + Arrays.toString(walk.fetchLinesByLevel)
                    + ", data " + Arrays.toString(walk.dataAccessesByLevel) + ", walker loads "
                    + Arrays.toString(walk.walkerLoadsByLevel) + "/" + Arrays.toString(walk.itlbWalkerLoadsByLevel)
                    + (lastExit == Exit.EXCEPTION ? ", fault issued at " + it.issueCycles() : "");
        }
    }

    private static final Map<TestMachine, Cycle> CYCLE = new IdentityHashMap<>();

    static TestMachine machine(Engine e, boolean cycle) {
        return machine(e, cycle ? TimingModel.SKYLAKE : null);
    }

    /** A machine with the program loaded, under cycle timing with {@code model} (null: fast timing). */
    static TestMachine machine(Engine e, TimingModel model) {
        TestMachine m = new TestMachine();
        m.mapNew(CODE, TestMachine.P | TestMachine.RW | TestMachine.US);
        m.load(CODE, TestMachine.hex(PROGRAM));
        m.cpu.setEngine(e);
        if (model != null) {
            org.mmulab.emulator.timing.CacheHierarchy caches = model.buildCaches();
            VcpuClock clock = new VcpuClock(model, caches);
            WalkTiming walk = new WalkTiming(caches, model.stlbHit(), clock); // as a vCPU's (Vcpu.configureTiming)
            InstructionTiming it = new InstructionTiming(m.s, model, clock, walk);
            m.mmu.setTiming(walk);
            m.cpu.setTiming(it);
            synchronized (CYCLE) {
                CYCLE.put(m, new Cycle(clock, walk, it));
            }
        }
        return m;
    }

    private static Cycle cycle(TestMachine m) {
        synchronized (CYCLE) {
            return CYCLE.get(m);
        }
    }

    /** One run call, then what the vCPU loop does after it under cycle timing (settle). */
    static int run(TestMachine m, long budget) {
        int x = m.cpu.run(budget);
        Cycle c = cycle(m);
        if (c != null) {
            c.it.settle();
            c.lastExit = x;
        }
        return x;
    }

    /** Runs in quanta of {@code budget} until an exit other than BUDGET; returns it. */
    static int runUntilExit(TestMachine m, long budget) {
        for (int i = 0; i < 1_000_000; i++) {
            int x = run(m, budget);
            if (x != Exit.BUDGET) {
                return x;
            }
        }
        throw new AssertionError("no exit");
    }

    static void assertSameState(TestMachine a, TestMachine b) {
        assertArrayEquals(a.s.gpr, b.s.gpr, "registers");
        assertEquals(Long.toHexString(a.s.rip), Long.toHexString(b.s.rip), "rip");
        assertEquals(a.s.getRflags(), b.s.getRflags(), "rflags");
        assertEquals(a.s.instructions, b.s.instructions, "retired instructions");
        assertEquals(a.s.exceptionVector, b.s.exceptionVector, "vector");
        assertEquals(a.s.exceptionErrorCode, b.s.exceptionErrorCode, "error code");
        assertEquals(a.s.cr2, b.s.cr2, "cr2");
        assertEquals(counters(a.mmu), counters(b.mmu), "MMU counters");
        Cycle ca = cycle(a), cb = cycle(b);
        if (ca != null) {
            assertEquals(cb.account(), ca.account(), "cycle account");
        }
    }

    private static String counters(Mmu mmu) {
        var c = mmu.counters;
        return c.dtlbHits + "/" + c.dtlbMisses + "/" + c.dtlbWalks + "/" + c.itlbHits + "/" + c.itlbMisses + "/" + c.stlbHits
                + "/" + c.walkerLoads;
    }

    static long compiled(TestMachine m) {
        if (m.cpu.tier() == null) {
            return 0;
        }
        assertEquals(0, m.cpu.tier().compileFailures, "blocks the JVM refused");
        return m.cpu.tier().blocksCompiled;
    }

    /** #PF on the load in the middle of a hot loop: the add before it is retired, RIP is the load. */
    @ParameterizedTest(name = "cycle timing {0}")
    @ValueSource(booleans = {false, true})
    void pageFaultMidBlockRestartsAtTheFaultingInstruction(boolean cycle) {
        TestMachine[] ms = {machine(Engine.TIER, cycle), machine(Engine.INTERP, cycle)};
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
    @ParameterizedTest(name = "cycle timing {0}")
    @ValueSource(booleans = {false, true})
    void divideErrorAfterACompiledLoop(boolean cycle) {
        TestMachine[] ms = {machine(Engine.TIER, cycle), machine(Engine.INTERP, cycle)};
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
    @ParameterizedTest(name = "cycle timing {0}")
    @ValueSource(booleans = {false, true})
    void selfModifyingCodeRecompiles(boolean cycle) {
        TestMachine[] ms = {machine(Engine.TIER, cycle), machine(Engine.INTERP, cycle)};
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
    @ParameterizedTest(name = "cycle timing {0}")
    @ValueSource(booleans = {false, true})
    void storeIntoItsOwnBlockTakesEffectAtTheNextInstruction(boolean cycle) {
        TestMachine[] ms = {machine(Engine.TIER, cycle), machine(Engine.INTERP, cycle)};
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
    @ParameterizedTest(name = "cycle timing {0}")
    @ValueSource(booleans = {false, true})
    void codeWrittenByAnotherVcpuInvalidatesTheTranslation(boolean cycle) {
        long[] rax = new long[2];
        long[] insns = new long[2];
        String[] account = new String[2];
        Engine[] engines = {Engine.TIER, Engine.INTERP};
        for (int k = 0; k < 2; k++) {
            TestMachine m = machine(engines[k], cycle);
            m.s.rip = CODE + 0xc0;
            m.s.gpr[CpuState.RCX] = 1_000_000;
            assertEquals(Exit.BUDGET, run(m, 30_000)); // 10,000 passes of add/dec/jnz
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
            assertEquals(Exit.BUDGET, run(m, 30_000));
            rax[k] = m.s.gpr[CpuState.RAX];
            insns[k] = m.s.instructions;
            account[k] = cycle ? cycle(m).account() : "";
        }
        assertEquals(10_000 + 7 * 10_000, rax[0], "after B's write every pass adds 7");
        assertEquals(rax[1], rax[0]);
        assertEquals(insns[1], insns[0]);
        assertEquals(account[1], account[0], "cycle account");
    }

    /**
     * An interrupt request that arrives at a walker yield point inside a compiled block (as another vCPU's
     * IPI does under deterministic scheduling) is seen at the interpreter's next poll point, not earlier
     * or later: both engines return at the same instruction count, a multiple of 1024.
     */
    @ParameterizedTest(name = "cycle timing {0}")
    @ValueSource(booleans = {false, true})
    void interruptAtAWalkerYieldIsSeenAtTheInterpretersPollPoint(boolean cycle) {
        TestMachine[] ms = {machine(Engine.TIER, cycle), machine(Engine.INTERP, cycle)};
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
            assertEquals(Exit.BUDGET, run(m, 9000));
        }
        assertTrue(compiled(ms[0]) > 0);
        assertTrue(ms[1].s.instructions < 9000 && ms[1].s.instructions % 1024 == 0, "" + ms[1].s.instructions);
        assertSameState(ms[0], ms[1]);
    }

    /**
     * A #PF on the third memory access of a compiled pass (after a load and a store of the same pass
     * retired): the faulting instruction's RIP and state, and under cycle timing the same cycles, cache
     * counters and fault issue point; after the kernel maps the page the retry gives identical accounts.
     */
    @ParameterizedTest(name = "cycle timing {0}")
    @ValueSource(booleans = {false, true})
    void pageFaultOnTheThirdAccessOfAPass(boolean cycle) {
        TestMachine[] ms = {machine(Engine.TIER, cycle), machine(Engine.INTERP, cycle)};
        long walk = DATA + 0x10_0000L;
        for (TestMachine m : ms) {
            m.load(CODE + 0x200, TestMachine.hex(THREE_ACCESSES));
            m.mapNew(DATA, TestMachine.P | TestMachine.RW | TestMachine.US | TestMachine.NX);
            m.mem.write64(m.pa(DATA), 3);
            for (int p = 0; p < 60; p++) {
                m.mapNew(walk + p * 0x1000L, TestMachine.P | TestMachine.US | TestMachine.NX);
            }
            m.s.rip = CODE + 0x200;
            m.s.gpr[CpuState.RSI] = DATA;
            m.s.gpr[CpuState.RDI] = walk;
            m.s.gpr[CpuState.RCX] = 200;
            assertEquals(Exit.EXCEPTION, runUntilExit(m, 101));
        }
        assertTrue(compiled(ms[0]) > 0, "the loop was compiled");
        assertEquals(Vectors.PF, ms[0].s.exceptionVector);
        assertEquals(CODE + 0x20a, ms[0].s.rip, "RIP at the third access");
        assertEquals(walk + 60 * 0x1000L, ms[0].s.cr2);
        assertEquals(3 * 61, ms[0].s.gpr[CpuState.RDX], "the load and add of the faulting pass retired");
        assertSameState(ms[0], ms[1]);
        for (TestMachine m : ms) {
            for (int p = 60; p < 200; p++) {
                m.mapNew(walk + p * 0x1000L, TestMachine.P | TestMachine.US | TestMachine.NX);
            }
            m.s.exceptionVector = -1;
            assertEquals(Exit.SYSCALL, runUntilExit(m, 101));
        }
        assertSameState(ms[0], ms[1]);
    }

    /**
     * A compiled loop over two cache lines with an instruction across the line boundary and data accesses
     * between the fetches: the fetch of each line is charged where the interpreter charges it (by the line
     * where an instruction starts, the previous instruction's line free), in the same order as the loads
     * and stores. Budgets of 7 end quanta inside passes, so blocks are left and re-entered mid-loop.
     */
    @ParameterizedTest(name = "cycle timing {0}")
    @ValueSource(booleans = {false, true})
    void fetchesAcrossCacheLinesInsideABlock(boolean cycle) {
        TestMachine[] ms = {machine(Engine.TIER, cycle), machine(Engine.INTERP, cycle)};
        for (TestMachine m : ms) {
            m.load(CODE + 0x2f0, TestMachine.hex(ACROSS_LINES));
            m.mapNew(DATA, TestMachine.P | TestMachine.RW | TestMachine.US | TestMachine.NX);
            m.s.rip = CODE + 0x2f0;
            m.s.gpr[CpuState.RSI] = DATA;
            m.s.gpr[CpuState.RCX] = 3000;
            assertEquals(Exit.SYSCALL, runUntilExit(m, 7));
        }
        assertTrue(compiled(ms[0]) > 0);
        assertEquals(3000, ms[0].s.gpr[CpuState.RAX]);
        assertSameState(ms[0], ms[1]);
    }

    /**
     * A loop across a page boundary: its block on the first page ends before the instruction that straddles
     * the frame end (never cached, decoded each time), the interpreter runs that one and the branch on the
     * next page, which re-enters the block: the fetches, ITLB lookups and their order match.
     */
    @ParameterizedTest(name = "cycle timing {0}")
    @ValueSource(booleans = {false, true})
    void aLoopAcrossAPageBoundary(boolean cycle) {
        TestMachine[] ms = {machine(Engine.TIER, cycle), machine(Engine.INTERP, cycle)};
        for (TestMachine m : ms) {
            m.mapNew(CODE + 0x1000, TestMachine.P | TestMachine.US);
            m.load(CODE + 0xfe2, TestMachine.hex(ACROSS_PAGES));
            m.mapNew(DATA, TestMachine.P | TestMachine.RW | TestMachine.US | TestMachine.NX);
            m.s.rip = CODE + 0xfe2;
            m.s.gpr[CpuState.RSI] = DATA;
            m.s.gpr[CpuState.RCX] = 2000;
            assertEquals(Exit.SYSCALL, runUntilExit(m, 1000));
        }
        assertTrue(compiled(ms[0]) > 0);
        assertEquals(2000 * 9, ms[0].s.gpr[CpuState.RDX]);
        assertSameState(ms[0], ms[1]);
    }

    /** Budgets of one instruction (single-step, --trace-regs, breakpoints) give the interpreter's states. */
    @ParameterizedTest(name = "cycle timing {0}")
    @ValueSource(booleans = {false, true})
    void singleStepsMatchTheInterpreter(boolean cycle) {
        TestMachine[] ms = {machine(Engine.TIER, cycle), machine(Engine.INTERP, cycle)};
        for (TestMachine m : ms) {
            m.s.rip = CODE + 0xc0;
            m.s.gpr[CpuState.RCX] = 1000;
            assertEquals(Exit.BUDGET, run(m, 600)); // hot and compiled in the tier run
        }
        assertTrue(compiled(ms[0]) > 0);
        for (int i = 0; i < 100; i++) {
            for (TestMachine m : ms) {
                assertEquals(Exit.BUDGET, run(m, 1));
            }
            assertSameState(ms[0], ms[1]);
        }
    }

    /**
     * tlb_stride's pointer chase under zen5 (a load with no extra memory-operand cost, its stride prefetcher
     * crossing pages, walking, and filling the STLB and L1 dTLB): the tier charges what the interpreter charges.
     * 300 pages (past the L1 dTLB, inside the STLB), one pass, INVLPG of every page, a second pass whose
     * prefetches walk; budgets of 97 end quanta mid-loop.
     */
    @org.junit.jupiter.api.Test
    void tlbStridesChaseUnderZen5ChargesTheSameCyclesInBothTiers() {
        int pages = 300;
        TestMachine[] ms = {machine(Engine.TIER, Zen5.TIMING), machine(Engine.INTERP, Zen5.TIMING)};
        for (TestMachine m : ms) {
            m.load(CODE + 0x200, TestMachine.hex(CHASE));
            for (int p = 0; p < pages; p++) {
                m.mapNew(DATA + p * 0x1000L, TestMachine.P | TestMachine.RW | TestMachine.US | TestMachine.NX);
            }
            for (int p = 0; p < pages; p++) {
                long next = DATA + ((p + 1) % pages) * 0x1000L + ((p + 1) * 67 % 64) * 64;
                m.mem.write64(m.pa(DATA + p * 0x1000L) + (p * 67 % 64) * 64, next);
            }
            for (int pass = 0; pass < 2; pass++) {
                if (pass == 1) {
                    for (int p = 0; p < pages; p++) {
                        m.mmu.invlpg(DATA + p * 0x1000L);
                    }
                }
                m.s.rip = CODE + 0x200;
                m.s.gpr[CpuState.RAX] = 0;
                m.s.gpr[CpuState.RBX] = pages;
                m.s.gpr[CpuState.R13] = DATA;
                assertEquals(Exit.SYSCALL, runUntilExit(m, 97));
            }
        }
        assertTrue(compiled(ms[0]) > 0, "the loop was compiled");
        assertTrue(cycle(ms[0]).walk.prefetcher().stlbFills > 0, "the second pass's prefetches walked and filled the STLB");
        assertEquals(0, Zen5.TIMING.cycles(org.mmulab.emulator.timing.InstrClass.MEM_OPERAND));
        assertSameState(ms[0], ms[1]);
    }
}
