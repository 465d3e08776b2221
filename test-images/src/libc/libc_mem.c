/*
 * The string and memory functions over sizes 0-700 at every alignment (libc picks SSE2/SSE4.2/
 * AVX ifunc variants by CPUID, and their head/tail code depends on size and alignment), malloc/
 * realloc/calloc/free of many sizes including ones above the mmap threshold, qsort/bsearch, and
 * setjmp/longjmp/sigsetjmp/siglongjmp.
 *
 * Each string function prints one checksum over all its calls: a hash of every return value (as an
 * offset, never a pointer) and of the destination buffer after the call. Everything printed is
 * architecture-independent (uint32_t/uint64_t, offsets), so the i386 build is checked against the
 * x86_64 recording.
 *
 * Arguments: none, the default run (every size 0-700: sizes up to 80 at every source alignment 0-15,
 * larger ones at one source/destination alignment pair each, rotating through all 256); "full": every
 * size 0-700 at every source and destination alignment 0-15 (large: the slow test profile).
 * The buffers are (re)filled with memcpy from fixed patterns before each call.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAXN 700
#define PAD 128
static unsigned char srcbuf[MAXN + 2 * PAD], dstbuf[MAXN + 2 * PAD];
static uint32_t h;
static int full;

static void mix(uint32_t v) {
    h = (h ^ v) * 16777619u;
    h ^= h >> 15;
}

static void mix_buf(const unsigned char *p, size_t n) {
    uint32_t a = 0, w;
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        memcpy(&w, p + i, 4);
        a = a * 31 + w;
    }
    for (; i < n; i++) {
        a = a * 31 + p[i];
    }
    mix(a);
}

/* Lowercase letters (no NUL) for the sources, and another pattern for the destinations. */
static unsigned char pattern[2 * (MAXN + 2 * PAD)], dpattern[MAXN + 2 * PAD];

static void make_patterns(void) {
    uint32_t x = 12345;
    for (size_t i = 0; i < sizeof pattern; i++) {
        x = x * 1103515245u + 12345u;
        pattern[i] = (unsigned char) ('a' + ((x >> 16) % 26));
    }
    for (size_t i = 0; i < sizeof dpattern; i++) {
        dpattern[i] = (unsigned char) (0x41 + (i % 23));
    }
}

/* Fill src from the pattern (at a start that depends on the case) with a terminator at n, and dst. */
static void setup(size_t sa, size_t da, size_t n, uint32_t seed) {
    memcpy(srcbuf, pattern + seed % (MAXN + 2 * PAD), sizeof srcbuf);
    srcbuf[sa + n] = 0;
    memcpy(dstbuf, dpattern, sizeof dstbuf);
    dstbuf[da + n] = 0;
}

typedef void (*testfn)(unsigned char *s, unsigned char *d, size_t n);

static int64_t off(const void *p, const void *base) {
    return p ? (const unsigned char *) p - (const unsigned char *) base : -1;
}

static void t_memcpy(unsigned char *s, unsigned char *d, size_t n) { mix((uint32_t) off(memcpy(d, s, n), d)); mix_buf(d, n + 8); }
static void t_memmove_fwd(unsigned char *s, unsigned char *d, size_t n) {
    (void) d;
    size_t shift = n % 37 + 1;
    mix((uint32_t) off(memmove(s + shift, s, n), s));
    mix_buf(s, n + shift + 8);
}
static void t_memmove_back(unsigned char *s, unsigned char *d, size_t n) {
    (void) d;
    size_t shift = n % 29 + 1;
    memmove(s, s + shift, n);
    mix_buf(s, n + shift + 8);
}
static void t_memset(unsigned char *s, unsigned char *d, size_t n) { mix((uint32_t) off(memset(d, s[0], n), d)); mix_buf(d, n + 8); }
static void t_memcmp(unsigned char *s, unsigned char *d, size_t n) {
    memcpy(d, s, n);
    int r = memcmp(s, d, n);
    mix(r == 0);
    if (n > 0) {
        d[n - 1 - n / 3] ^= 0x20;
        r = memcmp(s, d, n);
        mix((uint32_t) (r > 0) - (r < 0));
    }
}
static void t_memchr(unsigned char *s, unsigned char *d, size_t n) {
    (void) d;
    mix((uint32_t) off(memchr(s, 'q', n), s));
    mix((uint32_t) off(memchr(s, 0, n + 1), s));
    mix((uint32_t) off(memrchr(s, 'e', n), s));
}
static void t_strlen(unsigned char *s, unsigned char *d, size_t n) {
    (void) d;
    mix((uint32_t) strlen((char *) s));
    mix((uint32_t) strnlen((char *) s, n / 2));
    mix((uint32_t) strnlen((char *) s, n + 5));
}
static void t_strchr(unsigned char *s, unsigned char *d, size_t n) {
    (void) d;
    (void) n;
    mix((uint32_t) off(strchr((char *) s, 'z'), s));
    mix((uint32_t) off(strchr((char *) s, 0), s));
    mix((uint32_t) off(strrchr((char *) s, 'a'), s));
    mix((uint32_t) off(strchrnul((char *) s, 'y'), s));
}
static void t_strcmp(unsigned char *s, unsigned char *d, size_t n) {
    memcpy(d, s, n + 1);
    mix(strcmp((char *) s, (char *) d) == 0);
    mix(strncmp((char *) s, (char *) d, n + 3) == 0);
    if (n > 0) {
        d[n / 2] = (unsigned char) (d[n / 2] + 1);
        int r = strcmp((char *) s, (char *) d);
        mix((uint32_t) ((r > 0) - (r < 0)));
        r = strncmp((char *) s, (char *) d, n / 2);
        mix((uint32_t) ((r > 0) - (r < 0)));
        d[n / 2] = (unsigned char) (d[n / 2] - 1 - 0x20);
        r = strcasecmp((char *) s, (char *) d);
        mix((uint32_t) ((r > 0) - (r < 0)));
        r = strncasecmp((char *) s, (char *) d, n);
        mix((uint32_t) ((r > 0) - (r < 0)));
    }
}
static void t_strcpy(unsigned char *s, unsigned char *d, size_t n) {
    mix((uint32_t) off(strcpy((char *) d, (char *) s), d));
    mix_buf(d, n + 8);
    mix((uint32_t) off(stpcpy((char *) d + 1, (char *) s), d));
    mix_buf(d, n + 9);
    mix((uint32_t) off(strncpy((char *) d, (char *) s + n / 4, n / 2 + 3), d));
    mix_buf(d, n + 9);
}
static void t_strcat(unsigned char *s, unsigned char *d, size_t n) {
    d[n / 3] = 0;
    mix((uint32_t) off(strcat((char *) d, (char *) s + n / 2), d));
    mix_buf(d, n + 8);
    d[n / 5] = 0;
    strncat((char *) d, (char *) s, n / 3);
    mix_buf(d, n + 8);
}
static void t_strstr(unsigned char *s, unsigned char *d, size_t n) {
    (void) d;
    char needle[8];
    size_t nl = n < 4 ? n : 3;
    memcpy(needle, s + n - nl, nl);
    needle[nl] = 0;
    mix((uint32_t) off(strstr((char *) s, needle), s));
    mix((uint32_t) off(strstr((char *) s, "zzq"), s));
    mix((uint32_t) off(strcasestr((char *) s, "AB"), s));
    mix((uint32_t) off(memmem(s, n, needle, nl), s));
}
static void t_strspn(unsigned char *s, unsigned char *d, size_t n) {
    (void) d;
    (void) n;
    mix((uint32_t) strspn((char *) s, "abcdefghijklmnopqrst"));
    mix((uint32_t) strcspn((char *) s, "xyz"));
    mix((uint32_t) strcspn((char *) s, "w"));
    mix((uint32_t) off(strpbrk((char *) s, "qj"), s));
}
static void t_strtok(unsigned char *s, unsigned char *d, size_t n) {
    memcpy(d, s, n + 1);
    char *save = NULL;
    for (char *t = strtok_r((char *) d, "aeiou", &save); t; t = strtok_r(NULL, "aeiou", &save)) {
        mix((uint32_t) off(t, d));
        mix((uint32_t) strlen(t));
    }
}

static const struct {
    const char *name;
    testfn f;
} tests[] = {
    {"memcpy", t_memcpy}, {"memmove-fwd", t_memmove_fwd}, {"memmove-back", t_memmove_back}, {"memset", t_memset},
    {"memcmp", t_memcmp}, {"memchr/memrchr", t_memchr}, {"strlen/strnlen", t_strlen},
    {"strchr/strrchr/strchrnul", t_strchr}, {"strcmp/strncmp/strcasecmp", t_strcmp}, {"strcpy/stpcpy/strncpy", t_strcpy},
    {"strcat/strncat", t_strcat}, {"strstr/strcasestr/memmem", t_strstr}, {"strspn/strcspn/strpbrk", t_strspn},
    {"strtok_r", t_strtok},
};

static void run_one(int t, size_t sa, size_t da, size_t n) {
    setup(sa, da, n, (uint32_t) (n * 131 + sa * 7 + da));
    tests[t].f(srcbuf + sa, dstbuf + da, n);
}

static void strings(void) {
    for (int t = 0; t < (int) (sizeof tests / sizeof tests[0]); t++) {
        h = 2166136261u;
        unsigned calls = 0;
        for (size_t n = 0; n <= MAXN; n++) {
            if (full) {
                for (size_t sa = 0; sa < 16; sa++) {
                    for (size_t da = 0; da < 16; da++, calls++) {
                        run_one(t, sa, da, n);
                    }
                }
            } else if (n <= 80) {
                for (size_t sa = 0; sa < 16; sa++, calls++) {
                    run_one(t, sa, (sa * 5 + n) % 16, n);
                }
            } else { /* one alignment pair per size, rotating through all 256 */
                run_one(t, n % 16, (n / 16 + n * 7) % 16, n);
                calls++;
            }
        }
        printf("%-28s calls=%u hash=%08x\n", tests[t].name, calls, h);
    }
}

/* The bytes of an n-byte block the heap test writes and checks: the first and last 256 and one per
 * 4093 in between (every byte of a large block would cost more than the allocator itself). */
static size_t next_probe(size_t k, size_t n) {
    if (k + 1 < 256 || k + 1 >= n - (n < 512 ? n : 256)) {
        return k + 1;
    }
    size_t j = k + 4093;
    return j < n - 256 ? j : n - 256;
}

static void heap(void) {
    /* many sizes, including ones above the mmap threshold (128 KiB by default, then adaptive) */
    enum { N = 200 };
    static unsigned char *p[N];
    static size_t sz[N];
    uint32_t x = 7, sum = 0;
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < N; i++) {
            x = x * 1103515245u + 12345u;
            size_t n = (x >> 8) % (i % 10 == 9 ? 600000 : i % 3 == 0 ? 5000 : 300);
            if (round == 0) {
                p[i] = (i & 1) ? malloc(n) : calloc(n, 1);
                if (!(i & 1)) {
                    for (size_t k = 0; k < n; k = next_probe(k, n)) {
                        sum += p[i][k];
                    }
                }
            } else {
                unsigned char *q = realloc(p[i], n);
                if (n && !q) {
                    printf("realloc failed\n");
                    return;
                }
                size_t keep = sz[i] < n ? sz[i] : n;
                for (size_t k = 0; k < keep; k = next_probe(k, sz[i])) { /* the bytes written before */
                    if (q[k] != (unsigned char) (i + k)) {
                        printf("realloc lost data at %d/%zu\n", i, k);
                        return;
                    }
                }
                p[i] = q;
            }
            sz[i] = n;
            for (size_t k = 0; k < n; k = next_probe(k, n)) {
                p[i][k] = (unsigned char) (i + k);
            }
            if (n && ((uintptr_t) p[i] & (2 * sizeof(size_t) - 1)) != 0) {
                printf("misaligned block %d\n", i);
            }
        }
        for (int i = round; i < N; i += 4) {
            free(p[i]);
            p[i] = NULL;
            sz[i] = 0;
        }
    }
    for (int i = 0; i < N; i++) {
        for (size_t k = 0; k < sz[i]; k = next_probe(k, sz[i])) {
            sum += p[i][k];
        }
        free(p[i]);
    }
    unsigned char *big = malloc(64 << 20);
    memset(big, 1, 64 << 20);
    sum += big[(64 << 20) - 1] + big[12345678];
    free(big);
    void *al = aligned_alloc(4096, 10000);
    printf("heap sum=%u aligned=%d\n", sum, ((uintptr_t) al & 4095) == 0);
    free(al);
}

struct rec {
    int32_t key;
    uint32_t seq;
};

static int cmp_rec(const void *a, const void *b) {
    const struct rec *x = a, *y = b;
    return (x->key > y->key) - (x->key < y->key);
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
    return (x > y) - (x < y);
}

static void sorting(void) {
    enum { N = 5000 };
    static struct rec r[N];
    static uint64_t u[N];
    uint32_t x = 99;
    for (int i = 0; i < N; i++) {
        x = x * 1664525u + 1013904223u;
        r[i].key = (int32_t) (x >> 20) - 2048;
        r[i].seq = (uint32_t) i;
        u[i] = ((uint64_t) x << 32) | (x ^ 0xdeadbeefu);
    }
    qsort(r, N, sizeof r[0], cmp_rec);
    qsort(u, N, sizeof u[0], cmp_u64);
    uint32_t hk = 0;
    int sorted = 1;
    for (int i = 0; i < N; i++) {
        hk = hk * 31 + (uint32_t) r[i].key;
        if (i && (r[i - 1].key > r[i].key || u[i - 1] > u[i])) {
            sorted = 0;
        }
    }
    int found = 0, missing = 0;
    for (int i = 0; i < N; i += 7) {
        uint64_t k = u[i];
        found += bsearch(&k, u, N, sizeof u[0], cmp_u64) != NULL;
        k ^= 1;
        missing += bsearch(&k, u, N, sizeof u[0], cmp_u64) == NULL;
    }
    printf("qsort sorted=%d keyhash=%08x min=%d max=%d bsearch found=%d missing=%d\n", sorted, hk, r[0].key,
           r[N - 1].key, found, missing);
}

static jmp_buf jb;
static sigjmp_buf sjb;
static volatile int trail;

static void unwind(int n) {
    char pad[64];
    memset(pad, n, sizeof pad);
    trail = trail * 3 + pad[n % 64];
    if (n == 0) {
        longjmp(jb, 17);
    }
    if (n > 0) {
        unwind(n - 1);
    }
}

static void on_usr1(int sig) {
    siglongjmp(sjb, sig + 100);
}

static void jumps(void) {
    volatile int count = 0;
    int r = setjmp(jb);
    if (r == 0) {
        unwind(100);
    }
    count++;
    if (count < 5) {
        unwind(count);
    }
    printf("longjmp r=%d count=%d trail=%d\n", r, count, trail);
    r = setjmp(jb);
    printf("setjmp direct=%d\n", r);
    if (r == 0) {
        longjmp(jb, 0); /* longjmp(…, 0) makes setjmp return 1 */
    }
    signal(SIGUSR1, on_usr1);
    sigset_t set, old;
    for (volatile int save = 0; save < 2; save++) {
        r = sigsetjmp(sjb, save);
        if (r == 0) {
            raise(SIGUSR1);
        }
        sigprocmask(SIG_BLOCK, NULL, &old);
        printf("sigsetjmp(save=%d) r=%d usr1-blocked-after=%d\n", save, r, sigismember(&old, SIGUSR1));
        sigemptyset(&set);
        sigaddset(&set, SIGUSR1);
        sigprocmask(SIG_UNBLOCK, &set, NULL);
    }
}

int main(int argc, char **argv) {
    full = argc > 1 && strcmp(argv[1], "full") == 0;
    make_patterns();
    strings();
    heap();
    sorting();
    jumps();
    return 0;
}
