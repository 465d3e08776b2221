/*
 * cow_fork [pages] [loops]: the copy-on-write fault (Linux mm/memory.c do_wp_page -> wp_page_copy)
 * timed in the guest. The parent maps `pages` (default 4096) anonymous private pages and writes each
 * (so each has its own frame), then forks `loops` (default 4) times; each child writes one word to
 * every page - one COW fault per page, the page copied - and reports its time through a MAP_SHARED
 * page; the parent waits, checks that its own pages still hold their pre-fork values (the child's
 * writes stayed private) and prints, over all loops:
 *
 *   RESULT cow_fork.ns_per_cow_fault      clock_gettime(CLOCK_MONOTONIC) around the child's write loop
 *   RESULT cow_fork.cycles_per_cow_fault  RDTSC around the same loop (x86 only)
 *
 * Output has timings: the manifest checks the status only. Exit status 0, or 1 (smp_fail) when a
 * call fails or a check does not hold. Format of RESULT lines: src/include/mmbench.h.
 */
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>

#include "smp_check.h"

static uint64_t now_ns(void) {
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) {
        smp_fail("clock_gettime: %s", strerror(errno));
    }
    return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

static uint64_t rdtsc(void) {
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi) : : "memory");
    return ((uint64_t) hi << 32) | lo;
}

static void result(const char *name, uint64_t num, uint64_t den, const char *unit) {
    uint64_t milli = den == 0 ? 0 : (num * 1000 + den / 2) / den;
    printf("RESULT %s %llu.%03llu %s\n", name, (unsigned long long) (milli / 1000), (unsigned long long) (milli % 1000),
           unit);
}

int main(int argc, char **argv) {
    unsigned long pages = argc > 1 ? strtoul(argv[1], NULL, 0) : 4096;
    unsigned long loops = argc > 2 ? strtoul(argv[2], NULL, 0) : 4;
    if (pages == 0 || pages > 262144 || loops == 0 || loops > 10000) {
        printf("usage: cow_fork [pages 1..262144] [loops 1..10000]\n");
        return 2;
    }
    size_t len = pages * SMP_PAGE;
    volatile uint64_t *area = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    volatile uint64_t *shared = mmap(NULL, SMP_PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (area == MAP_FAILED || shared == MAP_FAILED) {
        smp_fail("mmap: %s", strerror(errno));
    }
    for (size_t p = 0; p < pages; p++) {
        area[p * (SMP_PAGE / 8)] = p + 1;
    }
    printf("cow_fork: %lu pages x %lu forks\n", pages, loops);
    uint64_t ns = 0, cycles = 0;
    for (unsigned long l = 0; l < loops; l++) {
        fflush(stdout);
        pid_t pid = fork();
        if (pid < 0) {
            smp_fail("fork: %s", strerror(errno));
        }
        if (pid == 0) {
            uint64_t t0 = now_ns(), c0 = rdtsc();
            for (size_t p = 0; p < pages; p++) {
                area[p * (SMP_PAGE / 8)] = ~(uint64_t) p; /* write fault on a read-only shared page: COW */
            }
            uint64_t c1 = rdtsc(), t1 = now_ns();
            for (size_t p = 0; p < pages; p++) {
                if (area[p * (SMP_PAGE / 8)] != ~(uint64_t) p) {
                    _exit(3);
                }
            }
            shared[0] = t1 - t0;
            shared[1] = c1 - c0;
            _exit(0);
        }
        int status;
        if (waitpid(pid, &status, 0) != pid) {
            smp_fail("waitpid: %s", strerror(errno));
        }
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            smp_fail("child of loop %lu: status 0x%x", l, status);
        }
        ns += shared[0];
        cycles += shared[1];
        for (size_t p = 0; p < pages; p++) {
            if (area[p * (SMP_PAGE / 8)] != p + 1) {
                smp_fail("parent page %zu changed by the child's write", p);
            }
        }
    }
    result("cow_fork.ns_per_cow_fault", ns, pages * loops, "ns");
    result("cow_fork.cycles_per_cow_fault", cycles, pages * loops, "cycles");
    return 0;
}
