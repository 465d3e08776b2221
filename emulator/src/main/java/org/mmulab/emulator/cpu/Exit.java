package org.mmulab.emulator.cpu;

/** Why {@code Interpreter.run} returned. Plain ints: the hot loop returns codes, not objects. */
public final class Exit {
    /** The instruction budget ran out; nothing to handle. */
    public static final int BUDGET = 0;
    /** SYSCALL executed: RIP is past it, RCX = next RIP, R11 = RFLAGS, as the hardware leaves them. */
    public static final int SYSCALL = 1;
    /** INT 0x80 executed (32-bit guests): RIP is past it. */
    public static final int INT80 = 2;
    /** An exception is pending in CpuState.exceptionVector/ErrorCode; RIP is at the faulting instruction. */
    public static final int EXCEPTION = 3;
    /** HLT, or the vCPU was asked to stop. */
    public static final int HALT = 4;

    private Exit() {
    }
}
