package org.mmulab.gdbstub.protocol;

/**
 * Where the stub's diagnostics go (a refused client, a reset connection, an oversized packet, a target failure).
 * Never the guest's stderr: the composition root passes a file ({@code --gdb-log FILE}) or {@link #SILENT}.
 * Implementations are called from the stub's I/O thread and from emulator threads, and must not throw.
 */
@FunctionalInterface
public interface StubLog {
    /** Drops everything (the default). */
    StubLog SILENT = (message, cause) -> { };

    /**
     * Records one diagnostic line.
     *
     * @param cause the exception behind it, or null
     */
    void log(String message, Throwable cause);

    default void log(String message) {
        log(message, null);
    }
}
