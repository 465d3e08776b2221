/*
 * sys_edges: system-call arguments at the edges, checked the way Linux checks them. Every line is
 * "what = result" with the raw return value (a negative errno on failure), recorded natively so the
 * suite compares mmulab's argument checks with the host kernel's:
 *   - mmap/munmap/mprotect/madvise with addresses and lengths that are negative as signed numbers
 *     (mm/mmap.c do_mmap, __get_unmapped_area, do_vmi_munmap; mm/mprotect.c; mm/madvise.c);
 *   - read/write/writev with counts that fail access_ok before anything is copied (fs/read_write.c);
 *   - the 64-bit syscall number's upper half (arch/x86/entry/syscall_64.c: an int nr);
 *   - the CPU-time clocks (kernel/time/posix-cpu-timers.c) and their clockid encoding;
 *   - overcommit (mm/util.c __vm_enough_memory, OVERCOMMIT_GUESS): a private writable mapping larger
 *     than RAM + swap fails, MAP_NORESERVE or a read-only mapping does not.
 * Only cases whose result does not depend on the machine's RAM size, on stdin, or on the kernel's
 * TASK_SIZE for i386 (3 GiB on a 32-bit kernel, 4 GiB - 8 KiB for a compat task) are printed. The
 * manifest runs it on x86_64 only: expected outputs are recorded on a host without IA32 emulation.
 */
#include "mmrt.h"

#if defined(__x86_64__)
#define NR_writev 20
#define NR_clock_getres 229
#define NR_clock_gettime_raw 228
#else
#define NR_writev 146
#define NR_clock_getres 406 /* clock_getres_time64 */
#define NR_clock_gettime_raw 403
#endif

/* MAKE_PROCESS_CPUCLOCK(pid, 0): (~pid) << 3, as a clockid_t (int) */
#define CPUCLOCK(pid) ((long)(int)((unsigned)~(pid) << 3))
#define RW (PROT_READ | PROT_WRITE)
#define ANON (MAP_PRIVATE | MAP_ANONYMOUS)

static void show(const char *what, long r)
{
    mm_printf("%s = %ld\n", what, r);
}

/* A mapping's address is machine-specific: print "ok" for an address, the errno otherwise. */
static void show_map(const char *what, long r)
{
    if (mm_is_err(r)) {
        mm_printf("%s = %ld\n", what, r);
    } else {
        mm_printf("%s = ok\n", what);
    }
}

struct iov {
    void *base;
    size_t len;
};

static long clock_gettime_raw(long clk, struct mm_timespec *ts)
{
    return mm_syscall2(NR_clock_gettime_raw, clk, (long)ts);
}

static void cpu_clocks(void)
{
    struct mm_timespec a, b;
    long pid = sys_getpid();
    /* CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID */
    long r1 = clock_gettime_raw(2, &a);
    volatile unsigned long spin = 0;
    for (int i = 0; i < 200000; i++) {
        spin += (unsigned long)i;
    }
    long r2 = clock_gettime_raw(2, &b);
    show("clock_gettime(PROCESS_CPUTIME)", r1);
    mm_printf("process cpu time advances = %s\n", r2 == 0 && (b.tv_sec > a.tv_sec || (b.tv_sec == a.tv_sec && b.tv_nsec > a.tv_nsec)) ? "yes" : "no");
    mm_printf("process cpu time nsec in range = %s\n", a.tv_nsec >= 0 && a.tv_nsec < 1000000000 ? "yes" : "no");
    show("clock_gettime(THREAD_CPUTIME)", clock_gettime_raw(3, &a));
    /* clock_getcpuclockid(0) = MAKE_PROCESS_CPUCLOCK(0, CPUCLOCK_SCHED) = (~0 << 3) | 2 */
    show("clock_gettime(cpuclock(0, SCHED))", clock_gettime_raw(CPUCLOCK(0) | 2, &a));
    show("clock_gettime(cpuclock(0, PROF))", clock_gettime_raw(CPUCLOCK(0) | 0, &a));
    show("clock_gettime(cpuclock(0, VIRT))", clock_gettime_raw(CPUCLOCK(0) | 1, &a));
    show("clock_gettime(cpuclock(pid, SCHED))", clock_gettime_raw(CPUCLOCK(pid) | 2, &a));
    show("clock_gettime(thread cpuclock(0, SCHED))", clock_gettime_raw(CPUCLOCK(0) | 4 | 2, &a));
    show("clock_gettime(thread cpuclock(tid, SCHED))", clock_gettime_raw(CPUCLOCK(pid) | 4 | 2, &a));
    show("clock_gettime(cpuclock(0, 3): CLOCKFD)", clock_gettime_raw(CPUCLOCK(0) | 3, &a));
    show("clock_gettime(thread cpuclock(0, 3))", clock_gettime_raw(CPUCLOCK(0) | 4 | 3, &a));
    show("clock_gettime(cpuclock(999999, SCHED))", clock_gettime_raw(CPUCLOCK(999999) | 2, &a));
    show("clock_gettime(12)", clock_gettime_raw(12, &a));
    show("clock_gettime(10)", clock_gettime_raw(10, &a));
    show("clock_gettime(PROCESS_CPUTIME, bad ptr)", clock_gettime_raw(2, (struct mm_timespec *)16));
    long r = mm_syscall2(NR_clock_getres, 2, (long)&a);
    mm_printf("clock_getres(PROCESS_CPUTIME) = %ld %ld.%ld\n", r, (long)a.tv_sec, (long)a.tv_nsec);
    r = mm_syscall2(NR_clock_getres, CPUCLOCK(0) | 4 | 2, (long)&a);
    mm_printf("clock_getres(thread cpuclock(0, SCHED)) = %ld %ld.%ld\n", r, (long)a.tv_sec, (long)a.tv_nsec);
    show("clock_getres(PROCESS_CPUTIME, NULL)", mm_syscall2(NR_clock_getres, 2, 0));
    show("clock_getres(cpuclock(0, 3))", mm_syscall2(NR_clock_getres, CPUCLOCK(0) | 3, (long)&a));
    show("clock_getres(cpuclock(999999, SCHED))", mm_syscall2(NR_clock_getres, CPUCLOCK(999999) | 2, (long)&a));
}

int main(void)
{
    char *page = mm_map_anon(MM_PAGE_SIZE, RW);
    if (page == MAP_FAILED) {
        mm_printf("mmap failed\n");
        return 1;
    }
    page[0] = 'x';
#if defined(__x86_64__)
    show_map("mmap(0xffff800000000000, FIXED)", (long)sys_mmap((void *)0xffff800000000000UL, 4096, RW, ANON | MAP_FIXED, -1, 0));
    show_map("mmap(0x8000000000400000, FIXED)", (long)sys_mmap((void *)0x8000000000400000UL, 4096, RW, ANON | MAP_FIXED, -1, 0));
    show_map("mmap(0x8000000000400001, FIXED)", (long)sys_mmap((void *)0x8000000000400001UL, 4096, RW, ANON | MAP_FIXED, -1, 0));
    show_map("mmap(0x7ffffffff000, FIXED)", (long)sys_mmap((void *)0x7ffffffff000UL, 4096, RW, ANON | MAP_FIXED, -1, 0));
    show_map("mmap(0x7fffffffe000, 8192, FIXED_NOREPLACE)", (long)sys_mmap((void *)0x7fffffffe000UL, 8192, RW, ANON | 0x100000, -1, 0));
    show_map("mmap(0, 0xfffffffffffff000)", (long)sys_mmap(0, 0xfffffffffffff000UL, RW, ANON, -1, 0));
    show_map("mmap(0, 0xfffffffffffff001)", (long)sys_mmap(0, 0xfffffffffffff001UL, RW, ANON, -1, 0));
    show_map("mmap(0, 0x800000000000)", (long)sys_mmap(0, 0x800000000000UL, PROT_READ, ANON, -1, 0));
    show_map("mmap(hint 0x10000000, -8192)", (long)sys_mmap((void *)0x10000000UL, (size_t)-8192, RW, ANON, -1, 0));
    show_map("mmap(hint 0xffff800000000000)", (long)sys_mmap((void *)0xffff800000000000UL, 4096, RW, ANON, -1, 0));
    show_map("mmap(offset -4096)", (long)sys_mmap(0, 4096, RW, ANON, -1, -4096L));
    show("munmap(0xffff800000000000)", sys_munmap((void *)0xffff800000000000UL, 4096));
    show("munmap(0x8000000000000000)", sys_munmap((void *)0x8000000000000000UL, 4096));
    show("munmap(0x7ffffffff000)", sys_munmap((void *)0x7ffffffff000UL, 4096));
    show("munmap(page, -4096)", sys_munmap(page, (size_t)-4096));
    show("munmap(page, 0)", sys_munmap(page, 0));
    show("mprotect(0xffff800000000000)", sys_mprotect((void *)0xffff800000000000UL, 4096, PROT_READ));
    show("mprotect(page, -4096)", sys_mprotect(page, (size_t)-4096, PROT_READ));
    show("madvise(0xffff800000000000, DONTNEED)", sys_madvise((void *)0xffff800000000000UL, 4096, MADV_DONTNEED));
    show("madvise(page, -4096)", sys_madvise(page, (size_t)-4096, MADV_DONTNEED));
    show("madvise(page, 0xfffffffffffff001)", sys_madvise(page, 0xfffffffffffff001UL, MADV_DONTNEED));
    show("madvise(page, 0x8000000000000000)", sys_madvise(page, 0x8000000000000000UL, MADV_WILLNEED));
    mm_printf("page survived = %s\n", page[0] == 'x' ? "yes" : "no");
    void *brk0 = sys_brk(0);
    mm_printf("brk(0xffff800000000000) unchanged = %s\n", sys_brk((void *)0xffff800000000000UL) == brk0 ? "yes" : "no");
    mm_printf("brk(+64 TiB) unchanged = %s\n", sys_brk((char *)brk0 + (64UL << 40)) == brk0 ? "yes" : "no");

    /* overcommit: 64 TiB is more than RAM + swap on any machine this runs on */
    show_map("mmap(0, 64 TiB, RW, PRIVATE)", (long)sys_mmap(0, 64UL << 40, RW, ANON, -1, 0));
    show_map("mmap(0, 64 TiB, RW, SHARED)", (long)sys_mmap(0, 64UL << 40, RW, MAP_SHARED | MAP_ANONYMOUS, -1, 0));
    long big = (long)sys_mmap(0, 64UL << 40, RW, ANON | MAP_NORESERVE, -1, 0);
    show_map("mmap(0, 64 TiB, RW, PRIVATE|NORESERVE)", big);
    if (!mm_is_err(big)) {
        ((volatile char *)big)[(32UL << 40) + 5] = 1;
        show("munmap(64 TiB NORESERVE)", sys_munmap((void *)big, 64UL << 40));
    }
    big = (long)sys_mmap(0, 64UL << 40, PROT_READ, ANON, -1, 0);
    show_map("mmap(0, 64 TiB, READ, PRIVATE)", big);
    if (!mm_is_err(big)) {
        show("mprotect(64 TiB, RW)", sys_mprotect((void *)big, 64UL << 40, RW));
        show("munmap(64 TiB READ)", sys_munmap((void *)big, 64UL << 40));
    }

    /* read/write: access_ok(buf, count) comes before rw_verify_area and the clamp to MAX_RW_COUNT */
    show("write(1, page, 1<<62)", sys_write(1, page, 1UL << 62));
    show("write(1, page, -1)", sys_write(1, page, (size_t)-1));
    show("read(0, page, 1<<62)", sys_read(0, page, 1UL << 62));
    show("read(0, page, -1)", sys_read(0, page, (size_t)-1));
    show("write(1, 0xffff800000000000, 1)", sys_write(1, (void *)0xffff800000000000UL, 1));
    show("write(0x100000001, page, 0)", mm_syscall3(MM_NR_write, 0x100000001L, (long)page, 0));
    /* the syscall number is an int: the upper half of RAX is ignored */
    mm_printf("syscall(0x100000027) is getpid = %s\n", mm_syscall0(0x100000000L | MM_NR_getpid) == sys_getpid() ? "yes" : "no");
    show("syscall(0x100000000 | 1000)", mm_syscall0(0x100000000L | 1000));
    show("syscall(-1)", mm_syscall0(-1));
#else
    show_map("mmap(0xfffff000, FIXED)", (long)sys_mmap((void *)0xfffff000UL, 4096, RW, ANON | MAP_FIXED, -1, 0));
    show_map("mmap(0, 0xfffff000)", (long)sys_mmap(0, 0xfffff000UL, RW, ANON, -1, 0));
    show_map("mmap(hint 0x10000000, -8192)", (long)sys_mmap((void *)0x10000000UL, (size_t)-8192, RW, ANON, -1, 0));
    show("munmap(0xfffff000)", sys_munmap((void *)0xfffff000UL, 4096));
    show("munmap(page, -4096)", sys_munmap(page, (size_t)-4096));
    show("mprotect(page, -4096)", sys_mprotect(page, (size_t)-4096, PROT_READ));
    show("madvise(page, -4096)", sys_madvise(page, (size_t)-4096, MADV_DONTNEED));
    show("madvise(page, 0xfffff001)", sys_madvise(page, 0xfffff001UL, MADV_DONTNEED));
    mm_printf("page survived = %s\n", page[0] == 'x' ? "yes" : "no");
    show("write(1, 0xfffff000, 1)", sys_write(1, (void *)0xfffff000UL, 1));
#endif
    show("write(1, page, 0)", sys_write(1, page, 0));
    show("write(1, NULL, 1)", sys_write(1, 0, 1));
    show("read(1, page, 1)", sys_read(1, page, 1));

    /* writev: copy_iovec_from_user (negative length: EINVAL) then access_ok per segment (EFAULT) */
    struct iov v[2];
    v[0].base = page;
    v[0].len = 0;
    v[1].base = page;
    v[1].len = (size_t)-1;
    show("writev(len -1)", mm_syscall3(NR_writev, 1, (long)v, 2));
#if defined(__x86_64__)
    v[1].len = 1UL << 62;
    show("writev(len 1<<62)", mm_syscall3(NR_writev, 1, (long)v, 2));
    v[1].base = (void *)0xffff800000000000UL;
    v[1].len = 1;
    show("writev(base 0xffff800000000000)", mm_syscall3(NR_writev, 1, (long)v, 2));
    show("writev(iovcnt 0x100000001)", mm_syscall3(NR_writev, 1, (long)v, 0x100000001L));
#endif
    show("writev(iovcnt 1025)", mm_syscall3(NR_writev, 1, (long)v, 1025));
    show("writev(iovcnt 0)", mm_syscall3(NR_writev, 1, (long)v, 0));
    show("writev(iov NULL)", mm_syscall3(NR_writev, 1, 0, 1));
    show("writev(fd 0)", mm_syscall3(NR_writev, 0, (long)v, 1));

    cpu_clocks();
    return 0;
}
