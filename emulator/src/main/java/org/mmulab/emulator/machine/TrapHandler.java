package org.mmulab.emulator.machine;

/**
 * The operating system behind the vCPUs (mmulab's Java kernel implements it). Called on the vCPU's
 * own thread whenever guest code leaves user mode. The handler edits the vCPU's state (return values,
 * RIP for signal delivery, CR2 consumed) and may {@link Vcpu#stop()} the vCPU.
 */
public interface TrapHandler {
    /** SYSCALL (64-bit) or INT 0x80 (32-bit, {@code int80} true): RIP is already past the instruction. */
    void syscall(Vcpu cpu, boolean int80);

    /**
     * An architectural exception: #PF (CR2 holds the address), #GP, #UD, #DE, #BP... RIP points at the
     * faulting instruction (for #BP, past INT3, as hardware leaves it for a trap).
     */
    void exception(Vcpu cpu, int vector, long errorCode);

    /**
     * The scheduler tick: called by the run loop on the vCPU's thread after every 65,536 instructions
     * and after an {@link Vcpu#interrupt} (an IPI), at an instruction boundary with the vCPU's state
     * consistent. The kernel may context-switch the vCPU's task here.
     */
    default void tick(Vcpu cpu) {
    }
}
