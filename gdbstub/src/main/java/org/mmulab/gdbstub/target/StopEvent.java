package org.mmulab.gdbstub.target;

import java.util.Objects;

/**
 * Why the machine stopped. Signal numbers are gdb's target-independent numbers (include/gdb/signals.def), not
 * Linux's: they agree for 1..9 and 11 but gdb's SIGBUS is 10 (Linux x86: 7). Use the constants here.
 *
 * @param reason  what happened
 * @param thread  the vCPU (1..N) that stopped; 0 for {@link Reason#EXITED}/{@link Reason#TERMINATED}
 * @param signal  gdb signal number (SIGTRAP for breakpoints, steps and watchpoints; SIGINT for interrupts); the
 *                exit status for {@link Reason#EXITED}
 * @param address the data address for watchpoints, otherwise 0
 */
public record StopEvent(Reason reason, int thread, int signal, long address) {
    public static final int SIGINT = 2;
    public static final int SIGILL = 4;
    public static final int SIGTRAP = 5;
    public static final int SIGABRT = 6;
    public static final int SIGFPE = 8;
    public static final int SIGKILL = 9;
    public static final int SIGBUS = 10;
    public static final int SIGSEGV = 11;

    public enum Reason {
        /** Stopped with a signal (a finished single-step is SIGTRAP). */
        SIGNAL,
        /** Hit a software breakpoint ({@code Z0}); reported with {@code swbreak:} when gdb supports it. */
        SOFTWARE_BREAKPOINT,
        /** Hit a hardware breakpoint ({@code Z1}); reported with {@code hwbreak:} when gdb supports it. */
        HARDWARE_BREAKPOINT,
        /** A write watchpoint triggered after the access completed; {@code watch:address}. */
        WRITE_WATCHPOINT,
        /** A read watchpoint triggered; {@code rwatch:address}. */
        READ_WATCHPOINT,
        /** An access watchpoint triggered; {@code awatch:address}. */
        ACCESS_WATCHPOINT,
        /** The debuggee exited with status {@link #signal()} ({@code W}). */
        EXITED,
        /** The debuggee was terminated by signal {@link #signal()} ({@code X}). */
        TERMINATED
    }

    public StopEvent {
        Objects.requireNonNull(reason, "reason");
    }

    public static StopEvent signal(int thread, int signal) {
        return new StopEvent(Reason.SIGNAL, thread, signal, 0);
    }

    /** A single step finished on {@code thread}. */
    public static StopEvent stepped(int thread) {
        return signal(thread, SIGTRAP);
    }

    /** Stopped because of {@link GdbTarget#interrupt()}. */
    public static StopEvent interrupted(int thread) {
        return signal(thread, SIGINT);
    }

    /**
     * {@code thread} reached a breakpoint held in the emulator: the instruction at the breakpoint has not executed
     * and the PC is the breakpoint address (gdb's {@code swbreak}/{@code hwbreak} semantics, no PC adjustment).
     */
    public static StopEvent breakpoint(int thread, boolean hardware) {
        return new StopEvent(hardware ? Reason.HARDWARE_BREAKPOINT : Reason.SOFTWARE_BREAKPOINT, thread, SIGTRAP, 0);
    }

    /**
     * A watchpoint of {@code type} (one of the three watchpoint types) hit at data {@code address}; reported after
     * the accessing instruction completed (x86 data breakpoints are traps), so gdb reads the new value.
     */
    public static StopEvent watchpoint(int thread, BreakpointType type, long address) {
        Reason r = switch (type) {
            case WRITE_WATCHPOINT -> Reason.WRITE_WATCHPOINT;
            case READ_WATCHPOINT -> Reason.READ_WATCHPOINT;
            case ACCESS_WATCHPOINT -> Reason.ACCESS_WATCHPOINT;
            default -> throw new IllegalArgumentException("not a watchpoint: " + type);
        };
        return new StopEvent(r, thread, SIGTRAP, address);
    }

    public static StopEvent exited(int status) {
        return new StopEvent(Reason.EXITED, 0, status & 0xff, 0);
    }

    public static StopEvent terminated(int signal) {
        return new StopEvent(Reason.TERMINATED, 0, signal, 0);
    }

    /** True if the debuggee is gone (exited or terminated). */
    public boolean isFinal() {
        return reason == Reason.EXITED || reason == Reason.TERMINATED;
    }
}
