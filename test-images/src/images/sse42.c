/*
 * sse42 [scale]: the x86-64-v2 instruction set over many seeded inputs: SSE/SSE2 floating point under
 * every MXCSR rounding mode with DAZ/FTZ (results and the exception flags each operation raises),
 * SSE3, SSSE3, SSE4.1, SSE4.2 (PCMPxSTRx in every imm8 mode with its flag results, CRC32, PCMPGTQ),
 * POPCNT, LZCNT, MOVBE, CMPXCHG16B, LAHF/SAHF. Each section prints one FNV-style digest; the last line
 * digests everything. scale (default 1, 1..16) multiplies the inputs. "sse42 cvt64" (x86_64 only) runs
 * the 64-bit integer conversions (CVTSD2SI/CVTTSS2SI r64, CVTSI2SS/SD r64) under every MXCSR mode.
 *
 * Only fixed-width types: the i386 build (-m32) prints the same lines as the x86_64 build. The few
 * instructions that exist in 64-bit mode only (CRC32/POPCNT/LZCNT/PEXTRQ/PINSRQ on 64-bit operands,
 * CMPXCHG16B) are computed by equivalent 32-bit instruction sequences on i386; 64-bit integer conversions
 * are in the separate cvt64 run.
 * Oracle-friendly: no CPUID/RDTSC/PUSHF, no undefined flags reach a register (LZCNT/POPCNT/PTEST/PCMPxSTRx
 * define all of theirs), no RCPPS/RSQRTPS (their bits are model-specific).
 *
 * build.sh cflags: -msse4.2 -mpopcnt -mlzcnt -mmovbe
 */
#include "mmrt.h"
#include <immintrin.h>

static uint64_t digest_all;
static uint64_t h;
static unsigned scale = 1;

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

static void mix128(__m128i v)
{
    uint64_t lo = (uint64_t)(uint32_t)_mm_cvtsi128_si32(v) | (uint64_t)(uint32_t)_mm_extract_epi32(v, 1) << 32;
    uint64_t hi = (uint64_t)(uint32_t)_mm_extract_epi32(v, 2) | (uint64_t)(uint32_t)_mm_extract_epi32(v, 3) << 32;
    mix(lo);
    mix(hi);
}

#define MIXPS(v) mix128(_mm_castps_si128(v))
#define MIXPD(v) mix128(_mm_castpd_si128(v))

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

static __m128i rnd128(void)
{
    uint64_t a = next64(), b = next64();
    return _mm_set_epi32((int)(b >> 32), (int)b, (int)(a >> 32), (int)a);
}

/* ------------------------------------------------------------------------------------------ */
/* Interesting floating-point values                                                          */

static uint32_t special32(void)
{
    static const uint32_t sp[] = {
        0x00000000, 0x80000000, 0x3f800000, 0xbf800000, 0x7f800000, 0xff800000, 0x7fc00000, 0xffc00000,
        0x7fa00001, 0xff812345, 0x7fc12345, 0x00000001, 0x807fffff, 0x00400000, 0x00800000, 0x80800000,
        0x7f7fffff, 0xff7fffff, 0x4b000000, 0xcb000001, 0x3f000000, 0x3fc00000, 0x40200000, 0xbf400000,
        0x4f000000, 0xcf000000, 0x5f000000, 0xdf000001, 0x34000000, 0x0c000000, 0x7e800000, 0x00ffffff,
    };
    uint64_t r = next64();
    switch (r & 3) {
    case 0:
        return sp[(r >> 8) % (sizeof sp / sizeof sp[0])];
    case 1: /* near 1: rounding-sensitive */
        return 0x3f000000u + (uint32_t)((r >> 8) & 0x01ffffff);
    case 2: /* small exponents: denormal and tiny results */
        return (uint32_t)(r >> 8) & 0x81ffffffu;
    default:
        return (uint32_t)(r >> 16);
    }
}

static uint64_t special64(void)
{
    static const uint64_t sp[] = {
        0x0ULL, 0x8000000000000000ULL, 0x3ff0000000000000ULL, 0xbff0000000000000ULL, 0x7ff0000000000000ULL,
        0xfff0000000000000ULL, 0x7ff8000000000000ULL, 0xfff8000000000000ULL, 0x7ff4000000000001ULL,
        0xfff0000000012345ULL, 0x7ff8000000012345ULL, 0x1ULL, 0x800fffffffffffffULL, 0x0008000000000000ULL,
        0x0010000000000000ULL, 0x7fefffffffffffffULL, 0xffefffffffffffffULL, 0x4330000000000000ULL,
        0xc330000000000001ULL, 0x3fe0000000000000ULL, 0x3ff8000000000000ULL, 0x4004000000000000ULL,
        0x43e0000000000000ULL, 0xc3e0000000000000ULL, 0x41dfffffffc00000ULL, 0xc1e0000000200000ULL,
        0x3cb0000000000000ULL, 0x47efffffe0000000ULL, 0x36a0000000000000ULL, 0x001fffffffffffffULL,
    };
    uint64_t r = next64();
    switch (r & 3) {
    case 0:
        return sp[(r >> 8) % (sizeof sp / sizeof sp[0])];
    case 1:
        return 0x3fe0000000000000ULL + ((r >> 8) & 0x003fffffffffffffULL);
    case 2:
        return next64() & 0x803fffffffffffffULL;
    default:
        return next64();
    }
}

static __m128 rndps(void)
{
    return _mm_castsi128_ps(_mm_set_epi32((int)special32(), (int)special32(), (int)special32(), (int)special32()));
}

static __m128d rndpd(void)
{
    uint64_t a = special64(), b = special64();
    return _mm_castsi128_pd(_mm_set_epi32((int)(b >> 32), (int)b, (int)(a >> 32), (int)a));
}

/* ------------------------------------------------------------------------------------------ */
/* MXCSR-sensitive operations: inline asm, so nothing moves across LDMXCSR/STMXCSR            */

static void setcsr(uint32_t v)
{
    __asm__ volatile("ldmxcsr %0" : : "m"(v) : "memory");
}

static uint32_t getcsr(void)
{
    uint32_t v;
    __asm__ volatile("stmxcsr %0" : "=m"(v) : : "memory");
    return v;
}

#define FPOP(insn, T, a, b)                                                                         \
    ({                                                                                             \
        T r_ = (a);                                                                                \
        __asm__ volatile(insn " %1, %0" : "+x"(r_) : "x"(b) : "memory");                           \
        r_;                                                                                        \
    })
#define FPOPI(insn, imm, T, a, b)                                                                   \
    ({                                                                                             \
        T r_ = (a);                                                                                \
        __asm__ volatile(insn " $" #imm ", %1, %0" : "+x"(r_) : "x"(b) : "memory");                \
        r_;                                                                                        \
    })

static uint32_t csr_base;

/* Runs one operation with cleared flags; mixes the result and the flags it raised. */
#define CHECK_PS(insn, a, b)                                                                        \
    do {                                                                                           \
        setcsr(csr_base);                                                                          \
        __m128 r_ = FPOP(insn, __m128, a, b);                                                      \
        MIXPS(r_);                                                                                 \
        mix(getcsr() & 0x3f);                                                                      \
    } while (0)
#define CHECK_PD(insn, a, b)                                                                        \
    do {                                                                                           \
        setcsr(csr_base);                                                                          \
        __m128d r_ = FPOP(insn, __m128d, a, b);                                                    \
        MIXPD(r_);                                                                                 \
        mix(getcsr() & 0x3f);                                                                      \
    } while (0)
#define CHECK_PSI(insn, imm, a, b)                                                                  \
    do {                                                                                           \
        setcsr(csr_base);                                                                          \
        __m128 r_ = FPOPI(insn, imm, __m128, a, b);                                                \
        MIXPS(r_);                                                                                 \
        mix(getcsr() & 0x3f);                                                                      \
    } while (0)
#define CHECK_PDI(insn, imm, a, b)                                                                  \
    do {                                                                                           \
        setcsr(csr_base);                                                                          \
        __m128d r_ = FPOPI(insn, imm, __m128d, a, b);                                              \
        MIXPD(r_);                                                                                 \
        mix(getcsr() & 0x3f);                                                                      \
    } while (0)

static void fp_arith(void)
{
    for (unsigned i = 0; i < 60 * scale; i++) {
        __m128 a = rndps(), b = rndps();
        __m128d c = rndpd(), d = rndpd();
        CHECK_PS("addps", a, b);
        CHECK_PS("subps", a, b);
        CHECK_PS("mulps", a, b);
        CHECK_PS("divps", a, b);
        CHECK_PS("sqrtps", a, b);
        CHECK_PS("minps", a, b);
        CHECK_PS("maxps", a, b);
        CHECK_PS("addss", a, b);
        CHECK_PS("divss", a, b);
        CHECK_PS("sqrtss", a, b);
        CHECK_PD("addpd", c, d);
        CHECK_PD("subpd", c, d);
        CHECK_PD("mulpd", c, d);
        CHECK_PD("divpd", c, d);
        CHECK_PD("sqrtpd", c, d);
        CHECK_PD("minpd", c, d);
        CHECK_PD("maxpd", c, d);
        CHECK_PD("mulsd", c, d);
        CHECK_PD("subsd", c, d);
        CHECK_PD("sqrtsd", c, d);
        /* SSE3 */
        CHECK_PS("addsubps", a, b);
        CHECK_PS("haddps", a, b);
        CHECK_PS("hsubps", a, b);
        CHECK_PD("addsubpd", c, d);
        CHECK_PD("haddpd", c, d);
        CHECK_PD("hsubpd", c, d);
    }
}

static void fp_cmp(void)
{
    for (unsigned i = 0; i < 30 * scale; i++) {
        __m128 a = rndps(), b = rndps();
        __m128d c = rndpd(), d = rndpd();
        if (i & 1) {
            b = _mm_shuffle_ps(a, b, 0x4e); /* some equal lanes */
            d = _mm_shuffle_pd(c, d, 1);
        }
        CHECK_PSI("cmpps", 0, a, b);
        CHECK_PSI("cmpps", 1, a, b);
        CHECK_PSI("cmpps", 2, a, b);
        CHECK_PSI("cmpps", 3, a, b);
        CHECK_PSI("cmpps", 4, a, b);
        CHECK_PSI("cmpps", 5, a, b);
        CHECK_PSI("cmpps", 6, a, b);
        CHECK_PSI("cmpps", 7, a, b);
        CHECK_PDI("cmppd", 1, c, d);
        CHECK_PDI("cmppd", 3, c, d);
        CHECK_PDI("cmppd", 4, c, d);
        CHECK_PDI("cmppd", 6, c, d);
        CHECK_PDI("cmpsd", 2, c, d);
        CHECK_PSI("cmpss", 5, a, b);
        /* (U)COMIS*: flags after the compare, and the exception flags */
        uint32_t f1, f2, f3, f4; /* AH = SF ZF AF PF CF (LAHF), AL = OF (SETO): no PUSHF, whose TF a tracer sets */
        setcsr(csr_base);
        __asm__ volatile("comiss %1, %2\n\tlahf\n\tseto %%al" : "=a"(f1) : "x"(a), "x"(b) : "cc", "memory");
        mix((f1 & 0xd5ff) | (getcsr() & 0x3f) << 16);
        setcsr(csr_base);
        __asm__ volatile("ucomiss %1, %2\n\tlahf\n\tseto %%al" : "=a"(f2) : "x"(a), "x"(b) : "cc", "memory");
        mix((f2 & 0xd5ff) | (getcsr() & 0x3f) << 16);
        setcsr(csr_base);
        __asm__ volatile("comisd %1, %2\n\tlahf\n\tseto %%al" : "=a"(f3) : "x"(c), "x"(d) : "cc", "memory");
        mix((f3 & 0xd5ff) | (getcsr() & 0x3f) << 16);
        setcsr(csr_base);
        __asm__ volatile("ucomisd %1, %2\n\tlahf\n\tseto %%al" : "=a"(f4) : "x"(c), "x"(d) : "cc", "memory");
        mix((f4 & 0xd5ff) | (getcsr() & 0x3f) << 16);
    }
}

static void fp_cvt(void)
{
    for (unsigned i = 0; i < 40 * scale; i++) {
        __m128 a = rndps();
        __m128d c = rndpd();
        __m128i n = rnd128();
        uint32_t r32;
        CHECK_PS("cvtps2dq", a, a);
        CHECK_PS("cvttps2dq", a, a);
        CHECK_PS("cvtdq2ps", a, _mm_castsi128_ps(n));
        CHECK_PD("cvtpd2dq", c, c);
        CHECK_PD("cvttpd2dq", c, c);
        CHECK_PD("cvtpd2ps", c, c);
        CHECK_PS("cvtps2pd", a, a);
        CHECK_PD("cvtdq2pd", c, _mm_castsi128_pd(n));
        CHECK_PS("cvtsd2ss", a, _mm_castpd_ps(c));
        CHECK_PD("cvtss2sd", c, _mm_castps_pd(a));
        setcsr(csr_base);
        __asm__ volatile("cvtss2si %1, %0" : "=r"(r32) : "x"(a) : "memory");
        mix(r32 | (uint64_t)(getcsr() & 0x3f) << 32);
        setcsr(csr_base);
        __asm__ volatile("cvttsd2si %1, %0" : "=r"(r32) : "x"(c) : "memory");
        mix(r32 | (uint64_t)(getcsr() & 0x3f) << 32);
        setcsr(csr_base);
        __asm__ volatile("cvtsd2si %1, %0" : "=r"(r32) : "x"(c) : "memory");
        mix(r32 | (uint64_t)(getcsr() & 0x3f) << 32);
        int32_t iv = (int32_t)next64();
        __m128 s;
        setcsr(csr_base);
        s = a;
        __asm__ volatile("cvtsi2ss %1, %0" : "+x"(s) : "r"(iv) : "memory");
        MIXPS(s);
        mix(getcsr() & 0x3f);
    }
}

/* 64-bit integer conversions exist in 64-bit mode only: the "cvt64" run (x86_64 only). */
static void fp_cvt64(void)
{
#if defined(__x86_64__)
    for (unsigned i = 0; i < 300 * scale; i++) {
        __m128 a = rndps();
        __m128d c = rndpd();
        uint64_t r64;
        int64_t lv = (int64_t)next64();
        lv >>= next64() & 63;
        setcsr(csr_base);
        __asm__ volatile("cvtsd2si %1, %0" : "=r"(r64) : "x"(c) : "memory");
        mix(r64 ^ (uint64_t)(getcsr() & 0x3f) << 8);
        setcsr(csr_base);
        __asm__ volatile("cvttss2si %1, %0" : "=r"(r64) : "x"(a) : "memory");
        mix(r64 ^ (uint64_t)(getcsr() & 0x3f) << 8);
        __m128 s = a;
        setcsr(csr_base);
        __asm__ volatile("cvtsi2ssq %1, %0" : "+x"(s) : "r"(lv) : "memory");
        MIXPS(s);
        mix(getcsr() & 0x3f);
        __m128d t = c;
        setcsr(csr_base);
        __asm__ volatile("cvtsi2sdq %1, %0" : "+x"(t) : "r"(lv) : "memory");
        MIXPD(t);
        mix(getcsr() & 0x3f);
    }
#endif
}

static void fp_sse41(void)
{
    for (unsigned i = 0; i < 30 * scale; i++) {
        __m128 a = rndps(), b = rndps();
        __m128d c = rndpd(), d = rndpd();
        CHECK_PSI("roundps", 0, a, b);
        CHECK_PSI("roundps", 1, a, b);
        CHECK_PSI("roundps", 2, a, b);
        CHECK_PSI("roundps", 3, a, b);
        CHECK_PSI("roundps", 4, a, b);
        CHECK_PSI("roundps", 9, a, b);
        CHECK_PSI("roundss", 12, a, b);
        CHECK_PDI("roundpd", 0, c, d);
        CHECK_PDI("roundpd", 2, c, d);
        CHECK_PDI("roundpd", 11, c, d);
        CHECK_PDI("roundsd", 4, c, d);
        CHECK_PDI("roundsd", 1, c, d);
        CHECK_PSI("dpps", 0xff, a, b);
        CHECK_PSI("dpps", 0x71, a, b);
        CHECK_PSI("dpps", 0x3c, a, b);
        CHECK_PSI("dpps", 0xa5, a, b);
        CHECK_PDI("dppd", 0x33, c, d);
        CHECK_PDI("dppd", 0x12, c, d);
        CHECK_PDI("dppd", 0x21, c, d);
    }
}

static const uint32_t modes[] = {0x1f80, 0x3f80, 0x5f80, 0x7f80, 0x1fc0, 0x9f80, 0xbfc0, 0xffc0};

static void fp_all(void)
{
    /* RC 0..3, DAZ, FTZ and both (modes[]); all exceptions masked */
    for (unsigned m = 0; m < sizeof modes / sizeof modes[0]; m++) {
        csr_base = modes[m];
        fp_arith();
        fp_cmp();
        fp_cvt();
        fp_sse41();
    }
    setcsr(0x1f80);
    report("fp-mxcsr");
}

/* ------------------------------------------------------------------------------------------ */
/* Integer SIMD                                                                               */

#define ALIGNR_CASES(X) X(0) X(1) X(5) X(8) X(15) X(16) X(17) X(31) X(32)

static void ssse3(void)
{
    for (unsigned i = 0; i < 300 * scale; i++) {
        __m128i a = rnd128(), b = rnd128();
        if (i & 1) {
            b = _mm_and_si128(b, _mm_set1_epi8((char)0x8f));
        }
        mix128(_mm_shuffle_epi8(a, b));
        mix128(_mm_hadd_epi16(a, b));
        mix128(_mm_hadd_epi32(a, b));
        mix128(_mm_hadds_epi16(a, b));
        mix128(_mm_hsub_epi16(a, b));
        mix128(_mm_hsub_epi32(a, b));
        mix128(_mm_hsubs_epi16(a, b));
        mix128(_mm_maddubs_epi16(a, b));
        mix128(_mm_mulhrs_epi16(a, b));
        mix128(_mm_sign_epi8(a, b));
        mix128(_mm_sign_epi16(a, _mm_srai_epi16(b, (int)(i & 15))));
        mix128(_mm_sign_epi32(a, _mm_srai_epi32(b, (int)(i & 31))));
        mix128(_mm_abs_epi8(a));
        mix128(_mm_abs_epi16(b));
        mix128(_mm_abs_epi32(a));
#define X(n) mix128(_mm_alignr_epi8(a, b, n));
        ALIGNR_CASES(X)
#undef X
    }
    report("ssse3");
}

static void sse41_int(void)
{
    static __m128i buf[2];
    for (unsigned i = 0; i < 300 * scale; i++) {
        __m128i a = rnd128(), b = rnd128(), m = rnd128();
        if (i & 2) {
            b = _mm_blend_epi16(a, b, 0x5a);
        }
        mix128(_mm_blendv_epi8(a, b, m));
        mix128(_mm_blend_epi16(a, b, 0x3c));
        MIXPS(_mm_blend_ps(_mm_castsi128_ps(a), _mm_castsi128_ps(b), 5));
        MIXPD(_mm_blend_pd(_mm_castsi128_pd(a), _mm_castsi128_pd(b), 2));
        MIXPS(_mm_blendv_ps(_mm_castsi128_ps(a), _mm_castsi128_ps(b), _mm_castsi128_ps(m)));
        MIXPD(_mm_blendv_pd(_mm_castsi128_pd(a), _mm_castsi128_pd(b), _mm_castsi128_pd(m)));
        __m128i t = (i & 4) ? _mm_andnot_si128(a, b) : b;
        mix((uint64_t)_mm_testz_si128(a, t) | (uint64_t)_mm_testc_si128(a, t) << 1 | (uint64_t)_mm_testnzc_si128(a, t) << 2);
        mix128(_mm_cvtepi8_epi16(a));
        mix128(_mm_cvtepi8_epi32(b));
        mix128(_mm_cvtepi8_epi64(a));
        mix128(_mm_cvtepi16_epi32(b));
        mix128(_mm_cvtepi16_epi64(a));
        mix128(_mm_cvtepi32_epi64(b));
        mix128(_mm_cvtepu8_epi16(a));
        mix128(_mm_cvtepu8_epi32(b));
        mix128(_mm_cvtepu8_epi64(a));
        mix128(_mm_cvtepu16_epi32(b));
        mix128(_mm_cvtepu16_epi64(a));
        mix128(_mm_cvtepu32_epi64(b));
        mix128(_mm_mul_epi32(a, b));
        mix128(_mm_mullo_epi32(a, b));
        mix128(_mm_cmpeq_epi64(a, (i & 1) ? a : b));
        mix128(_mm_packus_epi32(a, _mm_srai_epi32(b, 12)));
        mix128(_mm_min_epi8(a, b));
        mix128(_mm_max_epi8(a, b));
        mix128(_mm_min_epu16(a, b));
        mix128(_mm_max_epu16(a, b));
        mix128(_mm_min_epi32(a, b));
        mix128(_mm_max_epi32(a, b));
        mix128(_mm_min_epu32(a, b));
        mix128(_mm_max_epu32(a, b));
        mix128(_mm_minpos_epu16((i & 1) ? _mm_and_si128(a, _mm_set1_epi16(0x0303)) : a));
        mix128(_mm_mpsadbw_epu8(a, b, 0));
        mix128(_mm_mpsadbw_epu8(a, b, 3));
        mix128(_mm_mpsadbw_epu8(a, b, 5));
        mix128(_mm_mpsadbw_epu8(a, b, 6));
        mix((uint32_t)_mm_extract_epi8(a, 0) | (uint32_t)_mm_extract_epi8(a, 13) << 8
            | (uint64_t)(uint32_t)_mm_extract_epi32(b, 2) << 16 | (uint64_t)(uint32_t)_mm_extract_epi16(b, 7) << 48);
        mix((uint32_t)_mm_extract_ps(_mm_castsi128_ps(a), 3));
#if defined(__x86_64__)
        mix((uint64_t)_mm_extract_epi64(b, 1));
        mix128(_mm_insert_epi64(a, (long long)next64(), 1));
#else
        mix((uint64_t)(uint32_t)_mm_extract_epi32(b, 2) | (uint64_t)(uint32_t)_mm_extract_epi32(b, 3) << 32);
        {
            uint64_t v = next64();
            mix128(_mm_insert_epi32(_mm_insert_epi32(a, (int)v, 2), (int)(v >> 32), 3));
        }
#endif
        mix128(_mm_insert_epi8(a, (int)i, 9));
        mix128(_mm_insert_epi32(b, (int)i * 77, 1));
        MIXPS(_mm_insert_ps(_mm_castsi128_ps(a), _mm_castsi128_ps(b), 0x9a));
        MIXPS(_mm_insert_ps(_mm_castsi128_ps(a), _mm_castsi128_ps(b), 0x61));
        buf[i & 1] = a;
        mix128(_mm_stream_load_si128(&buf[i & 1]));
        mix128(_mm_cmpgt_epi64(a, b));
        /* SSE3 moves */
        MIXPS(_mm_movehdup_ps(_mm_castsi128_ps(a)));
        MIXPS(_mm_moveldup_ps(_mm_castsi128_ps(b)));
        MIXPD(_mm_movedup_pd(_mm_castsi128_pd(a)));
        mix128(_mm_lddqu_si128((const __m128i *)((const char *)buf + (i & 15))));
        /* SSE2 odds and ends */
        mix((uint64_t)_mm_movemask_epi8(a) | (uint64_t)_mm_movemask_ps(_mm_castsi128_ps(b)) << 16
            | (uint64_t)_mm_movemask_pd(_mm_castsi128_pd(a)) << 20);
        mix128(_mm_sad_epu8(a, b));
        mix128(_mm_mul_epu32(a, b));
        mix128(_mm_shufflelo_epi16(a, 0x1b));
        mix128(_mm_shufflehi_epi16(b, 0x9c));
        mix128(_mm_insert_epi16(a, (int)i, 5));
        static char mbuf[32];
        _mm_maskmoveu_si128(a, m, mbuf + (i & 15));
        mix128(_mm_loadu_si128((const __m128i *)mbuf));
        mix128(_mm_loadu_si128((const __m128i *)(mbuf + 16)));
    }
    report("sse41-int");
}

/* ------------------------------------------------------------------------------------------ */
/* SSE4.2 string compares: every imm8 mode (bits 0..6), implicit and explicit lengths          */

static __m128i str128(void)
{
    uint8_t b[16];
    uint64_t r = next64(), s = next64();
    unsigned alpha = 2 + (unsigned)(s & 7);
    for (int k = 0; k < 16; k++) {
        b[k] = (uint8_t)('a' + (r % alpha));
        r = r / alpha + (s << 40);
        s >>= 3;
    }
    if ((s & 3) == 0) {
        b[next64() & 15] = 0;
    }
    if ((next64() & 7) == 0) {
        b[next64() & 15] = (uint8_t)next64();
    }
    __m128i v;
    __builtin_memcpy(&v, b, 16);
    return v;
}

#define STR_MODE(imm)                                                                                \
    case imm:                                                                                      \
        mix((uint64_t)(uint32_t)_mm_cmpistri(a, b, imm) | (uint64_t)_mm_cmpistrc(a, b, imm) << 8       \
            | (uint64_t)_mm_cmpistrz(a, b, imm) << 9 | (uint64_t)_mm_cmpistrs(a, b, imm) << 10          \
            | (uint64_t)_mm_cmpistro(a, b, imm) << 11 | (uint64_t)_mm_cmpistra(a, b, imm) << 12);       \
        mix128(_mm_cmpistrm(a, b, imm));                                                           \
        mix((uint64_t)(uint32_t)_mm_cmpestri(a, la, b, lb, imm) | (uint64_t)_mm_cmpestrc(a, la, b, lb, imm) << 8 \
            | (uint64_t)_mm_cmpestrz(a, la, b, lb, imm) << 9 | (uint64_t)_mm_cmpestrs(a, la, b, lb, imm) << 10   \
            | (uint64_t)_mm_cmpestro(a, la, b, lb, imm) << 11);                                    \
        mix128(_mm_cmpestrm(a, la, b, lb, imm));                                                   \
        break;
#define STR8(b) STR_MODE(b + 0) STR_MODE(b + 1) STR_MODE(b + 2) STR_MODE(b + 3) STR_MODE(b + 4) \
    STR_MODE(b + 5) STR_MODE(b + 6) STR_MODE(b + 7)

static void pcmpstr_one(unsigned imm, __m128i a, __m128i b, int la, int lb)
{
    switch (imm) {
        STR8(0) STR8(8) STR8(16) STR8(24) STR8(32) STR8(40) STR8(48) STR8(56)
        STR8(64) STR8(72) STR8(80) STR8(88) STR8(96) STR8(104) STR8(112) STR8(120)
    default:
        break;
    }
}

static void sse42_str(void)
{
    for (unsigned i = 0; i < 12 * scale; i++) {
        __m128i a = str128(), b = str128();
        if (i % 3 == 1) {
            b = _mm_alignr_epi8(b, a, (int)(3)); /* the needle occurs in the haystack */
        }
        int la = (int)(next64() % 41) - 20, lb = (int)(next64() % 41) - 20;
        for (unsigned imm = 0; imm < 128; imm++) {
            pcmpstr_one(imm, a, b, la, lb);
        }
    }
    report("pcmpxstrx");
}

/* ------------------------------------------------------------------------------------------ */
/* Scalar: CRC32, POPCNT, LZCNT, MOVBE, CMPXCHG16B, LAHF/SAHF                                  */

static uint32_t crc32_u64(uint32_t c, uint64_t v)
{
#if defined(__x86_64__)
    return (uint32_t)_mm_crc32_u64(c, v);
#else
    return _mm_crc32_u32(_mm_crc32_u32(c, (uint32_t)v), (uint32_t)(v >> 32));
#endif
}

static unsigned popcnt64(uint64_t v)
{
#if defined(__x86_64__)
    return (unsigned)_mm_popcnt_u64(v);
#else
    return (unsigned)(_mm_popcnt_u32((uint32_t)v) + _mm_popcnt_u32((uint32_t)(v >> 32)));
#endif
}

static unsigned lzcnt64(uint64_t v)
{
#if defined(__x86_64__)
    return (unsigned)_lzcnt_u64(v);
#else
    uint32_t hi = (uint32_t)(v >> 32);
    return hi ? _lzcnt_u32(hi) : 32 + _lzcnt_u32((uint32_t)v);
#endif
}

static uint32_t movbe32(const uint32_t *p)
{
    uint32_t r;
    __asm__ volatile("movbe %1, %0" : "=r"(r) : "m"(*p));
    return r;
}

static uint16_t movbe16_store(uint16_t *p, uint16_t v)
{
    __asm__ volatile("movbew %1, %0" : "=m"(*p) : "r"(v));
    return *p;
}

static int cas128(uint64_t *p, uint64_t *expect, uint64_t nlo, uint64_t nhi)
{
#if defined(__x86_64__)
    uint8_t ok;
    uint64_t lo = expect[0], hi = expect[1];
    __asm__ volatile("lock cmpxchg16b %1\n\tsete %0" : "=q"(ok), "+m"(*(__int128 *)p), "+a"(lo), "+d"(hi)
                     : "b"(nlo), "c"(nhi) : "cc", "memory");
    expect[0] = lo;
    expect[1] = hi;
    return ok;
#else
    if (p[0] == expect[0] && p[1] == expect[1]) {
        p[0] = nlo;
        p[1] = nhi;
        return 1;
    }
    expect[0] = p[0];
    expect[1] = p[1];
    return 0;
#endif
}

static void scalar(void)
{
    static uint64_t pair[2] __attribute__((aligned(16)));
    uint32_t crc = 0xffffffff;
    for (unsigned i = 0; i < 2000 * scale; i++) {
        uint64_t v = next64() >> (next64() & 63);
        crc = _mm_crc32_u8(crc, (uint8_t)v);
        crc = _mm_crc32_u16(crc, (uint16_t)(v >> 8));
        crc = _mm_crc32_u32(crc, (uint32_t)(v >> 3));
        crc = crc32_u64(crc, v);
        mix(crc);
        mix(popcnt64(v) | (uint64_t)_mm_popcnt_u32((uint32_t)v) << 8 | (uint64_t)lzcnt64(v) << 16
            | (uint64_t)_lzcnt_u32((uint32_t)v) << 24 | (uint64_t)__builtin_clz((uint32_t)v | 1) << 32);
        uint32_t w = (uint32_t)v;
        uint16_t s;
        mix(movbe32(&w) | (uint64_t)movbe16_store(&s, (uint16_t)(v >> 16)) << 32);
        uint64_t expect[2] = {pair[0], (i & 3) ? pair[1] : pair[1] ^ 1};
        int ok = cas128(pair, expect, v, ~v);
        mix((uint64_t)ok | expect[0] << 1 | expect[1] << 7);
        mix(pair[0] ^ pair[1] << 3);
        uint32_t ah = 0;
        uint32_t in = (uint32_t)v & 0xd5;
        __asm__ volatile("mov %1, %%eax\n\tshl $8, %%eax\n\tsahf\n\tmov $0, %%eax\n\tlahf\n\tmov %%eax, %0"
                         : "=r"(ah) : "r"(in) : "eax", "cc");
        mix(ah);
    }
    report("scalar");
}

int main(int argc, char **argv)
{
    h = 0xcbf29ce484222325ULL;
    if (argc > 1 && strcmp(argv[1], "cvt64") == 0) {
        for (unsigned m = 0; m < sizeof modes / sizeof modes[0]; m++) {
            csr_base = modes[m];
            fp_cvt64();
        }
        setcsr(0x1f80);
        report("fp-cvt64");
        return 0;
    }
    if (argc > 1) {
        scale = (unsigned)mm_atou(argv[1]);
        if (scale < 1 || scale > 16) {
            mm_puts("usage: sse42 [scale 1..16 | cvt64]\n");
            return 2;
        }
    }
    h = 0xcbf29ce484222325ULL;
    fp_all();
    ssse3();
    sse41_int();
    sse42_str();
    scalar();
    mm_printf("%-12s %016llx\n", "all", (unsigned long long)digest_all);
    return 0;
}
