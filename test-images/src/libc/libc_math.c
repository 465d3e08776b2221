/*
 * libm across its domains: the double, float and long double variants of roots, exponentials,
 * logarithms, powers, trigonometric, inverse trigonometric and hyperbolic functions, hypot, fmod and
 * remainder, the rounding functions under each fesetround mode, frexp/ldexp/modf, fma; special values
 * (signed zeros, infinities, NaN, subnormals, huge arguments) and errno / exception flags of the
 * classic domain and pole errors.
 *
 * Two ways to print (argument "exact" or none):
 *  - none: architecture-independent output, compared for the i386 build with the x86_64 recording.
 *    Correctly rounded operations (sqrt, fma, fmod, remainder, the rounding functions, frexp/ldexp/
 *    modf) print exact bits (%a). Transcendental results are printed rounded: %.13g for double,
 *    %.6g for float, %.15Lg for long double, because i386 glibc computes several of them on x87
 *    (FYL2X, F2XM1, FPATAN ... with excess precision) and so may differ from x86_64 in the last bit.
 *  - "exact" (x86_64 only, see images.tsv): float and double results in full (%a): glibc and musl
 *    compute them with SSE arithmetic on x86_64, bit for bit the same on any conforming machine.
 *    Long double transcendentals stay rounded (%.15Lg) in both modes: libm computes them with
 *    FYL2X, F2XM1, FPATAN, FSIN..., which mmulab rounds correctly while hardware is only within one
 *    ulp, so the last bit may legitimately differ.
 * fmax and fmin of zeros of both signs may return either zero (C11 F.10.9.2; x86_64 glibc's MAXSD
 * and i386 glibc's x87 code choose differently): their zero results print unsigned.
 * Built with -frounding-math: without it gcc inlines rint/nearbyint/floor for the default rounding mode
 * only, and the directed-mode results would be gcc's, not libm's.
 * build.sh cflags: -frounding-math
 * NaNs print as "nan" without a sign in both modes (the sign of a NaN a libm returns is not
 * specified and differs between implementations).
 */
#include <errno.h>
#include <fenv.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static int exact;

/* The results pass through volatile objects: i386 libm returns them in ST0 with excess precision
 * (sqrtf is FSQRT on the float argument), and only a store rounds them to their type. */
static void pd(const char *name, double x, double rx, int transcendental) {
    volatile double r = rx;
    if (isnan(r)) {
        printf("%s(%a)=nan\n", name, x);
    } else if (transcendental && !exact) {
        printf("%s(%a)=%.13g\n", name, x, r);
    } else {
        printf("%s(%a)=%a\n", name, x, r);
    }
}

static void pf(const char *name, float x, float rx, int transcendental) {
    volatile float r = rx;
    if (isnan(r)) {
        printf("%sf(%a)=nan\n", name, (double) x);
    } else if (transcendental && !exact) {
        printf("%sf(%a)=%.6g\n", name, (double) x, (double) r);
    } else {
        printf("%sf(%a)=%a\n", name, (double) x, (double) r);
    }
}

static void pl(const char *name, long double x, long double r, int transcendental) {
    if (isnan(r)) {
        printf("%sl(%La)=nan\n", name, x);
    } else if (transcendental) {
        printf("%sl(%La)=%.15Lg\n", name, x, r);
    } else {
        printf("%sl(%La)=%La\n", name, x, r);
    }
}

typedef double (*d1)(double);
typedef float (*f1)(float);
typedef long double (*l1)(long double);

struct fn1 {
    const char *name;
    d1 d;
    f1 f;
    l1 l;
    int transcendental;
};

static const struct fn1 fns[] = {
    {"sqrt", sqrt, sqrtf, sqrtl, 0},   {"cbrt", cbrt, cbrtf, cbrtl, 1},     {"exp", exp, expf, expl, 1},
    {"exp2", exp2, exp2f, exp2l, 1},   {"expm1", expm1, expm1f, expm1l, 1}, {"log", log, logf, logl, 1},
    {"log1p", log1p, log1pf, log1pl, 1}, {"log2", log2, log2f, log2l, 1},   {"log10", log10, log10f, log10l, 1},
    {"sin", sin, sinf, sinl, 1},       {"cos", cos, cosf, cosl, 1},         {"tan", tan, tanf, tanl, 1},
    {"asin", asin, asinf, asinl, 1},   {"acos", acos, acosf, acosl, 1},     {"atan", atan, atanf, atanl, 1},
    {"sinh", sinh, sinhf, sinhl, 1},   {"cosh", cosh, coshf, coshl, 1},     {"tanh", tanh, tanhf, tanhl, 1},
    {"floor", floor, floorf, floorl, 0}, {"ceil", ceil, ceilf, ceill, 0},   {"round", round, roundf, roundl, 0},
    {"trunc", trunc, truncf, truncl, 0}, {"rint", rint, rintf, rintl, 0},   {"nearbyint", nearbyint, nearbyintf, nearbyintl, 0},
    {"fabs", fabs, fabsf, fabsl, 0},   {"asinh", asinh, asinhf, asinhl, 1}, {"acosh", acosh, acoshf, acoshl, 1},
    {"atanh", atanh, atanhf, atanhl, 1}, {"erf", erf, erff, erfl, 1},       {"tgamma", tgamma, tgammaf, tgammal, 1},
};

/* Arguments across the domains: zeros, tiny and subnormal, around 1, the overflow edges, huge. */
static volatile double args[] = {
    0.0, -0.0, 0x1p-1074, 0x1p-1022, 1e-300, 1e-10, 0.1, 0.5, -0.5, 0.7, 1.0, -1.0, 1.5, 2.0, 2.5, -2.5,
    3.0, 3.5, 10.0, -10.0, 0.999999, 1.000001, 3.14159265358979, 1.5707963267948966, 100.0, 709.7, 710.0,
    -745.0, -746.0, 1e10, -1e10, 1e22, 1e300, 4503599627370495.5, -4503599627370497.0, 0x1p52, 1e-5, 170.5,
};

static volatile double args2[][2] = {
    {2, 10}, {2, 0.5}, {-8, 1.0 / 3.0}, {-2, 3}, {-2, -3}, {0, -1}, {-0.0, -1}, {0, 0}, {1, 1e300},
    {-1, 1e300}, {1, NAN}, {NAN, 0}, {10, 308}, {10, 309}, {10, -323}, {2, -1075}, {0.5, 1e10},
    {1.0000001, 1e9}, {-1, INFINITY}, {INFINITY, -1}, {3, 2}, {-3, 2}, {5.5, 2}, {-5.5, 2}, {1e300, 1e-300},
    {1, 0}, {0, 1}, {-0.0, -0.0}, {0.0, -0.0}, {-1, -0.0}, {7, INFINITY}, {INFINITY, INFINITY}, {3e-320, 7e-321},
};

static void unary(void) {
    for (size_t f = 0; f < sizeof fns / sizeof fns[0]; f++) {
        for (size_t i = 0; i < sizeof args / sizeof args[0]; i++) {
            double x = args[i];
            pd(fns[f].name, x, fns[f].d(x), fns[f].transcendental);
            float xf = (float) x;
            pf(fns[f].name, xf, fns[f].f(xf), fns[f].transcendental);
            /* i386 glibc's acoshl (e_acoshl.S) tests the sign-and-exponent word without masking the
             * sign, so -0 takes the large-argument path, log(-0) + ln 2 = -inf; x86_64's gives NaN */
            if (!(strcmp(fns[f].name, "acosh") == 0 && x == 0 && signbit(x))) {
                pl(fns[f].name, (long double) x, fns[f].l((long double) x), fns[f].transcendental);
            }
        }
        volatile double sp[] = {INFINITY, -INFINITY, NAN};
        for (int i = 0; i < 3; i++) {
            pd(fns[f].name, sp[i], fns[f].d(sp[i]), 0);
        }
    }
    /* long double arguments that a double cannot hold */
    volatile long double la[] = {1e-4000L, 1e4000L, 0x1.fffffffffffffffep-1L, 1.0L + 0x1p-63L, 11355.5L, 0x1p-16445L};
    for (size_t f = 0; f < sizeof fns / sizeof fns[0]; f++) {
        for (size_t i = 0; i < sizeof la / sizeof la[0]; i++) {
            pl(fns[f].name, la[i], fns[f].l(la[i]), fns[f].transcendental);
        }
    }
}

static void binary(void) {
    for (size_t i = 0; i < sizeof args2 / sizeof args2[0]; i++) {
        double x = args2[i][0], y = args2[i][1];
        printf("(%a,%a):", x, y);
        volatile double r[] = {pow(x, y), atan2(x, y), hypot(x, y)};
        for (int k = 0; k < 3; k++) {
            if (isnan(r[k])) {
                printf(" nan");
            } else {
                printf(exact ? " %a" : " %.13g", r[k]);
            }
        }
        volatile double mx = fmax(x, y), mn = fmin(x, y);
        volatile double e[] = {fmod(x, y), remainder(x, y), copysign(x, y), mx == 0 ? 0.0 : mx, mn == 0 ? 0.0 : mn, fdim(x, y),
                      nextafter(x, y)};
        for (int k = 0; k < 7; k++) {
            printf(isnan(e[k]) ? " nan" : " %a", e[k]);
        }
        int q = 0;
        volatile double rq = remquo(x, y, &q);
        printf(isnan(rq) ? " remquo=nan" : " remquo=%a", rq);
        printf(" q%%8=%d", isnan(rq) ? 0 : q % 8);
        volatile float fr[] = {powf((float) x, (float) y), atan2f((float) x, (float) y), hypotf((float) x, (float) y)};
        for (int k = 0; k < 3; k++) {
            printf(isnan(fr[k]) ? " nan" : exact ? " %a" : " %.6g", (double) fr[k]);
        }
        volatile float fe = fmodf((float) x, (float) y);
        printf(isnan(fe) ? " nan" : " %a", (double) fe);
        long double lx = x, ly = y;
        long double lr[] = {powl(lx, ly), atan2l(lx, ly), hypotl(lx, ly)};
        for (int k = 0; k < 3; k++) {
            printf(isnan(lr[k]) ? " nan" : " %.15Lg", lr[k]);
        }
        long double le[] = {fmodl(lx, ly), remainderl(lx, ly)};
        for (int k = 0; k < 2; k++) {
            printf(isnan(le[k]) ? " nan" : " %La", le[k]);
        }
        printf("\n");
    }
}

static void rounding(void) {
    static const int modes[] = {FE_TONEAREST, FE_UPWARD, FE_DOWNWARD, FE_TOWARDZERO};
    static const char *names[] = {"nearest", "upward", "downward", "towardzero"};
    volatile double v[] = {0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 0.49999999999999994, 2.4, -2.6, 1e300, 4503599627370497.0, -0.0};
    for (int m = 0; m < 4; m++) {
        fesetround(modes[m]);
        printf("round %s (get=%d):", names[m], fegetround() == modes[m]);
        for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
            double x = v[i];
            long lr = (x > -2e9 && x < 2e9) ? lrint(x) : 0; /* long is 32-bit on i386 */
            long long llr = (x > -1e18 && x < 1e18) ? llrint(x) : 0;
            printf(" [%a %a %a %a %a %a %lld %lld %a %a %lld]", rint(x), nearbyint(x), floor(x), ceil(x), round(x),
                   trunc(x), (long long) lr, llr, (double) rintf((float) x), (double) rintl(x),
                   (x > -1e18 && x < 1e18) ? (long long) llrintl(x) : 0LL);
        }
        /* correctly rounded operations follow the mode too */
        volatile double a = 1.0, b = 3.0, c = 0x1p-60;
        volatile double sq = sqrt(b - a), fm = fma(a, b, c);
        volatile float sqf = sqrtf((float) (b - a));
        printf(" sqrt2=%a fma=%a sqrtf2=%a sqrtl2=%La\n", sq, fm, (double) sqf, sqrtl((long double) b - a));
    }
    fesetround(FE_TONEAREST);
}

static void parts(void) {
    volatile double v[] = {0.0, -0.0, 1.0, 0.75, -3.5, 1e300, 0x1p-1074, 0x1.8p-1070, 123.456, INFINITY, -INFINITY};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        int e = 0;
        volatile double m = frexp(v[i], &e);
        double ip = 0;
        double fp = modf(v[i], &ip);
        int ef = 0;
        volatile float mf = frexpf((float) v[i], &ef);
        int el = 0;
        long double ml = frexpl(v[i], &el);
        long double ipl = 0;
        long double fpl = modfl(v[i], &ipl);
        printf("frexp(%a)=%a,%d modf=%a,%a frexpf=%a,%d frexpl=%La,%d modfl=%La,%La ilogb=%d logb=%a\n", v[i], m,
               isinf(v[i]) ? 0 : e, fp, ip, (double) mf, isinf(v[i]) ? 0 : ef, ml, isinf(v[i]) ? 0 : el, fpl, ipl,
               v[i] == 0 || isinf(v[i]) ? 0 : ilogb(v[i]), logb(v[i]));
    }
    int ex[] = {0, 1, -1, 1023, 1024, -1074, -1075, 2000, -2000};
    for (size_t i = 0; i < sizeof ex / sizeof ex[0]; i++) {
        printf("ldexp(0x1.8p0,%d)=%a scalbn=%a ldexpf=%a ldexpl=%La scalbnl=%La\n", ex[i], ldexp(1.5, ex[i]),
               scalbn(-1.5, ex[i]), (double) ldexpf(1.5f, ex[i]), ldexpl(1.5L, ex[i] * 16), scalbnl(1.5L, ex[i]));
    }
    volatile double fa[][3] = {{1, 1, 1}, {0x1.0000001p0, 0x1.0000001p0, -1}, {1e308, 10, -1e308}, {0x1p-1074, 0.5, 0},
                               {-1, 1, 1}, {INFINITY, 0, 1}, {0x1.fffffffffffffp0, 0x1.fffffffffffffp0, -4},
                               {1e-200, 1e-200, 0x1p-1074}};
    for (size_t i = 0; i < sizeof fa / sizeof fa[0]; i++) {
        volatile double r = fma(fa[i][0], fa[i][1], fa[i][2]);
        volatile float rf = fmaf((float) fa[i][0], (float) fa[i][1], (float) fa[i][2]);
        long double rl = fmal(fa[i][0], fa[i][1], fa[i][2]);
        printf(isnan(r) ? "fma nan" : "fma %a", r);
        printf(isnan(rf) ? " fmaf nan" : " fmaf %a", (double) rf);
        printf(isnan(rl) ? " fmal nan\n" : " fmal %La\n", rl);
    }
}

/* errno and the exception flags of domain, pole and range errors. */
static void errors(void) {
    struct {
        const char *what;
        double (*f)(double);
        double x;
    } cases[] = {{"sqrt", sqrt, -1}, {"log", log, 0}, {"log", log, -1}, {"exp", exp, 1000}, {"exp", exp, -1000},
                 {"acos", acos, 2}, {"atanh", atanh, 1}, {"tgamma", tgamma, -1}, {"cosh", cosh, 1000}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        feclearexcept(FE_ALL_EXCEPT);
        errno = 0;
        volatile double r = cases[i].f(cases[i].x);
        int ex = fetestexcept(FE_INVALID | FE_DIVBYZERO | FE_OVERFLOW);
        printf("%s(%g): %s errno=%s invalid=%d divbyzero=%d overflow=%d\n", cases[i].what, cases[i].x,
               isnan(r) ? "nan" : isinf(r) ? (r > 0 ? "inf" : "-inf") : r == 0 ? "0" : "finite",
               errno == EDOM ? "EDOM" : errno == ERANGE ? "ERANGE" : errno == 0 ? "0" : "other", !!(ex & FE_INVALID),
               !!(ex & FE_DIVBYZERO), !!(ex & FE_OVERFLOW));
    }
    printf("math_errhandling=%d\n", math_errhandling);
}

int main(int argc, char **argv) {
    exact = argc > 1 && strcmp(argv[1], "exact") == 0;
    unary();
    binary();
    rounding();
    parts();
    errors();
    return 0;
}
