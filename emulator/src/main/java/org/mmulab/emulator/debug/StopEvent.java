package org.mmulab.emulator.debug;

/**
 * Why the machine stopped, reported once every vCPU has stopped (all-stop mode, as gdb expects).
 *
 * @param cpu       the vCPU that caused the stop
 * @param address   breakpoint address, or the watched address for a watchpoint
 * @param watchKind the kind of watchpoint that fired, or null
 * @param exitStatus the guest's exit status for {@link Reason#EXITED}
 */
public record StopEvent(Reason reason, int cpu, long address, WatchKind watchKind, int exitStatus) {
    public enum Reason {
        /** A software or hardware breakpoint at {@code address}. */
        BREAKPOINT,
        /** A watchpoint fired; the accessing instruction has completed. */
        WATCHPOINT,
        /** A single step completed. */
        STEP,
        /** The debugger asked the machine to stop (gdb's Ctrl-C). */
        INTERRUPT,
        /** The guest exited; the machine will not run again. */
        EXITED
    }

    static StopEvent of(Reason r, int cpu) {
        return new StopEvent(r, cpu, 0, null, 0);
    }
}
