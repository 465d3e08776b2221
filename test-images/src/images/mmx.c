/*
 * mmx: MMX technology through inline asm (SDM Vol. 1 ch. 9), the same code on x86_64 and i386: every
 * MMX instruction and the MMX (no-66) forms of the SSE/SSE2/SSSE3 integer instructions, register and
 * memory source forms, shifts by register and by immediate (counts at and beyond the lane width),
 * the x87 aliasing (FNSTENV tag word and TOP after an MMX instruction and after EMMS, the exponent
 * field of a register written through MMX seen by FNSAVE) and the CVTPI2PS family. Operands are seeded
 * with lanes biased to the saturation edges; each section prints one FNV-style digest and a few
 * sample results; the last line digests everything. For the oracle: no CPUID/RDTSC, no undefined
 * flags, every MMX sequence ends with EMMS before the next.
 *
 * build.sh cflags: -mmmx -msse2 -mssse3
 */
#include "mmrt.h"

static uint64_t digest_all;
static uint64_t h = 0xcbf29ce484222325ULL;

static void report(const char *name)
{
    digest_all = (digest_all ^ h) * 0x100000001b3ULL;
    digest_all ^= digest_all >> 29;
    mm_printf("%-12s %016llx\n", name, (unsigned long long)h);
    h = 0xcbf29ce484222325ULL;
}

static void mix(uint64_t v)
{
    h = (h ^ v) * 0x100000001b3ULL;
    h ^= h >> 32;
}

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t next64(void)
{
    uint64_t x = rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    rng = x;
    return x;
}

/* A random operand whose bytes are often 00, 01, 7f, 80 or ff (saturation and sign edges). */
static uint64_t edgy(void)
{
    static const uint8_t e[] = {0x00, 0x01, 0x7f, 0x80, 0xff};
    uint64_t v = next64();
    uint64_t k = next64();
    for (int i = 0; i < 8; i++) {
        if ((k >> (4 * i)) % 3 == 0) {
            v = (v & ~(0xffULL << (8 * i))) | ((uint64_t)e[(k >> (4 * i + 2)) % 5] << (8 * i));
        }
    }
    return v;
}

#define ITER 40

/* dst = dst OP src: register and m64 source forms. */
#define BIN(op)                                                                                 \
    static void t_##op(uint64_t a, uint64_t b)                                                  \
    {                                                                                           \
        uint64_t r, s;                                                                          \
        __asm__ volatile("movq %2, %%mm0\n\tmovq %3, %%mm1\n\t" #op " %%mm1, %%mm0\n\t"         \
                         "movq %%mm0, %0\n\tmovq %2, %%mm2\n\t" #op " %3, %%mm2\n\t"            \
                         "movq %%mm2, %1\n\temms"                                               \
                         : "=m"(r), "=m"(s) : "m"(a), "m"(b) : "mm0", "mm1", "mm2");            \
        mix(r);                                                                                 \
        mix(s);                                                                                 \
    }

#define LIST(X) X(paddb) X(paddw) X(paddd) X(paddq) X(paddsb) X(paddsw) X(paddusb) X(paddusw)          \
    X(psubb) X(psubw) X(psubd) X(psubq) X(psubsb) X(psubsw) X(psubusb) X(psubusw)                      \
    X(pcmpeqb) X(pcmpeqw) X(pcmpeqd) X(pcmpgtb) X(pcmpgtw) X(pcmpgtd) X(pand) X(pandn) X(por) X(pxor)   \
    X(pmullw) X(pmulhw) X(pmulhuw) X(pmaddwd) X(pmuludq) X(pminub) X(pmaxub) X(pminsw) X(pmaxsw)         \
    X(pavgb) X(pavgw) X(psadbw) X(punpcklbw) X(punpcklwd) X(punpckldq) X(punpckhbw) X(punpckhwd)        \
    X(punpckhdq) X(packsswb) X(packssdw) X(packuswb)                                                     \
    X(psllw) X(pslld) X(psllq) X(psrlw) X(psrld) X(psrlq) X(psraw) X(psrad)                             \
    X(pshufb) X(phaddw) X(phaddd) X(phaddsw) X(phsubw) X(phsubd) X(phsubsw) X(pmaddubsw) X(pmulhrsw)    \
    X(psignb) X(psignw) X(psignd) X(pabsb) X(pabsw) X(pabsd)

LIST(BIN)

static void binary(void)
{
#define RUN(op)                                   \
    for (int i = 0; i < ITER; i++) {             \
        t_##op(edgy(), edgy());                   \
    }                                             \
    t_##op(0x8000800080008000ULL, 0x8000800080008000ULL);
    LIST(RUN)
    report("binary");
}

/* Shift counts 0..70 in a register (and one with high bits set), and by immediate. */
#define SHR(op)                                                                               \
    static uint64_t s_##op(uint64_t a, uint64_t c)                                            \
    {                                                                                         \
        uint64_t r;                                                                           \
        __asm__ volatile("movq %1, %%mm0\n\tmovq %2, %%mm1\n\t" #op " %%mm1, %%mm0\n\t"       \
                         "movq %%mm0, %0\n\temms" : "=m"(r) : "m"(a), "m"(c) : "mm0", "mm1"); \
        return r;                                                                             \
    }
#define SHI(op, n)                                                                               \
    {                                                                                            \
        uint64_t r;                                                                              \
        __asm__ volatile("movq %1, %%mm3\n\t" #op " $" #n ", %%mm3\n\tmovq %%mm3, %0\n\temms"    \
                         : "=m"(r) : "m"(a) : "mm3");                                            \
        mix(r);                                                                                  \
    }
#define SHIFTS(X) X(psllw) X(pslld) X(psllq) X(psrlw) X(psrld) X(psrlq) X(psraw) X(psrad)
SHIFTS(SHR)

static void shifts(void)
{
    uint64_t a = 0x8001fffe7ffe0001ULL;
    for (uint64_t c = 0; c <= 70; c++) {
#define SH1(op) mix(s_##op(a, c)); mix(s_##op(~a, c));
        SHIFTS(SH1)
    }
#define SH2(op) mix(s_##op(a, 0x100000001ULL));
    SHIFTS(SH2)
    for (int i = 0; i < 8; i++) {
        a = edgy();
        SHI(psllw, 3) SHI(psllw, 15) SHI(psllw, 16) SHI(psraw, 1) SHI(psraw, 15) SHI(psraw, 200)
        SHI(psrlw, 9) SHI(psrlw, 16) SHI(pslld, 7) SHI(pslld, 32) SHI(psrad, 31) SHI(psrad, 33)
        SHI(psrld, 1) SHI(psrld, 32) SHI(psllq, 1) SHI(psllq, 63) SHI(psllq, 64) SHI(psrlq, 5)
        SHI(psrlq, 64)
    }
    mm_printf("psraw 15    %016llx\n", (unsigned long long)s_psraw(0x8001fffe7ffe0001ULL, 15));
    report("shifts");
}

static void misc(void)
{
    for (int i = 0; i < ITER; i++) {
        uint64_t a = edgy(), b = edgy(), r1, r2, r3, r4;
        uint32_t e1, e2, w = (uint32_t)next64();
        __asm__ volatile("movq %4, %%mm0\n\tmovq %5, %%mm1\n\t"
                         "pshufw $0x1b, %%mm1, %%mm2\n\tmovq %%mm2, %0\n\t"
                         "pshufw $0xd2, %5, %%mm2\n\tmovq %%mm2, %1\n\t"
                         "pinsrw $2, %6, %%mm0\n\tmovq %%mm0, %2\n\t"
                         "palignr $3, %%mm1, %%mm0\n\tmovq %%mm0, %3\n\temms"
                         : "=m"(r1), "=m"(r2), "=m"(r3), "=m"(r4) : "m"(a), "m"(b), "r"(w)
                         : "mm0", "mm1", "mm2");
        __asm__ volatile("movq %1, %%mm1\n\tpextrw $3, %%mm1, %0\n\temms" : "=r"(e1) : "m"(b) : "mm1");
        __asm__ volatile("movq %1, %%mm1\n\tpmovmskb %%mm1, %0\n\temms" : "=r"(e2) : "m"(b) : "mm1");
        mix(r1);
        mix(r2);
        mix(r3);
        mix(r4);
        mix(e1);
        mix(e2);
        /* MASKMOVQ: bytes of mm0 selected by mm1's sign bits go to [edi/rdi] */
        uint64_t dst = 0x5555555555555555ULL;
        __asm__ volatile("movq %1, %%mm0\n\tmovq %2, %%mm1\n\tmaskmovq %%mm1, %%mm0\n\temms"
                         : : "D"(&dst), "m"(a), "m"(b) : "mm0", "mm1", "memory");
        mix(dst);
        /* MOVQ2DQ / MOVDQ2Q and MOVD/MOVQ through memory and general registers */
        uint64_t q2, q3;
        uint32_t d32;
        __asm__ volatile("movq %2, %%mm4\n\tpcmpeqb %%xmm5, %%xmm5\n\tmovq2dq %%mm4, %%xmm5\n\t"
                         "movdq2q %%xmm5, %%mm5\n\tmovq %%mm5, %0\n\tmovd %%mm5, %1\n\temms"
                         : "=m"(q2), "=r"(d32) : "m"(a) : "mm4", "mm5", "xmm5");
        __asm__ volatile("movd %1, %%mm6\n\tmovntq %%mm6, %0\n\temms" : "=m"(q3) : "r"((uint32_t)b) : "mm6");
        mix(q2);
        mix(d32);
        mix(q3);
    }
    report("misc");
}

static void convert(void)
{
    static const uint32_t fl[] = {0x3fc00000u, 0xc0200000u, 0x4f000000u, 0xcf000000u, 0x7fc00000u,
                                  0x00000001u, 0x3f000000u, 0xbf400000u};
    for (int i = 0; i < 8; i++) {
        for (int j = 0; j < 8; j++) {
            uint64_t ps = (uint64_t)fl[i] | (uint64_t)fl[j] << 32, r1, r2, r3, r4;
            uint64_t pi = edgy();
            uint32_t f4[4];
            uint64_t d2[2];
            double dd[2] = {(double)(int32_t)pi * 1.25, (double)(i - 4) * 1e9};
            __asm__ volatile("movq %4, %%xmm0\n\tcvtps2pi %%xmm0, %%mm0\n\tmovq %%mm0, %0\n\t"
                             "cvttps2pi %%xmm0, %%mm1\n\tmovq %%mm1, %1\n\t"
                             "movupd %6, %%xmm1\n\tcvtpd2pi %%xmm1, %%mm2\n\tmovq %%mm2, %2\n\t"
                             "cvttpd2pi %%xmm1, %%mm3\n\tmovq %%mm3, %3\n\temms"
                             : "=m"(r1), "=m"(r2), "=m"(r3), "=m"(r4) : "m"(ps), "m"(pi), "m"(dd)
                             : "mm0", "mm1", "mm2", "mm3", "xmm0", "xmm1");
            __asm__ volatile("movq %2, %%mm0\n\txorps %%xmm2, %%xmm2\n\tcvtpi2ps %%mm0, %%xmm2\n\t"
                             "movups %%xmm2, %0\n\tcvtpi2pd %%mm0, %%xmm3\n\tmovupd %%xmm3, %1\n\temms"
                             : "=m"(f4), "=m"(d2) : "m"(pi) : "mm0", "xmm2", "xmm3");
            mix(r1);
            mix(r2);
            mix(r3);
            mix(r4);
            mix(f4[0] | (uint64_t)f4[1] << 32);
            mix(f4[2] | (uint64_t)f4[3] << 32);
            mix(d2[0]);
            mix(d2[1]);
        }
    }
    report("convert");
}

/* The x87 view of MMX state: FNSTENV's tag word and FSW.TOP, FNSAVE's register images. */
static void aliasing(void)
{
    uint16_t env[14];
    uint8_t save[108];
    uint64_t v = 0x123456789abcdef0ULL;
    __asm__ volatile("fninit\n\tfld1\n\tfldpi\n\tmovq %1, %%mm5\n\tfnstenv %0"
                     : "=m"(env) : "m"(v) : "mm5");
    mm_printf("after movq  fsw %04x tags %04x\n", env[2] & 0x3800, env[4]);
    __asm__ volatile("fnsave %0" : "=m"(save));
    uint64_t sig = 0;
    uint16_t se = 0;
    for (int i = 0; i < 8; i++) {
        sig |= (uint64_t)save[28 + 10 * 5 + i] << (8 * i);
    }
    se = (uint16_t)(save[28 + 10 * 5 + 8] | save[28 + 10 * 5 + 9] << 8);
    mm_printf("mm5 in R5   %016llx exponent %04x\n", (unsigned long long)sig, se);
    __asm__ volatile("fninit\n\tfld1\n\tmovq %1, %%mm2\n\temms\n\tfnstenv %0"
                     : "=m"(env) : "m"(v) : "mm2");
    mm_printf("after emms  fsw %04x tags %04x\n", env[2] & 0x3800, env[4]);
    __asm__ volatile("fninit");
    mix(env[4]);
    mix(sig);
    report("aliasing");
}

int main(void)
{
    binary();
    shifts();
    misc();
    convert();
    aliasing();
    mm_printf("%-12s %016llx\n", "all", (unsigned long long)digest_all);
    return 0;
}
