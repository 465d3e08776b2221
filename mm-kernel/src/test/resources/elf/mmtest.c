/*
 * mmtest: freestanding static x86-64 program exercising the kernel's mm and signal paths, one mode per
 * argv[1]. Build (the committed binary 'mmtest' was built with):
 *   gcc -static -nostdlib -fno-pie -no-pie -O2 -fno-builtin -fno-tree-loop-distribute-patterns \
 *       -fno-asynchronous-unwind-tables -fno-stack-protector -o mmtest mmtest.c
 * Expected outputs/statuses (mmtest.expected) were recorded natively with `setarch -R env -i ./mmtest MODE`.
 */
typedef unsigned long u64;
#define PROT_NONE 0
#define PROT_READ 1
#define PROT_WRITE 2
#define MAP_PRIVATE 2
#define MAP_SHARED 1
#define MAP_ANON 0x20
#define MAP_FIXED 0x10

static long sys(long n, long a, long b, long c, long d, long e, long f) {
    long r;
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = f;
    __asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return r;
}
static u64 slen(const char *s) { u64 n = 0; while (s[n]) n++; return n; }
static void puts_(const char *s) { sys(1, 1, (long)s, slen(s), 0, 0, 0); }
static void putdec(long v) {
    char b[24]; int i = 23; b[i] = 0; int neg = v < 0; u64 u = neg ? -v : v;
    do { b[--i] = '0' + u % 10; u /= 10; } while (u);
    if (neg) b[--i] = '-';
    puts_(b + i);
}
static void check(const char *what, long got, long want) {
    puts_(what); puts_(": "); putdec(got);
    if (got != want) { puts_(" (want "); putdec(want); puts_(")"); }
    puts_("\n");
}
static int streq(const char *a, const char *b) { while (*a && *a == *b) { a++; b++; } return *a == *b; }
static void *mmap_(u64 addr, u64 len, int prot, int flags) { return (void *)sys(9, addr, len, prot, flags, -1, 0); }

static int recurse(int n, volatile char *prev) {
    volatile char buf[4000];
    buf[0] = (char)n; buf[3999] = prev ? prev[0] : 0;
    if (n == 0) return buf[0];
    return recurse(n - 1, buf) + 1;
}

static volatile long zero = 0;

struct ksigaction { void (*handler)(int, void *, void *); u64 flags; void (*restorer)(void); u64 mask; };
extern void restorer(void);
__asm__(".globl restorer\nrestorer:\n\tmov $15, %eax\n\tsyscall\n\thlt\n");
static volatile long *fault_page;
static volatile int handled;
static void on_segv(int sig, void *info, void *uc) {
    u64 addr = ((u64 *)info)[2];
    int code = ((int *)info)[2];
    handled++;
    puts_("handler: sig "); putdec(sig); puts_(" code "); putdec(code);
    puts_(addr == (u64)fault_page + 8 ? " addr ok\n" : " addr WRONG\n");
    sys(10, (long)fault_page, 4096, PROT_READ | PROT_WRITE, 0, 0, 0);
}

__attribute__((used)) void cmain(u64 *sp) {
    u64 argc = sp[0];
    char **argv = (char **)(sp + 1);
    const char *mode = argc > 1 ? argv[1] : "mm";
    if (streq(mode, "mm")) {
        volatile long *a = mmap_(0, 16 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANON);
        check("read untouched", a[0], 0);
        for (int i = 0; i < 16; i++) a[i * 512] = i + 1;
        long s = 0; for (int i = 0; i < 16; i++) s += a[i * 512];
        check("sum", s, 136);
        check("mprotect ro", sys(10, (long)a + 4096, 4096, PROT_READ, 0, 0, 0), 0);
        check("still readable", a[512], 2);
        check("mprotect rw", sys(10, (long)a + 4096, 4096, PROT_READ | PROT_WRITE, 0, 0, 0), 0);
        a[512] = 20;
        check("written again", a[512], 20);
        check("dontneed", sys(28, (long)a, 8 * 4096, 4, 0, 0, 0), 0);
        check("zero after dontneed", a[512], 0);
        check("kept after range", a[8 * 512], 9);
        check("munmap middle", sys(11, (long)a + 4 * 4096, 4096, 0, 0, 0, 0), 0);
        check("mmap fixed back", (long)mmap_((u64)a + 4 * 4096, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANON | MAP_FIXED) - (long)a, 4 * 4096);
        check("fresh page", a[4 * 512], 0);
        volatile long *sh = mmap_(0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANON);
        sh[1] = 77;
        check("shared dontneed", sys(28, (long)sh, 4096, 4, 0, 0, 0), 0);
        check("shared keeps data", sh[1], 77);
        long b0 = sys(12, 0, 0, 0, 0, 0, 0);
        long b1 = sys(12, b0 + 100000, 0, 0, 0, 0, 0);
        check("brk grow", b1 - b0, 100000);
        for (long p = b0; p < b1; p += 4096) *(volatile char *)p = 1;
        check("brk shrink", sys(12, b0 + 4096, 0, 0, 0, 0, 0) - b0, 4096);
        check("recursion", recurse(256, 0), 256);
        check("1 TiB PROT_NONE", (long)mmap_(0, 1ul << 40, PROT_NONE, MAP_PRIVATE | MAP_ANON | 0x4000) > 0, 1);
        check("bad munmap", sys(11, (long)a + 1, 4096, 0, 0, 0, 0), -22);
        check("bad madvise", sys(28, (long)a, 4096, 77, 0, 0, 0), -22);
        check("unknown syscall", sys(400, 0, 0, 0, 0, 0, 0), -38);
        sys(231, 0, 0, 0, 0, 0, 0);
    }
    if (streq(mode, "hwcap")) {
        char **e = argv + argc + 1;
        while (*e) e++;
        u64 hw = 0;
        for (u64 *aux = (u64 *)(e + 1); aux[0]; aux += 2) if (aux[0] == 16) hw = aux[1];
        unsigned a = 1, b, c = 0, d;
        __asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
        check("AT_HWCAP is CPUID.1:EDX", hw == d, 1);
        sys(231, 0, 0, 0, 0, 0, 0);
    }
    if (streq(mode, "handler")) {
        struct ksigaction sa = { on_segv, 0x04000000 | 4, restorer, 0 };
        check("rt_sigaction", sys(13, 11, (long)&sa, 0, 8, 0, 0), 0);
        fault_page = mmap_(0, 4096, PROT_READ, MAP_PRIVATE | MAP_ANON);
        long r12_before;
        __asm__ volatile("mov $0x1234, %%r12\n\tmov %%r12, %0" : "=r"(r12_before) : : "r12");
        fault_page[1] = 5;
        check("write after handler", fault_page[1], 5);
        check("handled", handled, 1);
        u64 mask = 1;
        check("sigprocmask", sys(14, 2, 0, (long)&mask, 8, 0, 0), 0);
        check("mask restored", mask, 0);
        /* SA_RESETHAND and a handler that does not fix anything: the retry kills with the default action. */
        struct ksigaction sb = { on_segv, 0x04000000 | 4 | 0x80000000, restorer, 0 };
        sys(13, 11, (long)&sb, 0, 8, 0, 0);
        volatile long *ro = mmap_(0, 4096, PROT_READ, MAP_PRIVATE | MAP_ANON);
        fault_page = ro;
        sys(10, (long)ro, 4096, PROT_NONE, 0, 0, 0);
        puts_("touching PROT_NONE\n");
        ro[1] = 1; /* handler makes it RW: retried write succeeds */
        check("handled twice", handled, 2);
        sys(10, (long)ro, 4096, PROT_READ, 0, 0, 0);
        ro[1] = 2; /* action was reset: SIGSEGV kills */
        puts_("not reached\n");
    }
    if (streq(mode, "segv")) {
        volatile long *a = mmap_(0, 4096, PROT_READ, MAP_PRIVATE | MAP_ANON);
        puts_("writing to a read-only page\n");
        a[0] = 1;
        puts_("not reached\n");
    }
    if (streq(mode, "unmapped")) {
        volatile long *a = mmap_(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANON);
        a[0] = 5;
        sys(11, (long)a, 4096, 0, 0, 0, 0);
        puts_("reading an unmapped page\n");
        putdec(a[0]);
    }
    if (streq(mode, "ill")) {
        puts_("ud2\n");
        __asm__ volatile("ud2");
    }
    if (streq(mode, "fpe")) {
        puts_("dividing by zero\n");
        putdec(100 / zero);
    }
    if (streq(mode, "oom")) {
        u64 n = 0;
        for (;;) {
            volatile char *p = mmap_(0, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANON);
            for (int i = 0; i < (1 << 20); i += 4096) p[i] = 1;
            n++;
            if (n == (1ul << 20)) break;
        }
    }
    sys(231, 3, 0, 0, 0, 0, 0);
}

__asm__(".globl _start\n_start:\n\tmov %rsp, %rdi\n\tand $-16, %rsp\n\tcall cmain\n\thlt\n");
