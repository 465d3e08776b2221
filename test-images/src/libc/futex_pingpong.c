/*
 * SMP image: raw futex(2) (Linux kernel/futex/waitwake.c futex_wait/futex_wake, core.c
 * get_futex_key) without libc's locks around it.
 *
 * 1. Private futex: two threads pass a turn word back and forth 10,000 times each (argv[1] sets
 *    the rounds): wait with FUTEX_WAIT_PRIVATE while the turn is the other side's, take it, check
 *    the ball counter proves strict alternation, hand the turn over, FUTEX_WAKE_PRIVATE.
 * 2. Shared futex: the same between the parent and a forked child on a word in a
 *    MAP_SHARED|MAP_ANONYMOUS page (FUTEX_WAIT/FUTEX_WAKE without the private flag: the key is the
 *    page, not the address space), 1,000 rounds each (a tenth of argv[1]).
 * 3. Errors: FUTEX_WAIT on an unmapped address gives EFAULT, on a word that does not hold the
 *    expected value EAGAIN.
 * How many waits actually slept and how many wakes found a waiter depends on scheduling, so only
 * the round counts and the ball are printed.
 * build.sh cflags: -pthread
 */
#include <pthread.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "smp_check.h"

/* From the uapi's linux/futex.h, which musl-gcc's include path does not have. */
#define FUTEX_WAIT 0
#define FUTEX_WAKE 1
#define FUTEX_PRIVATE_FLAG 128
#define FUTEX_WAIT_PRIVATE (FUTEX_WAIT | FUTEX_PRIVATE_FLAG)

static long futex(uint32_t *addr, int op, uint32_t val) {
    return syscall(SYS_futex, addr, op, val, NULL, NULL, 0);
}

/* Sleeps while *addr == val; a spurious or early return is fine (the caller re-checks). */
static void wait_while(uint32_t *addr, uint32_t val, int private) {
    if (futex(addr, FUTEX_WAIT | (private ? FUTEX_PRIVATE_FLAG : 0), val) == -1 && errno != EAGAIN && errno != EINTR) {
        smp_fail("futex(FUTEX_WAIT%s): %s", private ? "_PRIVATE" : "", strerror(errno));
    }
}

static void wake_one(uint32_t *addr, int private) {
    if (futex(addr, FUTEX_WAKE | (private ? FUTEX_PRIVATE_FLAG : 0), 1) == -1) {
        smp_fail("futex(FUTEX_WAKE%s): %s", private ? "_PRIVATE" : "", strerror(errno));
    }
}

/* The shared state of one ping-pong: whose turn it is (0 or 1) and how often the ball was hit. */
struct table {
    uint32_t turn;
    uint32_t ball;
};

/* Plays side me (0 or 1) for rounds rounds; returns how many rounds it played. */
static unsigned play(struct table *t, unsigned me, unsigned rounds, int private) {
    for (unsigned i = 0; i < rounds; i++) {
        uint32_t turn;
        while ((turn = __atomic_load_n(&t->turn, __ATOMIC_ACQUIRE)) != me) {
            wait_while(&t->turn, turn, private);
        }
        uint32_t ball = __atomic_load_n(&t->ball, __ATOMIC_RELAXED);
        if (ball != 2 * i + me) {
            smp_fail("side %u round %u: ball %u, want %u (no strict alternation)", me, i, ball, 2 * i + me);
        }
        __atomic_store_n(&t->ball, ball + 1, __ATOMIC_RELAXED);
        __atomic_store_n(&t->turn, 1 - me, __ATOMIC_RELEASE);
        wake_one(&t->turn, private);
    }
    return rounds;
}

static struct table private_table;
static unsigned rounds = 10000;

static void *pong(void *arg) {
    (void) arg;
    return (void *) (uintptr_t) play(&private_table, 1, rounds, 1);
}

int main(int argc, char **argv) {
    if (argc > 1) {
        rounds = (unsigned) strtoul(argv[1], NULL, 10);
        if (rounds < 10 || rounds > 10000000) {
            smp_fail("rounds: 10..10000000");
        }
    }
    /* 1. threads, private futex */
    pthread_t t;
    SMP_PCHECK(pthread_create(&t, NULL, pong, NULL));
    unsigned ping = play(&private_table, 0, rounds, 1);
    void *ret;
    SMP_PCHECK(pthread_join(t, &ret));
    printf("threads, private futex: ping %u, pong %u, ball %u\n", ping, (unsigned) (uintptr_t) ret,
           private_table.ball);

    /* 2. processes, shared futex in a MAP_SHARED page */
    unsigned shared_rounds = rounds / 10;
    struct table *shared = mmap(NULL, SMP_PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (shared == MAP_FAILED) {
        smp_fail("mmap MAP_SHARED: %s", strerror(errno));
    }
    fflush(stdout);
    pid_t pid = fork();
    if (pid == -1) {
        smp_fail("fork: %s", strerror(errno));
    }
    if (pid == 0) {
        play(shared, 1, shared_rounds, 0);
        _exit(0);
    }
    unsigned parent_rounds = play(shared, 0, shared_rounds, 0);
    int st;
    if (waitpid(pid, &st, 0) != pid) {
        smp_fail("waitpid: %s", strerror(errno));
    }
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        smp_fail("child: %s %d", WIFEXITED(st) ? "exited" : "killed by signal",
                 WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
    }
    printf("processes, shared futex: parent %u, child exited 0 after %u, ball %u\n", parent_rounds, shared_rounds,
           shared->ball);
    SMP_CHECK(munmap(shared, SMP_PAGE));

    /* 3. errors */
    uint32_t *gone = mmap(NULL, SMP_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (gone == MAP_FAILED) {
        smp_fail("mmap: %s", strerror(errno));
    }
    SMP_CHECK(munmap(gone, SMP_PAGE));
    long r = futex(gone, FUTEX_WAIT_PRIVATE, 0);
    int efault = r == -1 && errno == EFAULT;
    uint32_t word = 5;
    r = futex(&word, FUTEX_WAIT_PRIVATE, 6);
    int eagain = r == -1 && errno == EAGAIN;
    printf("FUTEX_WAIT on an unmapped address: %s; on a changed word: %s\n", efault ? "EFAULT" : "wrong",
           eagain ? "EAGAIN" : "wrong");
    return efault && eagain ? 0 : 1;
}
