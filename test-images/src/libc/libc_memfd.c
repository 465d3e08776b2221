/*
 * memfd seals, fallocate on tmpfs/memfd and /proc/self/pagemap + clear_refs as a program sees them.
 *
 * Seals: a memfd without MFD_ALLOW_SEALING (and a /dev/shm file) carries F_SEAL_SEAL; F_SEAL_SHRINK and
 * F_SEAL_GROW against ftruncate, write past the end (a short write stopping at the page before the
 * end) and fallocate; F_SEAL_WRITE refused (EBUSY) while a shared mapping may write, then write,
 * shared writable mmap, mprotect(PROT_WRITE) of a shared read-only mapping and hole punching refused;
 * F_SEAL_FUTURE_WRITE leaving an existing shared mapping writable; F_SEAL_SEAL; MFD_NOEXEC_SEAL; every
 * errno of F_ADD_SEALS/F_GET_SEALS and memfd_create in Linux's order.
 * fallocate: mode 0 (grows), KEEP_SIZE, PUNCH_HOLE|KEEP_SIZE of whole pages (a shared mapping and read()
 * see zeroes) and of a partial range (only those bytes zeroed), and vfs_fallocate's errnos.
 * pagemap: present / file-or-shared / exclusive bits of anonymous, memfd and forked pages,
 * one frame behind two mappings of a memfd page, EINVAL for unaligned reads; clear_refs' accepted and
 * refused values. Bit 55 (soft-dirty) is never printed: the recording host has no CONFIG_MEM_SOFT_DIRTY
 * (mmulab has; SoftDirtyTest and ProcPagemapTest check it). Nor is a read fault of anonymous memory:
 * this host's kernel maps a fresh page there, not the shared zero page.
 *
 * Nothing printed depends on addresses or the architecture: the i386 build is checked against the
 * x86_64 recording.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef F_ADD_SEALS
#define F_ADD_SEALS 1033
#define F_GET_SEALS 1034
#endif
#ifndef F_SEAL_SEAL
#define F_SEAL_SEAL 1
#define F_SEAL_SHRINK 2
#define F_SEAL_GROW 4
#define F_SEAL_WRITE 8
#endif
#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x10
#endif
#ifndef F_SEAL_EXEC
#define F_SEAL_EXEC 0x20
#endif
#define MFD_CLOEXEC_ 1
#define MFD_ALLOW_SEALING_ 2
#define MFD_NOEXEC_SEAL_ 8
#define MFD_EXEC_ 0x10
#define FL_KEEP_SIZE 1
#define FL_PUNCH_HOLE 2
#define FL_ZERO_RANGE 0x10

#define P 4096L

static const char *err(long r) {
    if (r != -1) {
        return "ok";
    }
    switch (errno) {
    case EINVAL: return "EINVAL";
    case EPERM: return "EPERM";
    case EBUSY: return "EBUSY";
    case EBADF: return "EBADF";
    case EACCES: return "EACCES";
    case ESPIPE: return "ESPIPE";
    case ENODEV: return "ENODEV";
    case EFBIG: return "EFBIG";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    case ERANGE: return "ERANGE";
    case EISDIR: return "EISDIR";
    default: return "other";
    }
}

static const char *merr(void *p) {
    return p == MAP_FAILED ? err(-1) : "ok";
}

static int mfd(const char *name, unsigned flags) {
    return (int) syscall(SYS_memfd_create, name, flags);
}

static long falloc(int fd, int mode, int64_t off, int64_t len) {
    return syscall(SYS_fallocate, fd, mode, off, len);
}

static long fsize(int fd) {
    struct stat st;
    return fstat(fd, &st) == 0 ? (long) st.st_size : -1;
}

static void seals(const char *what, int fd) {
    long s = fcntl(fd, F_GET_SEALS);
    if (s < 0) {
        printf("%s: F_GET_SEALS %s\n", what, err(s));
    } else {
        printf("%s: seals 0x%lx\n", what, s);
    }
}

static void add(const char *what, int fd, unsigned s) {
    printf("%s: F_ADD_SEALS 0x%x %s\n", what, s, err(fcntl(fd, F_ADD_SEALS, s)));
}

static void wr(const char *what, int fd, long off, long len) {
    char buf[3 * 4096];
    memset(buf, 'w', sizeof buf);
    long r = pwrite(fd, buf, (size_t) len, off);
    if (r < 0) {
        printf("%s: pwrite %ld@%ld %s\n", what, len, off, err(r));
    } else {
        printf("%s: pwrite %ld@%ld wrote %ld\n", what, len, off, r);
    }
}

static void basic_seals(void) {
    int a = mfd("plain", 0);
    seals("memfd without MFD_ALLOW_SEALING", a);
    add("  add SHRINK", a, F_SEAL_SHRINK);
    close(a);

    int fd = mfd("sealable", MFD_ALLOW_SEALING_);
    seals("MFD_ALLOW_SEALING", fd);
    const char *r = err(ftruncate(fd, 3 * P));
    printf("ftruncate 3 pages: %s size %ld\n", r, fsize(fd));
    wr("in place", fd, 0, 5);
    add("bad bit 0x100", fd, 0x100);
    add("SHRINK", fd, F_SEAL_SHRINK);
    printf("ftruncate shrink: %s\n", err(ftruncate(fd, P)));
    r = err(ftruncate(fd, 4 * P));
    printf("ftruncate grow: %s size %ld\n", r, fsize(fd));
    add("GROW", fd, F_SEAL_GROW);
    seals("now", fd);
    printf("ftruncate grow: %s\n", err(ftruncate(fd, 5 * P)));
    printf("ftruncate same size: %s\n", err(ftruncate(fd, 4 * P)));
    wr("crossing the end", fd, 4 * P - 2, 10);
    wr("at the end", fd, 4 * P, 1);
    printf("fallocate past end: %s\n", err(falloc(fd, 0, 3 * P, 2 * P)));
    printf("fallocate KEEP_SIZE past end: %s\n", err(falloc(fd, FL_KEEP_SIZE, 3 * P, 2 * P)));
    r = err(falloc(fd, 0, P, P));
    printf("fallocate inside: %s size %ld\n", r, fsize(fd));

    char *sw = mmap(NULL, P, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    add("WRITE with a shared writable mapping", fd, F_SEAL_WRITE);
    munmap(sw, P);
    char *sr = mmap(NULL, P, PROT_READ, MAP_SHARED, fd, 0);
    add("WRITE with a shared read-only mapping of an O_RDWR fd", fd, F_SEAL_WRITE);
    munmap(sr, P);
    char *pw = mmap(NULL, P, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    add("WRITE with only a private mapping", fd, F_SEAL_WRITE);
    pw[1] = 'P';
    char kept = 0;
    pread(fd, &kept, 1, 1);
    printf("private copy still writable: %c, file keeps %c\n", pw[1], kept);
    wr("write-sealed", fd, 0, 1);
    printf("mmap shared writable: %s\n", merr(mmap(NULL, P, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)));
    char *ro = mmap(NULL, P, PROT_READ, MAP_SHARED, fd, 0);
    printf("mmap shared read-only: %s reads %c\n", merr(ro), ro == MAP_FAILED ? '?' : ro[0]);
    printf("mprotect it writable: %s\n", err(mprotect(ro, P, PROT_READ | PROT_WRITE)));
    printf("mmap private writable: %s\n", merr(mmap(NULL, P, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0)));
    printf("punch hole: %s\n", err(falloc(fd, FL_PUNCH_HOLE | FL_KEEP_SIZE, 0, P)));
    add("SEAL", fd, F_SEAL_SEAL);
    add("then FUTURE_WRITE", fd, F_SEAL_FUTURE_WRITE);
    seals("final", fd);
    close(fd);
}

static void future_write(void) {
    int fd = mfd("future", MFD_ALLOW_SEALING_);
    ftruncate(fd, 2 * P);
    char *m = mmap(NULL, 2 * P, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    add("FUTURE_WRITE with a shared writable mapping", fd, F_SEAL_FUTURE_WRITE);
    m[0] = 'f';
    char c = 0;
    pread(fd, &c, 1, 0);
    printf("old mapping still writes: %c\n", c);
    wr("write()", fd, 0, 1);
    printf("new shared writable mmap: %s\n", merr(mmap(NULL, P, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)));
    char *r = mmap(NULL, P, PROT_READ, MAP_SHARED, fd, 0);
    printf("new shared read-only mmap: %s\n", merr(r));
    printf("  mprotect writable: %s\n", err(mprotect(r, P, PROT_READ | PROT_WRITE)));
    printf("punch hole: %s\n", err(falloc(fd, FL_PUNCH_HOLE | FL_KEEP_SIZE, 0, P)));
    printf("ftruncate: %s\n", err(ftruncate(fd, 3 * P)));
    add("WRITE now (the old mapping may write)", fd, F_SEAL_WRITE);
    munmap(m, 2 * P);
    munmap(r, P);
    add("WRITE after munmap", fd, F_SEAL_WRITE);
    seals("final", fd);
    close(fd);
}

static void create_flags(void) {
    printf("memfd_create bad flag: %s\n", err(mfd("x", 0x100)));
    printf("memfd_create EXEC|NOEXEC_SEAL: %s\n", err(mfd("x", MFD_EXEC_ | MFD_NOEXEC_SEAL_)));
    int fd = mfd("noexec", MFD_NOEXEC_SEAL_);
    seals("MFD_NOEXEC_SEAL", fd);
    struct stat st;
    fstat(fd, &st);
    printf("  mode %o\n", st.st_mode & 0777);
    add("  SHRINK", fd, F_SEAL_SHRINK);
    seals("  then", fd);
    close(fd);
    fd = mfd("exec", MFD_EXEC_ | MFD_ALLOW_SEALING_);
    fstat(fd, &st);
    printf("MFD_EXEC mode %o\n", st.st_mode & 0777);
    add("  EXEC on an executable memfd", fd, F_SEAL_EXEC);
    seals("  implies the write seals", fd);
    close(fd);
}

static void other_files(void) {
    int fd = open("/dev/shm/libc_memfd.tmp", O_RDWR | O_CREAT | O_TRUNC, 0600);
    int rd = open("/dev/shm/libc_memfd.tmp", O_RDONLY);
    unlink("/dev/shm/libc_memfd.tmp");
    seals("/dev/shm file", fd);
    add("  SHRINK", fd, F_SEAL_SHRINK);
    add("  bad bit on O_RDWR", fd, 0x100);
    add("  bad bit on O_RDONLY", rd, 0x100);
    int p[2];
    pipe(p);
    seals("pipe", p[0]);
    add("pipe read end", p[0], F_SEAL_SHRINK);
    add("pipe write end", p[1], F_SEAL_SHRINK);
    int dn = open("/dev/null", O_RDWR);
    seals("/dev/null", dn);

    const char *r = err(falloc(fd, 0, 0, 3 * P));
    printf("fallocate 3 pages: %s size %ld\n", r, fsize(fd));
    r = err(falloc(fd, FL_KEEP_SIZE, 3 * P, 2 * P));
    printf("fallocate KEEP_SIZE 2 more: %s size %ld\n", r, fsize(fd));
    char *m = mmap(NULL, 3 * P, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    memset(m, 'a', 3 * P);
    printf("punch page 1: %s\n", err(falloc(fd, FL_PUNCH_HOLE | FL_KEEP_SIZE, P, P)));
    char b[4] = {0};
    pread(fd, b, 3, P - 1);
    printf("  mapping %d %d %d, read %d %d %d, size %ld\n", m[P - 1], m[P], m[2 * P - 1], b[0], b[1], b[2], fsize(fd));
    printf("punch bytes 100..299 of page 2: %s\n", err(falloc(fd, FL_PUNCH_HOLE | FL_KEEP_SIZE, 2 * P + 100, 200)));
    printf("  %d %d %d %d\n", m[2 * P + 99], m[2 * P + 100], m[2 * P + 299], m[2 * P + 300]);
    m[P] = 'b';
    pread(fd, b, 1, P);
    printf("  the hole refills on write: %c\n", b[0]);
    printf("PUNCH_HOLE without KEEP_SIZE: %s\n", err(falloc(fd, FL_PUNCH_HOLE, 0, P)));
    printf("ZERO_RANGE: %s\n", err(falloc(fd, FL_ZERO_RANGE, 0, P)));
    printf("mode 0x100: %s\n", err(falloc(fd, 0x100, 0, P)));
    printf("PUNCH_HOLE|ZERO_RANGE: %s\n", err(falloc(fd, FL_PUNCH_HOLE | FL_ZERO_RANGE | FL_KEEP_SIZE, 0, P)));
    printf("len 0: %s\n", err(falloc(fd, 0, 0, 0)));
    printf("offset -1: %s\n", err(falloc(fd, 0, -1, P)));
    printf("overflow: %s\n", err(falloc(fd, 0, INT64_MAX - 10, 100)));
    printf("O_RDONLY: %s\n", err(falloc(rd, 0, 0, P)));
    printf("pipe read end: %s\n", err(falloc(p[0], 0, 0, P)));
    printf("pipe write end: %s\n", err(falloc(p[1], 0, 0, P)));
    printf("/dev/null: %s\n", err(falloc(dn, 0, 0, P)));
    printf("closed fd: %s\n", err(falloc(999, 0, 0, P)));
    printf("bad mode with bad fd: %s\n", err(falloc(999, 0x100, 0, P)));
    munmap(m, 3 * P);
    close(fd);
    close(rd);
    close(p[0]);
    close(p[1]);
    close(dn);
}

static uint64_t pm_entry(int pm, void *va) {
    uint64_t e = 0;
    if (pread(pm, &e, 8, (off_t) ((uintptr_t) va / P) * 8) != 8) {
        return ~0ULL;
    }
    return e;
}

static void pm_show(int pm, const char *what, void *va) {
    uint64_t e = pm_entry(pm, va);
    printf("pagemap %s: present %d swap %d file/shared %d exclusive %d pfn %s\n", what, (int) (e >> 63 & 1),
           (int) (e >> 62 & 1), (int) (e >> 61 & 1), (int) (e >> 56 & 1),
           (e >> 63 & 1) ? ((e & ((1ULL << 55) - 1)) ? "set" : "zero") : "-");
}

static void clear_refs(const char *v) {
    int fd = open("/proc/self/clear_refs", O_WRONLY);
    long r = write(fd, v, strlen(v));
    printf("clear_refs \"%s\": %s\n", strcmp(v, "4\n") == 0 ? "4\\n" : v, r < 0 ? err(r) : "ok");
    close(fd);
}

static void pagemap(void) {
    int pm = open("/proc/self/pagemap", O_RDONLY);
    char *a = mmap(NULL, 4 * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    a[0] = 1;
    pm_show(pm, "anon written", a);
    pm_show(pm, "anon untouched", a + P);
    uint64_t e, e2;
    printf("pread at offset 4: %s\n", err(pread(pm, &e, 8, 4)));
    printf("pread of 4 bytes: %s\n", err(pread(pm, &e, 4, 0)));
    int fd = mfd("pm", 0);
    ftruncate(fd, P);
    char *s1 = mmap(NULL, P, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    char *s2 = mmap(NULL, P, PROT_READ, MAP_SHARED, fd, 0);
    s1[0] = 's';
    pm_show(pm, "memfd, one mapping faulted", s1);
    volatile char y = s2[0];
    (void) y;
    pm_show(pm, "memfd, second mapping", s2);
    e = pm_entry(pm, s1);
    e2 = pm_entry(pm, s2);
    printf("same frame behind both: %d\n", (e & ((1ULL << 55) - 1)) == (e2 & ((1ULL << 55) - 1)));
    pid_t c = fork();
    if (c == 0) {
        int cpm = open("/proc/self/pagemap", O_RDONLY);
        pm_show(cpm, "child: inherited anon page", a);
        a[0] = 2;
        pm_show(cpm, "child: after its COW", a);
        _exit(0);
    }
    waitpid(c, NULL, 0);
    pm_show(pm, "parent after the child left", a);
    clear_refs("4");
    pm_show(pm, "anon after clear_refs 4", a);
    a[0] = 3;
    pm_show(pm, "anon written again", a);
    clear_refs("1");
    clear_refs("2");
    clear_refs("3");
    clear_refs("5");
    clear_refs("4\n");
    clear_refs("+4");
    clear_refs("0");
    clear_refs("6");
    clear_refs("-1");
    clear_refs("abc");
    clear_refs("0x4");
    clear_refs("99999999999");
    close(fd);
    close(pm);
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    basic_seals();
    future_write();
    create_flags();
    other_files();
    pagemap();
    return 0;
}
