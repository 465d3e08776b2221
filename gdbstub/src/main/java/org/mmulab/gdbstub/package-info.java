/**
 * GDB remote serial protocol over Netty. Talks only to org.mmulab.emulator.debug; knows nothing about mm-kernel.
 */
package org.mmulab.gdbstub;
