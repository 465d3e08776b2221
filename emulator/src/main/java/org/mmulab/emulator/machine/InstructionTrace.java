package org.mmulab.emulator.machine;

/**
 * Observer of retired instructions, used by {@code --trace-regs}. Called after each guest instruction
 * completes, including any system call it made; never for an instruction that faulted and will be
 * re-executed. When set, the vCPU runs one instruction at a time.
 */
@FunctionalInterface
public interface InstructionTrace {
    void retired(Vcpu cpu);
}
