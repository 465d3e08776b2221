/*
 * Floating-point text conversion as a user's program meets it: printf of every float conversion
 * (%f %F %e %E %g %G %a %A with flags, width and precision) for float, double and long double,
 * sscanf of every float format back, strtod/strtof/strtold edge cases (subnormals, the rounding
 * boundaries, hex floats, inf/nan, overflow and underflow with errno, trailing junk and endptr),
 * and glibc's rounding-mode-aware conversions under each fesetround mode.
 *
 * The output is architecture-independent: the program does no floating-point arithmetic of its
 * own (i386 code would evaluate it on x87 with excess precision), only conversions, and long double
 * is the same 80-bit format on both ABIs; so the i386 build is checked against the x86_64 recording.
 */
#include <errno.h>
#include <fenv.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *err_name(int e) {
    return e == 0 ? "0" : e == ERANGE ? "ERANGE" : e == EINVAL ? "EINVAL" : "other";
}

/* Values go through volatile objects so that nothing is folded at compile time. */
static volatile double dvals[] = {
    0.0, -0.0, 1.0, -1.0, 0.1, 0.5, 1.5, 2.5, -2.5, 0.125, 1.0 / 3.0, 2.0 / 3.0, 123456789.125,
    1e22, 1e23, 9007199254740993.0, 0x1.fffffffffffffp-1, 5e-324, 2.2250738585072009e-308,
    2.2250738585072014e-308, 1.7976931348623157e308, 6.02214076e23, 1e-5, 1e-4, 999999.5, 1e15,
    1e16, 1e17, 0.000123456789, 3.141592653589793, 100.0, 0x1p-1022, 0x1.8p+1,
};

static volatile float fvals[] = {0.0f, 1.0f, 0.1f, 1.0f / 3.0f, 16777217.0f, 1e-45f, 1.17549435e-38f,
                                 3.40282347e38f, 7.5f, -0.625f};

static volatile long double lvals[] = {
    0.0L, -0.0L, 1.0L, 0.1L, 1.0L / 3.0L, 2.5L, 123456789012345678.0L, 1e-4000L, 1e4000L,
    LDBL_MIN, LDBL_MAX, 0x1p-16445L, 0x1.fffffffffffffffep-1L, 3.14159265358979323846264338327950288L,
    18446744073709551615.0L, 1e-5L,
};

static const char *dfmts[] = {
    "%f", "%.0f", "%.1f", "%.3f", "%.20f", "%F", "%e", "%.0e", "%.3e", "%.17e", "%E", "%g", "%.0g",
    "%.3g", "%.17g", "%G", "%#g", "%#.0f", "%#.0e", "%a", "%.0a", "%.1a", "%.3a", "%.20a", "%A",
    "%+f", "% e", "%+.2g", "%15.4f|", "%-15.4e|", "%015.3f", "%-+12.3a|", "%'.2f",
};

static const char *ldfmts[] = {"%Lf", "%.3Lf", "%Le", "%.20Le", "%Lg", "%.21Lg", "%La", "%.3La", "%LA", "%#.0Lg"};

static void print_doubles(void) {
    char buf[2048];
    for (size_t f = 0; f < sizeof dfmts / sizeof dfmts[0]; f++) {
        printf("fmt %s:", dfmts[f]);
        for (size_t i = 0; i < sizeof dvals / sizeof dvals[0]; i++) {
            snprintf(buf, sizeof buf, dfmts[f], dvals[i]);
            printf(" %s", buf);
        }
        printf("\n");
    }
    volatile double special[] = {INFINITY, -INFINITY, NAN, -NAN};
    for (int i = 0; i < 4; i++) {
        printf("special %f %F %e %E %g %G %a %A %10f| %-10e|\n", special[i], special[i], special[i], special[i],
               special[i], special[i], special[i], special[i], special[i], special[i]);
    }
    /* width and precision from arguments; a huge precision */
    printf("star [%*.*f] [%-*.*e] [%.*g]\n", 12, 3, dvals[10], 14, 2, dvals[12], 40, dvals[4]);
    snprintf(buf, sizeof buf, "%.700f", dvals[17]);
    printf("%%.700f of 5e-324: %zu chars, ends %s\n", strlen(buf), buf + strlen(buf) - 30);
    snprintf(buf, sizeof buf, "%.0f", dvals[22]);
    printf("%%.0f of DBL_MAX: %zu chars, starts %.40s\n", strlen(buf), buf);
    /* snprintf truncation returns the full length */
    int n = snprintf(buf, 5, "%.10f", dvals[15]);
    printf("snprintf truncated n=%d buf=%s\n", n, buf);
}

static void print_floats(void) {
    for (size_t i = 0; i < sizeof fvals / sizeof fvals[0]; i++) {
        printf("float %a %.9g %e %f\n", (double) fvals[i], (double) fvals[i], (double) fvals[i], (double) fvals[i]);
    }
}

static void print_long_doubles(void) {
    char buf[6000];
    for (size_t f = 0; f < sizeof ldfmts / sizeof ldfmts[0]; f++) {
        printf("lfmt %s:", ldfmts[f]);
        for (size_t i = 0; i < sizeof lvals / sizeof lvals[0]; i++) {
            snprintf(buf, sizeof buf, ldfmts[f], lvals[i]);
            if (strlen(buf) > 80) {
                printf(" [%zu chars %.20s...%s]", strlen(buf), buf, buf + strlen(buf) - 20);
            } else {
                printf(" %s", buf);
            }
        }
        printf("\n");
    }
    volatile long double li = INFINITY, ln = NAN;
    printf("lspecial %Lf %Le %Lg %La %Lf %Le %Lg %La\n", li, li, li, li, ln, ln, ln, ln);
}

static void scan_back(void) {
    const char *in[] = {"1.5", "-0.1", "1e-320", "0x1.8p3", "inf", "-nan", "1e400", "3.4e39", "  42xyz",
                        "0x1.fffffep127", "1.000000000000000000001", "-0", ".5e-2", "1e-4950"};
    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
        float f = -7;
        double d = -7, e = -7, g = -7, a = -7;
        long double l = -7, le = -7, la = -7;
        int nf = sscanf(in[i], "%f", &f);
        int nd = sscanf(in[i], "%lf", &d);
        int ne = sscanf(in[i], "%le", &e);
        int ng = sscanf(in[i], "%lg", &g);
        int na = sscanf(in[i], "%la", &a);
        int nl = sscanf(in[i], "%Lf", &l);
        int nle = sscanf(in[i], "%Le", &le);
        int nla = sscanf(in[i], "%La", &la);
        printf("sscanf \"%s\": %d %a | %d %a %d %a %d %a %d %a | %d %La %d %La %d %La\n", in[i], nf, (double) f, nd, d, ne,
               e, ng, g, na, a, nl, l, nle, le, nla, la);
    }
    double x, y;
    char rest[32] = "";
    int n = sscanf("3.25,  -1e3 tail", "%lf, %lf %31s", &x, &y, rest);
    printf("sscanf multi: n=%d %a %a rest=%s\n", n, x, y, rest);
    n = sscanf("12.5e", "%lf%31s", &x, rest);
    printf("sscanf '12.5e': n=%d %a\n", n, x);
    n = sscanf("1.234567", "%4lf%lf", &x, &y);
    printf("sscanf width: n=%d %a %a\n", n, x, y);
}

static void str_to_d(void) {
    const char *in[] = {
        "0", "-0", "1", "0.1", "4.9e-324", "5e-324", "2.4703282292062327e-324", "2.4703282292062328e-324",
        "1e-400", "2.2250738585072011e-308", "2.2250738585072012e-308", "2.2250738585072014e-308",
        "1.7976931348623157e308", "1.7976931348623158e308", "1.7976931348623159e308", "1e309", "-1e309",
        "9007199254740992", "9007199254740993", "9007199254740993.0000000000000000001", "9007199254740994",
        "9007199254740995", "0.30000000000000004", "123456789012345678901234567890", "1e23", "8.5e-323",
        "0x1p-1074", "0x1p-1075", "0x1.8p-1075", "0x1.fffffffffffff8p1023", "0x1.fffffffffffff7ffp1023",
        "0X1.ABCDEFp+10", "0x.8", "0x", "0x1p", "1e", "1e+", ".5", "5.", ".", "+.e1", "inf", "-INF",
        "Infinity", "infinit", "nan", "-NaN", "nan(123)", "nan(0x7ff)", "nan(", "  \t\n +1.5e+3xyz",
        "abc", "", "1_000", "1,5", "000000000000000000000000000000000001e-5", "1e-2147483650",
        "1e2147483650", "0.0000000000000000000000000000000000000000000000000000000000000001e64",
        "1" "00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000e-90",
    };
    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
        char *end;
        errno = 0;
        double d = strtod(in[i], &end);
        int ed = errno;
        long dend = end - in[i];
        errno = 0;
        float f = strtof(in[i], &end);
        int ef = errno;
        long fend = end - in[i];
        errno = 0;
        long double l = strtold(in[i], &end);
        int el = errno;
        long lend = end - in[i];
        printf("strto \"%s\": d=%a %s end=%ld | f=%a %s end=%ld | ld=%La %s end=%ld\n", in[i], d, err_name(ed), dend,
               (double) f, err_name(ef), fend, l, err_name(el), lend);
    }
    const char *fin[] = {"1.17549435e-38", "1.1754942e-38", "1e-45", "7.0064923e-46", "7.006492321624087e-46",
                         "3.4028235e38", "3.40282356779733661637539395458142568448e38",
                         "3.40282356779733661637539395458142568449e38", "16777217", "16777219", "0.1", "1e-46"};
    for (size_t i = 0; i < sizeof fin / sizeof fin[0]; i++) {
        errno = 0;
        float f = strtof(fin[i], NULL);
        printf("strtof \"%s\": %a %s\n", fin[i], (double) f, err_name(errno));
    }
    const char *lin[] = {"1e-4951", "3.6451995318824746025e-4951", "1.8e-4951", "3.3621031431120935063e-4932",
                         "1.18973149535723176502e4932", "1.18973149535723176508e4932", "1e4933",
                         "0x1p-16445", "0x1p-16446", "0x1.00000000000000018p0", "0x1.00000000000000008p0",
                         "0.1", "18446744073709551617", "-nan(1)"};
    for (size_t i = 0; i < sizeof lin / sizeof lin[0]; i++) {
        errno = 0;
        long double l = strtold(lin[i], NULL);
        printf("strtold \"%s\": %La %s\n", lin[i], l, err_name(errno));
    }
}

/* glibc rounds printf and strtod according to the current rounding mode (musl does not). */
static void rounding_modes(void) {
    static const int modes[] = {FE_TONEAREST, FE_UPWARD, FE_DOWNWARD, FE_TOWARDZERO};
    static const char *names[] = {"nearest", "upward", "downward", "towardzero"};
    volatile double v[] = {0.25, -0.25, 0.35, 2.5, -1.0 / 3.0};
    for (int m = 0; m < 4; m++) {
        int r = fesetround(modes[m]);
        printf("mode %s (%d):", names[m], r);
        for (int i = 0; i < 5; i++) {
            printf(" %.1f %.2e %.3a", v[i], v[i], v[i]);
        }
        printf(" | strtod 0.1=%a 1e-400=%a 1e400=%a -0.1=%a", strtod("0.1", NULL), strtod("1e-400", NULL),
               strtod("1e400", NULL), strtod("-0.1", NULL));
        printf(" strtof 0.1=%a strtold 0.1=%La\n", (double) strtof("0.1", NULL), strtold("0.1", NULL));
    }
    fesetround(FE_TONEAREST);
}

int main(void) {
    print_doubles();
    print_floats();
    print_long_doubles();
    scan_back();
    str_to_d();
    rounding_modes();
    return 0;
}
