package org.mmulab.emulator.machine;

import org.mmulab.emulator.cpu.CpuState;
import org.mmulab.emulator.cpu.Exit;
import org.mmulab.emulator.cpu.InstructionTiming;
import org.mmulab.emulator.cpu.Interpreter;
import org.mmulab.emulator.cpu.Vectors;
import org.mmulab.emulator.debug.DebugController;
import org.mmulab.emulator.memory.PhysicalMemory;
import org.mmulab.emulator.mmu.CpuModel;
import org.mmulab.emulator.mmu.Mmu;
import org.mmulab.emulator.mmu.MmuCounters;
import org.mmulab.emulator.timing.InstrClass;
import org.mmulab.emulator.timing.TimingModel;
import org.mmulab.emulator.timing.VcpuClock;
import org.mmulab.emulator.timing.WalkTiming;

/**
 * One virtual CPU: architectural state, its MMU and TLBs, and the interpreter that runs it. The run
 * loop hands every trap to the {@link TrapHandler} and resumes until someone calls {@link #stop()}.
 *
 * <p>Timing (DESIGN.md §2 {@code timing}): every vCPU has a {@link VcpuClock}. Under
 * {@link TimingMode#CYCLE} the interpreter charges each instruction its class cost
 * ({@link InstructionTiming}), the MMU charges STLB hits and walker loads through this vCPU's cache
 * model ({@link WalkTiming}), and the kernel's memory accesses go through the same caches. Under
 * {@link TimingMode#FAST} nothing is added to the hot paths: {@link #cycles()} is computed from the
 * counters at fixed prices (every instruction a SIMPLE one, every L1 TLB miss an STLB lookup, every
 * walker load an L1D hit) plus what the
 * kernel charged. The run loop charges trap entry and exit and times every page fault (hardware part
 * from the faulting instruction's issue, plus the kernel's handling, plus IRET) into the histogram.
 */
public final class Vcpu {
    /** Instructions per interpreter call; a stop request is seen within one quantum. */
    static final long QUANTUM = 1 << 16;

    private final int id;
    private final Machine machine;
    public final CpuState state = new CpuState();
    private final Mmu mmu;
    private final Interpreter interpreter;
    private volatile boolean stopRequested;
    private volatile boolean running;
    private volatile InstructionTrace trace;
    private volatile DebugController debug;
    private final TimingModel timingModel;
    private VcpuClock clock;
    private WalkTiming walkTiming;
    private InstructionTiming instructionTiming;

    Vcpu(Machine machine, int id, PhysicalMemory mem, CpuModel model) {
        this.machine = machine;
        this.id = id;
        this.mmu = new Mmu(mem, state, model);
        this.interpreter = new Interpreter(state, mmu, mem);
        this.timingModel = mmu.model().timing();
        configureTiming(TimingMode.FAST);
    }

    /** Selects the timing level; call before the vCPU runs. Resets this vCPU's cycle account. */
    void configureTiming(TimingMode mode) {
        if (mode == TimingMode.CYCLE) {
            walkTiming = new WalkTiming(timingModel.buildCaches(), timingModel.stlbHit());
            clock = new VcpuClock(timingModel, walkTiming.caches());
            instructionTiming = new InstructionTiming(state, timingModel, clock, walkTiming);
        } else {
            walkTiming = null;
            clock = new VcpuClock(timingModel, null);
            instructionTiming = null;
        }
        mmu.setTiming(walkTiming);
        interpreter.setTiming(instructionTiming);
    }

    public TimingMode timingMode() {
        return walkTiming != null ? TimingMode.CYCLE : TimingMode.FAST;
    }

    /** This vCPU's cycle account (kernel work, traps, locks, IPIs, fault histogram). */
    public VcpuClock clock() {
        return clock;
    }

    /** The MMU's walk timing under cycle mode (page_walker_loads by level), else null. */
    public WalkTiming walkTiming() {
        return walkTiming;
    }

    /**
     * perf's {@code cycles} for this vCPU: in cycle mode the sum of instruction, walk and kernel charges;
     * in fast mode the counters at fixed prices plus the kernel's charges.
     */
    public long cycles() {
        if (walkTiming != null) {
            return clock.cycles() + walkTiming.cycles;
        }
        MmuCounters m = mmu.counters;
        return clock.cycles() + state.instructions * timingModel.cycles(InstrClass.SIMPLE)
                + (m.dtlbMisses + m.itlbMisses) * timingModel.stlbHit() + m.walkerLoads * timingModel.l1d().latency();
    }

    /** The time-stamp counter: cycles plus idle cycles (an invariant TSC at the core frequency). */
    public long tsc() {
        return cycles() + clock.idleCycles();
    }

    /** Virtual time of this vCPU in nanoseconds: TSC / frequency. */
    public long virtualNanos() {
        return timingModel.cyclesToNanos(tsc());
    }

    public int id() {
        return id;
    }

    public Machine machine() {
        return machine;
    }

    public Mmu mmu() {
        return mmu;
    }

    public Interpreter interpreter() {
        return interpreter;
    }

    public void setTrace(InstructionTrace t) {
        this.trace = t;
    }

    /** Attaches the debugger's run control (breakpoints, stepping, all-stop). */
    public void setDebugController(DebugController d) {
        this.debug = d;
    }

    /** Asks the run loop to return; safe from any thread and from inside a trap handler. */
    public void stop() {
        stopRequested = true;
        interpreter.requestStop();
    }

    public boolean isRunning() {
        return running;
    }

    /** Runs guest code on the calling thread until {@link #stop()}. */
    public void run() {
        TrapHandler kernel = machine.trapHandler();
        DebugController d = debug;
        running = true;
        machine.enter(this);
        if (d != null) {
            d.vcpuStarted(this);
        }
        try {
            while (!stopRequested) {
                InstructionTrace t = trace;
                long budget = t == null ? QUANTUM : 1;
                if (d != null) {
                    budget = d.beforeInstructions(this, budget);
                    if (stopRequested) {
                        break;
                    }
                }
                int exit = interpreter.run(budget);
                InstructionTiming it = instructionTiming;
                if (it != null) {
                    it.settle();
                }
                switch (exit) {
                    case Exit.BUDGET -> {
                        if (t != null) {
                            t.retired(this);
                        }
                    }
                    case Exit.SYSCALL, Exit.INT80 -> {
                        clock.syscallEntry();
                        kernel.syscall(this, exit == Exit.INT80);
                        clock.syscallExit();
                        if (t != null && !stopRequested) {
                            t.retired(this);
                        }
                    }
                    case Exit.EXCEPTION -> {
                        int vector = state.exceptionVector;
                        state.exceptionVector = -1;
                        long start = it != null ? it.issueCycles() : cycles();
                        clock.exceptionEntry();
                        kernel.exception(this, vector, state.exceptionErrorCode);
                        clock.exceptionExit();
                        if (vector == Vectors.PF) {
                            clock.recordFault(cycles() - start);
                        }
                    }
                    case Exit.HALT -> {
                        if (stopRequested) {
                            return;
                        }
                    }
                    default -> throw new IllegalStateException("unknown interpreter exit " + exit);
                }
                if (d != null && !stopRequested) {
                    d.afterInstructions(this, exit);
                }
            }
        } finally {
            machine.leave();
            running = false;
            if (d != null) {
                d.vcpuFinished(this);
            }
        }
    }
}
