package org.mmulab.gdbstub.target;

/** The {@code Z}/{@code z} packet types, in protocol order ({@code Z0..Z4}). */
public enum BreakpointType {
    SOFTWARE, HARDWARE, WRITE_WATCHPOINT, READ_WATCHPOINT, ACCESS_WATCHPOINT;

    private static final BreakpointType[] VALUES = values();

    /** The type for {@code Z<n>}, or null for an unknown number. */
    public static BreakpointType fromProtocol(int n) {
        return n >= 0 && n < VALUES.length ? VALUES[n] : null;
    }

    public boolean isWatchpoint() {
        return ordinal() >= WRITE_WATCHPOINT.ordinal();
    }
}
