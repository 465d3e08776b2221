/*
 * VMA operations as a program sees them: mremap (shrink, grow in place, grow into a hole merging with
 * the next mapping, MREMAP_MAYMOVE, MREMAP_FIXED over an existing mapping, MREMAP_DONTUNMAP of private
 * and shared anonymous memory, the old_len 0 duplicate of a shared mapping, and the errno of each bad
 * call, a source that fails validation leaving the MREMAP_FIXED target mapped, and Linux 6.17's move of
 * several VMAs in one MREMAP_FIXED call with the gaps between them left alone), mmap flags (MAP_FIXED_NOREPLACE, MAP_POPULATE, MAP_GROWSDOWN on shared memory, MAP_LOCKED),
 * madvise (DONTNEED on private and shared memory, REMOVE punching shared memory, FREE,
 * POPULATE_READ/WRITE with their EINVAL/ENOMEM cases, WIPEONFORK/DONTFORK/HUGEPAGE flags accepted,
 * bad advice), mincore vectors and errors, mlock/munlock/mlock2/mlockall, and process_vm_readv/writev
 * on the process itself (data, a partial copy, EFAULT on an unmapped or read-only remote page, EINVAL,
 * ESRCH).
 *
 * Everything printed is a value read back, an errno name, a mincore vector or a flag of whether an
 * address moved: never an address, so the i386 build is checked against the x86_64 recording.
 * Avoided on purpose: anything RLIMIT_MEMLOCK or mmap_min_addr decide (the recording host runs as
 * root, whose CAP_IPC_LOCK and CAP_SYS_RAWIO lift both).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP 4
#endif
#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif
#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#define MADV_POPULATE_WRITE 23
#endif
#ifndef MADV_WIPEONFORK
#define MADV_WIPEONFORK 18
#endif
#ifndef MLOCK_ONFAULT
#define MLOCK_ONFAULT 1
#endif

#define P 4096UL

static const char *err(long r) {
    if (r != -1) {
        return "ok";
    }
    switch (errno) {
    case EINVAL: return "EINVAL";
    case ENOMEM: return "ENOMEM";
    case EFAULT: return "EFAULT";
    case EEXIST: return "EEXIST";
    case EAGAIN: return "EAGAIN";
    case EACCES: return "EACCES";
    case EPERM: return "EPERM";
    case ENOSYS: return "ENOSYS";
    case ESRCH: return "ESRCH";
    default: return "other";
    }
}

static const char *merr(void *p) {
    return p == MAP_FAILED ? err(-1) : "ok";
}

static char *map(void *at, size_t len, int prot, int flags) {
    return mmap(at, len, prot, flags | MAP_ANONYMOUS | (at ? MAP_FIXED : 0), -1, 0);
}

static void fill(char *p, int pages, int base) {
    for (int i = 0; i < pages; i++) {
        p[i * P] = (char) (base + i);
        p[i * P + P - 1] = (char) (base + i + 100);
    }
}

/* "a1b1c1..": each page's first and last byte as the page's letter and a check mark. */
static void show(const char *what, const char *p, int pages) {
    printf("%s:", what);
    for (int i = 0; i < pages; i++) {
        printf(" %d/%d", p[i * P], p[i * P + P - 1]);
    }
    printf("\n");
}

static void core(const char *what, void *p, size_t len) {
    unsigned char v[16];
    memset(v, 7, sizeof v);
    long r = mincore(p, len, v);
    printf("mincore %s: %s", what, err(r));
    if (r == 0) {
        printf(" [");
        for (size_t i = 0; i < (len + P - 1) / P && i < 16; i++) {
            printf("%d", v[i] & 1);
        }
        printf("]");
    }
    printf("\n");
}

static int mapped(void *p) {
    unsigned char v;
    return mincore(p, P, &v) == 0;
}

/* Eight pages 'a'..'h', the upper four read-only: two VMAs. */
static char *two_vmas(char *at) {
    char *a = map(at, 8 * P, PROT_READ | PROT_WRITE, MAP_PRIVATE);
    for (int i = 0; i < 8; i++) {
        a[i * P] = (char) ('a' + i);
    }
    mprotect(a + 4 * P, 4 * P, PROT_READ);
    return a;
}

static void multi_vma_moves(char *src, char *t) {
    map(t, 16 * P, PROT_NONE, MAP_PRIVATE);
    char *a = two_vmas(src);
    munmap(a + 2 * P, P);
    void *r = mremap(a, 8 * P, 8 * P, MREMAP_MAYMOVE | MREMAP_FIXED, t);
    printf("multi move, gap in middle: %s t0=%c t3=%c t7=%c gap keeps target=%d\n", merr(r), t[0], t[3 * P], t[7 * P],
           mapped(t + 2 * P));
    a = two_vmas(src);
    printf("multi move from inside the first: %s\n", merr(mremap(a + P, 7 * P, 7 * P, MREMAP_MAYMOVE | MREMAP_FIXED, t + 8 * P)));
    a = two_vmas(src);
    munmap(a, P);
    printf("multi move, gap at start: %s\n", merr(mremap(a, 8 * P, 8 * P, MREMAP_MAYMOVE | MREMAP_FIXED, t)));
    a = two_vmas(src);
    printf("multi dontunmap: %s\n", merr(mremap(a, 8 * P, 8 * P, MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP, t)));
    a = two_vmas(src);
    printf("multi grow: %s target kept=%d\n", merr(mremap(a, 8 * P, 9 * P, MREMAP_MAYMOVE | MREMAP_FIXED, t)), mapped(t));
    printf("multi shrink: %s\n", merr(mremap(a, 8 * P, 6 * P, MREMAP_MAYMOVE | MREMAP_FIXED, t)));
    munmap(a + 7 * P, P);
    printf("multi move, gap at end: %s\n", merr(mremap(a, 8 * P, 8 * P, MREMAP_MAYMOVE | MREMAP_FIXED, t)));
    a = two_vmas(src);
    printf("duplicate private, fixed: %s target kept=%d\n", merr(mremap(a, 0, P, MREMAP_MAYMOVE | MREMAP_FIXED, t + 12 * P)),
           mapped(t + 12 * P));
    munmap(src, 8 * P);
    munmap(t, 16 * P);
}

int main(void) {
    /* A 64-page arena to place things in with MAP_FIXED, so nothing depends on the layout. */
    char *arena = map(NULL, 64 * P, PROT_NONE, MAP_PRIVATE);
    if (arena == MAP_FAILED) {
        printf("no arena\n");
        return 1;
    }
    munmap(arena, 64 * P);
    char *a = arena, *b = arena + 16 * P, *c = arena + 32 * P;

    /* ---- mremap ---- */
    char *p = map(a, 4 * P, PROT_READ | PROT_WRITE, MAP_PRIVATE);
    fill(p, 4, 10);
    char *q = mremap(p, 4 * P, 2 * P, 0);
    printf("shrink: %s same=%d\n", merr(q), q == p);
    show("after shrink", q, 2);
    core("shrunk tail", a, 4 * P);
    q = mremap(p, 2 * P, 6 * P, 0);
    printf("grow in place: %s same=%d\n", merr(q), q == p);
    show("grown", q, 6);
    /* grow into a hole and merge: [a, a+P) [hole] [a+2P, a+3P) */
    munmap(a, 6 * P);
    p = map(a, 3 * P, PROT_READ | PROT_WRITE, MAP_PRIVATE);
    fill(p, 3, 20);
    munmap(a + P, P);
    q = mremap(p, P, 2 * P, 0);
    printf("grow into hole: %s same=%d\n", merr(q), q == p);
    show("merged", q, 3);
    /* blocked without MAYMOVE, moved with it */
    map(a + 3 * P, P, PROT_READ, MAP_PRIVATE);
    q = mremap(p, 3 * P, 5 * P, 0);
    printf("grow blocked by mapping: %s\n", err(q == MAP_FAILED ? -1 : 0));
    q = mremap(p, 3 * P, 5 * P, MREMAP_MAYMOVE);
    printf("maymove: %s moved=%d\n", merr(q), q != p);
    show("moved", q, 5);
    core("old place", a, 3 * P);
    /* FIXED over an existing mapping */
    char *f = map(b, 4 * P, PROT_READ | PROT_WRITE, MAP_PRIVATE);
    fill(f, 4, 40);
    char *r2 = mremap(q, 5 * P, 3 * P, MREMAP_MAYMOVE | MREMAP_FIXED, b + P);
    printf("fixed: %s at=%d\n", merr(r2), r2 == b + P);
    show("fixed", b, 4);
    munmap(b, 4 * P);
    munmap(a, 4 * P);
    /* DONTUNMAP: private keeps the VMA without pages; shared keeps its data */
    p = map(a, 2 * P, PROT_READ | PROT_WRITE, MAP_PRIVATE);
    fill(p, 2, 50);
    q = mremap(p, 2 * P, 2 * P, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, 0);
    printf("dontunmap private: %s moved=%d\n", merr(q), q != p);
    core("dontunmap source", p, 2 * P);
    show("dontunmap source", p, 2);
    show("dontunmap dest", q, 2);
    munmap(q, 2 * P);
    munmap(p, 2 * P);
    char *s = map(c, 2 * P, PROT_READ | PROT_WRITE, MAP_SHARED);
    fill(s, 2, 60);
    q = mremap(s, 2 * P, 2 * P, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, 0);
    printf("dontunmap shared: %s moved=%d\n", merr(q), q != s);
    show("shared source", s, 2);
    q[0] = 99;
    printf("shared source sees dest write: %d\n", s[0]);
    /* old_len 0: duplicate a shared mapping */
    char *d = mremap(s, 0, P, MREMAP_MAYMOVE);
    printf("duplicate shared: %s moved=%d sees=%d\n", merr(d), d != s, d != MAP_FAILED ? d[0] : -1);
    munmap(d, P);
    munmap(q, 2 * P);
    munmap(s, 2 * P);
    /* errors */
    p = map(a, 4 * P, PROT_READ | PROT_WRITE, MAP_PRIVATE);
    printf("bad flags: %s\n", err(mremap(p, P, P, 8) == MAP_FAILED ? -1 : 0));
    printf("fixed without maymove: %s\n", err(mremap(p, P, P, MREMAP_FIXED, b) == MAP_FAILED ? -1 : 0));
    printf("dontunmap resize: %s\n",
           err(mremap(p, P, 2 * P, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, 0) == MAP_FAILED ? -1 : 0));
    printf("unaligned: %s\n", err(mremap(p + 1, P, P, 0) == MAP_FAILED ? -1 : 0));
    printf("zero new len: %s\n", err(mremap(p, P, 0, 0) == MAP_FAILED ? -1 : 0));
    printf("unmapped: %s\n", err(mremap(b, P, 2 * P, MREMAP_MAYMOVE) == MAP_FAILED ? -1 : 0));
    printf("past vma: %s\n", err(mremap(p, 5 * P, 6 * P, MREMAP_MAYMOVE) == MAP_FAILED ? -1 : 0));
    printf("overlap: %s\n", err(mremap(p, 2 * P, 2 * P, MREMAP_MAYMOVE | MREMAP_FIXED, p + P) == MAP_FAILED ? -1 : 0));
    printf("unaligned new: %s\n", err(mremap(p, P, P, MREMAP_MAYMOVE | MREMAP_FIXED, b + 1) == MAP_FAILED ? -1 : 0));
    printf("duplicate private: %s\n", err(mremap(p, 0, P, MREMAP_MAYMOVE) == MAP_FAILED ? -1 : 0));

    multi_vma_moves(arena + 48 * P, c);

    /* ---- mmap flags ---- */
    printf("noreplace busy: %s\n", merr(mmap(p + P, P, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0)));
    munmap(p + 2 * P, 2 * P);
    printf("noreplace free: %s\n",
           merr(mmap(p + 2 * P, P, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0)));
    munmap(a, 4 * P);
    p = map(a, 4 * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_POPULATE);
    core("populated", p, 4 * P);
    printf("growsdown shared: %s\n", merr(mmap(NULL, P, PROT_READ, MAP_SHARED | MAP_ANONYMOUS | MAP_GROWSDOWN, -1, 0)));
    char *l = mmap(NULL, 2 * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_LOCKED, -1, 0);
    printf("locked: %s\n", merr(l));
    core("locked", l, 2 * P);
    munmap(l, 2 * P);

    /* ---- madvise ---- */
    fill(p, 4, 70);
    printf("dontneed private: %s\n", err(madvise(p, 2 * P, MADV_DONTNEED)));
    core("after dontneed", p, 4 * P);
    show("after dontneed", p, 4);
    s = map(c, 4 * P, PROT_READ | PROT_WRITE, MAP_SHARED);
    fill(s, 4, 80);
    printf("dontneed shared: %s\n", err(madvise(s, 2 * P, MADV_DONTNEED)));
    core("shared after dontneed", s, 4 * P);
    show("shared after dontneed", s, 4);
    printf("remove: %s\n", err(madvise(s + P, P, MADV_REMOVE)));
    show("after remove", s, 4);
    printf("remove private: %s\n", err(madvise(p, P, MADV_REMOVE)));
    printf("free shared: %s\n", err(madvise(s, P, MADV_FREE)));
    printf("free private: %s\n", err(madvise(p + 2 * P, P, MADV_FREE)));
    printf("bad advice: %s\n", err(madvise(p, P, 12345)));
    printf("unaligned: %s\n", err(madvise(p + 1, P, MADV_DONTNEED)));
    printf("hole: %s\n", err(madvise(p, 8 * P, MADV_DONTNEED)));
    printf("wipeonfork: %s dontfork: %s dofork: %s\n", err(madvise(p, P, MADV_WIPEONFORK)),
           err(madvise(p + P, P, MADV_DONTFORK)), err(madvise(p + P, P, MADV_DOFORK)));
    printf("wipeonfork shared: %s\n", err(madvise(s, P, MADV_WIPEONFORK)));
    printf("hugepage: %s nohugepage: %s\n", err(madvise(p, 4 * P, MADV_HUGEPAGE)), err(madvise(p, 4 * P, MADV_NOHUGEPAGE)));
    mprotect(p, P, PROT_NONE);
    printf("populate_read none: %s\n", err(madvise(p, P, MADV_POPULATE_READ)));
    printf("populate_write none: %s\n", err(madvise(p, P, MADV_POPULATE_WRITE)));
    mprotect(p, P, PROT_READ);
    printf("populate_read ro: %s\n", err(madvise(p, P, MADV_POPULATE_READ)));
    printf("populate_write ro: %s\n", err(madvise(p, P, MADV_POPULATE_WRITE)));
    printf("populate hole: %s\n", err(madvise(p + 3 * P, 2 * P, MADV_POPULATE_READ)));
    madvise(p + P, 3 * P, MADV_DONTNEED);
    printf("populate_write rw: %s\n", err(madvise(p + P, 3 * P, MADV_POPULATE_WRITE)));
    core("populated rw", p, 4 * P);

    /* ---- mincore ---- */
    madvise(p, 4 * P, MADV_DONTNEED);
    p[2 * P] = 1;
    core("one page", p, 4 * P);
    core("partial page", p + 2 * P, P + 1);
    core("unaligned", p + 1, P);
    core("hole", p, 6 * P);
    printf("mincore bad vec: %s\n", err(mincore(p, P, (unsigned char *) 16)));

    /* ---- mlock ---- */
    printf("mlock: %s\n", err(mlock(p + 10, 2 * P)));
    core("mlocked", p, 4 * P);
    printf("munlock: %s\n", err(munlock(p, 4 * P)));
    printf("mlock hole: %s\n", err(mlock(p, 6 * P)));
    printf("mlock2 bad flag: %s onfault: %s\n", err(mlock2(p, P, 2)), err(mlock2(p + 3 * P, P, MLOCK_ONFAULT)));
    core("mlock2 onfault", p + 3 * P, P);
    printf("mlockall 0: %s\n", err(mlockall(0)));
    printf("mlockall onfault alone: %s\n", err(mlockall(MCL_ONFAULT)));
    printf("munlockall: %s\n", err(munlockall()));

    /* ---- process_vm_readv/writev on ourselves ---- */
    char src[64], dst[64];
    memset(dst, '.', sizeof dst);
    strcpy(src, "process_vm_access");
    struct iovec lv[2] = {{dst, 7}, {dst + 20, 10}}, rv[2] = {{src, 8}, {src + 8, 9}};
    pid_t me = getpid();
    long n = process_vm_readv(me, lv, 2, rv, 2, 0);
    printf("readv: %ld %.7s|%.10s\n", n, dst, dst + 20);
    char *ro = map(b, 2 * P, PROT_READ | PROT_WRITE, MAP_PRIVATE);
    strcpy(ro, "remote");
    struct iovec wl = {src, 8}, wr[2] = {{ro + P - 4, 4}, {ro + 4 * P, 4}};
    n = process_vm_writev(me, &wl, 1, wr, 2, 0);
    printf("writev partial: %ld %.4s\n", n, ro + P - 4);
    mprotect(ro, P, PROT_READ);
    struct iovec w1 = {ro, 4};
    printf("writev read-only: %s\n", err(process_vm_writev(me, &wl, 1, &w1, 1, 0)));
    struct iovec un = {ro + 4 * P, 4};
    printf("readv unmapped: %s\n", err(process_vm_readv(me, lv, 1, &un, 1, 0)));
    printf("readv flags: %s\n", err(process_vm_readv(me, lv, 1, rv, 1, 1)));
    printf("readv no such pid: %s\n", err(process_vm_readv(0x7fffffff, lv, 1, rv, 1, 0)));
    printf("readv bad iovec: %s\n", err(process_vm_readv(me, (struct iovec *) 16, 1, rv, 1, 0)));
    struct iovec empty = {dst, 0};
    printf("readv nothing to copy: %ld, no such pid: %ld\n", (long) process_vm_readv(me, &empty, 1, (struct iovec *) 16, 1, 0),
           (long) process_vm_readv(0x7fffffff, &empty, 1, rv, 1, 0));
    return 0;
}
