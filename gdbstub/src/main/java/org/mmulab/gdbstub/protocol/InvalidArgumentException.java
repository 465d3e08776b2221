package org.mmulab.gdbstub.protocol;

/** Well-formed but naming something that does not exist (a thread, say): {@code E22}. Never leaves {@link GdbSession}. */
final class InvalidArgumentException extends RuntimeException {
    InvalidArgumentException() {
        super(null, null, false, false);
    }
}
