/*
 * page_fault1 [MiB] [loops]: will-it-scale's page_fault1 (tests/page_fault1.c, one process):
 * mmap MiB (default 128) of anonymous private memory, madvise(MADV_NOHUGEPAGE), write one byte to
 * every 4 KiB page, munmap; repeated `loops` (default 4) times. Reports the whole loop - the
 * anonymous write fault (new zeroed frame) plus mmap/munmap amortised - per page:
 *
 *   RESULT page_fault1.ns_per_page      clock_gettime over all loops / pages touched
 *   RESULT page_fault1.cycles_per_page  RDTSC over the same loops / pages touched
 *
 * then one more loop, not part of the figures above, that reads the TSC around every single
 * first-touch write and prints the per-fault latency as a log2 histogram (mmbench.h):
 *
 *   HIST page_fault1.fault_cycles <k> <count>
 *   RESULT page_fault1.cycles_per_fault_median  (the median bucket's lower bound, 2^k)
 *
 * The histogram needs no timing model: it is the guest's own sample of each fault.
 * Exit status 0, or 1 when mmap/munmap fail or a page does not read back what was written.
 */
#include "mmrt.h"
#include "mmbench.h"

static uint64_t hist[MB_HIST_BUCKETS];

int main(int argc, char **argv)
{
    uint64_t mib = mb_arg(argc, argv, 1, 128);
    uint64_t loops = mb_arg(argc, argv, 2, 4);
    if (mib == 0 || mib > 1024 || loops == 0 || loops > 1000000) {
        mm_printf("usage: page_fault1 [MiB 1..1024] [loops 1..1000000]\n");
        return 2;
    }
    size_t len = (size_t)mib << 20;
    size_t pages = len / MM_PAGE_SIZE;
    mm_printf("page_fault1: %u MiB x %u loops, %u pages per loop\n", (unsigned)mib, (unsigned)loops,
              (unsigned)pages);

    uint64_t t0 = mm_now_ns();
    uint64_t c0 = mb_rdtsc();
    for (uint64_t l = 0; l < loops; l++) {
        char *c = sys_mmap(0, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (mm_is_err((long)c)) {
            mm_printf("mmap failed: %ld\n", (long)c);
            return 1;
        }
        sys_madvise(c, len, MADV_NOHUGEPAGE);
        for (size_t i = 0; i < len; i += MM_PAGE_SIZE) {
            c[i] = 0;
        }
        if (sys_munmap(c, len) != 0) {
            mm_printf("munmap failed\n");
            return 1;
        }
    }
    uint64_t c1 = mb_rdtsc();
    uint64_t t1 = mm_now_ns();
    uint64_t touched = loops * pages;
    mb_result("page_fault1.ns_per_page", t1 - t0, touched, "ns");
    mb_result("page_fault1.cycles_per_page", c1 - c0, touched, "cycles");

    /* The sampled loop: one TSC pair around each first write. */
    volatile char *c = sys_mmap(0, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mm_is_err((long)c)) {
        mm_printf("mmap failed: %ld\n", (long)c);
        return 1;
    }
    sys_madvise((void *)c, len, MADV_NOHUGEPAGE);
    for (size_t i = 0; i < len; i += MM_PAGE_SIZE) {
        uint64_t a = mb_rdtsc();
        c[i] = (char)(i >> 12 | 1);
        uint64_t b = mb_rdtsc();
        hist[mb_log2(b - a)]++;
    }
    int bad = 0;
    for (size_t i = 0; i < len; i += MM_PAGE_SIZE) {
        bad |= c[i] != (char)(i >> 12 | 1) || c[i + 1] != 0;
    }
    sys_munmap((void *)c, len);
    mb_hist_print("page_fault1.fault_cycles", hist);
    uint64_t seen = 0;
    for (int k = 0; k < MB_HIST_BUCKETS; k++) {
        seen += hist[k];
        if (seen * 2 >= pages) {
            mb_result("page_fault1.cycles_per_fault_median", (uint64_t)1 << k, 1, "cycles");
            break;
        }
    }
    if (bad) {
        mm_printf("page_fault1: data check FAILED\n");
    }
    return bad;
}
