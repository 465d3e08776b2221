package org.mmulab.emulator.machine;

import org.mmulab.emulator.cpu.CpuState;
import org.mmulab.emulator.cpu.Exit;
import org.mmulab.emulator.cpu.Interpreter;
import org.mmulab.emulator.debug.DebugController;
import org.mmulab.emulator.memory.PhysicalMemory;
import org.mmulab.emulator.mmu.Mmu;

/**
 * One virtual CPU: architectural state, its MMU and TLBs, and the interpreter that runs it. The run
 * loop hands every trap to the {@link TrapHandler} and resumes until someone calls {@link #stop()}.
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

    Vcpu(Machine machine, int id, PhysicalMemory mem, int maxPhysAddrBits) {
        this.machine = machine;
        this.id = id;
        this.mmu = new Mmu(mem, state, maxPhysAddrBits);
        this.interpreter = new Interpreter(state, mmu, mem);
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
                switch (exit) {
                    case Exit.BUDGET -> {
                        if (t != null) {
                            t.retired(this);
                        }
                    }
                    case Exit.SYSCALL, Exit.INT80 -> {
                        kernel.syscall(this, exit == Exit.INT80);
                        if (t != null && !stopRequested) {
                            t.retired(this);
                        }
                    }
                    case Exit.EXCEPTION -> {
                        int vector = state.exceptionVector;
                        state.exceptionVector = -1;
                        kernel.exception(this, vector, state.exceptionErrorCode);
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
            running = false;
            if (d != null) {
                d.vcpuFinished(this);
            }
        }
    }
}
