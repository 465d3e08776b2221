package org.mmulab.gdbstub.codec;

/**
 * What the framing layer produces and consumes. Inbound (from {@link GdbPacketDecoder}): every subtype.
 * Outbound (to {@link GdbPacketEncoder}): {@link Packet} and {@link Control#ACK}/{@link Control#NACK}.
 */
public sealed interface GdbMessage permits Packet, Control, BadChecksum, OversizedPacket {
}
