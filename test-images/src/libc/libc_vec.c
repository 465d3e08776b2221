/*
 * Loops that gcc -O3 autovectorises (SSE2 on x86_64, SSE4.2 with -march=x86-64-v2; the i386 build is
 * x87 and integer code): integer arithmetic of every width, shifts, min/max/abs, selects, byte
 * histograms and searches, widening multiply-adds, reductions (sum, xor, min, max, dot products),
 * float and double element-wise arithmetic, min/max reductions, conversions between integer and
 * floating types of every width, strided and reversed accesses, and loop tails of every length.
 *
 * Output: checksums (uint32_t) and exact values (%a). The default run is architecture-independent
 * (the i386 build is checked against the x86_64 recording): its floating-point inputs are small
 * dyadic numbers, so every product and sum is exact and x87 excess precision cannot change a result.
 * Argument "general" (x86_64 only, see images.tsv) uses inputs with full 53-bit and 24-bit
 * mantissas, where every operation rounds; gcc keeps the source's operation order without
 * -ffast-math, so SSE results are bit for bit those of the scalar code.
 * build.sh cflags: -O3
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define N 1027 /* not a multiple of any vector length: every loop has a tail */

static int8_t a8[N], b8[N], c8[N];
static uint8_t u8[N], v8[N];
static int16_t a16[N], b16[N], c16[N];
static uint16_t u16[N];
static int32_t a32[N], b32[N], c32[N];
static uint32_t u32[N];
static int64_t a64[N], b64[N], c64[N];
static float fa[N], fb[N], fc[N];
static double da[N], db[N], dc[N];
static int general;
static uint32_t h;

static void mix(uint32_t v) {
    h = (h ^ v) * 16777619u;
    h ^= h >> 13;
}

#define MIXARR(arr, n)                                                                                                \
    do {                                                                                                              \
        uint32_t t_ = 0;                                                                                              \
        for (int i_ = 0; i_ < (n); i_++) {                                                                            \
            uint64_t w_ = 0;                                                                                          \
            memcpy(&w_, &(arr)[i_], sizeof((arr)[0]));                                                                \
            t_ = t_ * 1000003u + (uint32_t) w_ + (uint32_t) (w_ >> 32);                                                \
        }                                                                                                             \
        mix(t_);                                                                                                      \
    } while (0)

static void init(uint32_t seed) {
    uint32_t x = seed;
    for (int i = 0; i < N; i++) {
        x = x * 1103515245u + 12345u;
        uint32_t r = x >> 1;
        a8[i] = (int8_t) r;
        b8[i] = (int8_t) (r >> 8);
        u8[i] = (uint8_t) (r >> 16);
        v8[i] = (uint8_t) (r >> 3);
        a16[i] = (int16_t) r;
        b16[i] = (int16_t) (r >> 7);
        u16[i] = (uint16_t) (r >> 9);
        a32[i] = (int32_t) (r * 2654435761u);
        b32[i] = (int32_t) (r % 20001) - 10000;
        u32[i] = r ^ (r << 13);
        a64[i] = (int64_t) (((uint64_t) r << 31) ^ (uint64_t) x * 0x9e3779b97f4a7c15ull);
        b64[i] = (int64_t) (r % 1000003) - 500000;
        if (general) {
            fa[i] = (float) r / 1234567.0f;
            fb[i] = 1.0f / (float) (r % 977 + 1);
            da[i] = (double) r / 3.0e6 - 100.0;
            db[i] = 1.0 / (double) (r % 10007 + 1);
        } else { /* multiples of 1/64 below 64: sums and products of a few of them are exact */
            fa[i] = (float) ((int32_t) (r % 8192) - 4096) / 64.0f;
            fb[i] = (float) ((int32_t) (r >> 13) % 1024) / 64.0f;
            da[i] = (double) ((int32_t) (r % 16384) - 8192) / 64.0;
            db[i] = (double) ((int32_t) (r >> 14) % 2048) / 64.0;
        }
    }
}

static void integer_loops(void) {
    for (int i = 0; i < N; i++) c8[i] = (int8_t) (a8[i] + b8[i] * 3);
    MIXARR(c8, N);
    for (int i = 0; i < N; i++) c8[i] = a8[i] > b8[i] ? a8[i] : b8[i];
    MIXARR(c8, N);
    for (int i = 0; i < N; i++) v8[i] = (uint8_t) ((u8[i] + v8[i] + 1) >> 1);
    MIXARR(v8, N);
    for (int i = 0; i < N; i++) c8[i] = (int8_t) (a8[i] < 0 ? -a8[i] : a8[i]);
    MIXARR(c8, N);
    for (int i = 0; i < N; i++) {
        int s = u8[i] + v8[i];
        u8[i] = (uint8_t) (s > 255 ? 255 : s);
    }
    MIXARR(u8, N);
    for (int i = 0; i < N; i++) c16[i] = (int16_t) (a16[i] * b16[i]);
    MIXARR(c16, N);
    /* The high half of 16x16 products, into 32-bit elements. Into int16_t elements, gcc 12 -m32 -O3
     * (no SSE) "vectorises" two lanes per 32-bit IMUL, whose EDX is not the two lanes' high halves:
     * wrong code (mmulab reproduces what the hardware computes), so the i386 output would differ. */
    for (int i = 0; i < N; i++) c32[i] = (a16[i] * b16[i]) >> 16;
    MIXARR(c32, N);
    for (int i = 0; i < N; i++) c16[i] = (int16_t) (a16[i] >> 3) ^ (int16_t) (u16[i] << 2);
    MIXARR(c16, N);
    for (int i = 0; i < N; i++) c32[i] = (int32_t) ((uint32_t) a32[i] * (uint32_t) b32[i] + (uint32_t) (a32[i] >> 5) - ((uint32_t) a32[i] >> 27));
    MIXARR(c32, N);
    for (int i = 0; i < N; i++) c32[i] = a32[i] < b32[i] ? a32[i] : b32[i];
    MIXARR(c32, N);
    for (int i = 0; i < N; i++) c32[i] = b32[i] > 0 ? a32[i] / 8 : a32[i] % 16;
    MIXARR(c32, N);
    for (int i = 0; i < N; i++) u32[i] = (u32[i] << (i & 31)) | (u32[i] >> ((32 - (i & 31)) & 31));
    MIXARR(u32, N);
    for (int i = 0; i < N; i++) c64[i] = (int64_t) ((uint64_t) a64[i] + (uint64_t) b64[i] * 7 - (uint64_t) (a64[i] >> 9));
    MIXARR(c64, N);
    for (int i = 0; i < N; i++) c64[i] = a64[i] > b64[i] ? (int64_t) ((uint64_t) a64[i] - (uint64_t) b64[i]) : b64[i] ^ a64[i];
    MIXARR(c64, N);
    for (int i = 0; i < N; i++) c64[i] = (int64_t) a32[i] * b32[i];
    MIXARR(c64, N);
    for (int i = 0; i < N; i++) c32[i] = (int32_t) ((uint32_t) (a16[i] * b16[i]) + (uint32_t) (a16[i] * a16[i]));
    MIXARR(c32, N);
    for (int i = N - 1; i > 0; i--) c32[i] = (int32_t) ((uint32_t) a32[i] - (uint32_t) a32[N - 1 - i]);
    MIXARR(c32, N);
    for (int i = 0; i < N / 2; i++) c32[i] = (int32_t) ((uint32_t) a32[2 * i] + (uint32_t) a32[2 * i + 1]);
    MIXARR(c32, N / 2);
    printf("integer loops hash=%08x\n", h);
}

static void reductions(void) {
    int32_t s8 = 0, sad = 0;
    for (int i = 0; i < N; i++) s8 += a8[i];
    for (int i = 0; i < N; i++) sad += u8[i] > v8[i] ? u8[i] - v8[i] : v8[i] - u8[i];
    uint32_t dot16 = 0;
    for (int i = 0; i < N; i++) dot16 += (uint32_t) (a16[i] * b16[i]);
    int64_t s32 = 0;
    for (int i = 0; i < N; i++) s32 += a32[i];
    uint32_t x32 = 0, or32 = 0;
    for (int i = 0; i < N; i++) {
        x32 ^= u32[i];
        or32 |= u32[i] & 0x10204081u;
    }
    int32_t mn = INT32_MAX, mx = INT32_MIN;
    for (int i = 0; i < N; i++) {
        mn = a32[i] < mn ? a32[i] : mn;
        mx = a32[i] > mx ? a32[i] : mx;
    }
    uint64_t s64 = 0;
    int64_t dot64 = 0;
    for (int i = 0; i < N; i++) {
        s64 += (uint64_t) a64[i];
        dot64 += b64[i] * b64[i];
    }
    uint32_t hist[16] = {0};
    for (int i = 0; i < N; i++) hist[u8[i] & 15]++;
    int count = 0;
    for (int i = 0; i < N; i++) count += a16[i] > b16[i];
    printf("reductions s8=%d sad=%d dot16=%u s32=%lld xor=%08x or=%08x min=%d max=%d s64=%llu dot64=%lld count=%d"
           " hist0=%u hist15=%u\n",
           s8, sad, dot16, (long long) s32, x32, or32, mn, mx, (unsigned long long) s64, (long long) dot64, count, hist[0],
           hist[15]);
}

static void fp_loops(void) {
    for (int i = 0; i < N; i++) fc[i] = fa[i] * fb[i] + fa[i];
    MIXARR(fc, N);
    for (int i = 0; i < N; i++) fc[i] = fa[i] - fb[i] * 0.5f;
    MIXARR(fc, N);
    for (int i = 0; i < N; i++) fc[i] = fa[i] < fb[i] ? fb[i] : fa[i];
    MIXARR(fc, N);
    for (int i = 0; i < N; i++) fc[i] = fa[i] > 0.0f ? fa[i] : -fa[i];
    MIXARR(fc, N);
    for (int i = 0; i < N; i++) dc[i] = da[i] * db[i] - db[i];
    MIXARR(dc, N);
    for (int i = 0; i < N; i++) dc[i] = da[i] + db[i] * 2.0;
    MIXARR(dc, N);
    for (int i = 0; i < N; i++) dc[i] = da[i] > db[i] ? da[i] : db[i] * 4.0;
    MIXARR(dc, N);
    for (int i = 0; i < N; i++) dc[i] = (double) fa[i] * db[i];
    MIXARR(dc, N);
    for (int i = 0; i < N; i++) fc[i] = (float) da[i];
    MIXARR(fc, N);
    if (general) { /* divisions and square roots round; in the default run their inputs make them exact-free */
        for (int i = 0; i < N; i++) dc[i] = da[i] / (db[i] + 1.0);
        MIXARR(dc, N);
        for (int i = 0; i < N; i++) fc[i] = fa[i] / (fb[i] + 2.0f);
        MIXARR(fc, N);
    }
    float fmx = -1e30f, fmn = 1e30f;
    double dmx = -1e300, dmn = 1e300;
    for (int i = 0; i < N; i++) {
        fmx = fa[i] > fmx ? fa[i] : fmx;
        fmn = fa[i] < fmn ? fa[i] : fmn;
        dmx = da[i] > dmx ? da[i] : dmx;
        dmn = da[i] < dmn ? da[i] : dmn;
    }
    double dsum = 0;
    float fsum = 0;
    for (int i = 0; i < 64; i++) { /* ordered sums: not vectorised without -ffast-math, exact in the default run */
        dsum += da[i];
        fsum += fa[i];
    }
    printf("fp loops hash=%08x fmax=%a fmin=%a dmax=%a dmin=%a dsum=%a fsum=%a\n", h, (double) fmx, (double) fmn, dmx,
           dmn, dsum, (double) fsum);
}

static void conversions(void) {
    for (int i = 0; i < N; i++) fc[i] = (float) a32[i];
    MIXARR(fc, N);
    for (int i = 0; i < N; i++) dc[i] = (double) a32[i];
    MIXARR(dc, N);
    for (int i = 0; i < N; i++) fc[i] = (float) a16[i] + (float) u8[i];
    MIXARR(fc, N);
    for (int i = 0; i < N; i++) dc[i] = (double) b64[i];
    MIXARR(dc, N);
    for (int i = 0; i < N; i++) c32[i] = (int32_t) (fa[i] * 100.0f);
    MIXARR(c32, N);
    for (int i = 0; i < N; i++) c32[i] = (int32_t) da[i];
    MIXARR(c32, N);
    for (int i = 0; i < N; i++) c16[i] = (int16_t) (int32_t) fb[i];
    MIXARR(c16, N);
    for (int i = 0; i < N; i++) c64[i] = (int64_t) (da[i] * 1024.0);
    MIXARR(c64, N);
    for (int i = 0; i < N; i++) u8[i] = (uint8_t) (uint32_t) (fb[i] * 15.0f);
    MIXARR(u8, N);
    for (int i = 0; i < N; i++) dc[i] = (double) fa[i];
    MIXARR(dc, N);
    for (int i = 0; i < N; i++) c32[i] = (int32_t) u16[i] - (int32_t) a8[i];
    MIXARR(c32, N);
    for (int i = 0; i < N; i++) c64[i] = (int64_t) a16[i] * 3 + (int64_t) u32[i];
    MIXARR(c64, N);
    printf("conversions hash=%08x\n", h);
}

/* every loop-tail length: a small vectorised loop over n = 0..40 elements */
static void tails(void) {
    uint32_t t = 0;
    for (int n = 0; n <= 40; n++) {
        for (int i = 0; i < n; i++) c16[i] = (int16_t) (a16[i] + b16[i]);
        for (int i = 0; i < n; i++) c8[i] = (int8_t) (a8[i] ^ b8[i]);
        for (int i = 0; i < n; i++) fc[i] = fa[i] + fb[i];
        int32_t s = 0;
        for (int i = 0; i < n; i++) s += c16[i] + c8[i] + (int32_t) fc[i];
        t = t * 31 + (uint32_t) s;
    }
    printf("tails hash=%08x\n", t);
}

int main(int argc, char **argv) {
    general = argc > 1 && strcmp(argv[1], "general") == 0;
    for (uint32_t seed = 1; seed <= 3; seed++) {
        h = 2166136261u;
        init(seed);
        printf("seed %u\n", seed);
        integer_loops();
        reductions();
        fp_loops();
        conversions();
    }
    tails();
    return 0;
}
