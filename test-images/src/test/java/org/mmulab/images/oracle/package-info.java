/**
 * The instruction-level oracle: the host CPU, single-stepped under ptrace by bin/host/regtrace, is the
 * reference for mmulab's interpreter. {@link org.mmulab.images.oracle.RegisterTrace} reads the MMRT
 * trace format (written by regtrace and by {@code org.mmulab.emulator.debug.RegisterTraceWriter}),
 * {@link org.mmulab.images.oracle.TraceComparator} finds the first divergence (its class comment
 * lists everything that is normalised), {@link org.mmulab.images.oracle.X86Insn} classifies
 * instructions by their undefined flags ({@link org.mmulab.images.oracle.X87Ops}: x87 condition codes),
 * {@link org.mmulab.images.oracle.UndefinedFlagFlow} and {@link org.mmulab.images.oracle.X87Flow}
 * follow undefined RFLAGS bits, x87 condition codes and accepted transcendental results to where they
 * flow ({@link org.mmulab.images.oracle.MemOperand}: effective addresses of memory operands),
 * {@link org.mmulab.images.oracle.ElfCode} supplies
 * instruction bytes and symbols, {@link org.mmulab.images.oracle.NativeTracer} and
 * {@link org.mmulab.images.oracle.EmulatedRun} produce the two traces. Uses emulator, mm-kernel, cli.
 */
package org.mmulab.images.oracle;
