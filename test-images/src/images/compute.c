/*
 * compute [scale]: a deterministic mix of the integer ISA gcc -O2 emits, plus hand-picked
 * instructions in inline asm that compilers rarely choose. Each section prints one line with a
 * hex digest; the last line digests everything. scale (default 4, 1..64) multiplies the work.
 *
 * Rules that keep this image usable as the instruction-level oracle (InterpreterOracleTest):
 *   - no system calls other than write and exit_group (no clock, pid, mmap, brk): the register
 *     trace of a native run and of an emulated run must be identical;
 *   - no CPUID, RDTSC, PUSHF: they expose the host or the tracer (ptrace sets TF while stepping);
 *   - nothing copies an architecturally undefined flag into a register (no SETcc/CMOVcc/PUSHF
 *     after MUL, DIV, BSF, shifts by >1, logic-op AF...), and BSF/BSR never see a zero source;
 *   - REP string instructions stay short: the native tracer stops after every iteration.
 * Most sections use fixed-width types; the inline-asm section works on `long`, so an i386 build
 * prints a different digest there (expected outputs are recorded per architecture).
 */
#include "mmrt.h"

#define MAX_SCALE 64

static uint64_t digest_all;

static void report(const char *name, uint64_t v)
{
    digest_all = (digest_all ^ v) * 0x100000001b3ULL;
    digest_all ^= digest_all >> 31;
    mm_printf("%-10s %016llx\n", name, (unsigned long long)v);
}

/* ------------------------------------------------------------------------------------------ */
/* PRNG                                                                                        */

static uint64_t rng = 0x243f6a8885a308d3ULL;

static uint64_t next64(void)
{
    uint64_t x = rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    rng = x;
    return x;
}

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

/* ------------------------------------------------------------------------------------------ */
/* 1. sorting                                                                                  */

#define SORT_N (256 * MAX_SCALE)
static uint64_t keys[SORT_N];
static int32_t ikeys[SORT_N];
static const char *words[64];
static char wordbuf[64][16];

static void quicksort(uint64_t *a, long lo, long hi)
{
    while (lo < hi) {
        uint64_t pivot = a[lo + (hi - lo) / 2];
        long i = lo - 1, j = hi + 1;
        for (;;) {
            do {
                i++;
            } while (a[i] < pivot);
            do {
                j--;
            } while (a[j] > pivot);
            if (i >= j) {
                break;
            }
            uint64_t t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
        /* recurse into the smaller half, loop on the larger */
        if (j - lo < hi - j) {
            quicksort(a, lo, j);
            lo = j + 1;
        } else {
            quicksort(a, j + 1, hi);
            hi = j;
        }
    }
}

static void insertion_sort_i32(int32_t *a, int n)
{
    for (int i = 1; i < n; i++) {
        int32_t v = a[i];
        int j = i - 1;
        while (j >= 0 && a[j] > v) {
            a[j + 1] = a[j];
            j--;
        }
        a[j + 1] = v;
    }
}

static void shell_sort_strings(const char **a, int n)
{
    static const int gaps[] = { 23, 10, 4, 1 };
    for (unsigned g = 0; g < sizeof gaps / sizeof gaps[0]; g++) {
        int gap = gaps[g];
        for (int i = gap; i < n; i++) {
            const char *v = a[i];
            int j = i;
            while (j >= gap && strcmp(a[j - gap], v) > 0) {
                a[j] = a[j - gap];
                j -= gap;
            }
            a[j] = v;
        }
    }
}

static uint64_t section_sort(int scale)
{
    long n = 256L * scale;
    for (long i = 0; i < n; i++) {
        keys[i] = next64() >> (i & 7); /* many duplicates of magnitude ranges */
    }
    quicksort(keys, 0, n - 1);
    uint64_t h = 0;
    long unsorted = 0;
    for (long i = 0; i < n; i++) {
        unsorted += i > 0 && keys[i - 1] > keys[i];
        h = h * 31 + keys[i];
    }

    int m = 200 + 40 * scale;
    for (int i = 0; i < m; i++) {
        ikeys[i] = (int32_t)(next64() >> 40) - (1 << 23); /* negatives and positives */
    }
    insertion_sort_i32(ikeys, m);
    for (int i = 0; i < m; i++) {
        unsorted += i > 0 && ikeys[i - 1] > ikeys[i];
        h = (h ^ (uint32_t)ikeys[i]) * 0x100000001b3ULL;
    }

    for (int i = 0; i < 64; i++) {
        uint64_t r = next64();
        int len = 3 + (int)(r % 11);
        for (int k = 0; k < len; k++) {
            wordbuf[i][k] = (char)('a' + (r >> (k * 4 + 4)) % 26);
        }
        wordbuf[i][len] = 0;
        words[i] = wordbuf[i];
    }
    shell_sort_strings(words, 64);
    for (int i = 0; i < 64; i++) {
        unsorted += i > 0 && strcmp(words[i - 1], words[i]) > 0;
        for (const char *p = words[i]; *p; p++) {
            h = h * 131 + (unsigned char)*p;
        }
    }
    return h + (uint64_t)unsorted * 0x8000000000000000ULL;
}

/* ------------------------------------------------------------------------------------------ */
/* 2. hashing                                                                                  */

static uint32_t crc_table[256];
static uint8_t hbuf[4096];

static uint32_t crc32_bytes(const uint8_t *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c = crc_table[(c ^ p[i]) & 0xff] ^ (c >> 8);
    }
    return ~c;
}

static uint64_t fnv1a(const uint8_t *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

static uint64_t rotl64(uint64_t x, unsigned r)
{
    return (x << (r & 63)) | (x >> ((64 - r) & 63));
}

static uint32_t rotr32(uint32_t x, unsigned r)
{
    return (x >> (r & 31)) | (x << ((32 - r) & 31));
}

static uint64_t section_hash(int scale)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) {
            c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
        }
        crc_table[i] = c;
    }
    size_t n = 1024;
    for (size_t i = 0; i < n; i++) {
        hbuf[i] = (uint8_t)(next64() >> 56);
    }
    uint64_t h = 0;
    for (int round = 0; round < scale; round++) {
        hbuf[round] ^= 0x5a;
        uint32_t c = crc32_bytes(hbuf, n);
        uint64_t f = fnv1a(hbuf, n);
        h = rotl64(h ^ f, (unsigned)(c & 63)) + c;
        /* a murmur-like mixing loop over 64-bit words, with variable rotates */
        const uint64_t *w = (const uint64_t *)hbuf;
        uint32_t s32 = c;
        for (size_t i = 0; i < n / 8; i++) {
            uint64_t k = w[i] * 0x87c37b91114253d5ULL;
            k = rotl64(k, 31 + (unsigned)(i & 7));
            h ^= k * 0x4cf5ad432745937fULL;
            h = rotl64(h, 27) * 5 + 0x52dce729;
            s32 = rotr32(s32 ^ (uint32_t)k, (unsigned)(k >> 59));
        }
        h ^= s32;
    }
    /* "check" value of CRC-32 */
    uint32_t check = crc32_bytes((const uint8_t *)"123456789", 9);
    return mix64(h) ^ ((uint64_t)check << 32) ^ (check == 0xcbf43926u ? 0 : 0xdead);
}

/* ------------------------------------------------------------------------------------------ */
/* 3. primes                                                                                   */

#define SIEVE_MAX (8192 * MAX_SCALE)
static uint8_t composite[SIEVE_MAX];

static uint64_t mulmod(uint64_t a, uint64_t b, uint64_t m)
{
#if defined(__SIZEOF_INT128__)
    return (uint64_t)((unsigned __int128)a * b % m);
#else
    uint64_t r = 0;
    a %= m;
    while (b) {
        if (b & 1) {
            r = (r >= m - a) ? r - (m - a) : r + a;
        }
        a = (a >= m - a) ? a - (m - a) : a + a;
        b >>= 1;
    }
    return r;
#endif
}

static uint64_t powmod(uint64_t b, uint64_t e, uint64_t m)
{
    uint64_t r = 1 % m;
    b %= m;
    while (e) {
        if (e & 1) {
            r = mulmod(r, b, m);
        }
        b = mulmod(b, b, m);
        e >>= 1;
    }
    return r;
}

static int miller_rabin(uint64_t n)
{
    static const uint64_t bases[] = { 2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37 };
    if (n < 2) {
        return 0;
    }
    for (unsigned i = 0; i < 12; i++) {
        if (n % bases[i] == 0) {
            return n == bases[i];
        }
    }
    uint64_t d = n - 1;
    int s = __builtin_ctzll(d);
    d >>= s;
    for (unsigned i = 0; i < 12; i++) {
        uint64_t x = powmod(bases[i], d, n);
        if (x == 1 || x == n - 1) {
            continue;
        }
        int composite_found = 1;
        for (int r = 1; r < s; r++) {
            x = mulmod(x, x, n);
            if (x == n - 1) {
                composite_found = 0;
                break;
            }
        }
        if (composite_found) {
            return 0;
        }
    }
    return 1;
}

static uint64_t section_primes(int scale)
{
    uint32_t limit = 8192u * (uint32_t)scale;
    memset(composite, 0, limit);
    uint32_t count = 0;
    uint64_t sum = 0;
    for (uint32_t i = 2; i < limit; i++) {
        if (composite[i]) {
            continue;
        }
        count++;
        sum += (uint64_t)i * i;
        for (uint32_t j = i * i; j < limit && i < 65536; j += i) {
            composite[j] = 1;
        }
    }
    /* trial division of 32-bit numbers (DIV r/m32) */
    uint32_t tcount = 0;
    for (uint32_t n = 1000000007u - 200; n < 1000000007u + 20u * (uint32_t)scale; n++) {
        int p = n > 1;
        for (uint32_t d = 2; d * d <= n && d < 200; d++) {
            if (n % d == 0) {
                p = 0;
                break;
            }
        }
        tcount += (uint32_t)p;
    }
    /* Miller-Rabin on 64-bit numbers (128-bit multiply and divide on x86-64) */
    uint64_t mr = 0;
    uint64_t base = 0xffffffffffffffc5ULL - 64; /* the largest 64-bit prime is 2^64-59 */
    for (uint64_t n = base; n != 0 && n < base + 8 + 8 * (uint64_t)scale; n++) {
        if (miller_rabin(n)) {
            mr = mr * 0x9e3779b97f4a7c15ULL + n;
        }
    }
    return ((uint64_t)count << 40) ^ sum ^ ((uint64_t)tcount << 32) ^ mr;
}

/* ------------------------------------------------------------------------------------------ */
/* 4. division and modulo                                                                      */

static const int64_t sdiv_vals[] = {
    0, 1, -1, 7, -7, 100, -100, 0x7fffffffffffffffLL, -0x7fffffffffffffffLL, 123456789012345LL,
    -98765432109876LL, 3, -3, 0x100000000LL, -0x100000000LL, 65535, -65536, 1000000007, -2,
};

static uint64_t section_division(int scale)
{
    const int nv = (int)(sizeof sdiv_vals / sizeof sdiv_vals[0]);
    uint64_t h = 0;
    for (int r = 0; r < scale; r++) {
        for (int i = 0; i < nv; i++) {
            for (int j = 0; j < nv; j++) {
                int64_t a = sdiv_vals[i] + r, b = sdiv_vals[j];
                if (b == 0 || (a == INT64_MIN && b == -1)) {
                    continue;
                }
                int64_t q = a / b, m = a % b;
                uint64_t uq = (uint64_t)a / (uint64_t)b, um = (uint64_t)a % (uint64_t)b;
                int32_t a32 = (int32_t)a, b32 = (int32_t)b;
                int32_t q32 = 0, m32 = 0;
                if (b32 != 0 && !(a32 == INT32_MIN && b32 == -1)) {
                    q32 = a32 / b32;
                    m32 = a32 % b32;
                }
                h = (h ^ (uint64_t)q) * 0x100000001b3ULL ^ (uint64_t)m;
                h = (h + uq) * 31 + um;
                h = h * 17 + (uint32_t)q32 + ((uint64_t)(uint32_t)m32 << 32);
            }
        }
    }
    /* division by constants: gcc uses multiply-high reciprocals (one-operand MUL/IMUL) */
    uint64_t x = 0x0123456789abcdefULL;
    for (int i = 0; i < 200 * scale; i++) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        int64_t sx = (int64_t)x;
        h += x / 10 + x % 10 + x / 1000000007ULL + (uint64_t)(sx / 3) + (uint64_t)(sx % 7) + (uint64_t)(sx / -9);
        h ^= (uint32_t)x / 641u + (uint64_t)((int32_t)x / 13) + (uint16_t)x / 7u;
    }
    /* gcd and modular inverse */
    uint64_t g = 0;
    for (uint64_t a = 1000; a < 1000 + 50 * (uint64_t)scale; a++) {
        uint64_t u = a * 7919, v = 1234567891011ULL;
        while (v) {
            uint64_t t = u % v;
            u = v;
            v = t;
        }
        g = g * 3 + u;
    }
    return h ^ g;
}

/* ------------------------------------------------------------------------------------------ */
/* 5. strings                                                                                  */

static char sbuf[1024];
static char sbuf2[1024];

static char *utoa10(uint64_t v, char *out)
{
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (int i = 0; i < n; i++) {
        out[i] = tmp[n - 1 - i];
    }
    out[n] = 0;
    return out + n;
}

static int64_t atoi_signed(const char *s)
{
    int neg = 0;
    while (*s == ' ') {
        s++;
    }
    if (*s == '-' || *s == '+') {
        neg = *s++ == '-';
    }
    uint64_t v = 0;
    while (*s >= '0' && *s <= '9') {
        v = v * 10 + (uint64_t)(*s++ - '0');
    }
    return neg ? -(int64_t)v : (int64_t)v;
}

static void reverse(char *s, size_t n)
{
    for (size_t i = 0, j = n ? n - 1 : 0; i < j; i++, j--) {
        char t = s[i];
        s[i] = s[j];
        s[j] = t;
    }
}

static const char *find(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay; hay++) {
        if (strncmp(hay, needle, n) == 0) {
            return hay;
        }
    }
    return 0;
}

static int count_words(const char *s)
{
    int n = 0, in = 0;
    for (; *s; s++) {
        int sp = *s == ' ' || *s == ',' || *s == '.';
        n += !sp && !in;
        in = !sp;
    }
    return n;
}

static uint64_t section_strings(int scale)
{
    uint64_t h = 0;
    for (int r = 0; r < 4 * scale; r++) {
        char *p = sbuf;
        for (int i = 0; i < 40; i++) {
            uint64_t v = next64() >> (i % 50);
            p = utoa10(v, p);
            *p++ = (i % 3) ? ' ' : ',';
        }
        *p = 0;
        size_t len = strlen(sbuf);
        int words_n = count_words(sbuf);
        memcpy(sbuf2, sbuf, len + 1);
        reverse(sbuf2, len);
        int same = memcmp(sbuf, sbuf2, len) == 0;
        /* upper-case hex of a slice, via a lookup table */
        for (size_t i = 0; i < len; i++) {
            char c = sbuf2[i];
            sbuf2[i] = (c >= '0' && c <= '9') ? "ABCDEFGHIJ"[c - '0'] : c;
        }
        const char *f = find(sbuf2, "AB");
        memmove(sbuf + 5, sbuf, 300);  /* overlapping, forwards */
        memmove(sbuf, sbuf + 7, 300);  /* overlapping, backwards */
        int64_t parsed = atoi_signed(" -12345678901") + atoi_signed(sbuf + 3);
        h = h * 1000003 + len;
        h ^= (uint64_t)words_n << 20 | (uint64_t)same << 60;
        h += f ? (uint64_t)(f - sbuf2) : 0xffff;
        h = mix64(h + (uint64_t)parsed);
        h += fnv1a((const uint8_t *)sbuf, 300);
    }
    return h;
}

/* ------------------------------------------------------------------------------------------ */
/* 6. switch tables: a small bytecode VM                                                       */

enum { OP_PUSH, OP_LOAD, OP_STORE, OP_ADD, OP_SUB, OP_MUL, OP_DIVU, OP_MODU, OP_AND, OP_OR, OP_XOR,
       OP_SHL, OP_SHR, OP_JMP, OP_JZ, OP_JLT, OP_DUP, OP_DROP, OP_SWAP, OP_INC, OP_HALT };

static uint64_t vm_run(const int32_t *code, uint64_t *vars)
{
    uint64_t st[32];
    int sp = 0;
    int pc = 0;
    uint64_t steps = 0;
    for (;;) {
        steps++;
        int32_t op = code[pc++];
        switch (op) {
        case OP_PUSH: st[sp++] = (uint64_t)(int64_t)code[pc++]; break;
        case OP_LOAD: st[sp++] = vars[code[pc++]]; break;
        case OP_STORE: vars[code[pc++]] = st[--sp]; break;
        case OP_ADD: sp--; st[sp - 1] += st[sp]; break;
        case OP_SUB: sp--; st[sp - 1] -= st[sp]; break;
        case OP_MUL: sp--; st[sp - 1] *= st[sp]; break;
        case OP_DIVU: sp--; st[sp - 1] = st[sp] ? st[sp - 1] / st[sp] : 0; break;
        case OP_MODU: sp--; st[sp - 1] = st[sp] ? st[sp - 1] % st[sp] : 0; break;
        case OP_AND: sp--; st[sp - 1] &= st[sp]; break;
        case OP_OR: sp--; st[sp - 1] |= st[sp]; break;
        case OP_XOR: sp--; st[sp - 1] ^= st[sp]; break;
        case OP_SHL: sp--; st[sp - 1] <<= st[sp] & 63; break;
        case OP_SHR: sp--; st[sp - 1] >>= st[sp] & 63; break;
        case OP_JMP: pc = code[pc]; break;
        case OP_JZ: pc = st[--sp] == 0 ? code[pc] : pc + 1; break;
        case OP_JLT: sp -= 2; pc = st[sp] < st[sp + 1] ? code[pc] : pc + 1; break;
        case OP_DUP: st[sp] = st[sp - 1]; sp++; break;
        case OP_DROP: sp--; break;
        case OP_SWAP: { uint64_t t = st[sp - 1]; st[sp - 1] = st[sp - 2]; st[sp - 2] = t; } break;
        case OP_INC: vars[code[pc++]]++; break;
        case OP_HALT: return steps;
        default: return ~0ULL;
        }
    }
}

/* a sparse switch: compiled to a compare tree */
static int sparse_class(uint32_t v)
{
    switch (v) {
    case 3: return 1;
    case 17: return 2;
    case 100: return 3;
    case 1023: return 4;
    case 4096: return 5;
    case 65537: return 6;
    case 1000000: return 7;
    case 0x7fffffff: return 8;
    default: return 0;
    }
}

static uint64_t section_switch(int scale)
{
    /* sum over i < n of collatz_steps(i + 1), then a hash of the sum */
    enum { V_I, V_N, V_X, V_STEPS, V_SUM };
    static const int32_t prog[] = {
        /* 0 */ OP_PUSH, 0, OP_STORE, V_I,
        /* 4 loop */ OP_LOAD, V_I, OP_LOAD, V_N, OP_JLT, 12, OP_JMP, 64,
        /* 12 body */ OP_LOAD, V_I, OP_PUSH, 1, OP_ADD, OP_STORE, V_X,
        /* 19 inner */ OP_LOAD, V_X, OP_PUSH, 1, OP_SUB, OP_JZ, 58,
        /* 26 */ OP_INC, V_STEPS, OP_LOAD, V_X, OP_PUSH, 1, OP_AND, OP_JZ, 47,
        /* 35 odd */ OP_LOAD, V_X, OP_PUSH, 3, OP_MUL, OP_PUSH, 1, OP_ADD, OP_STORE, V_X, OP_JMP, 19,
        /* 47 even */ OP_LOAD, V_X, OP_PUSH, 1, OP_SHR, OP_STORE, V_X, OP_JMP, 19,
        /* 56 */ OP_HALT, OP_HALT,
        /* 58 next */ OP_INC, V_I, OP_JMP, 4,
        /* 62 */ OP_HALT, OP_HALT,
        /* 64 end */ OP_LOAD, V_STEPS, OP_DUP, OP_PUSH, 7, OP_MODU, OP_XOR, OP_STORE, V_SUM,
        /* 73 */ OP_PUSH, 5, OP_PUSH, 3, OP_SWAP, OP_SHL, OP_PUSH, 2, OP_DIVU, OP_PUSH, 1, OP_OR,
        /* 85 */ OP_DUP, OP_DROP, OP_LOAD, V_SUM, OP_XOR, OP_STORE, V_SUM, OP_HALT,
    };
    uint64_t vars[8] = { 0 };
    vars[V_N] = 40 + 10 * (uint64_t)scale;
    uint64_t steps = vm_run(prog, vars);
    uint64_t h = steps * 0x9e3779b97f4a7c15ULL ^ vars[V_STEPS] ^ (vars[V_SUM] << 32);
    static const uint32_t probes[] = { 3, 4, 17, 100, 1023, 1024, 4096, 65537, 1000000, 0x7fffffff, 0 };
    for (int i = 0; i < 11; i++) {
        h = h * 11 + (uint64_t)sparse_class(probes[i]);
    }
    return h;
}

/* ------------------------------------------------------------------------------------------ */
/* 7. bit operations                                                                           */

static uint64_t bitrev64(uint64_t x)
{
    x = ((x >> 1) & 0x5555555555555555ULL) | ((x & 0x5555555555555555ULL) << 1);
    x = ((x >> 2) & 0x3333333333333333ULL) | ((x & 0x3333333333333333ULL) << 2);
    x = ((x >> 4) & 0x0f0f0f0f0f0f0f0fULL) | ((x & 0x0f0f0f0f0f0f0f0fULL) << 4);
    return __builtin_bswap64(x);
}

static uint64_t section_bits(int scale)
{
    uint64_t h = 0;
    for (int i = 0; i < 300 * scale; i++) {
        uint64_t x = next64() | 1;
        uint32_t y = (uint32_t)(x >> 17) | 0x100;
        int pc = __builtin_popcountll(x);
        int lz = __builtin_clzll((x >> (i & 31)) | 1); /* never zero: BSR of 0 is undefined */
        int tz = __builtin_ctzll((x & ~0ULL << (i & 15)) | 0x8000000000000000ULL);
        int lz32 = __builtin_clz(y);
        int par = __builtin_parityll(x);
        uint64_t b = bitrev64(x) ^ __builtin_bswap32(y);
        int64_t sar = (int64_t)x >> (i % 64);
        int32_t sar32 = (int32_t)y >> (i % 32);
        uint64_t mx = x > b ? x : b, mn = (int64_t)x < (int64_t)b ? x : b;
        uint16_t w16 = (uint16_t)(x * 3);
        int8_t s8 = (int8_t)(x >> 8);
        int16_t s16 = (int16_t)(x >> 24);
        h ^= rotl64(h, 7) + (uint64_t)pc + ((uint64_t)lz << 8) + ((uint64_t)tz << 16) + ((uint64_t)lz32 << 24)
             + ((uint64_t)par << 30);
        h += b ^ (uint64_t)sar ^ (uint64_t)(int64_t)sar32 ^ mx ^ (mn << 1);
        h = h * 3 + (uint64_t)(int64_t)s8 + (uint64_t)(int64_t)s16 + w16 + (uint64_t)(w16 >> 3);
        h ^= (x & 0xff00ff00ff00ff00ULL) >> 8 | (x & 0x00ff00ff00ff00ffULL) << 8;
    }
    return h;
}

/* ------------------------------------------------------------------------------------------ */
/* 8. explicit instructions (inline asm)                                                       */

static uint64_t section_asm(int scale)
{
    uint64_t h = 0;
    for (int r = 0; r < scale; r++) {
        unsigned long a = (unsigned long)next64(), b = (unsigned long)next64(), c;
        unsigned int cnt = (unsigned)(next64() % 7) + 1;

        /* BT/BTS/BTR/BTC with register and memory operands; CF read with SETC (defined) */
        unsigned char cf1, cf2;
        unsigned long m = a;
        __asm__("bt %2, %1\n\tsetc %0" : "=q"(cf1) : "r"(b), "r"(cnt * 5UL) : "cc");
        __asm__("bts %2, %1\n\tsetc %0" : "=q"(cf2), "+m"(m) : "r"(cnt * 3UL) : "cc");
        __asm__("btr $3, %0\n\tbtc %1, %0" : "+r"(m) : "r"((unsigned long)cnt) : "cc");
        h = h * 7 + cf1 + cf2 * 2u + m;

        /* BSF/BSR on non-zero sources */
        unsigned long f, g;
        __asm__("bsf %1, %0" : "=r"(f) : "rm"(a | 0x10000UL) : "cc");
        __asm__("bsr %1, %0" : "=r"(g) : "rm"(b | 1UL) : "cc");
        h += f * 64 + g;

        /* rotates and shifts by 1 and by CL (results only; OF after count>1 is undefined) */
        unsigned long ro = a;
        __asm__("rol $1, %0\n\tror %%cl, %0\n\trcl $1, %0\n\trcr %%cl, %0" : "+r"(ro) : "c"(cnt) : "cc");
        unsigned long sh = b;
        __asm__("shl %%cl, %0\n\tsar $1, %0\n\tshr $3, %0" : "+r"(sh) : "c"(cnt) : "cc");
        h ^= ro + sh;

        /* SHLD/SHRD */
        unsigned long d1 = a, d2 = b;
        __asm__("shld %%cl, %2, %0\n\tshrd $13, %2, %1" : "+r"(d1), "+r"(d2) : "r"(a ^ b), "c"(cnt) : "cc");
        h += d1 ^ (d2 << 1);

        /* one-operand MUL and IMUL at every width, and DIV/IDIV at 8 and 16 bits */
        unsigned long lo = a, hi;
        __asm__("mul %2" : "+a"(lo), "=d"(hi) : "r"(b) : "cc");
        h ^= lo + hi;
        long slo = (long)a, shi;
        __asm__("imul %2" : "+a"(slo), "=d"(shi) : "r"((long)b) : "cc");
        h += (unsigned long)(slo ^ shi);
        unsigned short ax = (unsigned short)((a & 0x7fff) | 0x0100); /* AH < divisor: no #DE */
        unsigned char dv = (unsigned char)(b | 0x80);
        __asm__("divb %1" : "+a"(ax) : "q"(dv) : "cc");          /* AX / r8 -> AL, AH */
        h = h * 5 + ax;
        unsigned short ax16 = (unsigned short)a, dx16 = (unsigned short)(b & 0x7f), d16 = (unsigned short)(b >> 16 | 0x8000);
        __asm__("divw %2" : "+a"(ax16), "+d"(dx16) : "r"(d16) : "cc");
        h = h * 5 + ax16 + ((unsigned long)dx16 << 16);
        signed char al8 = (signed char)a, mul8 = (signed char)b;
        short prod;
        __asm__("imulb %2" : "=a"(prod) : "0"(al8), "q"(mul8) : "cc");
        h += (unsigned short)prod;

        /* CBW/CWDE/CDQ family, sign extension into DX */
        int e = (int)(short)a;
        __asm__("cwtl" : "+a"(e));
        long q = (long)(int)b, rem;
        __asm__("cltd" : "=d"(rem) : "a"((int)q));
        h ^= (unsigned long)e + (unsigned long)(unsigned)rem;
#if defined(__x86_64__)
        long qq = (long)b, rr;
        __asm__("cqto\n\tidivq %2" : "+a"(qq), "=&d"(rr) : "r"((long)(cnt * 1000 + 1)) : "cc");
        h += (unsigned long)qq ^ (unsigned long)rr;
        long sx;
        int in32 = (int)a;
        __asm__("movslq %1, %0" : "=r"(sx) : "r"(in32));
        __asm__("cltq" : "+a"(sx));
        h += (unsigned long)sx;
#endif

        /* ADC/SBB chains, NEG/NOT, SETcc and CMOVcc on defined flags */
        unsigned long s1 = a, s2 = b, s3;
        __asm__("add %2, %0\n\tadc $0, %1\n\tsbb %2, %1\n\tneg %0\n\tnot %1\n\tsetg %b2\n\tmovzbl %b2, %k2"
                : "+r"(s1), "+r"(s2), "=q"(s3) : "2"(a ^ 0x55) : "cc");
        unsigned long cm = a;
        __asm__("cmp %2, %1\n\tcmovb %2, %0" : "+r"(cm) : "r"(a), "r"(b) : "cc");
        h = h * 13 + s1 + s2 + s3 + cm;

        /* XCHG, XADD, CMPXCHG (locked and not) */
        unsigned long mem = a, x1 = b;
        __asm__("xchg %0, %1" : "+r"(x1), "+m"(mem));
        unsigned long xa = 5;
        __asm__("lock xadd %0, %1" : "+r"(xa), "+m"(mem) : : "cc");
        unsigned long expect = mem, upd = x1 ^ 0xff;
        __asm__("lock cmpxchg %2, %1" : "+a"(expect), "+m"(mem) : "r"(upd) : "cc");
        unsigned long expect2 = 12345;
        __asm__("cmpxchg %2, %1" : "+a"(expect2), "+m"(mem) : "r"(a) : "cc");
        h ^= mem + x1 + xa + expect + expect2;
        unsigned long long at = a;
        __atomic_fetch_add(&at, b, __ATOMIC_SEQ_CST);
        unsigned long long ex = at;
        __atomic_compare_exchange_n(&at, &ex, at * 3, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
        h += (unsigned long)at;

        /* string instructions: short REP MOVS/STOS/CMPS/SCAS forwards and backwards */
        static char src[64], dst[64];
        for (int i = 0; i < 64; i++) {
            src[i] = (char)('A' + (a >> (i & 31)) % 26);
        }
        src[63] = 0;
        {
            void *di = dst, *si = src;
            unsigned long n = 24;
            __asm__ volatile("rep movsb" : "+D"(di), "+S"(si), "+c"(n) : : "memory");
            n = 3;
            __asm__ volatile("rep movsl" : "+D"(di), "+S"(si), "+c"(n) : : "memory");
            n = 5;
            unsigned long v = 0x2d2d2d2d;
            __asm__ volatile("rep stosb" : "+D"(di), "+c"(n) : "a"(v) : "memory");
            n = 2;
            __asm__ volatile("rep stosl" : "+D"(di), "+c"(n) : "a"(v) : "memory");
        }
        {
            void *di = dst + 20, *si = src + 20;
            unsigned long n = 8;
            __asm__ volatile("std\n\trep movsb\n\tcld" : "+D"(di), "+S"(si), "+c"(n) : : "memory");
        }
        {
            const void *di = dst, *si = src;
            unsigned long n = 40;
            unsigned char ne;
            __asm__ volatile("repe cmpsb\n\tsetne %0" : "=q"(ne), "+D"(di), "+S"(si), "+c"(n) : : "memory", "cc");
            h = h * 3 + n + ne;
            const void *sd = src;
            unsigned long n2 = 64;
            __asm__ volatile("repne scasb" : "+D"(sd), "+c"(n2) : "a"('Z') : "memory", "cc");
            h += n2;
            unsigned char lodsum = 0;
            const void *ls = src;
            __asm__ volatile("lodsb\n\tmov %%al, %0\n\tlodsb\n\tadd %%al, %0" : "=&q"(lodsum), "+S"(ls) : : "eax", "cc");
            h += lodsum;
        }
        h += fnv1a((const uint8_t *)dst, 40);

        /* BSWAP, MOVZX/MOVSX from high-byte registers, 16-bit arithmetic with the 66 prefix */
        unsigned int bs = (unsigned int)a;
        __asm__("bswap %0" : "+r"(bs));
        unsigned int hb;
        __asm__("movzbl %h1, %0" : "=Q"(hb) : "Q"((unsigned int)b));
        unsigned short w = (unsigned short)a;
        __asm__("addw %1, %0\n\trolw $3, %0\n\tincw %0\n\tnegw %0" : "+r"(w) : "r"((unsigned short)b) : "cc");
        h ^= bs + hb + w;

        /* LEA forms the compiler might not pick */
        __asm__("lea 0x10(%1,%2,8), %0" : "=r"(c) : "r"(a), "r"(b));
        h += c;
    }
    return h;
}

/* ------------------------------------------------------------------------------------------ */
/* 9. calls: recursion, function pointers, a VLA (LEAVE)                                       */

static uint64_t ackermann(uint64_t m, uint64_t n)
{
    while (m) {
        if (n == 0) {
            n = 1;
        } else {
            n = ackermann(m, n - 1);
        }
        m--;
    }
    return n + 1;
}

static uint64_t op_add(uint64_t a, uint64_t b) { return a + b; }
static uint64_t op_xor(uint64_t a, uint64_t b) { return a ^ b; }
static uint64_t op_mul(uint64_t a, uint64_t b) { return a * (b | 1); }
static uint64_t op_rot(uint64_t a, uint64_t b) { return rotl64(a, (unsigned)b); }
static uint64_t (*const ops[])(uint64_t, uint64_t) = { op_add, op_xor, op_mul, op_rot };

__attribute__((noinline)) static uint64_t vla_sum(int n, uint64_t seed)
{
    uint64_t v[n];
    for (int i = 0; i < n; i++) {
        v[i] = seed * (uint64_t)(i + 1);
    }
    uint64_t s = 0;
    for (int i = n - 1; i >= 0; i -= 2) {
        s += v[i];
    }
    return s;
}

static uint64_t section_calls(int scale)
{
    uint64_t h = ackermann(2, 3 + (uint64_t)scale);
    for (int i = 0; i < 100 * scale; i++) {
        uint64_t x = next64();
        h = ops[x & 3](h, x >> 58);
    }
    h += vla_sum(10 + scale, h | 1);
    return h;
}

/* ------------------------------------------------------------------------------------------ */

int main(int argc, char **argv)
{
    int scale = argc > 1 ? (int)mm_atou(argv[1]) : 4;
    if (scale < 1 || scale > MAX_SCALE) {
        mm_printf("usage: compute [scale 1..%d]\n", MAX_SCALE);
        return 2;
    }
    mm_printf("compute scale=%d\n", scale);
    report("sort", section_sort(scale));
    report("hash", section_hash(scale));
    report("primes", section_primes(scale));
    report("division", section_division(scale));
    report("strings", section_strings(scale));
    report("switch", section_switch(scale));
    report("bits", section_bits(scale));
    report("asm", section_asm(scale));
    report("calls", section_calls(scale));
    report("all", digest_all);
    return 0;
}
