/*
 * A static libc program as a user would write one (glibc and musl, x86_64 and i386): startup (TLS,
 * stdio, malloc), printf of integers and strings, getenv, qsort, setjmp/longjmp, a SIGSEGV handler
 * on a sigaltstack that siglongjmps out, and the startup/identity calls of libc.
 * No floating point: that is the x87/SSE images' business.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

static int cmp_int(const void *a, const void *b) {
    int x = *(const int *) a, y = *(const int *) b;
    return (x > y) - (x < y);
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *) a, *(char *const *) b);
}

static jmp_buf jb;
static sigjmp_buf sjb;
static volatile sig_atomic_t on_alt;
static char *alt_base;
static size_t alt_size;
static __thread int tls_counter = 40;
static volatile int *volatile bad_ptr = (volatile int *) 16;

static volatile int depth_seen, depth_limit;

static void deep(int n) {
    depth_seen = n;
    if (n <= depth_limit) {
        longjmp(jb, 7);
    }
    if (n > -1000) {
        deep(n - 1);
    }
    depth_seen = -n;
}

static void on_segv(int sig, siginfo_t *si, void *uc) {
    (void) uc;
    char probe;
    on_alt = (char *) &probe >= alt_base && (char *) &probe < alt_base + alt_size;
    (void) si;
    siglongjmp(sjb, sig);
}

int main(int argc, char **argv) {
    printf("argc=%d argv0-set=%d\n", argc, argv[0] != NULL);
    for (int i = 1; i < argc; i++) {
        printf("arg[%d]=%s len=%zu\n", i, argv[i], strlen(argv[i]));
    }
    const char *g = getenv("LIBC_GREETING");
    printf("greeting=%s missing=%s\n", g ? g : "(null)", getenv("NO_SUCH_VAR") ? "set" : "(null)");
    printf("ints: %d %i %u %x %X %o %ld %lld %hhd %05d|%-5d|%+d\n", -42, 17, 3000000000u, 0xbeef, 0xcafe, 0755,
           -1234567890L, -9000000000000LL, (char) 300, 42, 42, 42);
    printf("strings: [%s] [%10s] [%-10s] [%.3s] %c%c %%\n", "hi", "right", "left", "truncate", 'o', 'k');
    printf("ptr-null: %s\n", (void *) 0 == NULL ? "yes" : "no");

    /* malloc of many sizes, realloc, free */
    unsigned long sum = 0;
    char *blocks[64];
    for (int i = 0; i < 64; i++) {
        size_t n = (size_t) (i * 37 + 1) * (i % 7 == 0 ? 4096 : 1);
        blocks[i] = malloc(n);
        memset(blocks[i], i, n);
        sum += (unsigned char) blocks[i][n - 1];
    }
    for (int i = 0; i < 64; i += 2) {
        blocks[i] = realloc(blocks[i], 100000 + i);
        sum += (unsigned char) blocks[i][0];
    }
    for (int i = 0; i < 64; i++) {
        free(blocks[i]);
    }
    char *big = calloc(1 << 20, 1);
    sum += big[12345];
    free(big);
    printf("malloc sum=%lu\n", sum);

    /* qsort */
    int v[32];
    unsigned x = 12345;
    for (int i = 0; i < 32; i++) {
        x = x * 1103515245u + 12345u;
        v[i] = (int) (x >> 16) % 1000 - 500;
    }
    qsort(v, 32, sizeof v[0], cmp_int);
    for (int i = 0; i < 32; i++) {
        printf("%d%c", v[i], i == 31 ? '\n' : ' ');
    }
    char *words[] = {"pear", "apple", "fig", "banana", "cherry", "date"};
    qsort(words, 6, sizeof words[0], cmp_str);
    for (int i = 0; i < 6; i++) {
        printf("%s%c", words[i], i == 5 ? '\n' : ',');
    }

    /* setjmp / longjmp */
    int r = setjmp(jb);
    if (r == 0) {
        deep(50);
    }
    printf("longjmp returned %d\n", r);

    /* thread-local storage (%fs on x86_64, %gs on i386) */
    tls_counter += 2;
    printf("tls=%d\n", tls_counter);

    /* a SIGSEGV handler on an alternate signal stack */
    alt_size = 64 * 1024;
    alt_base = malloc(alt_size);
    stack_t ss = {.ss_sp = alt_base, .ss_size = alt_size, .ss_flags = 0};
    stack_t old;
    printf("sigaltstack=%d\n", sigaltstack(&ss, &old));
    printf("old-disabled=%d\n", (old.ss_flags & SS_DISABLE) != 0);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, NULL);
    int got = sigsetjmp(sjb, 1);
    if (got == 0) {
        *bad_ptr = 1;
        printf("no fault?\n");
    }
    printf("caught signal %d on-altstack=%d\n", got, (int) on_alt);
    stack_t cur;
    sigaltstack(NULL, &cur);
    printf("altstack size=%zu flags=%d\n", cur.ss_size, cur.ss_flags);
    /* the mask was restored by siglongjmp: a second fault is caught again */
    got = sigsetjmp(sjb, 1);
    if (got == 0) {
        bad_ptr[4] = 1;
    }
    printf("caught again %d\n", got);

    /* identity and limits */
    struct rlimit rl;
    int gr = getrlimit(RLIMIT_NOFILE, &rl);
    printf("getrlimit-nofile=%d cur>0=%d\n", gr, rl.rlim_cur > 0);
    rl.rlim_cur = 64;
    printf("setrlimit=%d\n", setrlimit(RLIMIT_NOFILE, &rl));
    getrlimit(RLIMIT_NOFILE, &rl);
    printf("nofile now=%lu\n", (unsigned long) rl.rlim_cur);
    umask(077);
    printf("umask was=%03o\n", (unsigned) umask(022));
    printf("ids-consistent=%d\n", getuid() == geteuid() && getgid() == getegid());
    struct utsname u;
    printf("uname=%d sys=%s\n", uname(&u), u.sysname);
    printf("pid>0=%d\n", getpid() > 0);
    fflush(stdout);
    fprintf(stderr, "to stderr\n");
    puts("done");
    return 3;
}
