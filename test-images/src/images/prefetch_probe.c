/*
 * prefetch_probe [region_pages] [train] [min_ms] [stride_pages] [sibling]: how far ahead of a constant-stride pointer chase the
 * host's data prefetcher has fetched, across 4 KiB pages. Its own program, so that mmulab's prefetcher
 * model can take its distance and page-crossing rule from a measurement that is not tlb_stride's curve
 * (tlb_stride is the check the model is compared against; see docs/cache-model.md).
 *
 * The region (default 65536 pages = 256 MiB: beyond every L2 DTLB's reach; 2048 = 8 MiB: inside a 4K-entry
 * L2 DTLB, beyond the L1 DTLB) is cut into blocks of BLOCK pages, visited in a random order (fixed seed).
 * In each block the chase loads `train` (default 8) consecutive pages at a constant distance of one page
 * plus three lines (4,288 bytes, tlb_stride's distance between consecutive pages), then one TARGET load,
 * then goes on to the next block. With `stride_pages` S (default 1) the trained loads are S pages plus
 * three lines apart (tlb_stride's distance at its stride S) and a block spans BLOCK * S pages:
 *
 *   k = 0       the target is the last trained line again (an L1D and L1 DTLB hit: the floor)
 *   k = 1..12   the target is k strides past the last trained load: fetched already when the prefetcher
 *               ran at least k strides ahead (through the translation it needed)
 *   k = 99      the target is the same place in another block, far away: never predicted (the ceiling)
 *   k = 100     a reference, not a prefetch: the target's line was loaded just before the block's chain and
 *               then EVICT other pages were read (each one line, all of them inside the L2 DTLB's reach), so
 *               the target's line is in L1D but its translation has left the L1 dTLB (96 entries on Zen 5)
 *               for the L2 DTLB; the target sits past the prefetcher's reach (BLOCK - 1). Comparing k = 1..
 *               with it and with k = 0 tells whether a prefetch also installs the L1 dTLB entry.
 *
 * With `sibling` 1 every target moves to the other half of its page (address bit 11 flipped): a line no
 * prefetch fetched (the stride prefetcher fetches the chain's lines), in a page whose translation a prefetch
 * needed. k = 0 is then a line of the last trained page (an L1 DTLB hit: the floor), k = 99 a page no load or
 * prefetch touched (a demand walk: the ceiling), and k = 1..12 cost the floor (plus an L2 DTLB hit) when the
 * prefetch that ran ahead walked and installed the page's translation, the ceiling when it did not. With the
 * region beyond the L2 DTLB's reach this separates "prefetches walk and fill the TLB" from "they do not",
 * without looking at tlb_stride.
 *
 * Only the target load is timed, between two LFENCE-fenced RDTSCs (the fences stop the core from
 * starting the target before the trained loads are done, so what it costs is what was already fetched
 * and translated for it). Each k is measured for at least `min_ms` (default 50) of laps, best of 5:
 *
 *   RESULT prefetch_probe.tsc_per_target@k=K   K = 0..12, 99, 100: TSC ticks per target, fences included
 *   RESULT prefetch_probe.tsc_per_us           the TSC's rate, to turn ticks into time
 *
 * The loads are dependent (each address is the previous load's value), as in tlb_stride. Exit status 0,
 * 1 when mmap fails, 2 on bad arguments.
 *
 * prefetch_probe chase [max_pages] [min_ms]: does a prefetch install its translation in the L1 DTLB? A
 * whole-region chase, one load per page over N = 64 ... max_pages (default 2048) pages, in address order
 * (page i to i+1, a constant stride) and in a random order (the same pages and lines, no stride), with the
 * page's line placed two ways:
 *
 *   spread   line 3i mod 64 of page i (tlb_stride's layout, 4,288 bytes apart): up to 768 pages every
 *            line stays in the 48 KiB 12-way L1D (at most 12 lines per set), so no load misses L1D
 *   set0     line 0 of every page (4,096 bytes apart): all in one L1D set, so past 12 pages every load
 *            misses L1D (its line comes from L2) unless a prefetch brought it in
 *
 * Past 96 pages every load misses Zen 5's L1 DTLB (96 entries) and hits the L2 DTLB (about 7 cycles more)
 * unless something installed its translation in the L1 DTLB ahead of it. If the stride prefetcher's
 * prefetches do, the address-order set0 chase (every line a prefetched L1D miss) costs as much at 128-2048
 * pages as at 64 pages, while the address-order spread chase (every line an L1D hit, nothing to prefetch)
 * pays the L2 DTLB hit at 128-512 pages as the random order does. Per point (TSC ticks per load, the best
 * pass of 2^18 loads over at least min_ms, default 20):
 *
 *   RESULT prefetch_probe.chase_spread_addr@pages=N   RESULT prefetch_probe.chase_spread_rnd@pages=N
 *   RESULT prefetch_probe.chase_set0_addr@pages=N     RESULT prefetch_probe.chase_set0_rnd@pages=N
 */
#include "mmrt.h"
#include "mmbench.h"

#define BLOCK 24
#define KMAX 12
#define FAR 99
#define NEAR_L2TLB 100
#define EVICT 160

static uint64_t perm[1u << 14];
static uint64_t stride = 1;
static uint64_t sibling; /* 1: each target moves to the other half of its page (address bit 11 flipped) */

static uintptr_t *slot(char *base, uint64_t block, uint64_t i)
{
    return (uintptr_t *)(base + (block * BLOCK + i) * stride * MM_PAGE_SIZE + ((i * 3) % 64) * 64);
}

/* Links every block's chain for target k; returns the first slot. */
static uintptr_t *link(char *base, uint64_t blocks, uint64_t train, int k)
{
    for (uint64_t b = 0; b < blocks; b++) {
        uint64_t blk = perm[b], next = perm[(b + 1) % blocks];
        for (uint64_t i = 0; i + 1 < train; i++) {
            *slot(base, blk, i) = (uintptr_t)slot(base, blk, i + 1);
        }
        uintptr_t *last = slot(base, blk, train - 1);
        uintptr_t *head = slot(base, next, 0);
        if (k == 0 && sibling) {
            /* a line the chain never loads, in the last trained page: its translation is in the L1 DTLB */
            uintptr_t *t = (uintptr_t *)((uintptr_t)last ^ 2048);
            *last = (uintptr_t)t;
            *t = (uintptr_t)head;
        } else if (k == 0) {
            /* the same line again: a second word in it */
            *last = (uintptr_t)(last + 1);
            last[1] = (uintptr_t)head;
        } else {
            uintptr_t *t = k == FAR          ? slot(base, (blk + blocks / 2) % blocks, BLOCK - 1)
                           : k == NEAR_L2TLB ? slot(base, blk, BLOCK - 1)
                                             : slot(base, blk, train - 1 + (uint64_t)k);
            if (sibling) {
                t = (uintptr_t *)((uintptr_t)t ^ 2048); /* not the line a prefetch fetched: only its page */
            }
            *last = (uintptr_t)t;
            *t = (uintptr_t)head;
        }
    }
    return slot(base, perm[0], 0);
}

static inline uint64_t fenced_tsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("lfence; rdtsc; lfence" : "=a"(lo), "=d"(hi) : : "memory");
    return ((uint64_t)hi << 32) | lo;
}

/*
 * TSC ticks of the target loads, summed over laps of at least min_ns, best (least per target) of 5
 * measurements; *targets gets that measurement's target count.
 */
static uint64_t time_targets(uintptr_t *p, uint64_t blocks, uint64_t train, uint64_t min_ns, uint64_t *targets,
                             uintptr_t *sink)
{
    uint64_t best = 0, best_n = 0;
    for (int m = 0; m < 5; m++) {
        uint64_t sum = 0, n = 0, t0 = mm_now_ns();
        do {
            for (uint64_t b = 0; b < blocks; b++) {
                for (uint64_t i = 0; i < train; i++) {
                    p = (uintptr_t *)*p; /* the last one yields the target's address */
                }
                uint64_t c0 = fenced_tsc();
                p = (uintptr_t *)*p; /* the target; it holds the next block's head */
                uint64_t c1 = fenced_tsc();
                sum += c1 - c0;
            }
            n += blocks;
        } while (mm_now_ns() - t0 < min_ns);
        if (m == 0 || sum * best_n < best * n) {
            best = sum;
            best_n = n;
        }
    }
    *sink += (uintptr_t)p;
    *targets = best_n;
    return best;
}

/* As time_targets for k = NEAR_L2TLB: each block starts by reading its target's line and the evictors. */
static uint64_t time_reference(char *base, char *ev, uint64_t blocks, uint64_t train, uint64_t min_ns, uint64_t *targets,
                               uintptr_t *sink)
{
    uint64_t best = 0, best_n = 0;
    uintptr_t acc = 0;
    for (int m = 0; m < 5; m++) {
        uint64_t sum = 0, n = 0, t0 = mm_now_ns();
        do {
            for (uint64_t b = 0; b < blocks; b++) {
                uintptr_t *t = slot(base, perm[b], BLOCK - 1);
                acc += ((volatile uintptr_t *)t)[1];
                for (uint64_t e = 0; e < EVICT; e++) {
                    acc += *(volatile uintptr_t *)(ev + ((e * 37) % EVICT) * MM_PAGE_SIZE + ((e * 5) % 64) * 64);
                }
                uintptr_t *p = slot(base, perm[b], 0);
                for (uint64_t i = 0; i < train; i++) {
                    p = (uintptr_t *)*p;
                }
                uint64_t c0 = fenced_tsc();
                p = (uintptr_t *)*p;
                uint64_t c1 = fenced_tsc();
                sum += c1 - c0;
                acc += (uintptr_t)p;
            }
            n += blocks;
        } while (mm_now_ns() - t0 < min_ns);
        if (m == 0 || sum * best_n < best * n) {
            best = sum;
            best_n = n;
        }
    }
    *sink += acc;
    *targets = best_n;
    return best;
}

static uint64_t chase_order[1u << 12];
static const uint64_t CHASE_PAGES[] = {64, 96, 128, 192, 256, 320, 384, 512, 768, 1024, 1536, 2048};
#define CHASE_LOADS (1u << 18)

/* Ticks per load of the best pass over n pages (layout: line multiplier 3 = spread, 0 = set0). */
static uint64_t chase_point(char *base, uint64_t n, uint64_t mul, int random, uint64_t min_ns, uintptr_t *sink)
{
    mb_chase_order(chase_order, n, random);
#define CHASE_SLOT(pg) ((uintptr_t *)(base + (pg) * MM_PAGE_SIZE + (((pg) * mul) % 64) * 64))
    for (uint64_t i = 0; i < n; i++) {
        *CHASE_SLOT(chase_order[i]) = (uintptr_t)CHASE_SLOT(chase_order[(i + 1) % n]);
    }
    uintptr_t *p = CHASE_SLOT(chase_order[0]);
    for (uint64_t i = 0; i < 2 * n; i++) { /* warm-up laps */
        p = (uintptr_t *)*p;
    }
    uint64_t best = ~0ull, t0 = mm_now_ns();
    do {
        uint64_t c0 = mb_rdtsc();
        for (uint64_t i = 0; i < CHASE_LOADS; i++) {
            p = (uintptr_t *)*p;
        }
        uint64_t c1 = mb_rdtsc();
        if (c1 - c0 < best) {
            best = c1 - c0;
        }
    } while (mm_now_ns() - t0 < min_ns);
    *sink += (uintptr_t)p;
    return best;
}

static int chase_main(int argc, char **argv)
{
    uint64_t max_pages = mb_arg(argc, argv, 2, 2048);
    uint64_t min_ms = mb_arg(argc, argv, 3, 20);
    if (max_pages < 64 || max_pages > (1u << 12) || min_ms > 10000) {
        mm_printf("usage: prefetch_probe chase [max_pages 64..4096] [min_ms 0..10000]\n");
        return 2;
    }
    size_t len = (size_t)max_pages * MM_PAGE_SIZE;
    char *base = mm_map_anon(len, PROT_READ | PROT_WRITE);
    if (base == MAP_FAILED) {
        mm_printf("mmap failed\n");
        return 1;
    }
    sys_madvise(base, len, MADV_NOHUGEPAGE);
    for (size_t off = 0; off < len; off += MM_PAGE_SIZE) {
        base[off] = 1;
    }
    mm_printf("prefetch_probe chase: up to %llu pages, one load per page\n", (unsigned long long)max_pages);
    static const char *const names[4] = {"prefetch_probe.chase_spread_addr", "prefetch_probe.chase_spread_rnd",
                                         "prefetch_probe.chase_set0_addr", "prefetch_probe.chase_set0_rnd"};
    uintptr_t sink = 0;
    for (int v = 0; v < 4; v++) {
        for (uint64_t i = 0; i < sizeof CHASE_PAGES / sizeof CHASE_PAGES[0] && CHASE_PAGES[i] <= max_pages; i++) {
            uint64_t ticks = chase_point(base, CHASE_PAGES[i], v < 2 ? 3 : 0, v & 1, min_ms * 1000000, &sink);
            mb_result_param(names[v], "pages", CHASE_PAGES[i], ticks, CHASE_LOADS, "cycles");
        }
    }
    sys_munmap(base, len);
    return sink == 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && argv[1][0] == 'c') {
        const char *a = argv[1];
        if (a[1] == 'h' && a[2] == 'a' && a[3] == 's' && a[4] == 'e' && a[5] == 0) {
            return chase_main(argc, argv);
        }
    }
    uint64_t region = mb_arg(argc, argv, 1, 65536);
    uint64_t train = mb_arg(argc, argv, 2, 8);
    uint64_t min_ms = mb_arg(argc, argv, 3, 50);
    stride = mb_arg(argc, argv, 4, 1);
    sibling = mb_arg(argc, argv, 5, 0);
    uint64_t blocks = stride >= 1 && stride <= 64 ? region / (BLOCK * stride) : 0;
    if (blocks < 4 || region > (1u << 18) || blocks > (1u << 14) || train < 3 || train + KMAX >= BLOCK || min_ms > 10000 ||
        sibling > 1) {
        mm_printf("usage: prefetch_probe [region_pages up to 262144, at least 4 blocks of %d * stride pages] [train 3..%d] "
                  "[min_ms 0..10000] [stride_pages 1..64] [sibling 0|1]\n", BLOCK, BLOCK - KMAX - 1);
        return 2;
    }
    size_t len = (size_t)blocks * BLOCK * stride * MM_PAGE_SIZE;
    char *base = mm_map_anon(len, PROT_READ | PROT_WRITE);
    if (base == MAP_FAILED) {
        mm_printf("mmap failed\n");
        return 1;
    }
    char *ev = mm_map_anon(EVICT * MM_PAGE_SIZE, PROT_READ | PROT_WRITE);
    if (ev == MAP_FAILED) {
        mm_printf("mmap failed\n");
        return 1;
    }
    sys_madvise(base, len, MADV_NOHUGEPAGE);
    sys_madvise(ev, EVICT * MM_PAGE_SIZE, MADV_NOHUGEPAGE);
    for (size_t off = 0; off < EVICT * MM_PAGE_SIZE; off += MM_PAGE_SIZE) {
        ev[off] = 1;
    }
    for (size_t off = 0; off < len; off += stride * MM_PAGE_SIZE) {
        base[off] = 1; /* only the pages the chains use take memory */
    }
    uint64_t seed = 12345;
    for (uint64_t i = 0; i < blocks; i++) {
        perm[i] = i;
    }
    for (uint64_t i = blocks - 1; i > 0; i--) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        uint64_t j = (seed >> 33) % (i + 1), t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
    mm_printf("prefetch_probe: %llu blocks, %llu trained loads %llu bytes apart, then a target\n", (unsigned long long)blocks,
              (unsigned long long)train, (unsigned long long)(stride * MM_PAGE_SIZE + 192));
    uintptr_t sink = 0;
    uint64_t min_ns = min_ms * 1000000;
    uint64_t t0 = mm_now_ns(), c0 = mb_rdtsc();
    for (int k = 0; k <= KMAX + 2; k++) {
        int kk = k == KMAX + 1 ? FAR : k == KMAX + 2 ? NEAR_L2TLB : k;
        if (sibling && kk == NEAR_L2TLB) {
            continue; /* the reference is about the prefetched line itself */
        }
        uint64_t n;
        uintptr_t *first = link(base, blocks, train, kk);
        uint64_t ticks = kk == NEAR_L2TLB ? time_reference(base, ev, blocks, train, min_ns, &n, &sink)
                                          : time_targets(first, blocks, train, min_ns, &n, &sink);
        mb_result_param("prefetch_probe.tsc_per_target", "k", (uint64_t)kk, ticks, n, "cycles");
    }
    uint64_t c1 = mb_rdtsc(), t1 = mm_now_ns();
    mb_result("prefetch_probe.tsc_per_us", c1 - c0, (t1 - t0) / 1000, "cycles");
    sys_munmap(base, len);
    sys_munmap(ev, EVICT * MM_PAGE_SIZE);
    return sink == 0;
}
