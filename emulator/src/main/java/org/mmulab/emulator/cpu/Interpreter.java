package org.mmulab.emulator.cpu;

import org.mmulab.emulator.memory.PhysicalMemory;
import org.mmulab.emulator.mmu.Mmu;

/** Placeholder signature; the decoder/interpreter replaces this class. */
public final class Interpreter {
    private final CpuState s;
    private volatile boolean stop;

    public Interpreter(CpuState state, Mmu mmu, PhysicalMemory mem) {
        this.s = state;
    }

    /** Executes up to {@code budget} instructions; returns an {@link Exit} code. */
    public int run(long budget) {
        if (stop) {
            return Exit.HALT;
        }
        throw GuestFault.raise(s, Vectors.UD, 0);
    }

    public void requestStop() {
        stop = true;
    }
}
