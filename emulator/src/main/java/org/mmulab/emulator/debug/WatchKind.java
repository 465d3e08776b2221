package org.mmulab.emulator.debug;

/** Watchpoint kinds, as gdb's Z2 (write), Z3 (read) and Z4 (access) packets ask for them. */
public enum WatchKind {
    WRITE, READ, ACCESS;

    boolean matches(boolean write) {
        return switch (this) {
            case WRITE -> write;
            case READ -> !write;
            case ACCESS -> true;
        };
    }
}
