/**
 * The x87 floating-point unit's data path (SDM Vol. 1 ch. 8, "Programming with the x87 FPU", and
 * ch. 4.8-4.9 for the formats and exceptions): {@link org.mmulab.emulator.cpu.fpu.Fx80}, an exact
 * software 80-bit extended-precision arithmetic unit with the control word's rounding and precision
 * control, and {@link org.mmulab.emulator.cpu.fpu.Fx80Ops} for FPREM/FPREM1, FSCALE, FRNDINT, FXTRACT and
 * compares; {@link org.mmulab.emulator.cpu.fpu.Fx80Convert} for the integer, single, double and packed
 * BCD formats; {@link org.mmulab.emulator.cpu.fpu.Fx80Trans} (on {@link org.mmulab.emulator.cpu.fpu.Wide},
 * a 128-bit-significand scratch arithmetic) for the transcendental instructions; and
 * {@link org.mmulab.emulator.cpu.fpu.X87State}, the register stack and control/status/tag words that
 * {@code CpuState} holds. The instruction semantics (decoding, stack discipline, memory operands, #MF)
 * live in {@code org.mmulab.emulator.cpu.X87Exec} and its siblings.
 *
 * <p>May call: nothing outside this package and the JDK. Nothing here allocates per operation: results
 * come back in the unit's mutable fields.
 */
package org.mmulab.emulator.cpu.fpu;
