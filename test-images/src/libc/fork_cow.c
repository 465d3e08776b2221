/*
 * SMP image: fork and copy-on-write isolation (Linux mm/memory.c copy_page_range, do_wp_page).
 *
 * 1. Private memory after fork. The parent fills 16 anonymous pages and a .data array, maps one
 *    MAP_SHARED|MAP_ANONYMOUS page, forks, then overwrites half the anonymous pages and the array
 *    and then sets a "go" word in the shared page. The child waits for it (sched_yield, no pipe or
 *    futex needed) and must still see the pre-fork values everywhere
 *    (the parent's writes went to its own copies), writes its own pattern, reads it back, writes a
 *    marker into the shared page and exits 42. The parent, after wait4, must see its own values
 *    (the child's writes went to the child's copies) and the child's marker in the shared page.
 * 2. Fork while another thread is writing. A thread rewrites 4 pages nonstop, counting its rounds
 *    in a MAP_SHARED page; main forks meanwhile and the thread goes on until the child has exited.
 *    The child has one thread, so its copy must never change once fork returned: it snapshots the
 *    pages, waits (sched_yield) until the parent's thread has completed two more whole rounds, and
 *    compares. A parent thread still writing through a TLB entry that fork's write-protect did not
 *    shoot down would show up here as a change in the child's copy. Exits 43.
 * 3. Fork with sleeping threads. Three threads fill their pages then wait in a barrier; main forks
 *    while they sleep; the child checks their pages, overwrites them and exits 44; the parent then
 *    releases the threads, which check that their pages are unchanged.
 * A child reports a failure through its exit status (1..), the parent prints what it means; output
 * is the same on any CPU count and interleaving.
 * build.sh cflags: -pthread
 */
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "smp_check.h"

#define PRIV_PAGES 16
#define WORDS (SMP_PAGE / 8)

static uint64_t data_array[512] = {1}; /* in .data: a file-backed private page after exec */

static uint64_t pattern(uint64_t tag, unsigned page, unsigned word) {
    return (tag << 56) | ((uint64_t) page << 16) | word;
}

static void *map_anon(size_t pages, int flags) {
    void *m = mmap(NULL, pages * SMP_PAGE, PROT_READ | PROT_WRITE, flags | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) {
        smp_fail("mmap %zu pages: %s", pages, strerror(errno));
    }
    return m;
}

static int region_is(const uint64_t *r, unsigned from, unsigned to, uint64_t tag) {
    for (unsigned p = from; p < to; p++) {
        for (unsigned w = 0; w < WORDS; w++) {
            if (r[p * WORDS + w] != pattern(tag, p, w)) {
                return 0;
            }
        }
    }
    return 1;
}

static void fill(uint64_t *r, unsigned from, unsigned to, uint64_t tag) {
    for (unsigned p = from; p < to; p++) {
        for (unsigned w = 0; w < WORDS; w++) {
            r[p * WORDS + w] = pattern(tag, p, w);
        }
    }
}

static int array_is(uint64_t base) {
    for (unsigned i = 0; i < 512; i++) {
        if (data_array[i] != base + i) {
            return 0;
        }
    }
    return 1;
}

static void array_fill(uint64_t base) {
    for (unsigned i = 0; i < 512; i++) {
        data_array[i] = base + i;
    }
}

/* wait4 for pid; returns the exit code, fails the image if the child was killed. */
static int wait_exit_code(pid_t pid, const char *what) {
    int st;
    pid_t r;
    do {
        r = waitpid(pid, &st, 0);
    } while (r == -1 && errno == EINTR);
    if (r != pid) {
        smp_fail("%s: waitpid: %s", what, r == -1 ? strerror(errno) : "wrong pid");
    }
    if (!WIFEXITED(st)) {
        smp_fail("%s: child killed by signal %d", what, WIFSIGNALED(st) ? WTERMSIG(st) : -1);
    }
    return WEXITSTATUS(st);
}

static pid_t fork_checked(void) {
    fflush(stdout); /* the child must not inherit unwritten output */
    pid_t pid = fork();
    if (pid == -1) {
        smp_fail("fork: %s", strerror(errno));
    }
    return pid;
}

/* ---- 1. private memory after fork ---- */

static void private_after_fork(void) {
    uint64_t *r = map_anon(PRIV_PAGES, MAP_PRIVATE);
    volatile uint64_t *shared = map_anon(1, MAP_SHARED); /* [0]: the child's marker, [1]: go */
    fill(r, 0, PRIV_PAGES, 0xA);
    array_fill(1000);
    shared[0] = 7;
    pid_t pid = fork_checked();
    if (pid == 0) {
        while (__atomic_load_n(&shared[1], __ATOMIC_ACQUIRE) == 0) {
            sched_yield();
        }
        if (!region_is(r, 0, PRIV_PAGES, 0xA)) {
            _exit(3); /* the parent's post-fork writes leaked into the child */
        }
        if (!array_is(1000)) {
            _exit(4);
        }
        if (shared[0] != 7) {
            _exit(5);
        }
        fill(r, 0, PRIV_PAGES, 0xB);
        array_fill(5000);
        if (!region_is(r, 0, PRIV_PAGES, 0xB) || !array_is(5000)) {
            _exit(6);
        }
        shared[0] = 0xC41D;
        _exit(42);
    }
    fill(r, 0, PRIV_PAGES / 2, 0xC);
    array_fill(9000);
    __atomic_store_n(&shared[1], 1, __ATOMIC_RELEASE);
    int code = wait_exit_code(pid, "private");
    static const char *const why[] = {"", "", "", "saw the parent's post-fork writes",
                                      "saw the parent's post-fork .data writes", "shared page wrong before its write",
                                      "its own writes did not read back"};
    if (code != 42) {
        smp_fail("private: child exited %d (%s)", code, code < 7 ? why[code] : "?");
    }
    if (!region_is(r, 0, PRIV_PAGES / 2, 0xC) || !region_is(r, PRIV_PAGES / 2, PRIV_PAGES, 0xA)) {
        smp_fail("private: the parent's pages changed (child's writes leaked into the parent)");
    }
    if (!array_is(9000)) {
        smp_fail("private: the parent's .data changed");
    }
    if (shared[0] != 0xC41D) {
        smp_fail("private: the MAP_SHARED page does not show the child's write (%#llx)",
                 (unsigned long long) shared[0]);
    }
    SMP_CHECK(munmap(r, PRIV_PAGES * SMP_PAGE));
    SMP_CHECK(munmap((void *) shared, SMP_PAGE));
    printf("private: child exited %d; child saw pre-fork values, parent kept its own, shared page shared\n", code);
}

/* ---- 2. fork while a thread writes ---- */

#define BUSY_PAGES 4
static uint64_t *busy;
static int busy_stop;
static uint64_t *busy_rounds; /* in a MAP_SHARED page: the child sees the parent thread's progress */

static void *busy_writer(void *arg) {
    (void) arg;
    uint64_t n = 0;
    while (!__atomic_load_n(&busy_stop, __ATOMIC_ACQUIRE)) {
        n++;
        for (unsigned i = 0; i < BUSY_PAGES * WORDS; i += 8) {
            __atomic_store_n(&busy[i], n, __ATOMIC_RELAXED);
        }
        __atomic_fetch_add(busy_rounds, 1, __ATOMIC_RELEASE);
    }
    return NULL;
}

static void fork_during_writes(void) {
    busy = map_anon(BUSY_PAGES, MAP_PRIVATE);
    busy_rounds = map_anon(1, MAP_SHARED);
    pthread_t t;
    SMP_PCHECK(pthread_create(&t, NULL, busy_writer, NULL));
    while (__atomic_load_n(busy_rounds, __ATOMIC_ACQUIRE) < 3) {
        sched_yield();
    }
    pid_t pid = fork_checked();
    if (pid == 0) {
        static uint64_t snap[BUSY_PAGES * WORDS];
        volatile uint64_t *b = busy;
        for (unsigned i = 0; i < BUSY_PAGES * WORDS; i++) {
            snap[i] = b[i];
        }
        /* Rounds that start after this load start after the snapshot: wait for two whole ones. */
        uint64_t r0 = __atomic_load_n(busy_rounds, __ATOMIC_ACQUIRE);
        while (__atomic_load_n(busy_rounds, __ATOMIC_ACQUIRE) < r0 + 3) {
            sched_yield();
        }
        for (unsigned i = 0; i < BUSY_PAGES * WORDS; i += 8) {
            if (b[i] != snap[i]) {
                _exit(20); /* a parent thread wrote into the child's copy */
            }
        }
        b[0] = ~snap[0]; /* and the child's own write faults in its copy */
        if (b[0] != ~snap[0]) {
            _exit(21);
        }
        _exit(43);
    }
    int code = wait_exit_code(pid, "busy"); /* the thread goes on writing until the child is done */
    __atomic_store_n(&busy_stop, 1, __ATOMIC_RELEASE);
    SMP_PCHECK(pthread_join(t, NULL));
    if (code != 43) {
        smp_fail("fork during writes: child exited %d (%s)", code,
                 code == 20 ? "its copy changed after fork: a parent thread wrote into it" : "?");
    }
    SMP_CHECK(munmap(busy, BUSY_PAGES * SMP_PAGE));
    SMP_CHECK(munmap(busy_rounds, SMP_PAGE));
    printf("fork during writes: child exited %d; its copy never changed\n", code);
}

/* ---- 3. fork with sleeping threads ---- */

#define SLEEPERS 3
#define SLEEPER_PAGES 8
static uint64_t *sleeper_mem;
static pthread_barrier_t filled, released;

static void *sleeper(void *arg) {
    unsigned t = (unsigned) (uintptr_t) arg;
    fill(sleeper_mem, t * SLEEPER_PAGES, (t + 1) * SLEEPER_PAGES, 0x10 + t);
    int rc = pthread_barrier_wait(&filled);
    if (rc == 0 || rc == PTHREAD_BARRIER_SERIAL_THREAD) {
        rc = pthread_barrier_wait(&released);
    }
    if (rc != 0 && rc != PTHREAD_BARRIER_SERIAL_THREAD) {
        smp_fail("sleeper barrier: %s", strerror(rc));
    }
    if (!region_is(sleeper_mem, t * SLEEPER_PAGES, (t + 1) * SLEEPER_PAGES, 0x10 + t)) {
        smp_fail("sleeper %u: its pages changed across the child's writes", t);
    }
    return NULL;
}

static void fork_with_sleepers(void) {
    sleeper_mem = map_anon(SLEEPERS * SLEEPER_PAGES, MAP_PRIVATE);
    SMP_PCHECK(pthread_barrier_init(&filled, NULL, SLEEPERS + 1));
    SMP_PCHECK(pthread_barrier_init(&released, NULL, SLEEPERS + 1));
    pthread_t t[SLEEPERS];
    for (unsigned i = 0; i < SLEEPERS; i++) {
        SMP_PCHECK(pthread_create(&t[i], NULL, sleeper, (void *) (uintptr_t) i));
    }
    int rc = pthread_barrier_wait(&filled);
    if (rc != 0 && rc != PTHREAD_BARRIER_SERIAL_THREAD) {
        smp_fail("barrier: %s", strerror(rc));
    }
    pid_t pid = fork_checked();
    if (pid == 0) {
        for (unsigned i = 0; i < SLEEPERS; i++) {
            if (!region_is(sleeper_mem, i * SLEEPER_PAGES, (i + 1) * SLEEPER_PAGES, 0x10 + i)) {
                _exit(30);
            }
        }
        fill(sleeper_mem, 0, SLEEPERS * SLEEPER_PAGES, 0x3F);
        _exit(44);
    }
    int code = wait_exit_code(pid, "sleepers");
    if (code != 44) {
        smp_fail("fork with sleeping threads: child exited %d (%s)", code,
                 code == 30 ? "did not see the threads' pages" : "?");
    }
    rc = pthread_barrier_wait(&released);
    if (rc != 0 && rc != PTHREAD_BARRIER_SERIAL_THREAD) {
        smp_fail("barrier: %s", strerror(rc));
    }
    for (unsigned i = 0; i < SLEEPERS; i++) {
        SMP_PCHECK(pthread_join(t[i], NULL));
    }
    SMP_PCHECK(pthread_barrier_destroy(&filled));
    SMP_PCHECK(pthread_barrier_destroy(&released));
    SMP_CHECK(munmap(sleeper_mem, SLEEPERS * SLEEPER_PAGES * SMP_PAGE));
    printf("fork with %d sleeping threads: child exited %d; threads' pages unchanged in the parent\n", SLEEPERS,
           code);
}

int main(void) {
    private_after_fork();
    fork_during_writes();
    fork_with_sleepers();
    printf("fork_cow: ok\n");
    return 0;
}
