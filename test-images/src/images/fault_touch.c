/*
 * fault_touch [MiB]: maps MiB (default 8) of anonymous memory and
 *   1. reads every page of the first half (each must read as zero: the shared zero page),
 *   2. writes a pattern into every page (a write after a zero-page read replaces the mapping),
 *   3. verifies every page and prints a checksum of the pattern,
 *   4. madvise(MADV_DONTNEED)s the second half: those pages must read as zero again, the first
 *      half must be intact,
 *   5. munmaps the whole range.
 * Exit status 0 when everything verified, 1 otherwise.
 */
#include "mmrt.h"

static uint64_t pattern(uint64_t page)
{
    uint64_t x = page * 0x9e3779b97f4a7c15ULL + 0x0123456789abcdefULL;
    x ^= x >> 29;
    return x * 0xbf58476d1ce4e5b9ULL;
}

/* Word index inside a page where page i keeps its pattern (moves around the page). */
static size_t slot(uint64_t page)
{
    return (size_t)((page * 67) % 511) + 1;
}

int main(int argc, char **argv)
{
    uint64_t mib = argc > 1 ? mm_atou(argv[1]) : 8;
    if (mib == 0 || mib > 4096) {
        mm_printf("usage: fault_touch [MiB 1..4096]\n");
        return 2;
    }
    size_t len = (size_t)mib << 20;
    size_t pages = len / MM_PAGE_SIZE;
    int bad = 0;
    mm_printf("fault_touch: %u MiB, %u pages\n", (unsigned)mib, (unsigned)pages);

    uint64_t *base = mm_map_anon(len, PROT_READ | PROT_WRITE);
    if (base == MAP_FAILED) {
        mm_printf("mmap failed\n");
        return 1;
    }
    if (((uintptr_t)base & (MM_PAGE_SIZE - 1)) != 0) {
        mm_printf("mmap result not page aligned\n");
        return 1;
    }

    /* 1: zero-page reads */
    uint64_t acc = 0;
    for (size_t i = 0; i < pages / 2; i++) {
        volatile uint64_t *pg = base + i * 512;
        acc |= pg[0] | pg[slot(i)] | pg[511];
    }
    mm_printf("zero-read pass: %s\n", acc == 0 ? "ok" : "BAD");
    bad |= acc != 0;

    /* 2: write the pattern */
    for (size_t i = 0; i < pages; i++) {
        uint64_t *pg = base + i * 512;
        pg[0] = i;
        pg[slot(i)] = pattern(i);
    }

    /* 3: verify, checksum */
    uint64_t sum = 0, mismatches = 0;
    for (size_t i = 0; i < pages; i++) {
        volatile uint64_t *pg = base + i * 512;
        uint64_t v = pg[slot(i)];
        if (pg[0] != i || v != pattern(i) || (slot(i) != 511 && pg[511] != 0)) {
            mismatches++;
        }
        sum = (sum ^ v) * 0x100000001b3ULL + i;
    }
    mm_printf("write+verify: %s, checksum %llx\n", mismatches == 0 ? "ok" : "BAD", (unsigned long long)sum);
    bad |= mismatches != 0;

    /* 4: drop the second half */
    size_t half = pages / 2;
    long r = sys_madvise(base + half * 512, (pages - half) * MM_PAGE_SIZE, MADV_DONTNEED);
    mismatches = 0;
    for (size_t i = 0; i < pages; i++) {
        volatile uint64_t *pg = base + i * 512;
        if (i < half) {
            mismatches += pg[0] != i || pg[slot(i)] != pattern(i);
        } else {
            mismatches += pg[0] != 0 || pg[slot(i)] != 0;
        }
    }
    mm_printf("madvise(DONTNEED) second half = %ld: %s\n", r, mismatches == 0 ? "ok" : "BAD");
    bad |= r != 0 || mismatches != 0;

    /* 5: unmap */
    r = sys_munmap(base, len);
    mm_printf("munmap = %ld\n", r);
    bad |= r != 0;
    mm_printf("%s\n", bad ? "FAILED" : "PASSED");
    return bad;
}
