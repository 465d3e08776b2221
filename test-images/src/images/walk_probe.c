/*
 * walk_probe [stride] [order] [thp] [min_ms] [max_mib]: what a page walk costs the host as the chased region
 * grows past the reach of its paging-structure caches, and whether that cost follows the region's span
 * (translation) or the number of lines it touches (data caches). Its own program, so that mmulab's walk
 * model can take its parameters from a measurement that is not tlb_stride's curve (tlb_stride is the check
 * the model is compared against; see docs/cache-model.md).
 *
 * For each span S MiB in 16, 32, 64, 96, 112, 128, 144, 160, 176, 192, 224, 256, 320, 384, 512 (up to
 * max_mib, default 320) it chases one load per page over the N = S MiB / (stride * 4 KiB) pages `stride`
 * pages apart (default 1) at the start of one mapping, page i's slot at line (3i mod 64) as in tlb_stride,
 * in address order (order 0) or in one fixed random order (order 1); points with N < 8 are skipped.
 *
 *   stride 1, 2, 4, 8   the same spans with 1/stride of the lines: a step that stays at the same span is
 *                       about translation (a paging-structure cache's or a TLB's reach); one that moves
 *                       with the line count is about the data caches
 *   stride 512          one page per 2 MiB: every page has its own PDE and PTE page (N = span / 2 MiB)
 *   thp 1               the mapping 2 MiB-aligned with MADV_HUGEPAGE (default 0: MADV_NOHUGEPAGE): the
 *                       same loads with one translation per 2 MiB, so what is left is the data's cost
 *                       (and whatever the host's hypervisor adds per 4 KiB below the guest's 2 MiB page)
 *
 * Each point is the best pass of 2^18 dependent loads (p = *p) over at least min_ms (default 50) after two
 * warm-up laps (the first touch of a page and the hypervisor's first fill of its shadow entry are not timed):
 *
 *   RESULT walk_probe.cycles_per_load@mib=S   TSC ticks per load
 *   RESULT walk_probe.ns_per_load@mib=S      clock_gettime ns per load (same pass)
 *
 * walk_probe pde [min_ms]: how many PDEs the host's page-walk cache holds. T = 8 ... 256 target pages 2 MiB apart
 * (each its own PDE and PTE page; all in one L2 DTLB set when the set index is the low VPN bits) are chased in
 * address order, each target followed by ceil(128 / T) filler loads: consecutive pages in one 2 MiB region past
 * the targets (one PDE), T * ceil(128 / T) of them, each visited once per lap. With at least 128 fillers no
 * 96-entry L1 DTLB holds a target when the chase comes back to it, and past 16 targets the L2 DTLB set does
 * not either, so each target load walks, and its walk finds the target's PDE in the page-walk cache only while
 * T PDEs fit there. The fillers' ring is timed alone too, and the difference is the targets' cost. Per T:
 *
 *   RESULT walk_probe.cycles_per_pde_target@targets=T   TSC ticks per target (mixed lap minus fillers' lap)
 *   RESULT walk_probe.ns_per_pde_target@targets=T      the same in clock_gettime ns
 *
 * walk_probe pde1g [min_ms]: the same with the targets 1 GiB apart (each its own PD page and PDPTE), so their PDE
 * lines all fall into one L1D set and past 12 targets come from L2: a PDE-cache miss then costs an L2 load (~4 ns),
 * which the 2 MiB layout's L1D-resident PDE lines hide in the noise. Figures cycles_per_pde1g_target and
 * ns_per_pde1g_target.
 *
 * walk_probe region [min_ms] [max_pages] [thp]: whether a demand page walk is cheap when consecutive walks use one
 * page-table page, or whether the address-order chase is cheap because the prefetcher's walks fill the TLB. For
 * N = 1,024, 16,384, 32,768 and 65,536 consecutive 4 KiB pages (up to max_pages, default 32,768; MADV_NOHUGEPAGE,
 * or MADV_HUGEPAGE with thp 1: one guest translation per 2 MiB, which removes the walks only where the host maps
 * the guest's memory in 2 MiB pages too; page i's slot at line (3i mod 64) as above) one load per page is chased
 * in three orders over the same lines:
 * address order (a constant stride the L1 stride prefetcher follows, its walks included), region order (the
 * 512 pages of each 2 MiB region in a random order, the regions in address order: no constant stride, so past
 * the L2 DTLB's reach every load demand-walks, but consecutive walks share one PT page, whose PTE lines stay in
 * L1D), and one random order over all N pages. The 1,024-page point (inside the L2 DTLB's reach) is the control:
 * region against address order there is what losing the prefetcher costs without any walk. Per N and order
 * (addr, region, random), best pass of 2^18 loads over min_ms (default 50) after two warm-up laps:
 *
 *   RESULT walk_probe.cycles_per_load_ORDER@pages=N   TSC ticks per load
 *   RESULT walk_probe.ns_per_load_ORDER@pages=N      clock_gettime ns per load (same pass)
 *
 * Exit status 0, 1 when mmap fails, 2 on bad arguments.
 */
#include "mmrt.h"
#include "mmbench.h"

#define LOADS (1u << 18)
#define HUGE (2UL << 20)

static const uint64_t SPANS_MIB[] = {16, 32, 64, 96, 112, 128, 144, 160, 176, 192, 224, 256, 320, 384, 512};
static uint64_t order[1u << 17];
static uint64_t stride = 1;

static uintptr_t *slot(char *base, uint64_t page)
{
    return (uintptr_t *)(base + page * stride * MM_PAGE_SIZE + ((page * 3) % 64) * 64);
}

/* Links the first n pages into a ring in order[]'s order: each page's slot points to the next one's. */
static void link_order(char *base, uint64_t n)
{
    for (uint64_t i = 0; i < n; i++) {
        *slot(base, order[i]) = (uintptr_t)slot(base, order[(i + 1) % n]);
    }
}

static void link(char *base, uint64_t n, int random)
{
    mb_chase_order(order, n, random);
    link_order(base, n);
}

#define PDE_FILLERS 128
static const uint64_t PDE_TARGETS[] = {8, 16, 24, 32, 48, 64, 80, 96, 128, 160, 192, 256};

/* Distance between targets: 2 MiB (pde: one PDE each, 8 to a line) or 1 GiB (pde1g: one PD page each, so every
 * target's PDE sits at the same place of its own page: their lines share one L1D set and past 12 targets come from
 * L2, so a PDE-cache miss costs an L2 load, ~4 ns, instead of an L1D one). */
static uintptr_t pde_spacing = HUGE;

static uintptr_t *pde_target(char *base, uint64_t i)
{
    return (uintptr_t *)(base + i * pde_spacing + ((i * 3) % 64) * 64);
}

static uintptr_t *pde_filler(char *base, uint64_t j)
{
    return (uintptr_t *)(base + 256 * pde_spacing + j * MM_PAGE_SIZE + ((j * 3 + 32) % 64) * 64);
}

/* Best ticks (and its ns) for chasing from p for `loads` loads per pass, passes repeated over min_ms. */
static uint64_t time_chase(uintptr_t *p, uint64_t loads, uint64_t min_ms, uint64_t *ns, uintptr_t *sink)
{
    for (uint64_t i = 0; i < 2 * loads; i++) {
        p = (uintptr_t *)*p;
    }
    uint64_t best = ~0ull, start = mm_now_ns();
    do {
        uint64_t t0 = mm_now_ns(), c0 = mb_rdtsc();
        for (uint64_t i = 0; i < loads; i++) {
            p = (uintptr_t *)*p;
        }
        uint64_t c1 = mb_rdtsc(), t1 = mm_now_ns();
        if (c1 - c0 < best) {
            best = c1 - c0;
            *ns = t1 - t0;
        }
    } while (mm_now_ns() - start < min_ms * 1000000);
    *sink += (uintptr_t)p;
    return best;
}

static int pde_main(int argc, char **argv, int gib)
{
    uint64_t min_ms = mb_arg(argc, argv, 2, 50);
    if (min_ms > 10000) {
        mm_printf("usage: walk_probe pde|pde1g [min_ms 0..10000]\n");
        return 2;
    }
    if (gib && sizeof(void *) < 8) {
        mm_printf("walk_probe pde1g: needs a 64-bit address space (257 GiB of it)\n");
        return 2;
    }
    pde_spacing = gib ? (uintptr_t)1 << 30 : HUGE;
    size_t len = 257 * pde_spacing + HUGE; /* only the targets' and fillers' pages are touched */
    void *m = sys_mmap(0, len + pde_spacing, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (mm_is_err((long)m)) {
        mm_printf("mmap failed\n");
        return 1;
    }
    char *map = m;
    char *base = (char *)(((uintptr_t)map + pde_spacing - 1) & ~(pde_spacing - 1));
    sys_madvise(base, len, MADV_NOHUGEPAGE);
    for (uint64_t i = 0; i < 256; i++) {
        base[i * pde_spacing] = 1;
    }
    for (uint64_t j = 0; j < 256; j++) {
        base[256 * pde_spacing + j * MM_PAGE_SIZE] = 1;
    }
    mm_printf("walk_probe %s: targets %s apart, at least %d filler pages between their visits\n", gib ? "pde1g" : "pde",
              gib ? "1 GiB" : "2 MiB", PDE_FILLERS);
    uintptr_t sink = 0;
    for (uint64_t t = 0; t < sizeof PDE_TARGETS / sizeof PDE_TARGETS[0]; t++) {
        uint64_t n = PDE_TARGETS[t], per = (PDE_FILLERS + n - 1) / n, fillers = n * per;
        /* the fillers alone: a ring of `fillers` consecutive pages (L1 DTLB misses, L2 DTLB hits) */
        for (uint64_t j = 0; j < fillers; j++) {
            *pde_filler(base, j) = (uintptr_t)pde_filler(base, (j + 1) % fillers);
        }
        uint64_t laps = LOADS / fillers + 1, ns_f = 0, ns_m = 0;
        uint64_t ticks_f = time_chase(pde_filler(base, 0), laps * fillers, min_ms, &ns_f, &sink);
        /* the same ring with target i before fillers i * per .. i * per + per - 1 */
        for (uint64_t i = 0; i < n; i++) {
            *pde_target(base, i) = (uintptr_t)pde_filler(base, i * per);
            *pde_filler(base, i * per + per - 1) = (uintptr_t)pde_target(base, (i + 1) % n);
        }
        uint64_t ticks_m = time_chase(pde_target(base, 0), laps * (fillers + n), min_ms, &ns_m, &sink);
        uint64_t extra = ticks_m > ticks_f ? ticks_m - ticks_f : 0, extra_ns = ns_m > ns_f ? ns_m - ns_f : 0;
        mb_result_param(gib ? "walk_probe.cycles_per_pde1g_target" : "walk_probe.cycles_per_pde_target", "targets", n, extra,
                        laps * n, "cycles");
        mb_result_param(gib ? "walk_probe.ns_per_pde1g_target" : "walk_probe.ns_per_pde_target", "targets", n, extra_ns, laps * n,
                        "ns");
    }
    sys_munmap(map, len + pde_spacing);
    return sink == 0;
}

/* walk_probe region: order[] visits the 512 pages of each 2 MiB region (a partial last one: its pages) in a random
 * order, the regions one after another; each region shuffled by mb_shuffle, its seed
 * carried on, so no two regions share a permutation. */
static void region_order(uint64_t n)
{
    uint64_t seed = 12345;
    for (uint64_t r = 0; r < n; r += 512) {
        uint64_t m = n - r < 512 ? n - r : 512;
        for (uint64_t i = 0; i < m; i++) {
            order[r + i] = r + i;
        }
        mb_shuffle(order + r, m, &seed);
    }
}

static const uint64_t REGION_PAGES[] = {1024, 16384, 32768, 65536};

static int region_main(int argc, char **argv)
{
    uint64_t min_ms = mb_arg(argc, argv, 2, 50);
    uint64_t max_pages = mb_arg(argc, argv, 3, 32768);
    uint64_t thp = mb_arg(argc, argv, 4, 0);
    if (min_ms > 10000 || max_pages < 1024 || max_pages > 65536 || thp > 1) {
        mm_printf("usage: walk_probe region [min_ms 0..10000] [max_pages 1024..65536] [thp 0|1]\n");
        return 2;
    }
    size_t len = max_pages * MM_PAGE_SIZE;
    char *map = mm_map_anon(len + HUGE, PROT_READ | PROT_WRITE);
    if (map == MAP_FAILED) {
        mm_printf("mmap failed\n");
        return 1;
    }
    char *base = (char *)(((uintptr_t)map + HUGE - 1) & ~(HUGE - 1));
    sys_madvise(base, len, thp ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
    for (size_t off = 0; off < len; off += MM_PAGE_SIZE) {
        base[off] = 1;
    }
    mm_printf("walk_probe region: consecutive 4 KiB pages in address, 2 MiB-region-random and random order, up to %llu pages, %s\n",
              (unsigned long long)max_pages, thp ? "MADV_HUGEPAGE" : "4 KiB pages");
    static const char *const CYCLES[] = {"walk_probe.cycles_per_load_addr", "walk_probe.cycles_per_load_region",
                                         "walk_probe.cycles_per_load_random"};
    static const char *const NS[] = {"walk_probe.ns_per_load_addr", "walk_probe.ns_per_load_region",
                                     "walk_probe.ns_per_load_random"};
    uintptr_t sink = 0;
    for (uint64_t s = 0; s < sizeof REGION_PAGES / sizeof REGION_PAGES[0] && REGION_PAGES[s] <= max_pages; s++) {
        uint64_t n = REGION_PAGES[s];
        for (int kind = 0; kind < 3; kind++) {
            if (kind == 1) {
                region_order(n);
            } else {
                mb_chase_order(order, n, kind == 2);
            }
            link_order(base, n);
            uint64_t ns = 0, ticks = time_chase(slot(base, order[0]), LOADS, min_ms, &ns, &sink);
            mb_result_param(CYCLES[kind], "pages", n, ticks, LOADS, "cycles");
            mb_result_param(NS[kind], "pages", n, ns, LOADS, "ns");
        }
    }
    sys_munmap(map, len + HUGE);
    return sink == 0;
}

/* walk_probe clock: the core's clock while it runs this program: a chain of dependent ADDs (one cycle each on every
 * x86-64 core) timed by clock_gettime, so that a host figure in ns can be turned into the core's own cycles. */
static int clock_main(void)
{
    unsigned long x = 0; /* a register on every architecture */
    uint64_t best = ~0ull, adds = 1u << 24, start = mm_now_ns();
    do {
        uint64_t t0 = mm_now_ns();
        for (uint64_t i = 0; i < adds / 16; i++) {
            __asm__ volatile("add $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\t"
                             "add $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\t"
                             "add $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\t"
                             "add $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0" : "+r"(x));
        }
        uint64_t t1 = mm_now_ns();
        if (t1 - t0 < best) {
            best = t1 - t0;
        }
    } while (mm_now_ns() - start < 200000000ull);
    /* MHz = adds / ns * 1000 */
    mb_result("walk_probe.core_mhz", adds * 1000, best, "MHz");
    return x == 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && argv[1][0] == 'c' && argv[1][1] == 'l' && argv[1][2] == 'o' && argv[1][3] == 'c' && argv[1][4] == 'k'
        && argv[1][5] == 0) {
        return clock_main();
    }
    if (argc > 1 && argv[1][0] == 'r' && argv[1][1] == 'e' && argv[1][2] == 'g' && argv[1][3] == 'i' && argv[1][4] == 'o'
        && argv[1][5] == 'n' && argv[1][6] == 0) {
        return region_main(argc, argv);
    }
    if (argc > 1 && argv[1][0] == 'p' && argv[1][1] == 'd' && argv[1][2] == 'e') {
        const char *a = argv[1] + 3;
        if (a[0] == 0 || (a[0] == '1' && a[1] == 'g' && a[2] == 0)) {
            return pde_main(argc, argv, a[0] != 0);
        }
    }
    stride = mb_arg(argc, argv, 1, 1);
    uint64_t random = mb_arg(argc, argv, 2, 0);
    uint64_t thp = mb_arg(argc, argv, 3, 0);
    uint64_t min_ms = mb_arg(argc, argv, 4, 50);
    uint64_t max_mib = mb_arg(argc, argv, 5, 320);
    if (stride < 1 || stride > 512 || (stride & (stride - 1)) != 0 || random > 1 || thp > 1 || min_ms > 10000 || max_mib < 16
        || max_mib > 512) {
        mm_printf("usage: walk_probe [stride: power of two 1..512 pages] [order: 0 address, 1 random] [thp 0|1] "
                  "[min_ms 0..10000] [max_mib 16..512]\n");
        return 2;
    }
    size_t len = (size_t)max_mib << 20;
    char *map = mm_map_anon(len + HUGE, PROT_READ | PROT_WRITE);
    if (map == MAP_FAILED) {
        mm_printf("mmap failed\n");
        return 1;
    }
    char *base = (char *)(((uintptr_t)map + HUGE - 1) & ~(HUGE - 1));
    sys_madvise(base, len, thp ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
    for (size_t off = 0; off < len; off += stride * MM_PAGE_SIZE) {
        base[off] = 1; /* only the pages the chase uses take memory (all of them under thp) */
    }
    mm_printf("walk_probe: pages %llu apart, %s order, %s, up to %llu MiB\n", (unsigned long long)stride,
              random ? "random" : "address", thp ? "MADV_HUGEPAGE" : "4 KiB pages", (unsigned long long)max_mib);
    uintptr_t sink = 0;
    for (uint64_t s = 0; s < sizeof SPANS_MIB / sizeof SPANS_MIB[0] && SPANS_MIB[s] <= max_mib; s++) {
        uint64_t n = (SPANS_MIB[s] << 20) / (stride * MM_PAGE_SIZE);
        if (n < 8) {
            continue;
        }
        link(base, n, (int)random);
        uintptr_t *p = slot(base, order[0]);
        for (uint64_t i = 0; i < 2 * n; i++) {
            p = (uintptr_t *)*p;
        }
        uint64_t best = ~0ull, best_ns = 0, start = mm_now_ns();
        do {
            uint64_t t0 = mm_now_ns(), c0 = mb_rdtsc();
            for (uint64_t i = 0; i < LOADS; i++) {
                p = (uintptr_t *)*p;
            }
            uint64_t c1 = mb_rdtsc(), t1 = mm_now_ns();
            if (c1 - c0 < best) {
                best = c1 - c0;
                best_ns = t1 - t0;
            }
        } while (mm_now_ns() - start < min_ms * 1000000);
        sink += (uintptr_t)p;
        mb_result_param("walk_probe.cycles_per_load", "mib", SPANS_MIB[s], best, LOADS, "cycles");
        mb_result_param("walk_probe.ns_per_load", "mib", SPANS_MIB[s], best_ns, LOADS, "ns");
    }
    sys_munmap(map, len + HUGE);
    return sink == 0;
}
