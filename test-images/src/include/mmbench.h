/*
 * mmbench.h - what mmulab's benchmark images (page_fault1, sparse_unmap, tlb_stride, cpu_loop)
 * share: the TSC, a monotonic clock, fixed-point output and the RESULT / HIST line format that
 * `mmulab bench` (cli BenchCommand) parses. Include after mmrt.h.
 *
 * Output format (one line per figure, nothing else on the line; other lines are free text):
 *
 *   RESULT <workload>.<metric>_per_<op>[@<key>=<int>] <value> <unit>
 *   RESULT <workload>.<figure> <value> <unit>
 *   HIST <workload>.<figure> <k> <count>
 *
 *   metric  ns (clock_gettime CLOCK_MONOTONIC), us, or cycles (RDTSC deltas)
 *   value   a decimal with exactly three fractional digits ("812.400")
 *   @key=n  a parameter of the figure, e.g. tlb_stride.cycles_per_access@pages=512
 *   HIST    a log2 histogram: <count> samples had a value v with 2^k <= v < 2^(k+1) (k = 0 also
 *           holds v = 0); only non-empty buckets are printed, in increasing k.
 *
 * Under `--timing fast` the emulator's RDTSC counts host time at a nominal 2 GHz and
 * clock_gettime is host time. Under the timing model's `--timing cycle --deterministic`, RDTSC and
 * the clock follow the model's virtual cycles, so every cycles figure here is the model's count:
 * the images only ever take differences of two RDTSC reads around the measured code.
 */
#ifndef MMBENCH_H
#define MMBENCH_H

static inline uint64_t mb_rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi) : : "memory");
    return ((uint64_t)hi << 32) | lo;
}

/* Prints num/den with three decimals (num * 1000 must fit in 64 bits). */
static __attribute__((unused)) void mb_put_ratio(uint64_t num, uint64_t den)
{
    if (den == 0) {
        mm_printf("0.000");
        return;
    }
    uint64_t milli = (num * 1000 + den / 2) / den;
    mm_printf("%llu.%03llu", (unsigned long long)(milli / 1000), (unsigned long long)(milli % 1000));
}

/* RESULT <name> <num/den> <unit> */
static __attribute__((unused)) void mb_result(const char *name, uint64_t num, uint64_t den, const char *unit)
{
    mm_printf("RESULT %s ", name);
    mb_put_ratio(num, den);
    mm_printf(" %s\n", unit);
}

/* RESULT <name>@<key>=<param> <num/den> <unit> */
static __attribute__((unused)) void mb_result_param(const char *name, const char *key, uint64_t param, uint64_t num, uint64_t den,
                            const char *unit)
{
    mm_printf("RESULT %s@%s=%llu ", name, key, (unsigned long long)param);
    mb_put_ratio(num, den);
    mm_printf(" %s\n", unit);
}

#define MB_HIST_BUCKETS 64

/* floor(log2(v)), 0 for v <= 1 */
static inline int mb_log2(uint64_t v)
{
    int k = 0;
    while (v > 1) {
        v >>= 1;
        k++;
    }
    return k;
}

static __attribute__((unused)) void mb_hist_print(const char *name, const uint64_t *buckets)
{
    for (int k = 0; k < MB_HIST_BUCKETS; k++) {
        if (buckets[k] != 0) {
            mm_printf("HIST %s %d %llu\n", name, k, (unsigned long long)buckets[k]);
        }
    }
}

/* Shuffles a[0..n) in place (Fisher-Yates) with a 64-bit LCG whose state *seed carries on to the next call. */
static __attribute__((unused)) void mb_shuffle(uint64_t *a, uint64_t n, uint64_t *seed)
{
    uint64_t s = *seed; /* a local: a[] may alias *seed, which would store it on every step */
    for (uint64_t i = n - 1; n > 1 && i > 0; i--) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        uint64_t j = (s >> 33) % (i + 1), t = a[i];
        a[i] = a[j];
        a[j] = t;
    }
    *seed = s;
}

/*
 * order[0..n) = 0..n-1, shuffled (mb_shuffle from a fixed seed) when random: the visiting order of a pointer
 * chase, the same on every run and on the emulator and the host.
 */
static __attribute__((unused)) void mb_chase_order(uint64_t *order, uint64_t n, int random)
{
    uint64_t seed = 12345;
    for (uint64_t i = 0; i < n; i++) {
        order[i] = i;
    }
    if (random) {
        mb_shuffle(order, n, &seed);
    }
}

/* Parses argv[i] as a decimal, or returns def when absent. */
static __attribute__((unused)) uint64_t mb_arg(int argc, char **argv, int i, uint64_t def)
{
    return argc > i ? mm_atou(argv[i]) : def;
}

#endif
