package org.mmulab.gdbstub.codec;

/**
 * A frame whose checksum did not match (or whose two checksum characters were not hex). With acks on, the reply
 * is {@code -} so the client retransmits; the payload is never interpreted.
 *
 * @param received the checksum sent, or -1 if its characters were not hex digits
 * @param computed the modulo-256 sum of the payload as received
 * @param length   payload length as received
 */
public record BadChecksum(int received, int computed, int length) implements GdbMessage {
}
