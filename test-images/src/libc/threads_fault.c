/*
 * SMP image: N threads (default 4; argv[1] sets 1..16) take page faults in the same mm at once.
 * One private anonymous mapping holds a disjoint slice per thread (each thread alone faults its
 * slice in, write faults on never-touched pages) followed by a shared part that every thread faults
 * at the same time: each thread first reads every shared page (read faults racing the others'
 * write faults on the same PTE), then adds 1 to the page's counter word with a LOCKed add and writes
 * its own words of the page. The threads start together from a barrier.
 *
 * Every word's final value is fixed whatever the interleaving: slice words are written by one
 * thread, shared words by their owner thread (word index mod N), the counter word of each shared
 * page ends at exactly N. Each thread checks its slice before the join; main checks everything after
 * it and prints a checksum of the whole mapping, the same on any CPU count and on i386 and x86_64.
 * build.sh cflags: -pthread
 */
#include <pthread.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "smp_check.h"

#define SLICE_PAGES 64
#define SHARED_PAGES 32
#define WORDS (SMP_PAGE / 8)
#define MAX_THREADS 16

static unsigned nthreads = 4;
static uint64_t *area; /* nthreads * SLICE_PAGES pages, then SHARED_PAGES pages */
static pthread_barrier_t start;

static uint64_t slice_value(unsigned t, unsigned page, unsigned word) {
    return ((uint64_t) (t + 1) << 48) | ((uint64_t) page << 16) | word;
}

static uint64_t shared_value(unsigned page, unsigned word) {
    return 0x5a00000000000000ull | ((uint64_t) page << 20) | word;
}

static uint64_t *slice(unsigned t) {
    return area + (size_t) t * SLICE_PAGES * WORDS;
}

static uint64_t *shared_page(unsigned p) {
    return area + ((size_t) nthreads * SLICE_PAGES + p) * WORDS;
}

static void *worker(void *arg) {
    unsigned t = (unsigned) (uintptr_t) arg;
    int rc = pthread_barrier_wait(&start);
    if (rc != 0 && rc != PTHREAD_BARRIER_SERIAL_THREAD) {
        smp_fail("pthread_barrier_wait: %s", strerror(rc));
    }
    uint64_t *mine = slice(t);
    /* Own slice: a write fault on each fresh page, a few words per page then. */
    for (unsigned p = 0; p < SLICE_PAGES; p++) {
        for (unsigned w = 0; w < WORDS; w += 61) {
            mine[p * WORDS + w] = slice_value(t, p, w);
        }
    }
    /* Shared part, all threads in the same page order: they fault the same PTE at the same time. */
    uint64_t zeros_seen_bad = 0;
    for (unsigned p = 0; p < SHARED_PAGES; p++) {
        volatile uint64_t *sp = shared_page(p);
        /* A read (maybe a read fault mapping the zero page): word 1 is either 0 or its final value. Read and
         * written as one 64-bit access (__atomic): on i386 a plain uint64_t access is two 32-bit moves, and a
         * reader between the writer's two halves saw a torn value (as it could on real hardware). */
        uint64_t seen = __atomic_load_n((uint64_t *) &sp[1], __ATOMIC_RELAXED);
        if (seen != 0 && seen != shared_value(p, 1)) {
            zeros_seen_bad++;
        }
        __atomic_fetch_add((uint64_t *) &sp[0], 1, __ATOMIC_SEQ_CST);
        for (unsigned w = 1 + t; w < WORDS; w += nthreads) {
            if (w == 1) {
                __atomic_store_n((uint64_t *) &sp[1], shared_value(p, 1), __ATOMIC_RELAXED);
            } else {
                sp[w] = shared_value(p, w);
            }
        }
    }
    if (zeros_seen_bad != 0) {
        smp_fail("thread %u read %llu shared words that were neither 0 nor their final value", t,
                 (unsigned long long) zeros_seen_bad);
    }
    for (unsigned p = 0; p < SLICE_PAGES; p++) {
        for (unsigned w = 0; w < WORDS; w++) {
            uint64_t want = w % 61 == 0 ? slice_value(t, p, w) : 0;
            if (mine[p * WORDS + w] != want) {
                smp_fail("thread %u slice page %u word %u: %#llx, want %#llx", t, p, w,
                         (unsigned long long) mine[p * WORDS + w], (unsigned long long) want);
            }
        }
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc > 1) {
        nthreads = (unsigned) strtoul(argv[1], NULL, 10);
        if (nthreads < 1 || nthreads > MAX_THREADS) {
            smp_fail("threads: 1..%d", MAX_THREADS);
        }
    }
    size_t pages = (size_t) nthreads * SLICE_PAGES + SHARED_PAGES;
    void *m = mmap(NULL, pages * SMP_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) {
        smp_fail("mmap %zu pages: %s", pages, strerror(errno));
    }
    area = m;
    SMP_PCHECK(pthread_barrier_init(&start, NULL, nthreads));
    pthread_t tid[MAX_THREADS];
    for (unsigned t = 0; t < nthreads; t++) {
        SMP_PCHECK(pthread_create(&tid[t], NULL, worker, (void *) (uintptr_t) t));
    }
    for (unsigned t = 0; t < nthreads; t++) {
        SMP_PCHECK(pthread_join(tid[t], NULL));
    }
    SMP_PCHECK(pthread_barrier_destroy(&start));

    for (unsigned p = 0; p < SHARED_PAGES; p++) {
        uint64_t *sp = shared_page(p);
        if (sp[0] != nthreads) {
            smp_fail("shared page %u counter %llu, want %u", p, (unsigned long long) sp[0], nthreads);
        }
        for (unsigned w = 1; w < WORDS; w++) {
            if (sp[w] != shared_value(p, w)) {
                smp_fail("shared page %u word %u: %#llx", p, w, (unsigned long long) sp[w]);
            }
        }
    }
    uint64_t h = SMP_FNV_INIT;
    for (size_t i = 0; i < pages * WORDS; i++) {
        h = smp_fnv(h, area[i]);
    }
    SMP_CHECK(munmap(m, pages * SMP_PAGE));
    printf("threads_fault: %u threads, %u slice pages each, %u shared pages: checksum %016llx ok\n", nthreads,
           SLICE_PAGES, SHARED_PAGES, (unsigned long long) h);
    return 0;
}
