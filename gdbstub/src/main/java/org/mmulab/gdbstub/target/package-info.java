/**
 * What the stub needs from a debuggee: {@link org.mmulab.gdbstub.target.GdbTarget} and its value types
 * (stop events, resume plans, breakpoint types), and the register layouts and target descriptions
 * ({@link org.mmulab.gdbstub.target.TargetArch}) that fix gdb's register numbering.
 *
 * <p>Owns the contract only; the emulator adapter (on {@code org.mmulab.emulator.debug}) implements it elsewhere.
 * Calls nothing outside the JDK.
 */
package org.mmulab.gdbstub.target;
