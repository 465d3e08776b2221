package org.mmulab.emulator.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.mmulab.emulator.mmu.PfErr;
import org.mmulab.emulator.timing.InstrClass;
import org.mmulab.emulator.timing.TimingModel;
import org.mmulab.emulator.timing.VcpuClock;
import org.mmulab.emulator.timing.WalkTiming;

/** Cycle-mode instruction costs: by class, REP elements, faulted instructions, the class table. */
class InstructionTimingTest {
    static final long CODE = 0x400000, DATA = 0x600000, STACK = 0x7ff000;
    static final TimingModel T = TimingModel.SKYLAKE;
    TestMachine m;
    VcpuClock clock;
    InstructionTiming it;

    @BeforeEach
    void setUp() {
        m = new TestMachine();
        m.mapNew(CODE, TestMachine.P | TestMachine.US);
        m.mapNew(DATA, TestMachine.P | TestMachine.RW | TestMachine.US | TestMachine.NX);
        m.mapNew(STACK, TestMachine.P | TestMachine.RW | TestMachine.US | TestMachine.NX);
        m.s.gpr[CpuState.RSP] = STACK + 0x800;
        m.s.rip = CODE;
        WalkTiming walk = new WalkTiming(T.buildCaches(), T.stlbHit());
        clock = new VcpuClock(T, walk.caches());
        it = new InstructionTiming(m.s, T, clock, walk);
        m.cpu.setTiming(it);
    }

    /** Runs {@code n} instructions one at a time (each run() returns, as the vCPU loop settles). */
    private long run(String hex, int n) {
        m.load(m.s.rip, TestMachine.hex(hex));
        long before = clock.cycles();
        for (int i = 0; i < n; i++) {
            int x = m.cpu.run(1);
            it.settle();
            if (x != Exit.BUDGET) {
                break;
            }
        }
        return clock.cycles() - before;
    }

    private static int c(InstrClass k) {
        return T.cycles(k);
    }

    @Test
    void classesPriceRegisterMemoryDivideAndLockedForms() {
        // xor eax,eax; add eax,[rbx]; xor edx,edx; div rcx; xor edx,edx; div ecx; lock add [rbx],eax
        m.s.gpr[CpuState.RBX] = DATA;
        m.s.gpr[CpuState.RCX] = 3;
        long total = run("31c0" + "0303" + "31d2" + "48f7f1" + "31d2" + "f7f1" + "f00103", 7);
        assertEquals(7, m.s.instructions);
        assertEquals(4 * c(InstrClass.SIMPLE) + c(InstrClass.MEM_OPERAND) + c(InstrClass.DIV64)
                + c(InstrClass.DIV32) + c(InstrClass.LOCKED_RMW), total);
    }

    @Test
    void oneRunCallChargesEveryRetiredInstructionButNotTheFaultingOne() {
        // The interpreter brings state.instructions up to date only when run() returns: costs must not
        // depend on that. xor eax,eax; add eax,[rbx]; xor edx,edx; div rcx; then add [rdx],eax on a
        // read-only page (#PF), all in one run() call.
        long ro = 0x500000;
        m.mapNew(ro, TestMachine.P | TestMachine.US);
        m.s.gpr[CpuState.RBX] = DATA;
        m.s.gpr[CpuState.RCX] = 3;
        m.load(CODE, TestMachine.hex("31c0" + "0303" + "31d2" + "48f7f1" + "0102"));
        long before = clock.cycles();
        m.s.gpr[CpuState.RDX] = 0; // div rcx needs rdx = 0; rdx is reloaded below before the fault
        m.load(CODE + 9, TestMachine.hex("ba00005000" + "0102")); // mov edx,0x500000; add [rdx],eax
        assertEquals(Exit.EXCEPTION, m.cpu.run(100));
        it.settle();
        assertEquals(5, m.s.instructions);
        assertEquals(4 * c(InstrClass.SIMPLE) + c(InstrClass.MEM_OPERAND) + c(InstrClass.DIV64),
                clock.cycles() - before);
    }

    @Test
    void leaIsNotAMemoryAccessAndAFaultIsNotCharged() {
        assertEquals(c(InstrClass.SIMPLE), run("488d4208", 1)); // lea rax,[rdx+8]
        long ro = 0x500000;
        m.mapNew(ro, TestMachine.P | TestMachine.US);
        m.s.gpr[CpuState.RDX] = ro;
        m.s.rip = CODE + 0x100;
        long before = clock.cycles();
        m.load(CODE + 0x100, TestMachine.hex("0102")); // add [rdx],eax on a read-only page: #PF
        assertEquals(Exit.EXCEPTION, m.cpu.run(1));
        it.settle();
        assertEquals(PfErr.P | PfErr.W | PfErr.U, m.s.exceptionErrorCode);
        assertEquals(before, clock.cycles(), "a faulting instruction did not retire; it is charged when re-executed");
    }

    @Test
    void repStosPaysStartupPlusOneCostPerElementDone() {
        // rep stosq with RCX = 100, then rep stosb with RCX = 0
        m.s.gpr[CpuState.RDI] = DATA;
        m.s.gpr[CpuState.RCX] = 100;
        long cost = run("f348ab", 1);
        assertEquals(0, m.s.gpr[CpuState.RCX]);
        assertEquals(c(InstrClass.REP_STARTUP) + 100L * c(InstrClass.STRING_ITER), cost);
        m.s.rip = CODE + 0x100;
        assertEquals(c(InstrClass.REP_STARTUP), run("f3aa", 1), "RCX = 0: no element");
    }

    @Test
    void repeCmpsStopsEarlyAndIsChargedForTheElementsCompared() {
        m.load(DATA, "abcdXf".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        m.load(DATA + 0x100, "abcdYf".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        m.s.gpr[CpuState.RSI] = DATA;
        m.s.gpr[CpuState.RDI] = DATA + 0x100;
        m.s.gpr[CpuState.RCX] = 6;
        long cost = run("f3a6", 1); // repe cmpsb: stops after the 5th (mismatching) byte
        assertEquals(1, m.s.gpr[CpuState.RCX]);
        assertEquals(c(InstrClass.REP_STARTUP) + 5L * c(InstrClass.STRING_CMP_ITER), cost);
    }

    @Test
    void aRepThatFaultsPartWayPaysForTheElementsItCompleted() {
        m.s.gpr[CpuState.RDI] = DATA + 0x1000 - 16; // two qwords fit, the third hits an unmapped page
        m.s.gpr[CpuState.RCX] = 5;
        long cost = run("f348ab", 1);
        assertEquals(Vectors.PF, m.s.exceptionVector);
        assertEquals(3, m.s.gpr[CpuState.RCX]);
        assertEquals(2L * c(InstrClass.STRING_ITER), cost);
    }

    @Test
    void theClassTableCoversEveryOpId() {
        for (int op = 0; op < Op.COUNT; op++) {
            InstrClass k = InstructionTiming.classOf(op);
            boolean computed = op == Op.MULDIV || op == Op.SSE || op == Op.X87 || (op >= Op.MOVS && op <= Op.SCAS);
            if (computed) {
                assertNull(k, "op " + op);
            } else {
                assertEquals(k, InstructionTiming.classOf(op));
                assertEquals(true, k != null, "op " + op);
            }
        }
        assertEquals(InstrClass.SSE_DIV_DOUBLE, InstructionTiming.sseClass(Sse.FP_ARITH + 4 * 5 + 2)); // DIVSD
        assertEquals(InstrClass.SSE_DIV_SINGLE, InstructionTiming.sseClass(Sse.FP_ARITH + 4 * 5 + 3)); // DIVSS
        assertEquals(InstrClass.SSE_SQRT, InstructionTiming.sseClass(Sse.FP_ARITH + 1)); // SQRTPD
        assertEquals(InstrClass.SSE_FP, InstructionTiming.sseClass(Sse.FP_ARITH + 4 + 2)); // ADDSD
        assertEquals(InstrClass.SSE_SIMPLE, InstructionTiming.sseClass(Sse.PXOR));
        assertEquals(InstrClass.FXSAVE, InstructionTiming.sseClass(Sse.FXSAVE));
    }

    @Test
    void x87InstructionsAreClassedByKind() {
        assertEquals(InstrClass.X87_FP, InstructionTiming.x87Class(0, false, 1)); // FADD ST, ST(1)
        assertEquals(InstrClass.X87_DIV, InstructionTiming.x87Class((6 << 3) | 7, false, 1)); // FDIVP
        assertEquals(InstrClass.X87_DIV, InstructionTiming.x87Class((4 << 3) | 6, true, 0)); // FDIV m64
        assertEquals(InstrClass.X87_SQRT, InstructionTiming.x87Class((1 << 3) | 7, false, 2)); // FSQRT
        assertEquals(InstrClass.X87_TRANS, InstructionTiming.x87Class((1 << 3) | 7, false, 6)); // FSIN
        assertEquals(InstrClass.X87_TRANS, InstructionTiming.x87Class((1 << 3) | 6, false, 3)); // FPATAN
        assertEquals(InstrClass.X87_DIV, InstructionTiming.x87Class((1 << 3) | 7, false, 0)); // FPREM
        assertEquals(InstrClass.X87_FP, InstructionTiming.x87Class((1 << 3) | 4, false, 0)); // FCHS
        assertEquals(InstrClass.X87_STATE, InstructionTiming.x87Class((5 << 3) | 6, true, 0)); // FNSAVE
        assertEquals(InstrClass.X87_FP, InstructionTiming.x87Class((1 << 3) | 5, true, 0)); // FLDCW
        assertEquals(InstrClass.X87_FP, InstructionTiming.x87Class(X87Exec.FWAIT, false, 0));
    }

    /**
     * Zen 5 (AMD 58455: loads and stores are their own ops in the load/store pipes, four AGUs, up to four loads
     * per cycle): a memory operand adds no cycle to its instruction's class, so tlb_stride's loop (add, a load,
     * cmp, jb) costs its 4-cycle load-to-use latency on an L1 hit; Skylake keeps its extra cycle.
     */
    @Test
    void zen5ChargesNoExtraCycleForAMemoryOperand() {
        TimingModel z = org.mmulab.emulator.mmu.cpudb.Zen5.TIMING;
        WalkTiming walk = new WalkTiming(z.buildCaches(), z.stlbHit());
        clock = new VcpuClock(z, walk.caches());
        it = new InstructionTiming(m.s, z, clock, walk);
        m.cpu.setTiming(it);
        m.s.gpr[CpuState.RBX] = DATA;
        m.s.gpr[CpuState.R13] = DATA;
        m.mem.write64(m.pa(DATA), DATA);
        run("488b03", 1); // mov rax,[rbx]: the line comes into L1D (a miss)
        // add rax,1; mov r13,[r13]; cmp rax,rbx; jb (not taken: rax > rbx)
        assertEquals(4, run("4883c001" + "4d8b6d00" + "4839d8" + "7200", 4), "four classes of 1 cycle: an L1 hit adds nothing");
        assertEquals(1, T.cycles(InstrClass.MEM_OPERAND), "Skylake: one");
    }
}
