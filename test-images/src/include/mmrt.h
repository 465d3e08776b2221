/*
 * mmrt.h - mmulab's freestanding guest runtime (no libc).
 *
 * One header, included by every guest image. It provides:
 *   - _start (in asm) which passes argc/argv/envp to main() and calls exit() with its result;
 *   - raw system calls: `syscall` on x86-64, `int $0x80` with i386 numbers on -m32
 *     (the only architecture-specific part; see the MMRT_SYSCALL section);
 *   - wrappers: read write exit exit_group mmap munmap mprotect brk madvise getpid kill
 *     clock_gettime (64-bit time on both architectures);
 *   - memset memcpy memmove memcmp strlen strcmp (gcc emits calls to the first four even in
 *     freestanding code, so they are real external functions here);
 *   - buffered output to stdout: mm_puts, mm_putc, mm_put_u64/i64/hex, mm_printf (a small subset:
 *     %d %i %u %x %X %s %c %p %% with l/ll/z size, '-' and '0' flags and a width).
 *     Output is flushed by mm_flush(), when the buffer fills, and by exit(); flush yourself before
 *     anything that may kill the process. mm_eputs() writes to stderr unbuffered.
 *
 * Build (see ../../build.sh): gcc -static -nostdlib -O2 -ffreestanding -fno-stack-protector
 *   -fno-pie -no-pie -fcf-protection=full -I src/include prog.c -lgcc
 * -lgcc supplies __popcountdi2 on x86-64 (no -mpopcnt); on i386 this header defines the helpers
 * for 64-bit division, popcount, ctz/clz itself and build.sh links without -lgcc, so no 32-bit
 * libgcc (gcc-multilib) is needed.
 *
 * Include this header in exactly one translation unit of a program; other units of the same
 * program define MMRT_DECLARATIONS_ONLY before including it.
 */
#ifndef MMRT_H
#define MMRT_H

#include <stddef.h>
#include <stdint.h>
#include <stdarg.h>

typedef long mm_ssize_t;

/* ------------------------------------------------------------------------------------------ */
/* Constants (Linux UAPI values, identical on x86-64 and i386)                                 */

#define PROT_NONE 0x0
#define PROT_READ 0x1
#define PROT_WRITE 0x2
#define PROT_EXEC 0x4
#define MAP_SHARED 0x01
#define MAP_PRIVATE 0x02
#define MAP_FIXED 0x10
#define MAP_ANONYMOUS 0x20
#define MAP_NORESERVE 0x4000
#define MAP_POPULATE 0x8000
#define MAP_FAILED ((void *)-1)
#define MADV_NORMAL 0
#define MADV_WILLNEED 3
#define MADV_DONTNEED 4
#define MADV_REMOVE 9
#define MADV_HUGEPAGE 14
#define MADV_NOHUGEPAGE 15
#define CLOCK_REALTIME 0
#define CLOCK_MONOTONIC 1
#define SIGSEGV 11
#define SIGKILL 9
#define MM_PAGE_SIZE 4096UL

struct mm_timespec {
    int64_t tv_sec;
    int64_t tv_nsec;
};

/* ------------------------------------------------------------------------------------------ */
/* MMRT_SYSCALL: the architecture-specific layer                                              */

#if defined(__x86_64__)

#define MM_NR_read 0
#define MM_NR_write 1
#define MM_NR_mmap 9
#define MM_NR_mprotect 10
#define MM_NR_munmap 11
#define MM_NR_brk 12
#define MM_NR_madvise 28
#define MM_NR_getpid 39
#define MM_NR_exit 60
#define MM_NR_kill 62
#define MM_NR_clock_gettime 228
#define MM_NR_exit_group 231

static inline long mm_syscall6(long n, long a, long b, long c, long d, long e, long f)
{
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = f;
    long ret;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return ret;
}

#elif defined(__i386__)

#define MM_NR_exit 1
#define MM_NR_read 3
#define MM_NR_write 4
#define MM_NR_getpid 20
#define MM_NR_kill 37
#define MM_NR_brk 45
#define MM_NR_munmap 91
#define MM_NR_mprotect 125
#define MM_NR_mmap2 192
#define MM_NR_madvise 219
#define MM_NR_exit_group 252
#define MM_NR_clock_gettime64 403

/* i386 passes arguments in ebx ecx edx esi edi ebp. ebx may be the PIC register and ebp the
 * frame pointer, so both are loaded by hand around int $0x80 from a small argument block. */
static inline long mm_syscall6(long n, long a, long b, long c, long d, long e, long f)
{
    long args[3] = { a, f, n };
    long ret;
    __asm__ volatile("push %%ebx\n\t"
                     "push %%ebp\n\t"
                     "mov 4(%%eax), %%ebp\n\t"
                     "mov 0(%%eax), %%ebx\n\t"
                     "mov 8(%%eax), %%eax\n\t"
                     "int $0x80\n\t"
                     "pop %%ebp\n\t"
                     "pop %%ebx"
                     : "=a"(ret)
                     : "a"(args), "c"(b), "d"(c), "S"(d), "D"(e)
                     : "memory");
    return ret;
}

#else
#error "mmrt.h supports x86-64 and i386 only"
#endif

static inline long mm_syscall0(long n) { return mm_syscall6(n, 0, 0, 0, 0, 0, 0); }
static inline long mm_syscall1(long n, long a) { return mm_syscall6(n, a, 0, 0, 0, 0, 0); }
static inline long mm_syscall2(long n, long a, long b) { return mm_syscall6(n, a, b, 0, 0, 0, 0); }
static inline long mm_syscall3(long n, long a, long b, long c) { return mm_syscall6(n, a, b, c, 0, 0, 0); }

/* Raw results: a value in [-4095, -1] is -errno. */
static inline int mm_is_err(long r) { return (unsigned long)r > (unsigned long)-4096L; }

static inline mm_ssize_t sys_read(int fd, void *buf, size_t n) { return mm_syscall3(MM_NR_read, fd, (long)buf, (long)n); }
static inline mm_ssize_t sys_write(int fd, const void *buf, size_t n) { return mm_syscall3(MM_NR_write, fd, (long)buf, (long)n); }
static inline long sys_getpid(void) { return mm_syscall0(MM_NR_getpid); }
static inline long sys_kill(long pid, int sig) { return mm_syscall2(MM_NR_kill, pid, sig); }
static inline long sys_munmap(void *p, size_t len) { return mm_syscall2(MM_NR_munmap, (long)p, (long)len); }
static inline long sys_mprotect(void *p, size_t len, int prot) { return mm_syscall3(MM_NR_mprotect, (long)p, (long)len, prot); }
static inline long sys_madvise(void *p, size_t len, int advice) { return mm_syscall3(MM_NR_madvise, (long)p, (long)len, advice); }
/* brk returns the new break (the old one when the request is refused); brk(0) queries it. */
static inline void *sys_brk(void *p) { return (void *)mm_syscall1(MM_NR_brk, (long)p); }

static inline void *sys_mmap(void *addr, size_t len, int prot, int flags, int fd, long off)
{
#if defined(__x86_64__)
    return (void *)mm_syscall6(MM_NR_mmap, (long)addr, (long)len, prot, flags, fd, off);
#else
    return (void *)mm_syscall6(MM_NR_mmap2, (long)addr, (long)len, prot, flags, fd, off >> 12);
#endif
}

static inline long sys_clock_gettime(int clk, struct mm_timespec *ts)
{
#if defined(__x86_64__)
    return mm_syscall2(MM_NR_clock_gettime, clk, (long)ts);
#else
    return mm_syscall2(MM_NR_clock_gettime64, clk, (long)ts);
#endif
}

__attribute__((noreturn)) static inline void sys_exit_group(int status)
{
    for (;;) {
        mm_syscall1(MM_NR_exit_group, status);
    }
}

/* Anonymous private mapping; returns MAP_FAILED on error. */
static inline void *mm_map_anon(size_t len, int prot)
{
    void *p = sys_mmap(0, len, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return mm_is_err((long)p) ? MAP_FAILED : p;
}

static inline uint64_t mm_now_ns(void)
{
    struct mm_timespec ts;
    sys_clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* ------------------------------------------------------------------------------------------ */
/* Declarations                                                                                */

void *memset(void *d, int c, size_t n);
void *memcpy(void *__restrict d, const void *__restrict s, size_t n);
void *memmove(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);

void mm_flush(void);
void mm_write(const void *buf, size_t n);
void mm_putc(char c);
void mm_puts(const char *s);
void mm_put_u64(uint64_t v);
void mm_put_i64(int64_t v);
void mm_put_hex(uint64_t v);
int mm_printf(const char *fmt, ...);
void mm_eputs(const char *s);
__attribute__((noreturn)) void exit(int status);
const char *mm_getenv(const char *name);
uint64_t mm_atou(const char *s);

/* main may be declared with 0, 2 or 3 parameters, as in hosted C. */
int main();

extern char **mm_environ;

#ifndef MMRT_DECLARATIONS_ONLY

/* ------------------------------------------------------------------------------------------ */
/* _start: the kernel leaves argc at (%rsp)/(%esp), then argv[], NULL, envp[], NULL, auxv.    */
/* The first instruction does not touch the stack pointer (the register-trace writer relies   */
/* on nothing here, but keeping it so makes traces easy to read).                             */

#if defined(__x86_64__)
__asm__(".text\n"
        ".globl _start\n"
        ".type _start,@function\n"
        "_start:\n"
        "    xor %ebp, %ebp\n"
        "    mov %rsp, %rdi\n"
        "    and $-16, %rsp\n"
        "    call mm_start_c\n"
        "    hlt\n"
        ".size _start, .-_start\n");
#else
__asm__(".text\n"
        ".globl _start\n"
        ".type _start,@function\n"
        "_start:\n"
        "    xor %ebp, %ebp\n"
        "    mov %esp, %eax\n"
        "    and $-16, %esp\n"
        "    sub $12, %esp\n"
        "    push %eax\n"
        "    call mm_start_c\n"
        "    hlt\n"
        ".size _start, .-_start\n");
#endif

char **mm_environ;

__attribute__((used, noreturn)) void mm_start_c(long *sp)
{
    int argc = (int)sp[0];
    char **argv = (char **)(sp + 1);
    char **envp = argv + argc + 1;
    mm_environ = envp;
    exit(main(argc, argv, envp));
}

/* ------------------------------------------------------------------------------------------ */
/* Memory and string functions. The optimize attribute keeps gcc from turning these loops     */
/* into calls to themselves.                                                                  */

#define MM_NO_LIBCALLS __attribute__((optimize("no-tree-loop-distribute-patterns")))

MM_NO_LIBCALLS void *memset(void *d, int c, size_t n)
{
    unsigned char *p = d;
    while (n--) {
        *p++ = (unsigned char)c;
    }
    return d;
}

MM_NO_LIBCALLS void *memcpy(void *__restrict d, const void *__restrict s, size_t n)
{
    unsigned char *dp = d;
    const unsigned char *sp = s;
    while (n--) {
        *dp++ = *sp++;
    }
    return d;
}

MM_NO_LIBCALLS void *memmove(void *d, const void *s, size_t n)
{
    unsigned char *dp = d;
    const unsigned char *sp = s;
    if (dp == sp || n == 0) {
        return d;
    }
    if (dp < sp) {
        while (n--) {
            *dp++ = *sp++;
        }
    } else {
        dp += n;
        sp += n;
        while (n--) {
            *--dp = *--sp;
        }
    }
    return d;
}

MM_NO_LIBCALLS int memcmp(const void *a, const void *b, size_t n)
{
    const unsigned char *x = a, *y = b;
    for (; n; n--, x++, y++) {
        if (*x != *y) {
            return *x < *y ? -1 : 1;
        }
    }
    return 0;
}

MM_NO_LIBCALLS size_t strlen(const char *s)
{
    const char *p = s;
    while (*p) {
        p++;
    }
    return (size_t)(p - s);
}

int strcmp(const char *a, const char *b)
{
    while (*a && *a == *b) {
        a++;
        b++;
    }
    return (unsigned char)*a - (unsigned char)*b;
}

int strncmp(const char *a, const char *b, size_t n)
{
    for (; n; n--, a++, b++) {
        if (*a != *b || !*a) {
            return (unsigned char)*a - (unsigned char)*b;
        }
    }
    return 0;
}

const char *mm_getenv(const char *name)
{
    size_t n = strlen(name);
    for (char **e = mm_environ; e && *e; e++) {
        if (strncmp(*e, name, n) == 0 && (*e)[n] == '=') {
            return *e + n + 1;
        }
    }
    return 0;
}

/* Decimal string to unsigned; stops at the first non-digit. */
uint64_t mm_atou(const char *s)
{
    uint64_t v = 0;
    while (*s >= '0' && *s <= '9') {
        v = v * 10 + (uint64_t)(*s++ - '0');
    }
    return v;
}

/* ------------------------------------------------------------------------------------------ */
/* i386: the libgcc helpers gcc calls for 64-bit arithmetic. Provided here so that -m32 images  */
/* build without gcc-multilib's 32-bit libgcc (build.sh links i386 images without -lgcc), and   */
/* every i386 image gets the same code whatever the host toolchain has installed.              */

#if defined(__i386__)
static uint32_t mm_clz32(uint32_t x) { return (uint32_t)__builtin_clz(x); } /* x != 0; inline BSR */

/* n / d and n % d for 64-bit unsigned values using the 64/32 DIV instruction (Hacker's Delight,
 * divlu64 for divisors of 33+ bits). */
static uint64_t mm_udivmod64(uint64_t n, uint64_t d, uint64_t *rem)
{
    if ((d >> 32) == 0) {
        uint32_t dl = (uint32_t)d, nh = (uint32_t)(n >> 32), nl = (uint32_t)n;
        uint32_t qh = nh / dl, rh = nh % dl; /* 32-bit division: DIV r/m32 */
        uint32_t ql, rl;
        __asm__("divl %4" : "=a"(ql), "=d"(rl) : "a"(nl), "d"(rh), "rm"(dl) : "cc");
        if (rem) {
            *rem = rl;
        }
        return (uint64_t)qh << 32 | ql;
    }
    uint32_t s = mm_clz32((uint32_t)(d >> 32));          /* 0..31 */
    uint32_t v1 = (uint32_t)((d << s) >> 32);             /* normalised divisor, top bit set */
    uint64_t u1 = n >> 1;                                 /* u1 >> 32 < v1: DIV cannot overflow */
    uint32_t q1, r1;
    __asm__("divl %4" : "=a"(q1), "=d"(r1) : "a"((uint32_t)u1), "d"((uint32_t)(u1 >> 32)), "rm"(v1) : "cc");
    (void)r1;
    uint64_t q0 = ((uint64_t)q1 << s) >> 31;
    if (q0 != 0) {
        q0--;
    }
    uint64_t r = n - q0 * d;
    if (r >= d) {
        q0++;
        r -= d;
    }
    if (rem) {
        *rem = r;
    }
    return q0;
}

uint64_t __udivmoddi4(uint64_t n, uint64_t d, uint64_t *rem) { return mm_udivmod64(n, d, rem); }
uint64_t __udivdi3(uint64_t n, uint64_t d) { return mm_udivmod64(n, d, 0); }

uint64_t __umoddi3(uint64_t n, uint64_t d)
{
    uint64_t r;
    mm_udivmod64(n, d, &r);
    return r;
}

int64_t __divmoddi4(int64_t a, int64_t b, int64_t *rem)
{
    uint64_t ua = a < 0 ? -(uint64_t)a : (uint64_t)a, ub = b < 0 ? -(uint64_t)b : (uint64_t)b, ur;
    uint64_t uq = mm_udivmod64(ua, ub, &ur);
    if (rem) {
        *rem = a < 0 ? -(int64_t)ur : (int64_t)ur;
    }
    return (a < 0) != (b < 0) ? -(int64_t)uq : (int64_t)uq;
}

int64_t __divdi3(int64_t a, int64_t b) { return __divmoddi4(a, b, 0); }

int64_t __moddi3(int64_t a, int64_t b)
{
    int64_t r;
    __divmoddi4(a, b, &r);
    return r;
}

static int mm_popcount32(uint32_t x)
{
    x = x - ((x >> 1) & 0x55555555u);
    x = (x & 0x33333333u) + ((x >> 2) & 0x33333333u);
    x = (x + (x >> 4)) & 0x0f0f0f0fu;
    return (int)((x * 0x01010101u) >> 24);
}

int __popcountsi2(uint32_t x) { return mm_popcount32(x); }
int __popcountdi2(uint64_t x) { return mm_popcount32((uint32_t)x) + mm_popcount32((uint32_t)(x >> 32)); }
int __paritysi2(uint32_t x) { return mm_popcount32(x) & 1; }
int __paritydi2(uint64_t x) { return __popcountdi2(x) & 1; }
int __ctzdi2(uint64_t x) { return (uint32_t)x ? __builtin_ctz((uint32_t)x) : 32 + __builtin_ctz((uint32_t)(x >> 32)); }
int __clzdi2(uint64_t x) { return (x >> 32) ? (int)mm_clz32((uint32_t)(x >> 32)) : 32 + (int)mm_clz32((uint32_t)x); }
#endif

/* ------------------------------------------------------------------------------------------ */
/* Output                                                                                      */

static char mm_obuf[4096];
static size_t mm_olen;

static void mm_write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        mm_ssize_t w = sys_write(fd, p, n);
        if (w <= 0) {
            return; /* nothing sensible to do without a stdout */
        }
        p += w;
        n -= (size_t)w;
    }
}

void mm_flush(void)
{
    mm_write_all(1, mm_obuf, mm_olen);
    mm_olen = 0;
}

void mm_write(const void *buf, size_t n)
{
    const char *p = buf;
    if (n >= sizeof mm_obuf) {
        mm_flush();
        mm_write_all(1, p, n);
        return;
    }
    if (mm_olen + n > sizeof mm_obuf) {
        mm_flush();
    }
    memcpy(mm_obuf + mm_olen, p, n);
    mm_olen += n;
}

void mm_putc(char c)
{
    if (mm_olen == sizeof mm_obuf) {
        mm_flush();
    }
    mm_obuf[mm_olen++] = c;
}

void mm_puts(const char *s)
{
    mm_write(s, strlen(s));
}

void mm_eputs(const char *s)
{
    mm_write_all(2, s, strlen(s));
}

/* Formats v in base 10 or 16 into the end of buf[24]; returns the first digit. */
static char *mm_fmt_u64(char *end, uint64_t v, int hex, int upper)
{
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char *p = end;
    do {
        if (hex) {
            *--p = digits[v & 15];
            v >>= 4;
        } else {
            *--p = digits[v % 10];
            v /= 10;
        }
    } while (v);
    return p;
}

void mm_put_u64(uint64_t v)
{
    char buf[24];
    char *p = mm_fmt_u64(buf + sizeof buf, v, 0, 0);
    mm_write(p, (size_t)(buf + sizeof buf - p));
}

void mm_put_i64(int64_t v)
{
    if (v < 0) {
        mm_putc('-');
        mm_put_u64(-(uint64_t)v);
    } else {
        mm_put_u64((uint64_t)v);
    }
}

void mm_put_hex(uint64_t v)
{
    char buf[24];
    char *p = mm_fmt_u64(buf + sizeof buf, v, 1, 0);
    mm_write("0x", 2);
    mm_write(p, (size_t)(buf + sizeof buf - p));
}

static void mm_pad(char c, int n)
{
    while (n-- > 0) {
        mm_putc(c);
    }
}

int mm_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int count = 0;
    for (const char *f = fmt; *f; f++) {
        if (*f != '%') {
            mm_putc(*f);
            count++;
            continue;
        }
        f++;
        int left = 0, zero = 0, width = 0, size = 0;
        for (;; f++) {
            if (*f == '-') {
                left = 1;
            } else if (*f == '0') {
                zero = 1;
            } else {
                break;
            }
        }
        while (*f >= '0' && *f <= '9') {
            width = width * 10 + (*f++ - '0');
        }
        while (*f == 'l' || *f == 'z') {
            size += (*f == 'z') ? (int)(sizeof(size_t) / sizeof(long)) : 1;
            f++;
        }
        char buf[24];
        const char *s;
        size_t len;
        int neg = 0;
        switch (*f) {
        case 'd':
        case 'i': {
            int64_t v = size >= 2 ? va_arg(ap, long long) : size == 1 ? va_arg(ap, long) : va_arg(ap, int);
            uint64_t u = v < 0 ? -(uint64_t)v : (uint64_t)v;
            neg = v < 0;
            s = mm_fmt_u64(buf + sizeof buf, u, 0, 0);
            break;
        }
        case 'u':
        case 'x':
        case 'X': {
            uint64_t u = size >= 2 ? va_arg(ap, unsigned long long)
                         : size == 1 ? va_arg(ap, unsigned long)
                                     : va_arg(ap, unsigned int);
            s = mm_fmt_u64(buf + sizeof buf, u, *f != 'u', *f == 'X');
            break;
        }
        case 'p': {
            uint64_t u = (uintptr_t)va_arg(ap, void *);
            s = mm_fmt_u64(buf + sizeof buf, u, 1, 0);
            mm_write("0x", 2);
            count += 2;
            break;
        }
        case 'c':
            buf[0] = (char)va_arg(ap, int);
            s = buf;
            len = 1;
            goto emit;
        case 's':
            s = va_arg(ap, const char *);
            if (!s) {
                s = "(null)";
            }
            len = strlen(s);
            goto emit;
        case '%':
            mm_putc('%');
            count++;
            continue;
        case '\0':
            f--;
            continue;
        default:
            mm_putc('%');
            mm_putc(*f);
            count += 2;
            continue;
        }
        len = (size_t)(buf + sizeof buf - s);
        if (neg) {
            if (zero && !left) {
                mm_putc('-');
                count++;
                width--;
                neg = 0;
            } else {
                *(char *)--s = '-';
                len++;
            }
        }
    emit:
        if (!left && (int)len < width) {
            mm_pad(zero ? '0' : ' ', width - (int)len);
            count += width - (int)len;
        }
        mm_write(s, len);
        count += (int)len;
        if (left && (int)len < width) {
            mm_pad(' ', width - (int)len);
            count += width - (int)len;
        }
    }
    va_end(ap);
    return count;
}

__attribute__((noreturn)) void exit(int status)
{
    mm_flush();
    sys_exit_group(status);
}

#endif /* MMRT_DECLARATIONS_ONLY */
#endif /* MMRT_H */
