/*
 * Shared by the SMP images (threads_fault, fork_cow, fork_many, munmap_race, futex_pingpong,
 * thread_segv, sig_threads): failure reporting that never hangs. Every libc/kernel call an SMP image makes is
 * checked; a failure prints one line and exits with status 1 at once (exit_group), so a kernel that
 * does not implement clone, fork or futex yet fails the image quickly instead of leaving a thread
 * spinning on a futex word that nobody will ever change.
 *
 * Output rule for these images: nothing that depends on scheduling (no fault, retry or wait counts,
 * no pids, no addresses), nothing architecture-dependent (the i386 build is checked against the
 * x86_64 recording), so a run prints the same bytes on any number of CPUs and interleavings.
 */
#ifndef SMP_CHECK_H
#define SMP_CHECK_H

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define SMP_PAGE 4096u

/* Prints "FAIL: ..." and exits 1 at once (exit_group), whatever other threads are doing. */
/* One write(2) of the whole line, so that two threads failing at once do not interleave their text. */
__attribute__((noreturn, format(printf, 1, 2))) static void smp_fail(const char *fmt, ...) {
    char line[512] = "FAIL: ";
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line + 6, sizeof line - 7, fmt, ap);
    va_end(ap);
    size_t len = 6 + (n < 0 ? 0 : (size_t) n < sizeof line - 7 ? (size_t) n : sizeof line - 8);
    line[len++] = '\n';
    fflush(stdout);
    if (write(1, line, len) < 0) {
        /* nothing left to report it with */
    }
    _exit(1);
}

/* For calls returning -1 and setting errno (mmap's MAP_FAILED is checked by the caller). */
#define SMP_CHECK(call)                                                                         \
    do {                                                                                        \
        if ((call) == -1) {                                                                     \
            smp_fail("%s (line %d): %s", #call, __LINE__, strerror(errno));                     \
        }                                                                                       \
    } while (0)

/* For pthread_* calls returning 0 or an error number. */
#define SMP_PCHECK(call)                                                                        \
    do {                                                                                        \
        int smp_rc_ = (call);                                                                   \
        if (smp_rc_ != 0) {                                                                     \
            smp_fail("%s (line %d): %s", #call, __LINE__, strerror(smp_rc_));                   \
        }                                                                                       \
    } while (0)

/* FNV-1a over 64-bit words: the same value on i386 and x86_64 for the same words. */
static inline uint64_t smp_fnv(uint64_t h, uint64_t word) {
    for (int i = 0; i < 8; i++) {
        h ^= (word >> (8 * i)) & 0xff;
        h *= 0x100000001b3ull;
    }
    return h;
}
#define SMP_FNV_INIT 0xcbf29ce484222325ull

#endif
