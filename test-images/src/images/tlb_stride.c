/*
 * tlb_stride [max_pages] [accesses] [stride] [order] [min_ms]: the TLB-reach curve. max_pages (default 65536, 256 MiB)
 * pages, `stride` pages apart (default 1: consecutive pages), are mapped and written once (so no page
 * faults are measured); then for N = 8, 16, 32, ... max_pages it chases a pointer through the first N
 * of them, one load per page, `accesses` (default 2^22) loads per N. With a stride of 8 or more every
 * page's PTE sits in its own 64-byte line, so the page-table footprint grows by a line per page and
 * the walks' own loads fall out of L1D, L2 and the LLC in turn as N grows (only the touched pages
 * take memory: the stride costs address space, not RAM). Each page's slot sits at a different 64-byte line
 * ((i * 67) mod 64) so the loads do not all fall into one cache set. The loads are dependent (each
 * address comes from the previous load), so their latencies add up rather than overlap.
 *
 * order 0 (default) chases the pages in address order, page i to page i+1: a constant distance between
 * consecutive loads, which a stride prefetcher that crosses pages can run ahead of. order 1 chases them
 * in a random order (one fixed permutation per N, from a fixed seed): the same pages and lines, but no
 * pattern for a prefetcher, so every translation and every miss is paid by the load itself. The two
 * curves side by side on a host separate what its prefetcher hides from what its TLBs and caches cost.
 *
 * min_ms (default 0: one timed pass per N) repeats each N's timed pass of `accesses` loads until at least
 * min_ms milliseconds have gone by and reports the best pass (the least time per access): `mmulab bench
 * --native` passes 50 so that the short points (a few hundred microseconds at 8-64 pages on a 4 GHz
 * core) are timed long enough to be stable on a shared host; the emulated run keeps one pass.
 *
 * Per N:
 *   RESULT tlb_stride.ns_per_access@pages=N      clock_gettime / accesses (of the best pass)
 *   RESULT tlb_stride.cycles_per_access@pages=N  RDTSC / accesses (of the same pass)
 * Once N pages exceed the L1 dTLB (64 entries on the emulator's Skylake-like model) and then the
 * STLB (1536), every load needs an STLB lookup, then a page walk: the curve steps up ("TLB cliff").
 */
#include "mmrt.h"
#include "mmbench.h"

static uint64_t stride = 1;
static uint64_t order[1u << 18];

/* order[0..n) = 0..n-1, shuffled (Fisher-Yates, a 64-bit LCG from a fixed seed) when random. */
static void make_order(uint64_t n, int random)
{
    uint64_t seed = 12345;
    for (uint64_t i = 0; i < n; i++) {
        order[i] = i;
    }
    for (uint64_t i = n - 1; random && i > 0; i--) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        uint64_t j = (seed >> 33) % (i + 1);
        uint64_t t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
}

static uintptr_t *slot(char *base, uint64_t page)
{
    return (uintptr_t *)(base + page * stride * MM_PAGE_SIZE + ((page * 67) % 64) * 64);
}

int main(int argc, char **argv)
{
    uint64_t max_pages = mb_arg(argc, argv, 1, 65536);
    uint64_t accesses = mb_arg(argc, argv, 2, (uint64_t)1 << 22);
    stride = mb_arg(argc, argv, 3, 1);
    uint64_t random = mb_arg(argc, argv, 4, 0);
    uint64_t min_ms = mb_arg(argc, argv, 5, 0);
    if (min_ms > 100000 || max_pages < 8 || max_pages > (1u << 18) || (max_pages & (max_pages - 1)) != 0 || accesses == 0
        || accesses > ((uint64_t)1 << 40) || stride < 1 || stride > 512 || (stride & (stride - 1)) != 0
        || max_pages * stride > ((uint64_t)1 << 19) || random > 1) {
        mm_printf("usage: tlb_stride [max_pages: power of two 8..262144] [accesses per N] "
                  "[stride: power of two 1..512 pages; max_pages * stride <= 2^19 (2 GiB)] [order: 0 address, 1 random] "
                  "[min_ms 0..100000]\n");
        return 2;
    }
    size_t len = (size_t)(max_pages * stride) * MM_PAGE_SIZE;
    char *base = mm_map_anon(len, PROT_READ | PROT_WRITE);
    if (base == MAP_FAILED) {
        mm_printf("mmap failed\n");
        return 1;
    }
    sys_madvise(base, len, MADV_NOHUGEPAGE);
    for (uint64_t i = 0; i < max_pages; i++) {
        base[i * stride * MM_PAGE_SIZE] = 1; /* fault everything in before measuring */
    }
    mm_printf("tlb_stride: up to %llu pages %llu apart, %llu accesses per size%s\n", (unsigned long long)max_pages,
              (unsigned long long)stride, (unsigned long long)accesses, random ? ", random order" : "");
    uintptr_t sink = 0;
    for (uint64_t n = 8; n <= max_pages; n *= 2) {
        make_order(n, (int)random);
        for (uint64_t i = 0; i < n; i++) {
            *slot(base, order[i]) = (uintptr_t)slot(base, order[(i + 1) % n]);
        }
        /* one warm-up lap */
        uintptr_t *p = slot(base, order[0]);
        for (uint64_t i = 0; i < n; i++) {
            p = (uintptr_t *)*p;
        }
        uint64_t best_ns = ~0ull, best_cycles = 0, start = mm_now_ns();
        do {
            uint64_t t0 = mm_now_ns();
            uint64_t c0 = mb_rdtsc();
            for (uint64_t i = 0; i < accesses; i++) {
                p = (uintptr_t *)*p;
            }
            uint64_t c1 = mb_rdtsc();
            uint64_t t1 = mm_now_ns();
            if (t1 - t0 < best_ns) {
                best_ns = t1 - t0;
                best_cycles = c1 - c0;
            }
        } while (mm_now_ns() - start < min_ms * 1000000);
        sink += (uintptr_t)p;
        mb_result_param("tlb_stride.ns_per_access", "pages", n, best_ns, accesses, "ns");
        mb_result_param("tlb_stride.cycles_per_access", "pages", n, best_cycles, accesses, "cycles");
    }
    sys_munmap(base, len);
    return sink == 0; /* never 0: keeps the chase from being optimised away */
}
