/*
 * x87 [sigfpe]: the x87 FPU through inline asm, the same code on x86_64 and i386. Prints the bit
 * patterns of results (80-bit as exponent:significand, float/double/integers/BCD in hex), the
 * exception flags (FSW 5:0) and C0-C3, for: FADD/FSUB/FSUBR/FMUL/FDIV/FDIVR/FSQRT in every rounding
 * and precision control over a table of special and ordinary operands (and digests over seeded
 * random operands), loads and stores of every format with rounding, FIST/FISTTP/FBSTP overflow,
 * compares (FCOM/FUCOM/FCOMI/FUCOMI/FTST/FXAM), FPREM/FPREM1, FXTRACT/FSCALE/FRNDINT, constants per
 * RC, stack overflow/underflow, FNSTENV/FNSAVE/FRSTOR/FXSAVE words, and transcendentals (results
 * rounded to double: hardware is within 1 ulp of 64 bits, so only the double is compared).
 * Only architecturally defined bits are printed (no FIP/FDP/FOP, reserved words or MXCSR_MASK).
 * "x87 sigfpe" unmasks ZE and divides by zero: the next waiting instruction raises #MF, SIGFPE.
 */
#include "mmrt.h"

typedef struct {
    unsigned long long m;
    unsigned short se;
} __attribute__((packed)) f80;

static f80 V[] = {
    {0x8000000000000000ULL, 0x3fff},  /* 1 */
    {0xC000000000000000ULL, 0x4000},  /* 3 */
    {0xAAAAAAAAAAAAAAABULL, 0x3ffd},  /* ~1/3 */
    {0xC90FDAA22168C235ULL, 0xc000},  /* -pi */
    {0xFFFFFFFFFFFFFFFFULL, 0x7ffe},  /* max */
    {0x8000000000000001ULL, 0x0001},  /* min normal + */
    {0x0000000000000003ULL, 0x8000},  /* -denormal */
    {0x0000000000000000ULL, 0x0000},  /* +0 */
    {0x8000000000000000ULL, 0xffff},  /* -inf */
    {0xC000000000000001ULL, 0x7fff},  /* QNaN */
    {0xA000000000000000ULL, 0x7fff},  /* SNaN */
    {0x4000000000000000ULL, 0x3fff},  /* unnormal */
    {0x9E3779B97F4A7C15ULL, 0x403e},  /* big */
    {0xF0E1D2C3B4A59687ULL, 0x3fbf},  /* small */
};
#define NV ((int)(sizeof(V) / sizeof(V[0])))

static unsigned long long hash = 1469598103934665603ULL;

static void mix(unsigned long long v)
{
    for (int i = 0; i < 8; i++) {
        hash ^= (v >> (8 * i)) & 0xff;
        hash *= 1099511628211ULL;
    }
}

static unsigned int bits32(float f)
{
    unsigned int u;
    __builtin_memcpy(&u, &f, 4);
    return u;
}

static unsigned long long bits64(double d)
{
    unsigned long long u;
    __builtin_memcpy(&u, &d, 8);
    return u;
}

static void p80(const f80 *r)
{
    mm_printf(" %04x:%016llx", r->se, r->m);
}

/* a op b with the given control word; returns FSW (flags, C1). op: 0 add 1 sub 2 subr 3 mul 4 div 5 divr 6 sqrt(a) */
static unsigned short op2(int op, const f80 *a, const f80 *b, unsigned short cw, f80 *r)
{
    unsigned short sw;
    __asm__ volatile("fninit\n\tfldcw %0\n\tfldt %1\n\tfldt %2" : : "m"(cw), "m"(*b), "m"(*a));
    switch (op) {
    case 0: __asm__ volatile("fadd %st(1), %st"); break;
    case 1: __asm__ volatile("fsub %st(1), %st"); break;
    case 2: __asm__ volatile("fsubr %st(1), %st"); break;
    case 3: __asm__ volatile("fmul %st(1), %st"); break;
    case 4: __asm__ volatile("fdiv %st(1), %st"); break;
    case 5: __asm__ volatile("fdivr %st(1), %st"); break;
    default: __asm__ volatile("fsqrt"); break;
    }
    __asm__ volatile("fnstsw %0\n\tfstpt %1\n\tfstp %%st(0)" : "=m"(sw), "=m"(*r));
    return sw;
}

static void arithmetic_table(void)
{
    static const char *names[] = {"add", "sub", "subr", "mul", "div", "divr", "sqrt"};
    for (int op = 0; op < 7; op++) {
        for (int i = 0; i < NV; i++) {
            for (int j = 0; j < (op == 6 ? 1 : NV); j++) {
                mm_printf("%s %d %d:", names[op], i, j);
                for (int pc = 0; pc < 4; pc++) {
                    if (pc == 1) {
                        continue;
                    }
                    for (int rc = 0; rc < 4; rc++) {
                        f80 r;
                        unsigned short sw = op2(op, &V[i], &V[j], 0x7f | (pc << 8) | (rc << 10), &r);
                        p80(&r);
                        mm_printf("/%02x%d", sw & 0x3f, (sw >> 9) & 1);
                    }
                }
                mm_printf("\n");
            }
        }
    }
}

static unsigned long long rng = 0x243F6A8885A308D3ULL;

static unsigned long long next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void random_digests(void)
{
    for (int op = 0; op < 7; op++) {
        for (int mode = 0; mode < 16; mode++) {
            int pc = mode >> 2, rc = mode & 3;
            if (pc == 1) {
                continue;
            }
            hash = 1469598103934665603ULL;
            for (int k = 0; k < 300; k++) {
                f80 a, b, r;
                unsigned long long e = next();
                a.m = next() | 0x8000000000000000ULL;
                b.m = next() | 0x8000000000000000ULL;
                a.se = (unsigned short)((e & 0x8000) | (0x3fff - 40 + (e >> 16) % 80));
                b.se = (unsigned short)(((e >> 1) & 0x8000) | (0x3fff - 40 + (e >> 32) % 80));
                if (k % 7 == 0) {
                    b.se = (unsigned short)((b.se & 0x8000) | (a.se & 0x7fff)); /* cancellation */
                }
                if (op == 6) {
                    a.se &= 0x7fff;
                }
                unsigned short sw = op2(op, &a, &b, 0x7f | (pc << 8) | (rc << 10), &r);
                mix(r.m);
                mix(r.se | ((unsigned long long)(sw & 0x23f) << 16));
            }
            mm_printf("random op%d pc%d rc%d %016llx\n", op, pc, rc, hash);
        }
    }
}

static void stores(void)
{
    static const double D[] = {2.5, -2.5, 3.5, 1e10, -32768.4, 32767.6, 0.1, 1e300, 3e-39, -1e-310};
    for (int i = 0; i < (int)(sizeof(D) / sizeof(D[0])); i++) {
        for (int rc = 0; rc < 4; rc++) {
            unsigned short cw = 0x37f | (rc << 10), sw[7];
            float f;
            double d;
            short w;
            int l;
            long long q;
            int t;
            unsigned char bcd[10];
            __asm__ volatile("fninit\n\tfldcw %0" : : "m"(cw));
            __asm__ volatile("fldl %2\n\tfsts %0\n\tfnstsw %1\n\tfstp %%st(0)" : "=m"(f), "=m"(sw[0]) : "m"(D[i]));
            __asm__ volatile("fnclex\n\tfldl %2\n\tfmull %2\n\tfstl %0\n\tfnstsw %1\n\tfstp %%st(0)" : "=m"(d), "=m"(sw[1]) : "m"(D[i]));
            __asm__ volatile("fnclex\n\tfldl %2\n\tfistps %0\n\tfnstsw %1" : "=m"(w), "=m"(sw[2]) : "m"(D[i]));
            __asm__ volatile("fnclex\n\tfldl %2\n\tfistpl %0\n\tfnstsw %1" : "=m"(l), "=m"(sw[3]) : "m"(D[i]));
            __asm__ volatile("fnclex\n\tfldl %2\n\tfistpll %0\n\tfnstsw %1" : "=m"(q), "=m"(sw[4]) : "m"(D[i]));
            __asm__ volatile("fnclex\n\tfldl %2\n\tfisttpl %0\n\tfnstsw %1" : "=m"(t), "=m"(sw[5]) : "m"(D[i]));
            __asm__ volatile("fnclex\n\tfldl %2\n\tfbstp %0\n\tfnstsw %1" : "=m"(bcd), "=m"(sw[6]) : "m"(D[i]));
            mm_printf("store %d rc%d: f=%08x/%02x d*d=%016llx/%02x w=%04x/%02x l=%08x/%02x q=%016llx/%02x t=%08x/%02x bcd=",
                      i, rc, bits32(f), sw[0] & 0x3f, bits64(d), sw[1] & 0x3f,
                      (unsigned short)w, sw[2] & 0x3f, (unsigned int)l, sw[3] & 0x3f, (unsigned long long)q,
                      sw[4] & 0x3f, (unsigned int)t, sw[5] & 0x3f);
            for (int k = 9; k >= 0; k--) {
                mm_printf("%02x", bcd[k]);
            }
            mm_printf("/%02x\n", sw[6] & 0x3f);
        }
    }
}

static void loads(void)
{
    static const unsigned int F[] = {0x3fc00000, 0x00000001, 0x7f800001, 0xff800000, 0x80000000};
    static const unsigned long long Q[] = {0x000fffffffffffffULL, 0x7ff0000000000001ULL, 0xc00921fb54442d18ULL};
    static const unsigned char B[10] = {0x78, 0x56, 0x34, 0x12, 0x90, 0x78, 0x56, 0x34, 0x12, 0x80};
    static const short W = -12345;
    static const long long L = -9223372036854775807LL - 1;
    f80 r;
    unsigned short sw;
    for (int i = 0; i < 5; i++) {
        __asm__ volatile("fninit\n\tflds %2\n\tfnstsw %1\n\tfstpt %0" : "=m"(r), "=m"(sw) : "m"(F[i]));
        mm_printf("flds %08x:", F[i]);
        p80(&r);
        mm_printf("/%02x\n", sw & 0x3f);
    }
    for (int i = 0; i < 3; i++) {
        __asm__ volatile("fninit\n\tfldl %2\n\tfnstsw %1\n\tfstpt %0" : "=m"(r), "=m"(sw) : "m"(Q[i]));
        mm_printf("fldl %016llx:", Q[i]);
        p80(&r);
        mm_printf("/%02x\n", sw & 0x3f);
    }
    __asm__ volatile("fninit\n\tfbld %1\n\tfstpt %0" : "=m"(r) : "m"(B));
    mm_printf("fbld:");
    p80(&r);
    __asm__ volatile("fninit\n\tfilds %1\n\tfstpt %0" : "=m"(r) : "m"(W));
    mm_printf("\nfilds:");
    p80(&r);
    __asm__ volatile("fninit\n\tfildll %1\n\tfstpt %0" : "=m"(r) : "m"(L));
    mm_printf("\nfildll:");
    p80(&r);
    mm_printf("\n");
}

static void compares(void)
{
    for (int i = 0; i < NV; i++) {
        for (int j = 0; j < NV; j++) {
            unsigned short sw1, sw2;
            unsigned char fl1, fl2;
            __asm__ volatile("fninit\n\tfldt %3\n\tfldt %2\n\tfcom %%st(1)\n\tfnstsw %0\n\tfucomi %%st(1), %%st\n\tlahf\n\tmovb %%ah, %1"
                             : "=m"(sw1), "=m"(fl1) : "m"(V[i]), "m"(V[j]) : "ax", "cc");
            __asm__ volatile("fnclex\n\tfcomip %%st(1), %%st\n\tlahf\n\tmovb %%ah, %1\n\tfnstsw %0\n\tfstp %%st(0)"
                             : "=m"(sw2), "=m"(fl2) : : "ax", "cc");
            mm_printf("cmp %d %d: fcom %04x ucomi %02x/%02x comi %02x/%02x\n", i, j, sw1 & 0x4701,
                      fl1 & 0x45, sw1 & 0x3f, fl2 & 0x45, sw2 & 0x3f);
        }
        unsigned short a, b;
        __asm__ volatile("fninit\n\tfldt %2\n\tftst\n\tfnstsw %0\n\tfxam\n\tfnstsw %1" : "=m"(a), "=m"(b) : "m"(V[i]));
        mm_printf("ftst/fxam %d: %04x %04x\n", i, a & 0x4701, b & 0x4700);
    }
}

static void misc(void)
{
    static const double P[][2] = {{17, 3}, {-17, 3}, {17, -3}, {1e30, 3}, {5.5, 2.5}, {7.5, 2.5}, {1e-300, 7},
                                   {10, 0}, {1.5, 10.7}, {1.5, -20000}, {2.5, 0}, {-3.5, 0}, {0, 0}};
    for (int i = 0; i < (int)(sizeof(P) / sizeof(P[0])); i++) {
        f80 r1, r2, r3, r4;
        unsigned short s1, s2, s3, s4, n = 0;
        __asm__ volatile("fninit\n\tfldl %3\n\tfldl %2\n"
                         "1:\tfprem\n\tfnstsw %%ax\n\tincw %1\n\ttestb $4, %%ah\n\tjnz 1b\n\tfstpt %0\n\tfstp %%st(0)"
                         : "=m"(r1), "+m"(n) : "m"(P[i][0]), "m"(P[i][1]) : "ax", "cc");
        __asm__ volatile("fninit\n\tfldl %3\n\tfldl %2\n1:\tfprem1\n\tfnstsw %%ax\n\ttestb $4, %%ah\n\tjnz 1b\n\tmovw %%ax, %1\n\tfstpt %0\n\tfstp %%st(0)"
                         : "=m"(r2), "=m"(s2) : "m"(P[i][0]), "m"(P[i][1]) : "ax", "cc");
        __asm__ volatile("fninit\n\tfldl %2\n\tfxtract\n\tfnstsw %1\n\tfaddp\n\tfstpt %0" : "=m"(r3), "=m"(s3) : "m"(P[i][0]));
        __asm__ volatile("fninit\n\tfldl %3\n\tfldl %2\n\tfscale\n\tfnstsw %1\n\tfstpt %0\n\tfstp %%st(0)" : "=m"(r4), "=m"(s4) : "m"(P[i][0]), "m"(P[i][1]));
        __asm__ volatile("fninit\n\tfldl %2\n\tfldl %1\n\tfprem\n\tfnstsw %0\n\tfninit" : "=m"(s1) : "m"(P[i][0]), "m"(P[i][1]));
        mm_printf("misc %d: prem", i);
        p80(&r1);
        mm_printf(" first %04x prem1", s1 & 0x0400);
        p80(&r2);
        mm_printf("/%04x xtract", s2 & 0x473f);
        p80(&r3);
        mm_printf("/%02x scale", s3 & 0x3f);
        p80(&r4);
        mm_printf("/%02x\n", s4 & 0x3f);
        for (int rc = 0; rc < 4; rc++) {
            unsigned short cw = 0x37f | (rc << 10), sw;
            f80 r;
            __asm__ volatile("fninit\n\tfldcw %2\n\tfldl %3\n\tfrndint\n\tfnstsw %1\n\tfstpt %0" : "=m"(r), "=m"(sw) : "m"(cw), "m"(P[i][1]));
            mm_printf(" rndint rc%d", rc);
            p80(&r);
            mm_printf("/%02x%d", sw & 0x3f, (sw >> 9) & 1);
        }
        mm_printf("\n");
    }
    for (int rc = 0; rc < 4; rc++) {
        unsigned short cw = 0x37f | (rc << 10);
        f80 c[7];
        __asm__ volatile("fninit\n\tfldcw %7\n\tfld1\n\tfldl2t\n\tfldl2e\n\tfldpi\n\tfldlg2\n\tfldln2\n\tfldz\n\t"
                         "fstpt %0\n\tfstpt %1\n\tfstpt %2\n\tfstpt %3\n\tfstpt %4\n\tfstpt %5\n\tfstpt %6"
                         : "=m"(c[0]), "=m"(c[1]), "=m"(c[2]), "=m"(c[3]), "=m"(c[4]), "=m"(c[5]), "=m"(c[6]) : "m"(cw));
        mm_printf("const rc%d:", rc);
        for (int k = 0; k < 7; k++) {
            p80(&c[k]);
        }
        mm_printf("\n");
    }
}

static void stack_and_env(void)
{
    unsigned short sw, env[14];
    f80 r;
    __asm__ volatile("fninit\n\tfld1\n\tfld1\n\tfld1\n\tfld1\n\tfld1\n\tfld1\n\tfld1\n\tfldpi\n\tfld1\n\tfnstsw %0\n\tfstpt %1\n\tfninit"
                     : "=m"(sw), "=m"(r));
    mm_printf("overflow %04x", sw & 0x7f7f);
    p80(&r);
    __asm__ volatile("fninit\n\tfld1\n\tfadd %%st(2), %%st\n\tfnstsw %0\n\tfstpt %1" : "=m"(sw), "=m"(r));
    mm_printf("\nunderflow %04x", sw & 0x7f7f);
    p80(&r);
    __asm__ volatile("fninit\n\tfldpi\n\tfldz\n\tfld1\n\tfldt %1\n\tfdiv %%st(1), %%st\n\tfnstenv %0\n\tfldenv %0" : "=m"(env) : "m"(V[6]));
    mm_printf("\nfnstenv cw %04x sw %04x tw %04x", env[0], env[2], env[4]);
    {
        unsigned char save[108];
        f80 a, b;
        __asm__ volatile("fnsave %0\n\tfrstor %0\n\tfstpt %1\n\tfstpt %2\n\tfninit" : "+m"(save), "=m"(a), "=m"(b));
        mm_printf(" fnsave cw %02x%02x sw %02x%02x tw %02x%02x", save[1], save[0], save[5], save[4], save[9], save[8]);
        p80(&a);
        p80(&b);
    }
    {
        static unsigned char fx[512] __attribute__((aligned(16)));
        __asm__ volatile("fninit\n\tfldpi\n\tfld1\n\tfxsave %0\n\tfninit\n\tfxrstor %0\n\tfstpt %1" : "+m"(fx), "=m"(r));
        mm_printf(" fxsave cw %02x%02x sw %02x%02x tag %02x mxcsr %02x%02x", fx[1], fx[0], fx[3], fx[2], fx[4], fx[25], fx[24]);
        p80(&r);
        mm_printf(" st1 %02x%02x", fx[32 + 16 + 9], fx[32 + 16 + 8]);
    }
    mm_printf("\n");
}

static void transcendental(void)
{
    static const double X[] = {0.5, 1.0, 2.0, -3.0, 0.785, 1e-5, -0.1, 3.9};
    static const double Q4 = 0.25;
    for (int i = 0; i < (int)(sizeof(X) / sizeof(X[0])); i++) {
        double s, c, t, one, s2, c2, a, e, l, lp;
        double y = X[(i + 3) % 8];
        __asm__ volatile("fninit\n\tfldl %1\n\tfsin\n\tfstpl %0" : "=m"(s) : "m"(X[i]));
        __asm__ volatile("fninit\n\tfldl %1\n\tfcos\n\tfstpl %0" : "=m"(c) : "m"(X[i]));
        __asm__ volatile("fninit\n\tfldl %2\n\tfptan\n\tfstpl %1\n\tfstpl %0" : "=m"(t), "=m"(one) : "m"(X[i]));
        __asm__ volatile("fninit\n\tfldl %2\n\tfsincos\n\tfstpl %1\n\tfstpl %0" : "=m"(s2), "=m"(c2) : "m"(X[i]));
        __asm__ volatile("fninit\n\tfldl %1\n\tfldl %2\n\tfpatan\n\tfstpl %0" : "=m"(a) : "m"(X[i]), "m"(y));
        __asm__ volatile("fninit\n\tfldl %1\n\tfmull %2\n\tf2xm1\n\tfstpl %0" : "=m"(e) : "m"(X[i]), "m"(Q4));
        __asm__ volatile("fninit\n\tfldl %1\n\tfldl %2\n\tfabs\n\tfyl2x\n\tfstpl %0" : "=m"(l) : "m"(y), "m"(X[i]));
        __asm__ volatile("fninit\n\tfldl %1\n\tfldl %2\n\tfyl2xp1\n\tfstpl %0" : "=m"(lp) : "m"(y), "m"(X[6]));
        mm_printf("trans %d: sin %016llx cos %016llx tan %016llx %016llx sincos %016llx %016llx atan %016llx",
                  i, bits64(s), bits64(c), bits64(t), bits64(one), bits64(s2), bits64(c2), bits64(a));
        mm_printf(" 2xm1 %016llx yl2x %016llx yl2xp1 %016llx\n", bits64(e), bits64(l), bits64(lp));
    }
    /* C arithmetic on long double (x87 on both architectures) */
    volatile long double x = 1.0L;
    for (int i = 1; i < 30; i++) {
        x = x * 1.1L + 1.0L / (long double)i;
    }
    f80 r;
    __builtin_memcpy(&r, (const void *)&x, 10);
    mm_printf("long double loop");
    p80(&r);
    mm_printf("\n");
}

static void sigfpe(void)
{
    unsigned short cw = 0x37b; /* ZE unmasked */
    mm_printf("unmasking ZE and dividing by zero\n");
    mm_flush();
    __asm__ volatile("fninit\n\tfldcw %0\n\tfld1\n\tfldz\n\tfdivr %%st(1), %%st\n\tfld1\n\tfwait" : : "m"(cw));
    mm_printf("not reached\n");
}

/* The sections by name: "x87 loads transcendental" runs only those, in that order (the
   instruction-level oracle single-steps a few sections natively instead of all 45 million
   instructions); without arguments every section runs. */
static const struct {
    const char *name;
    void (*run)(void);
} SECTIONS[] = {
    {"arithmetic_table", arithmetic_table}, {"random_digests", random_digests}, {"loads", loads},
    {"stores", stores}, {"compares", compares}, {"misc", misc}, {"stack_and_env", stack_and_env},
    {"transcendental", transcendental},
};

int main(int argc, char **argv, char **envp)
{
    (void)envp;
    if (argc > 1 && strcmp(argv[1], "sigfpe") == 0) {
        sigfpe();
        return 1;
    }
    if (argc > 1) {
        for (int k = 1; k < argc; k++) {
            int found = 0;
            for (unsigned s = 0; s < sizeof(SECTIONS) / sizeof(SECTIONS[0]); s++) {
                if (strcmp(argv[k], SECTIONS[s].name) == 0) {
                    SECTIONS[s].run();
                    found = 1;
                }
            }
            if (!found) {
                mm_printf("unknown section %s\n", argv[k]);
                return 2;
            }
        }
        return 0;
    }
    arithmetic_table();
    random_digests();
    loads();
    stores();
    compares();
    misc();
    stack_and_env();
    transcendental();
    return 0;
}
