/*
 * SMP image: many short-lived children, more tasks than CPUs. The parent faults in 8 private pages,
 * then forks 200 children (argv[1] sets another count) without waiting in between; child i checks it
 * sees the parent's pages, writes to 3 of them (COW faults), maps and touches a fresh page of its
 * own, and exits with i % 7. The parent then reaps each child by pid in creation order and prints
 * the sum of the exit codes (the sum of i % 7, whatever order the children ran and exited in) and
 * checks its own pages were never changed by a child.
 */
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "smp_check.h"

#define PAGES 8
#define WORDS (SMP_PAGE / 8)
#define MAX_CHILDREN 1000

static uint64_t value(unsigned page, unsigned word) {
    return 0xF0F0000000000000ull | ((uint64_t) page << 16) | word;
}

static void child(unsigned i, uint64_t *mem) {
    for (unsigned p = 0; p < PAGES; p++) {
        if (mem[p * WORDS + i % WORDS] != value(p, i % WORDS)) {
            _exit(100);
        }
    }
    for (unsigned p = i % PAGES, n = 0; n < 3; n++, p = (p + 3) % PAGES) {
        mem[p * WORDS] = i;
        if (mem[p * WORDS] != i) {
            _exit(101);
        }
    }
    volatile uint64_t *own = mmap(NULL, SMP_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (own == MAP_FAILED) {
        _exit(102);
    }
    own[i % WORDS] = i;
    if (own[i % WORDS] != i || own[(i + 1) % WORDS] != 0) {
        _exit(103);
    }
    _exit((int) (i % 7));
}

int main(int argc, char **argv) {
    unsigned n = 200;
    if (argc > 1) {
        n = (unsigned) strtoul(argv[1], NULL, 10);
        if (n < 1 || n > MAX_CHILDREN) {
            smp_fail("children: 1..%d", MAX_CHILDREN);
        }
    }
    uint64_t *mem = mmap(NULL, PAGES * SMP_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) {
        smp_fail("mmap: %s", strerror(errno));
    }
    for (unsigned p = 0; p < PAGES; p++) {
        for (unsigned w = 0; w < WORDS; w++) {
            mem[p * WORDS + w] = value(p, w);
        }
    }
    static pid_t pids[MAX_CHILDREN];
    fflush(stdout);
    for (unsigned i = 0; i < n; i++) {
        pids[i] = fork();
        if (pids[i] == -1) {
            smp_fail("fork of child %u: %s", i, strerror(errno));
        }
        if (pids[i] == 0) {
            child(i, mem);
        }
    }
    unsigned long sum = 0, expected = 0;
    for (unsigned i = 0; i < n; i++) {
        int st;
        pid_t r;
        do {
            r = waitpid(pids[i], &st, 0);
        } while (r == -1 && errno == EINTR);
        if (r != pids[i]) {
            smp_fail("waitpid child %u: %s", i, r == -1 ? strerror(errno) : "wrong pid");
        }
        if (!WIFEXITED(st)) {
            smp_fail("child %u killed by signal %d", i, WIFSIGNALED(st) ? WTERMSIG(st) : -1);
        }
        if (WEXITSTATUS(st) != (int) (i % 7)) {
            smp_fail("child %u exited %d, want %u (100: did not see the parent's pages, 101: its COW write "
                     "did not read back, 102: mmap failed, 103: its new page was wrong)",
                     i, WEXITSTATUS(st), i % 7);
        }
        sum += (unsigned long) WEXITSTATUS(st);
        expected += i % 7;
    }
    int st;
    if (waitpid(-1, &st, WNOHANG) != -1 || errno != ECHILD) {
        smp_fail("a child is left after reaping all %u", n);
    }
    for (unsigned p = 0; p < PAGES; p++) {
        for (unsigned w = 0; w < WORDS; w++) {
            if (mem[p * WORDS + w] != value(p, w)) {
                smp_fail("parent page %u word %u changed by a child", p, w);
            }
        }
    }
    printf("fork_many: %u children reaped, sum of exit codes %lu (expected %lu)\n", n, sum, expected);
    return sum == expected ? 0 : 1;
}
