/*
 * process_vm_readv/writev between processes: a parent reads and writes a forked child's memory (the
 * child sees the bytes the parent wrote; copy-on-write keeps the parent's own copy apart), an iovec
 * list scattered on both sides, a partial copy stopping at the child's unmapped page, EFAULT when
 * nothing can be copied (an unmapped or read-only remote page, an unwritable local buffer), EINVAL for
 * flags and too many iovecs, and ESRCH for a zombie (no mm any more), a reaped pid and pid 0 / -1.
 *
 * Every value printed is a count, a byte or an errno name: the i386 build is checked against the
 * x86_64 recording.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#define P 4096L

static const char *err(long r) {
    if (r >= 0) {
        return "ok";
    }
    switch (errno) {
    case EINVAL: return "EINVAL";
    case EFAULT: return "EFAULT";
    case ESRCH: return "ESRCH";
    case EPERM: return "EPERM";
    case ENOMEM: return "ENOMEM";
    default: return "other";
    }
}

static void show(const char *what, long r) {
    if (r < 0) {
        printf("%s: %s\n", what, err(r));
    } else {
        printf("%s: %ld bytes\n", what, r);
    }
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    /* Three pages, the third unmapped before the fork; the second read-only. */
    char *area = mmap(NULL, 3 * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    memset(area, 'p', 2 * P);
    strcpy(area, "parent data");
    mprotect(area + P, P, PROT_READ);
    munmap(area + 2 * P, P);
    int go[2], done[2];
    pipe(go);
    pipe(done);
    pid_t c = fork();
    if (c == 0) {
        /* The child changes its copy, then waits while the parent reads and writes it. */
        strcpy(area, "child data!");
        char b = 1;
        write(done[1], &b, 1);
        read(go[0], &b, 1);
        printf("child sees: %.11s %.5s\n", area, area + 100);
        fflush(stdout);
        _exit(0);
    }
    char b;
    read(done[0], &b, 1);
    char buf[64] = {0};
    struct iovec l = {buf, 11}, r = {area, 11};
    show("readv child", process_vm_readv(c, &l, 1, &r, 1, 0));
    printf("  got %s, parent keeps %.11s\n", buf, area);

    char a1[4] = {0}, a2[8] = {0};
    struct iovec ls[2] = {{a1, 3}, {a2, 5}}, rs[2] = {{area + 6, 5}, {area, 3}};
    show("scattered readv", process_vm_readv(c, ls, 2, rs, 2, 0));
    printf("  %s|%s\n", a1, a2);

    struct iovec wl = {"HELLO", 5}, wr = {area + 100, 5};
    show("writev child", process_vm_writev(c, &wl, 1, &wr, 1, 0));
    printf("  parent's own copy still: %c\n", area[100]);

    static char big[2 * 4096];
    struct iovec bl = {big, sizeof big}, br = {area + P + P / 2, P};
    show("readv across the unmapped page", process_vm_readv(c, &bl, 1, &br, 1, 0));
    struct iovec ul = {big, 16}, ur = {area + 2 * P, 16};
    show("readv of the unmapped page", process_vm_readv(c, &ul, 1, &ur, 1, 0));
    struct iovec rol = {"x", 1}, ror = {area + P, 1};
    show("writev to a read-only page", process_vm_writev(c, &rol, 1, &ror, 1, 0));
    char *ro = mmap(NULL, P, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    struct iovec rl = {ro, 8}, rr = {area, 8};
    show("readv into a read-only local buffer", process_vm_readv(c, &rl, 1, &rr, 1, 0));
    show("flags 1", process_vm_readv(c, &l, 1, &r, 1, 1));
    show("1025 local iovecs", process_vm_readv(c, &l, 1025, &r, 1, 0));
    show("zero-length remote", process_vm_readv(c, &l, 1, &r, 0, 0));

    write(go[1], &b, 1);
    /* A zombie: its pid exists, its mm does not. */
    siginfo_t si;
    waitid(P_PID, c, &si, WEXITED | WNOWAIT);
    show("readv of a zombie", process_vm_readv(c, &l, 1, &r, 1, 0));
    waitpid(c, NULL, 0);
    show("readv of a reaped pid", process_vm_readv(c, &l, 1, &r, 1, 0));
    show("pid 0", process_vm_readv(0, &l, 1, &r, 1, 0));
    show("pid -1", process_vm_readv(-1, &l, 1, &r, 1, 0));
    show("own pid", process_vm_readv(getpid(), &l, 1, &r, 1, 0));
    printf("  %s\n", buf);
    return 0;
}
