/*
 * probe: a freestanding static x86-64 program for the kernel's exec tests.
 * Build (committed binary 'probe' was built with):
 *   gcc -static -nostdlib -fno-pie -no-pie -O2 -fno-builtin -fno-tree-loop-distribute-patterns \
 *       -fno-asynchronous-unwind-tables -fno-stack-protector \
 *       -o probe probe.c
 * Prints argc, argv, envp, selected auxv entries, brk(0), where a 2 MiB anonymous mmap lands,
 * touches 1 MiB of bss and a heap page, then exits with status 42. Expected output from a native run
 * under `setarch -R env -i A=1 ./probe x yy` is in probe.expected (Linux 6.18 host).
 */
typedef unsigned long u64;

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
static void puthex(u64 v) {
    char b[19]; int i = 18; b[i] = 0;
    do { b[--i] = "0123456789abcdef"[v & 15]; v >>= 4; } while (v);
    b[--i] = 'x'; b[--i] = '0';
    puts_(b + i);
}
static void putdec(u64 v) {
    char b[21]; int i = 20; b[i] = 0;
    do { b[--i] = '0' + v % 10; v /= 10; } while (v);
    puts_(b + i);
}

static char bss[1 << 20];
volatile int data_word = 0x1234;

__attribute__((used)) void cmain(u64 *sp) {
    u64 argc = sp[0];
    char **argv = (char **)(sp + 1);
    char **envp = argv + argc + 1;
    puts_("argc="); putdec(argc); puts_("\n");
    for (u64 i = 0; i < argc; i++) { puts_("argv: "); puts_(argv[i]); puts_("\n"); }
    char **e = envp;
    while (*e) { puts_("env: "); puts_(*e); puts_("\n"); e++; }
    u64 *aux = (u64 *)(e + 1);
    for (; aux[0]; aux += 2) {
        switch (aux[0]) {
        case 3: puts_("AT_PHDR="); puthex(aux[1]); puts_("\n"); break;
        case 5: puts_("AT_PHNUM="); putdec(aux[1]); puts_("\n"); break;
        case 6: puts_("AT_PAGESZ="); putdec(aux[1]); puts_("\n"); break;
        case 9: puts_("AT_ENTRY="); puthex(aux[1]); puts_("\n"); break;
        case 17: puts_("AT_CLKTCK="); putdec(aux[1]); puts_("\n"); break;
        case 15: puts_("AT_PLATFORM="); puts_((char *)aux[1]); puts_("\n"); break;
        case 31: puts_("AT_EXECFN="); puts_((char *)aux[1]); puts_("\n"); break;
        }
    }
    u64 b0 = sys(12, 0, 0, 0, 0, 0, 0);
    puts_("brk0="); puthex(b0); puts_("\n");
    u64 b1 = sys(12, b0 + 3 * 4096, 0, 0, 0, 0, 0);
    *(volatile int *)(b1 - 4) = 7;
    u64 m = sys(9, 0, 2 << 20, 3, 0x22, -1, 0);
    puts_("mmap2m="); puthex(m); puts_("\n");
    ((volatile char *)m)[12345] = 1;
    for (u64 i = 0; i < sizeof bss; i += 4096) bss[i] = (char)(i >> 12);
    u64 sum = 0;
    for (u64 i = 0; i < sizeof bss; i += 4096) sum += (unsigned char)bss[i];
    puts_("bsssum="); putdec(sum); puts_(" data="); puthex(data_word); puts_("\n");
    sys(231, 42, 0, 0, 0, 0, 0);
}

__asm__(".globl _start\n_start:\n\tmov %rsp, %rdi\n\tand $-16, %rsp\n\tcall cmain\n\thlt\n");
