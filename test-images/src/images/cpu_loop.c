/*
 * cpu_loop [millions]: a fixed instruction count. The loop body is hand-written asm of exactly
 * CPU_LOOP_BODY = 8 integer instructions (add, xor, rol, lea, imul, sub, dec, jnz: ALU, shift,
 * address arithmetic, multiply, a taken branch), run iterations = millions * 10^6 / 8 times, so
 * the measured part retires millions * 10^6 instructions (default 200) plus a handful around it.
 * No memory operands: this measures the interpreter (or the CPU), not the MMU.
 *
 *   RESULT cpu_loop.ns_per_insn      clock_gettime / instructions
 *   RESULT cpu_loop.cycles_per_insn  RDTSC / instructions
 *   RESULT cpu_loop.mips             instructions / microsecond of clock_gettime time
 *   RESULT cpu_loop.digest           the loop's final value (a check that it ran; same everywhere)
 */
#include "mmrt.h"
#include "mmbench.h"

#define CPU_LOOP_BODY 8

int main(int argc, char **argv)
{
    uint64_t millions = mb_arg(argc, argv, 1, 200);
    if (millions == 0 || millions > 1000000) {
        mm_printf("usage: cpu_loop [million instructions 1..1000000]\n");
        return 2;
    }
    uint64_t insns = millions * 1000000;
    unsigned long iters = (unsigned long)(insns / CPU_LOOP_BODY);
    insns = (uint64_t)iters * CPU_LOOP_BODY;
    unsigned long a = 0x12345, b = 0x9e3779b9, n = iters;

    uint64_t t0 = mm_now_ns();
    uint64_t c0 = mb_rdtsc();
    __asm__ volatile("1:\n\t"
                     "add %1, %0\n\t"
                     "xor %0, %1\n\t"
                     "rol $7, %0\n\t"
                     "lea 3(%0,%1,2), %1\n\t"
                     "imul $33, %0, %0\n\t"
                     "sub %1, %0\n\t"
                     "dec %2\n\t"
                     "jnz 1b"
                     : "+r"(a), "+r"(b), "+r"(n)
                     :
                     : "cc");
    uint64_t c1 = mb_rdtsc();
    uint64_t t1 = mm_now_ns();

    mm_printf("cpu_loop: %llu instructions\n", (unsigned long long)insns);
    mb_result("cpu_loop.ns_per_insn", t1 - t0, insns, "ns");
    mb_result("cpu_loop.cycles_per_insn", c1 - c0, insns, "cycles");
    mb_result("cpu_loop.mips", insns * 1000, t1 - t0 > 0 ? t1 - t0 : 1, "MIPS");
    mm_printf("RESULT cpu_loop.digest %llu.000 value\n", (unsigned long long)((a ^ b) & 0xffffffffu));
    return 0;
}
