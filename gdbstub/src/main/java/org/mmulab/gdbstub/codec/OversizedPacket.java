package org.mmulab.gdbstub.codec;

/**
 * A well-formed frame (checksum correct) whose payload was longer than the decoder's maximum. The payload was
 * discarded while it streamed in; the handler acknowledges the frame and replies with an error.
 *
 * @param length the payload length that arrived
 * @param limit  the decoder's maximum payload length
 */
public record OversizedPacket(int length, int limit) implements GdbMessage {
}
