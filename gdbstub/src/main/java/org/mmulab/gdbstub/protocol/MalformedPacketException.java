package org.mmulab.gdbstub.protocol;

/** A packet that does not parse; answered with {@code E01}. Never leaves {@link GdbSession}. */
final class MalformedPacketException extends RuntimeException {
    MalformedPacketException(String message) {
        super(message, null, false, false);
    }
}
