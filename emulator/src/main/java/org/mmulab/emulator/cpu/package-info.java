/**
 * The x86 CPU: architectural state ({@link org.mmulab.emulator.cpu.CpuState}, lazy RFLAGS in
 * {@link org.mmulab.emulator.cpu.Flags}), the decoder ({@code Decoder}: prefixes, REX, one-byte and
 * 0F maps, ModRM/SIB/RIP-relative, into dense {@code Op} ids), the decoded-code cache
 * ({@link org.mmulab.emulator.cpu.DecodedCodeCache}, per physical frame, shared by every vCPU on a
 * memory, invalidated through {@code PhysicalMemory}'s code-write listener), and the interpreter
 * ({@link org.mmulab.emulator.cpu.Interpreter} with its group methods; SSE by group as Bochs' sse*.cc:
 * {@code SseExec} moves and shuffles, {@code SsePacked} SSE2 packed integer, {@code SseFp}/{@code SseCvt}/
 * {@code SseCompare} SSE/SSE2/SSE3 floating point on {@code SoftFloat} (MXCSR rounding, DAZ/FTZ, flags),
 * {@code SseX} dispatching the 0F 38/0F 3A maps to {@code Ssse3}, {@code Sse41}, {@code Sse41Fp},
 * {@code SseString} (PCMPxSTRx) and {@code IntExt} (CRC32, MOVBE, CMPXCHG16B); {@code Mmx} for MMX
 * and the MMX forms of SSE/SSSE3 on the x87 registers' significands; {@code X87Exec}/{@code X87Math}/
 * {@code X87Env} for the x87 FPU on the data path of {@link org.mmulab.emulator.cpu.fpu};
 * {@link org.mmulab.emulator.cpu.Cpuid}).
 *
 * <p>May call: {@code mmu} for every guest memory access and instruction-fetch translation, and
 * {@code memory} for physical access at addresses the MMU returned, atomics and code-frame marks.
 * Knows nothing about Linux: SYSCALL, INT 0x80 and exceptions are returned as
 * {@link org.mmulab.emulator.cpu.Exit} codes for the machine's trap handler.
 *
 * <p>Coverage was checked by running freestanding gcc 12 programs (-O2, -O3, -Os; sorting, hashing,
 * primes, 64/128-bit division, string functions, struct copies, switch tables, number formatting,
 * vectorized loops, double/float arithmetic) to identical output with the native runs, and by
 * ~8700 instruction vectors recorded on the host CPU ({@code NativeVectorsTest}).
 */
package org.mmulab.emulator.cpu;
