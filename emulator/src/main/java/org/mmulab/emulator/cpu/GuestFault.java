package org.mmulab.emulator.cpu;

/**
 * Thrown deep inside an instruction when it raises an architectural exception (#PF, #GP, #UD, #DE...).
 *
 * <p>It carries no data: the vector, error code and CR2 are already in the faulting vCPU's
 * {@link CpuState}. One stackless instance is shared, so raising a fault allocates nothing; it is
 * the slow path only (DESIGN §2 cpu: exceptions are Java objects only on the slow path).
 * The interpreter catches it at the instruction boundary, leaves RIP at the faulting instruction
 * and returns {@link Exit#EXCEPTION}.
 */
public final class GuestFault extends RuntimeException {
    public static final GuestFault INSTANCE = new GuestFault();
    private static final long serialVersionUID = 1L;

    private GuestFault() {
        super("guest fault", null, false, false);
    }

    /** Records the exception in {@code s} and returns the shared instance for {@code throw}. */
    public static GuestFault raise(CpuState s, int vector, long errorCode) {
        s.exceptionVector = vector;
        s.exceptionErrorCode = errorCode;
        return INSTANCE;
    }
}
