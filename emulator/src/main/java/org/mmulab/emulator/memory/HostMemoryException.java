package org.mmulab.emulator.memory;

/**
 * The host cannot give the guest RAM asked for (address space, {@code ulimit -v}, commit limit, RAM +
 * swap). The message is one line naming the size and the reason; the CLI prints it and exits with 2.
 */
public final class HostMemoryException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public HostMemoryException(String message, Throwable cause) {
        super(message.replace('\n', ' '), cause);
    }
}
