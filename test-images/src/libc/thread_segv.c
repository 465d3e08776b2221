/*
 * SMP image: a fatal signal in one thread kills the whole thread group (Linux kernel/signal.c
 * get_signal -> do_group_exit; complete_signal picks the group for a fatal signal). A thread
 * loads from an unmapped address with SIGSEGV at its default action while main sleeps in pause():
 * the process must die of SIGSEGV, status 139 to the parent, main never returns. The thread only
 * faults after main printed and flushed its line, so stdout is the same whatever the scheduling.
 * If thread creation fails the image says so and exits 1 instead of pausing forever.
 * build.sh cflags: -pthread
 */
#include <pthread.h>
#include <unistd.h>

#include "smp_check.h"

static pthread_barrier_t printed;
static volatile int *volatile bad = (volatile int *) 16; /* page 0 is never mapped */

static void *faulter(void *arg) {
    (void) arg;
    int rc = pthread_barrier_wait(&printed);
    if (rc != 0 && rc != PTHREAD_BARRIER_SERIAL_THREAD) {
        smp_fail("barrier: %s", strerror(rc));
    }
    return (void *) (intptr_t) *bad;
}

int main(void) {
    SMP_PCHECK(pthread_barrier_init(&printed, NULL, 2));
    pthread_t t;
    SMP_PCHECK(pthread_create(&t, NULL, faulter, NULL));
    printf("thread_segv: main pauses, the thread loads from address 16\n");
    fflush(stdout);
    int rc = pthread_barrier_wait(&printed);
    if (rc != 0 && rc != PTHREAD_BARRIER_SERIAL_THREAD) {
        smp_fail("barrier: %s", strerror(rc));
    }
    for (;;) {
        pause();
    }
}
