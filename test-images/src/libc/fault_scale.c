/*
 * fault_scale [threads] [pages]: page-fault scalability in one mm (will-it-scale's page_fault1 in
 * threads mode). `threads` (default 4, 1..256) threads each write one word to `pages` (default 512)
 * fresh pages of their own: one anonymous write fault (do_anonymous_page) per page, all taking the
 * PTE lock of their page's table. Each thread's slice starts on its own 2 MiB boundary, so with
 * split PTE locks no two threads ever share a PTE table or its lock; under the pre-split kernel
 * (mmulab boot --pte-lock mm) they all take the mm's page_table_lock. The threads start together from
 * a barrier; each times its own loop (RDTSC, clock_gettime) and main prints, after the join:
 *
 *   RESULT fault_scale.faults_per_mcycle   sum over threads of pages * 1e6 / the thread's cycles
 *   RESULT fault_scale.faults_per_ms       pages * threads / (wall ns of the slowest thread) * 1e6
 *   RESULT fault_scale.cycles_per_fault    mean over threads of cycles / pages
 *
 * Under --timing cycle --deterministic each thread's RDTSC is its vCPU's virtual cycles, so the first
 * figure is the timing model's aggregate throughput. Output has timings: the manifest checks the
 * status only. Exit status 0, or 1 (smp_fail) on a failed call or a page that does not read back.
 * build.sh cflags: -pthread
 */
#include <pthread.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>

#include "smp_check.h"

#define MAX_THREADS 256
#define TABLE_PAGES 512 /* pages one PTE table maps (2 MiB under 4-level and PAE paging) */

static unsigned nthreads;
static size_t pages, stride;
static char *area;
static pthread_barrier_t start;
static uint64_t cycles[MAX_THREADS], wall[MAX_THREADS];

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

static uint64_t rdtsc(void) {
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi) : : "memory");
    return ((uint64_t) hi << 32) | lo;
}

static void *worker(void *arg) {
    unsigned t = (unsigned) (uintptr_t) arg;
    volatile char *mine = area + (size_t) t * stride * SMP_PAGE;
    int rc = pthread_barrier_wait(&start);
    if (rc != 0 && rc != PTHREAD_BARRIER_SERIAL_THREAD) {
        smp_fail("pthread_barrier_wait: %s", strerror(rc));
    }
    uint64_t t0 = now_ns(), c0 = rdtsc();
    for (size_t p = 0; p < pages; p++) {
        mine[p * SMP_PAGE] = (char) (t + p + 1);
    }
    uint64_t c1 = rdtsc(), t1 = now_ns();
    for (size_t p = 0; p < pages; p++) {
        if (mine[p * SMP_PAGE] != (char) (t + p + 1)) {
            smp_fail("thread %u page %zu does not read back", t, p);
        }
    }
    cycles[t] = c1 - c0;
    wall[t] = t1 - t0;
    return NULL;
}

static void result(const char *name, uint64_t milli, const char *unit) {
    printf("RESULT %s %llu.%03llu %s\n", name, (unsigned long long) (milli / 1000), (unsigned long long) (milli % 1000),
           unit);
}

int main(int argc, char **argv) {
    unsigned long n = argc > 1 ? strtoul(argv[1], NULL, 0) : 4;
    unsigned long p = argc > 2 ? strtoul(argv[2], NULL, 0) : 512;
    if (n == 0 || n > MAX_THREADS || p == 0 || p > 65536) {
        printf("usage: fault_scale [threads 1..%d] [pages 1..65536]\n", MAX_THREADS);
        return 2;
    }
    nthreads = (unsigned) n;
    pages = p;
    stride = (pages + TABLE_PAGES - 1) / TABLE_PAGES * TABLE_PAGES;
    size_t len = (nthreads * stride + TABLE_PAGES) * SMP_PAGE;
    char *raw = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) {
        smp_fail("mmap: %s", strerror(errno));
    }
    size_t align = (size_t) TABLE_PAGES * SMP_PAGE;
    area = (char *) (((uintptr_t) raw + align - 1) & ~(uintptr_t) (align - 1));
    madvise(area, nthreads * stride * SMP_PAGE, MADV_NOHUGEPAGE);
    printf("fault_scale: %u threads x %zu pages\n", nthreads, pages);
    if (pthread_barrier_init(&start, NULL, nthreads) != 0) {
        smp_fail("pthread_barrier_init");
    }
    pthread_t tid[MAX_THREADS];
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 64 * 1024);
    for (unsigned t = 0; t < nthreads; t++) {
        int rc = pthread_create(&tid[t], &attr, worker, (void *) (uintptr_t) t);
        if (rc != 0) {
            smp_fail("pthread_create %u: %s", t, strerror(rc));
        }
    }
    for (unsigned t = 0; t < nthreads; t++) {
        int rc = pthread_join(tid[t], NULL);
        if (rc != 0) {
            smp_fail("pthread_join: %s", strerror(rc));
        }
    }
    double rate = 0, cpf = 0;
    uint64_t slowest = 1;
    for (unsigned t = 0; t < nthreads; t++) {
        rate += cycles[t] ? (double) pages * 1e6 / (double) cycles[t] : 0;
        cpf += (double) cycles[t] / (double) pages / nthreads;
        slowest = wall[t] > slowest ? wall[t] : slowest;
    }
    result("fault_scale.faults_per_mcycle", (uint64_t) (rate * 1000 + 0.5), "faults");
    result("fault_scale.faults_per_ms", (uint64_t) ((double) pages * nthreads * 1e9 / (double) slowest + 0.5), "faults");
    result("fault_scale.cycles_per_fault", (uint64_t) (cpf * 1000 + 0.5), "cycles");
    return 0;
}
