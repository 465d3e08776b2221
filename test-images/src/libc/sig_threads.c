/*
 * SMP image: process-directed signals in a threaded process (Linux kernel/signal.c complete_signal,
 * dequeue_signal, do_sigtimedwait; do_notify_parent for SIGCHLD). kill(getpid()) queues the signal on
 * the process, and whichever thread does not block it takes it:
 *  1. main blocks SIGUSR1 and a worker takes it in sigsuspend (the worker blocks it outside sigsuspend,
 *     so the signal waits in the process's queue until the worker unblocks it);
 *  2. main blocks SIGUSR2 and a worker takes it with sigwait (rt_sigtimedwait), no handler;
 *  3. both block SIGTERM; sigpending shows it, sigtimedwait with a zero timeout takes it in main;
 *  4. main blocks SIGCHLD and a worker's SA_SIGINFO handler gets the child's si_code and si_status.
 * Only main prints, after joining the worker, so stdout does not depend on scheduling.
 * build.sh cflags: -pthread
 */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "smp_check.h"

static pthread_t worker;
static volatile sig_atomic_t usr1_in_worker, usr1_count, chld_code, chld_status, chld_in_worker, chld_count;

static void on_usr1(int sig) {
    (void) sig;
    usr1_in_worker = pthread_equal(pthread_self(), worker);
    usr1_count++;
}

static void on_chld(int sig, siginfo_t *si, void *uc) {
    (void) sig;
    (void) uc;
    chld_in_worker = pthread_equal(pthread_self(), worker);
    chld_code = si->si_code;
    chld_status = si->si_status;
    chld_count++;
}

static sigset_t only(int sig) {
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, sig);
    return s;
}

/* Waits in sigsuspend, with `sig` unblocked and the rest of the mask as it is, until *flag is set. */
static void *suspend_until(int sig, volatile sig_atomic_t *flag) {
    sigset_t wait_mask;
    SMP_PCHECK(pthread_sigmask(SIG_SETMASK, NULL, &wait_mask));
    sigdelset(&wait_mask, sig);
    while (!*flag) {
        sigsuspend(&wait_mask);
    }
    return NULL;
}

static void *usr1_worker(void *arg) {
    (void) arg;
    return suspend_until(SIGUSR1, &usr1_count);
}

static void *usr2_worker(void *arg) {
    sigset_t s = only(SIGUSR2);
    int sig = 0;
    int rc = sigwait(&s, &sig);
    if (rc != 0) {
        smp_fail("sigwait: %s", strerror(rc));
    }
    *(int *) arg = sig;
    return NULL;
}

static void *chld_worker(void *arg) {
    (void) arg;
    return suspend_until(SIGCHLD, &chld_count);
}

int main(void) {
    struct sigaction sa = {0};
    sa.sa_handler = on_usr1;
    if (sigaction(SIGUSR1, &sa, NULL) != 0) {
        smp_fail("sigaction: %s", strerror(errno));
    }
    /* 1: the process's SIGUSR1 goes to the worker, the one thread that unblocks it */
    sigset_t s = only(SIGUSR1);
    SMP_PCHECK(pthread_sigmask(SIG_BLOCK, &s, NULL));
    SMP_PCHECK(pthread_create(&worker, NULL, usr1_worker, NULL));
    if (kill(getpid(), SIGUSR1) != 0) {
        smp_fail("kill: %s", strerror(errno));
    }
    SMP_PCHECK(pthread_join(worker, NULL));
    printf("SIGUSR1 blocked in main: handled %d time(s), in the worker: %s\n", (int) usr1_count,
           usr1_in_worker ? "yes" : "no");

    /* 2: sigwait in a worker takes a process signal every thread blocks */
    s = only(SIGUSR2);
    SMP_PCHECK(pthread_sigmask(SIG_BLOCK, &s, NULL));
    int got = 0;
    SMP_PCHECK(pthread_create(&worker, NULL, usr2_worker, &got));
    if (kill(getpid(), SIGUSR2) != 0) {
        smp_fail("kill: %s", strerror(errno));
    }
    SMP_PCHECK(pthread_join(worker, NULL));
    printf("sigwait in the worker returned %s\n", got == SIGUSR2 ? "SIGUSR2" : "something else");

    /* 3: pending on the process while blocked; sigtimedwait with a zero timeout */
    s = only(SIGTERM);
    SMP_PCHECK(pthread_sigmask(SIG_BLOCK, &s, NULL));
    struct timespec zero = {0, 0};
    siginfo_t si;
    int r = sigtimedwait(&s, &si, &zero);
    printf("sigtimedwait with nothing pending: %s\n", r < 0 && errno == EAGAIN ? "EAGAIN" : "unexpected");
    if (kill(getpid(), SIGTERM) != 0) {
        smp_fail("kill: %s", strerror(errno));
    }
    sigset_t pend;
    sigpending(&pend);
    printf("sigpending after kill: SIGTERM %s\n", sigismember(&pend, SIGTERM) ? "pending" : "not pending");
    r = sigtimedwait(&s, &si, &zero);
    printf("sigtimedwait: %s, si_code SI_USER %s, si_pid is getpid() %s\n", r == SIGTERM ? "SIGTERM" : "other",
           si.si_code == SI_USER ? "yes" : "no", si.si_pid == getpid() ? "yes" : "no");
    sigpending(&pend);
    printf("sigpending after: SIGTERM %s\n", sigismember(&pend, SIGTERM) ? "pending" : "not pending");

    /* 4: SIGCHLD with si_status, to the worker while main blocks it */
    struct sigaction ca = {0};
    ca.sa_sigaction = on_chld;
    ca.sa_flags = SA_SIGINFO;
    if (sigaction(SIGCHLD, &ca, NULL) != 0) {
        smp_fail("sigaction: %s", strerror(errno));
    }
    s = only(SIGCHLD);
    SMP_PCHECK(pthread_sigmask(SIG_BLOCK, &s, NULL));
    SMP_PCHECK(pthread_create(&worker, NULL, chld_worker, NULL));
    pid_t pid = fork();
    if (pid < 0) {
        smp_fail("fork: %s", strerror(errno));
    }
    if (pid == 0) {
        _exit(42);
    }
    SMP_PCHECK(pthread_join(worker, NULL));
    int status = 0;
    if (waitpid(pid, &status, 0) != pid) {
        smp_fail("waitpid: %s", strerror(errno));
    }
    printf("SIGCHLD in the worker: %s, si_code %s, si_status %d, WEXITSTATUS %d\n", chld_in_worker ? "yes" : "no",
           chld_code == CLD_EXITED ? "CLD_EXITED" : "other", (int) chld_status, WEXITSTATUS(status));
    return 0;
}
