/*
 * SMP image: munmap racing with another thread's loads (Linux mm/mmap.c do_vmi_munmap, the TLB
 * shootdown of mm/mmu_gather.c before the frames are freed). The reader must see the data of a
 * live mapping or take SIGSEGV, never the contents of a mapping that is gone.
 *
 * A 4-page region at a fixed address X is mapped G times (default 64, argv[1] sets 2..1000), each
 * "generation" g filled with words v = g << 16 | page << 10 | word (32-bit words, never 0 once
 * filled). The remapper thread, for g = 2..G: stores unmapping = g-1; removes generation g-1 (even
 * g: munmap, yield, then mmap MAP_FIXED at X; odd g: mmap MAP_FIXED straight over it); stores
 * unmapped = g-1; fills generation g; stores filled = g; then waits until the reader has completed
 * two whole passes over the region, so every generation is read at least once.
 *
 * The reader loops over the region under a SIGSEGV handler (sigsetjmp/siglongjmp). For every load
 * it reads u0 = unmapped and f = filled before and ui = unmapping after, and requires:
 *   - a SIGSEGV, or a 0 (a newer mapping not filled yet), only if ui >= f: the removal of the
 *     generation it knew to be complete had started;
 *   - a nonzero v with the page and word of the address loaded (no other page's frame), a
 *     generation >= f (that one was complete before the load), > u0 (older ones were gone, TLB
 *     entries included, before the load), <= ui + 1 (not from the future), and never older than a
 *     generation it has already seen in any word (once generation h is seen, h-1 is gone for good).
 * Each rule holds under every interleaving; a stale TLB entry or a frame freed before the shootdown
 * breaks one of them. The output (the counts G and pages, and that every generation was seen) does
 * not depend on timing; fault and zero counts, which do, are not printed.
 * build.sh cflags: -pthread
 */
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "smp_check.h"

#define PAGES 4
#define WORDS (SMP_PAGE / 4)
#define STRIDE 37 /* words between two loads of a pass: about 28 loads per page */
#define MAX_GEN 1000

static unsigned generations = 64;
static volatile uint32_t *region; /* X */
static unsigned unmapping, unmapped, filled, done, passes;

static uint32_t value(unsigned g, unsigned page, unsigned word) {
    return (uint32_t) g << 16 | page << 10 | word;
}

static void map_generation(unsigned g, int fixed) {
    void *want = (void *) region;
    void *m = mmap(want, PAGES * SMP_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | (fixed ? MAP_FIXED : 0),
                   -1, 0);
    if (m == MAP_FAILED || (fixed && m != want)) {
        smp_fail("mmap generation %u: %s", g, m == MAP_FAILED ? strerror(errno) : "not at the fixed address");
    }
    region = m;
}

static void fill(unsigned g) {
    for (unsigned p = 0; p < PAGES; p++) {
        for (unsigned w = 0; w < WORDS; w++) {
            region[p * WORDS + w] = value(g, p, w);
        }
    }
}

/* Until the reader has completed two passes that began after this call: one of them read it all. */
static void wait_two_passes(void) {
    unsigned p0 = __atomic_load_n(&passes, __ATOMIC_SEQ_CST);
    while (__atomic_load_n(&passes, __ATOMIC_SEQ_CST) < p0 + 2) {
        sched_yield();
    }
}

static void *remapper(void *arg) {
    (void) arg;
    wait_two_passes(); /* generation 1 */
    for (unsigned g = 2; g <= generations; g++) {
        __atomic_store_n(&unmapping, g - 1, __ATOMIC_SEQ_CST);
        if (g % 2 == 0) {
            SMP_CHECK(munmap((void *) region, PAGES * SMP_PAGE));
            sched_yield(); /* a window with nothing mapped at X */
            map_generation(g, 1);
        } else {
            map_generation(g, 1); /* MAP_FIXED over the live mapping: unmap and map in one call */
        }
        __atomic_store_n(&unmapped, g - 1, __ATOMIC_SEQ_CST);
        fill(g);
        __atomic_store_n(&filled, g, __ATOMIC_SEQ_CST);
        wait_two_passes();
    }
    __atomic_store_n(&done, 1, __ATOMIC_SEQ_CST);
    return NULL;
}

/* Reader state; volatile because siglongjmp returns into the middle of a pass. */
static sigjmp_buf jb;
static volatile sig_atomic_t reading;
static volatile unsigned cur, cur_u0, cur_f, max_seen;
static unsigned char seen[MAX_GEN + 1];

static void on_segv(int sig) {
    if (!reading) {
        signal(sig, SIG_DFL); /* not the reader's load: die of it (status 139) */
        return;
    }
    reading = 0;
    siglongjmp(jb, 1);
}

static unsigned loads_per_pass(void) {
    return PAGES * ((WORDS + STRIDE - 1) / STRIDE);
}

static void word_of(unsigned i, unsigned *page, unsigned *word) {
    unsigned per_page = (WORDS + STRIDE - 1) / STRIDE;
    *page = i / per_page;
    *word = i % per_page * STRIDE;
}

static void check_fault_or_zero(const char *what) {
    unsigned ui = __atomic_load_n(&unmapping, __ATOMIC_SEQ_CST);
    if (ui < cur_f) {
        unsigned p, w;
        word_of(cur, &p, &w);
        smp_fail("%s at page %u word %u while generation %u was complete and no removal had started (unmapping=%u)",
                 what, p, w, cur_f, ui);
    }
}

static void check_value(uint32_t v) {
    unsigned ui = __atomic_load_n(&unmapping, __ATOMIC_SEQ_CST);
    unsigned p, w;
    word_of(cur, &p, &w);
    if (v == 0) {
        check_fault_or_zero("read 0");
        return;
    }
    unsigned g = v >> 16;
    if (((v >> 10) & 63) != p || (v & 1023) != w) {
        smp_fail("page %u word %u holds %#x: another page's data (generation %u)", p, w, (unsigned) v, g);
    }
    if (g < cur_f || g <= cur_u0 || g > ui + 1 || g < max_seen) {
        smp_fail("stale or impossible value at page %u word %u: generation %u (complete %u, removed <= %u, "
                 "removal started <= %u, newest seen %u)",
                 p, w, g, cur_f, cur_u0, ui, max_seen);
    }
    max_seen = g;
    seen[g] = 1;
}

static void reader_pass(void) {
    unsigned n = loads_per_pass();
    cur = 0;
    if (sigsetjmp(jb, 1) != 0) {
        check_fault_or_zero("SIGSEGV");
        cur = cur + 1;
        sched_yield(); /* nothing mapped: let the remapper get on (one CPU would fault a whole quantum) */
    }
    while (cur < n) {
        unsigned p, w;
        word_of(cur, &p, &w);
        cur_u0 = __atomic_load_n(&unmapped, __ATOMIC_SEQ_CST);
        cur_f = __atomic_load_n(&filled, __ATOMIC_SEQ_CST);
        reading = 1;
        uint32_t v = region[p * WORDS + w];
        reading = 0;
        check_value(v);
        cur = cur + 1;
    }
}

static void *reader(void *arg) {
    (void) arg;
    while (!__atomic_load_n(&done, __ATOMIC_SEQ_CST)) {
        reader_pass();
        __atomic_fetch_add(&passes, 1, __ATOMIC_SEQ_CST);
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc > 1) {
        generations = (unsigned) strtoul(argv[1], NULL, 10);
        if (generations < 2 || generations > MAX_GEN) {
            smp_fail("generations: 2..%d", MAX_GEN);
        }
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_segv;
    sigemptyset(&sa.sa_mask);
    SMP_CHECK(sigaction(SIGSEGV, &sa, NULL));

    region = NULL;
    map_generation(1, 0);
    fill(1);
    __atomic_store_n(&filled, 1, __ATOMIC_SEQ_CST);

    pthread_t r, m;
    SMP_PCHECK(pthread_create(&r, NULL, reader, NULL));
    SMP_PCHECK(pthread_create(&m, NULL, remapper, NULL));
    SMP_PCHECK(pthread_join(m, NULL));
    SMP_PCHECK(pthread_join(r, NULL));
    for (unsigned g = 1; g <= generations; g++) {
        if (!seen[g]) {
            smp_fail("generation %u was never read", g);
        }
    }
    SMP_CHECK(munmap((void *) region, PAGES * SMP_PAGE));
    printf("munmap_race: %u generations of %u pages, each read while live, no stale value: ok\n", generations, PAGES);
    return 0;
}
