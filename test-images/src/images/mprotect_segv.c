/*
 * mprotect_segv: maps a page read-write, writes and reads it, mprotects it read-only, reads it
 * again, then writes to it. The write must be killed by SIGSEGV: a shell reports status 139.
 * Output is flushed before the faulting write so everything printed so far is seen.
 */
#include "mmrt.h"

int main(void)
{
    volatile uint64_t *p = mm_map_anon(MM_PAGE_SIZE, PROT_READ | PROT_WRITE);
    if (p == MAP_FAILED) {
        mm_printf("mmap failed\n");
        return 1;
    }
    p[0] = 0x1122334455667788ULL;
    p[511] = 42;
    mm_printf("wrote page: %s\n", (p[0] == 0x1122334455667788ULL && p[511] == 42) ? "ok" : "BAD");
    long r = sys_mprotect((void *)p, MM_PAGE_SIZE, PROT_READ);
    mm_printf("mprotect(PROT_READ) = %ld\n", r);
    mm_printf("read after mprotect: %s\n", (p[0] == 0x1122334455667788ULL && p[511] == 42) ? "ok" : "BAD");
    r = sys_mprotect((void *)((uintptr_t)p + 1), MM_PAGE_SIZE, PROT_READ);
    mm_printf("mprotect(unaligned) = %ld\n", r);
    mm_printf("writing to the read-only page; expect SIGSEGV\n");
    mm_flush();
    p[7] = 1;
    mm_printf("BAD: the write to a read-only page succeeded\n");
    return 3;
}
