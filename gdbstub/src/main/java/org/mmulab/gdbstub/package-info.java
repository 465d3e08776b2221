/**
 * GDB remote serial protocol over Netty: {@link org.mmulab.gdbstub.GdbServer} (the loopback TCP server, one
 * client at a time) on top of {@code codec} (framing), {@code protocol} (packet meaning) and {@code target}
 * (the {@link org.mmulab.gdbstub.target.GdbTarget} contract), and {@link org.mmulab.gdbstub.EmulatorTarget}, the
 * adapter that implements it on the emulator's debug API. Diagnostics: {@link org.mmulab.gdbstub.StubLogFile}
 * ({@code --gdb-log}) and {@link org.mmulab.gdbstub.NettyLogBridge} (Netty's own logger, routed to the same place).
 *
 * <p>Talks only to {@code org.mmulab.emulator.debug} (and the machine/cpu types it hands out) through that adapter;
 * knows nothing about mm-kernel.
 */
package org.mmulab.gdbstub;
