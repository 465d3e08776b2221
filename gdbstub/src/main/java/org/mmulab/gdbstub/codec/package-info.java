/**
 * Framing layer of the GDB Remote Serial Protocol (GDB manual, appendix "Remote Protocol", "Overview").
 *
 * <p>Owns: {@link org.mmulab.gdbstub.codec.GdbPacketDecoder} (bytes to {@link org.mmulab.gdbstub.codec.GdbMessage}s:
 * packets with verified checksums, acks, nacks, the 0x03 interrupt, bad-checksum and oversized signals),
 * {@link org.mmulab.gdbstub.codec.GdbPacketEncoder} (framing, checksums, escaping), and the hex and binary
 * escaping helpers. Knows nothing about what packets mean; may call Netty only.
 */
package org.mmulab.gdbstub.codec;
