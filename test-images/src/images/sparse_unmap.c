/*
 * sparse_unmap [loops] [GiB]: mmap a huge PROT_NONE anonymous range (MAP_NORESERVE) and munmap it
 * again, `loops` times (default 1000); nothing is ever touched, so no page table below the top
 * levels exists. This is the case of seed 003's "unmap 1 TiB in bounded blocks" commit (1.69 s
 * before, < 0.01 s after): unmapping never-touched space must cost microseconds, not a walk over
 * every entry (DESIGN §3 teardown).
 *
 * GiB defaults to 1024 (1 TiB) on x86-64. An i386 process has at most 3-4 GiB of address space,
 * so there the default is 2 GiB, the largest power of two that fits below mmap_base under both
 * a 32-bit PAE kernel (TASK_SIZE 3 GiB) and compatibility mode; the first output line says which.
 *
 *   RESULT sparse_unmap.us_per_pair      clock_gettime per mmap+munmap pair
 *   RESULT sparse_unmap.cycles_per_pair  RDTSC per pair
 */
#include "mmrt.h"
#include "mmbench.h"

int main(int argc, char **argv)
{
#if defined(__x86_64__)
    uint64_t def_gib = 1024;
    uint64_t max_gib = 65536;
#else
    uint64_t def_gib = 2;
    uint64_t max_gib = 3;
#endif
    uint64_t loops = mb_arg(argc, argv, 1, 1000);
    uint64_t gib = mb_arg(argc, argv, 2, def_gib);
    if (loops == 0 || loops > 100000000 || gib == 0 || gib > max_gib) {
        mm_printf("usage: sparse_unmap [loops 1..100000000] [GiB 1..%llu]\n", (unsigned long long)max_gib);
        return 2;
    }
    size_t len = (size_t)(gib << 30);
    mm_printf("sparse_unmap: %llu GiB PROT_NONE x %llu loops\n", (unsigned long long)gib, (unsigned long long)loops);

    uint64_t t0 = mm_now_ns();
    uint64_t c0 = mb_rdtsc();
    for (uint64_t l = 0; l < loops; l++) {
        void *p = sys_mmap(0, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (mm_is_err((long)p)) {
            mm_printf("mmap failed: %ld\n", (long)p);
            return 1;
        }
        if (sys_munmap(p, len) != 0) {
            mm_printf("munmap failed\n");
            return 1;
        }
    }
    uint64_t c1 = mb_rdtsc();
    uint64_t t1 = mm_now_ns();
    mb_result("sparse_unmap.us_per_pair", t1 - t0, loops * 1000, "us");
    mb_result("sparse_unmap.cycles_per_pair", c1 - c0, loops, "cycles");
    return 0;
}
