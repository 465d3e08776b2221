/*
 * Files as a libc program uses them (glibc and musl, x86_64 and i386): stdio on a mkstemp file,
 * ftruncate, a MAP_SHARED mapping whose stores read() sees and a MAP_PRIVATE one whose stores it does
 * not, pread/pwrite, lseek, stat, rename/link/unlink with link counts, a fresh directory listed in
 * order, symlink/readlink, chdir/getcwd, dup/dup2/fcntl, /dev/null and /dev/zero, /proc/self/maps
 * naming the mapping, /proc/self/status, and the errno of each bad call (printed by name: glibc's
 * and musl's strerror texts differ). Everything is made under a mkdtemp directory in /tmp, so the
 * output is the same on any host; nothing depends on the architecture.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *en(int e) {
    switch (e) {
    case 0: return "OK";
    case ENOENT: return "ENOENT";
    case EBADF: return "EBADF";
    case EACCES: return "EACCES";
    case EFAULT: return "EFAULT";
    case EEXIST: return "EEXIST";
    case ENOTDIR: return "ENOTDIR";
    case EISDIR: return "EISDIR";
    case EINVAL: return "EINVAL";
    case ESPIPE: return "ESPIPE";
    case ENAMETOOLONG: return "ENAMETOOLONG";
    case ENOTEMPTY: return "ENOTEMPTY";
    case ELOOP: return "ELOOP";
    case EXDEV: return "EXDEV";
    case ENODEV: return "ENODEV";
    case ENXIO: return "ENXIO";
    default: return "other";
    }
}

#define TRY(what, call) do { errno = 0; long r_ = (long) (call); printf("%-28s %s\n", what, r_ < 0 ? en(errno) : "OK"); } while (0)

static int cmp(const void *a, const void *b) {
    return strcmp(*(char *const *) a, *(char *const *) b);
}

static sigjmp_buf bus_jb;

static void on_bus(int sig) {
    (void) sig;
    siglongjmp(bus_jb, 1);
}

/* Touches p: 1 if it raised SIGBUS, 0 if it read (the value in *val). */
static int touch_bus(volatile char *p, int *val) {
    if (sigsetjmp(bus_jb, 1) == 0) {
        *val = *p;
        return 0;
    }
    return 1;
}

/* An address the compiler cannot see through: no buffer-size warnings for the deliberate EFAULTs. */
static char *volatile bad_pointer = (char *) 16;

int main(void) {
    char dir[] = "/tmp/vfsXXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    if (chdir(dir) != 0) {
        perror("chdir");
        return 1;
    }
    char cwd[4096];
    printf("cwd is the temp dir: %d\n", getcwd(cwd, sizeof cwd) && strcmp(cwd, dir) == 0);

    /* stdio on a mkstemp file */
    char tmpl[] = "dataXXXXXX";
    int fd = mkstemp(tmpl);
    FILE *f = fdopen(fd, "w+");
    for (int i = 0; i < 5; i++) {
        fprintf(f, "line %d of %s\n", i, "five");
    }
    fflush(f);
    rewind(f);
    char line[128];
    int lines = 0;
    while (fgets(line, sizeof line, f)) {
        lines++;
    }
    printf("fgets lines: %d, last: %s", lines, line);
    struct stat st;
    fstat(fd, &st);
    printf("size %lld regular %d mode %o\n", (long long) st.st_size, S_ISREG(st.st_mode), st.st_mode & 0777);

    /* ftruncate + shared and private mappings */
    TRY("ftruncate 8192", ftruncate(fd, 8192));
    char *shared = mmap(0, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    char *priv = mmap(0, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    printf("mapped: %d %d\n", shared != MAP_FAILED, priv != MAP_FAILED);
    printf("mapping shows the file: %.11s\n", shared);
    memcpy(shared + 4096, "through the mapping", 19);
    shared[0] = 'L';
    priv[1] = 'X';
    char back[32] = {0};
    pread(fd, back, 19, 4096);
    printf("read() sees the shared store: %s\n", back);
    pread(fd, back, 4, 0);
    back[4] = 0;
    printf("private store stays private: %s / %.4s\n", back, priv);
    TRY("msync", msync(shared, 8192, MS_SYNC));

    /* /proc/self/maps names the mapping */
    FILE *maps = fopen("/proc/self/maps", "r");
    int found = 0;
    char ml[512];
    while (maps && fgets(ml, sizeof ml, maps)) {
        unsigned long lo, hi;
        char perms[5];
        if (sscanf(ml, "%lx-%lx %4s", &lo, &hi, perms) == 3 && lo == (unsigned long) shared) {
            found = strcmp(perms, "rw-s") == 0 && strstr(ml, tmpl) != NULL;
        }
    }
    if (maps) {
        fclose(maps);
    }
    printf("maps line rw-s with the file name: %d\n", found);
    munmap(shared, 8192);
    munmap(priv, 8192);

    FILE *status = fopen("/proc/self/status", "r");
    long rss = -1;
    while (status && fgets(ml, sizeof ml, status)) {
        sscanf(ml, "VmRSS: %ld", &rss);
    }
    if (status) {
        fclose(status);
    }
    printf("VmRSS positive: %d\n", rss > 0);

    /* positions */
    printf("lseek end: %ld\n", (long) lseek(fd, 0, SEEK_END));
    printf("pwrite: %ld\n", (long) pwrite(fd, "tail", 4, 8192));
    fstat(fd, &st);
    printf("size after pwrite: %lld\n", (long long) st.st_size);
    fclose(f);

    /* names */
    TRY("rename data -> a", rename(tmpl, "a"));
    TRY("link a b", link("a", "b"));
    stat("a", &st);
    printf("nlink: %ld\n", (long) st.st_nlink);
    TRY("symlink a c", symlink("a", "c"));
    char target[64] = {0};
    printf("readlink c: %.*s\n", (int) readlink("c", target, sizeof target - 1), target);
    lstat("c", &st);
    printf("lstat c is a link: %d\n", S_ISLNK(st.st_mode));
    TRY("mkdir sub", mkdir("sub", 0755));
    TRY("creat sub/x", creat("sub/x", 0644));
    DIR *d = opendir(".");
    char *names[16];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 16) {
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof *names, cmp);
    printf("listing:");
    for (int i = 0; i < n; i++) {
        printf(" %s", names[i]);
    }
    printf("\n");

    /* dup and fcntl */
    fd = open("a", O_RDONLY | O_CLOEXEC);
    printf("cloexec: %d\n", fcntl(fd, F_GETFD) & FD_CLOEXEC);
    int d2 = dup(fd);
    printf("dup'd cloexec: %d\n", fcntl(d2, F_GETFD) & FD_CLOEXEC);
    printf("dup2 to 50: %d\n", dup2(fd, 50));
    printf("F_DUPFD >= 60: %d\n", fcntl(fd, F_DUPFD, 60));
    lseek(fd, 5, SEEK_SET);
    printf("shared offset: %ld\n", (long) lseek(50, 0, SEEK_CUR));
    printf("O_RDONLY: %d\n", (fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDONLY);

    /* devices */
    char z[8] = {1, 1, 1, 1, 1, 1, 1, 1};
    int zf = open("/dev/zero", O_RDONLY);
    read(zf, z, 8);
    printf("/dev/zero: %d\n", z[0] + z[7]);
    int nf = open("/dev/null", O_RDWR);
    printf("/dev/null read %ld write %ld\n", (long) read(nf, z, 8), (long) write(nf, z, 8));

    /* bad input */
    char longname[300];
    memset(longname, 'n', sizeof longname - 1);
    longname[sizeof longname - 1] = 0;
    TRY("open missing", open("missing", O_RDONLY));
    TRY("open O_EXCL existing", open("a", O_CREAT | O_EXCL | O_WRONLY, 0600));
    TRY("open dir for writing", open("sub", O_WRONLY));
    TRY("open file/x", open("a/x", O_RDONLY));
    TRY("open O_DIRECTORY file", open("a", O_RDONLY | O_DIRECTORY));
    TRY("open long name", open(longname, O_RDONLY));
    TRY("open bad pointer", open(bad_pointer, O_RDONLY));
    TRY("read bad fd", read(99, z, 1));
    TRY("read into bad pointer", read(fd, bad_pointer, 1));
    TRY("write to O_RDONLY", write(fd, "x", 1));
    int pp[2];
    pipe(pp);
    TRY("lseek pipe", lseek(pp[0], 0, SEEK_CUR));
    TRY("rmdir non-empty", rmdir("sub"));
    TRY("unlink dir", unlink("sub"));
    TRY("rmdir file", rmdir("a"));
    TRY("symlink loop", symlink("loop", "loop"));
    TRY("open loop", open("loop", O_RDONLY));
    TRY("mkdir existing", mkdir("sub", 0755));
    TRY("rename into itself", rename("sub", "sub/deeper"));
    TRY("rename to /dev/shm", rename("a", "/dev/shm/a"));
    TRY("readlink of a file", readlink("a", target, sizeof target));
    TRY("mmap /dev/null", mmap(0, 4096, PROT_READ, MAP_PRIVATE, nf, 0) == MAP_FAILED ? -1 : 0);

    /* truncate unmaps what it cuts off: SIGBUS past the new end, zeros after regrowing */
    signal(SIGBUS, on_bus);
    int tf = open("trunc", O_RDWR | O_CREAT, 0600);
    ftruncate(tf, 8192);
    char *tm = mmap(0, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, tf, 0);
    tm[4096] = 'q';
    int v = 0;
    int bus = touch_bus(tm + 4096, &v);
    printf("before truncate: bus %d value %c\n", bus, v);
    ftruncate(tf, 4096);
    printf("after truncate: bus %d\n", touch_bus(tm + 4096, &v));
    ftruncate(tf, 8192);
    v = -1;
    bus = touch_bus(tm + 4096, &v);
    printf("after regrowing: bus %d value %d\n", bus, v);
    write(tf, "abc", 3);
    char *pm = mmap(0, 8192, PROT_READ, MAP_PRIVATE, tf, 0);
    ftruncate(tf, 100);
    bus = touch_bus(pm + 1, &v);
    printf("private page 0: bus %d value %c\n", bus, v);
    printf("private page 1: bus %d\n", touch_bus(pm + 4096, &v));
    munmap(tm, 8192);
    munmap(pm, 8192);
    close(tf);
    unlink("trunc");

    /* clean up */
    unlink("sub/x");
    rmdir("sub");
    unlink("a");
    unlink("b");
    unlink("c");
    unlink("loop");
    chdir("/");
    TRY("rmdir temp dir", rmdir(dir));
    printf("temp dir gone: %d\n", access(dir, F_OK) != 0 && errno == ENOENT);
    return 0;
}
