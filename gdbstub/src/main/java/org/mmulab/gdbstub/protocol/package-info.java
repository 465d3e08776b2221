/**
 * Meaning of RSP packets: {@link org.mmulab.gdbstub.protocol.GdbSession} (one client's state and the packet
 * set of DESIGN §4 against a {@link org.mmulab.gdbstub.target.GdbTarget}) and
 * {@link org.mmulab.gdbstub.protocol.GdbProtocolHandler} (the Netty glue: acks, retransmission, interrupts,
 * stop events hopping onto the I/O thread, the session rules of QEMU's {@code -s -S}),
 * {@link org.mmulab.gdbstub.protocol.ClientSeat} (one attached client per machine) and
 * {@link org.mmulab.gdbstub.protocol.StubLog} (where diagnostics go instead of stderr). May call the codec and
 * target packages and Netty; nothing else.
 */
package org.mmulab.gdbstub.protocol;
