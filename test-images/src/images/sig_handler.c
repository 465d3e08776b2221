/*
 * sig_handler: fault signals delivered to handlers and returned from, as a user-space GC, a JIT or a
 * copy-on-access scheme uses them. A write to a read-only page raises SIGSEGV (SEGV_ACCERR); the
 * handler checks si_addr, makes the page writable and returns; the write is retried and succeeds.
 * Run once with an SA_SIGINFO handler (rt frame, rt_sigreturn) and once with a plain handler (the old
 * i386 sigframe and sigreturn on i386). Registers live across the handler (integer work only: i386
 * doubles would be x87 code, which mmulab does not emulate).
 * Then SA_RESETHAND: the handler runs once, the next fault takes the default action (status 139).
 */
#include "mmrt.h"
#include "mmsig.h"

static char *page;
static volatile int caught;
static volatile int last_code;
static volatile long last_offset;

static void fix_page(void *addr)
{
    char *base = (char *)((unsigned long)addr & ~4095ul);
    last_offset = (long)((char *)addr - page);
    sys_mprotect(base, 4096, PROT_READ | PROT_WRITE);
    caught++;
}

static void on_segv_info(int sig, struct mm_siginfo *info, void *uc)
{
    (void)uc;
    if (sig != MM_SIGSEGV || info->si_signo != MM_SIGSEGV) {
        mm_puts("bad signal number\n");
        exit(3);
    }
    last_code = info->si_code;
    fix_page(info->si_addr);
}

static void on_segv_plain(int sig)
{
    (void)sig;
    /* No siginfo here: the test knows which page it protected. */
    fix_page(page + 4096 + 123);
}

static void on_segv_once(int sig)
{
    (void)sig;
    caught++;
    mm_printf("SA_RESETHAND handler ran once; returning re-faults into the default action\n");
    mm_flush();
}

/* Work whose live registers must survive the handler: the fault hits in the middle. */
static long work(volatile char *p, int n)
{
    long acc = 7, acc2 = 3;
    for (int i = 0; i < n; i++) {
        acc = acc * 31 + i;
        acc2 += acc >> 7;
    }
    *p = 42; /* faults once */
    for (int i = 0; i < n; i++) {
        acc ^= acc >> 3;
        acc2 = acc2 * 5 + i;
    }
    return acc + acc2;
}

int main(void)
{
    page = mm_map_anon(3 * 4096, PROT_READ);
    if (page == MAP_FAILED) {
        mm_puts("mmap failed\n");
        return 1;
    }
    if (mm_sigaction(MM_SIGSEGV, (void *)on_segv_info, MM_SA_SIGINFO) != 0) {
        mm_puts("rt_sigaction failed\n");
        return 1;
    }
    long r = work(page + 100, 1000);
    mm_printf("siginfo handler: caught=%d code=%d offset=%ld value=%d work=%ld\n", caught, last_code, last_offset,
              page[100], r);

    mm_sigaction(MM_SIGSEGV, (void *)on_segv_plain, 0);
    r = work(page + 4096 + 123, 500);
    mm_printf("plain handler: caught=%d offset=%ld value=%d work=%ld\n", caught, last_offset, page[4096 + 123], r);

    mm_sigaction(MM_SIGSEGV, (void *)on_segv_once, MM_SA_RESETHAND);
    mm_flush();
    page[2 * 4096] = 1; /* handler once, then the default action: killed by SIGSEGV */
    mm_puts("not reached\n");
    return 0;
}
