/*
 * thp_collapse: transparent huge pages through madvise.
 *   1. an anonymous 2 MiB-aligned 4 MiB range: every page written, MADV_HUGEPAGE on it, then
 *      MADV_COLLAPSE (prints the return value) and a check of every page; with /proc, whether
 *      /proc/self/smaps_rollup shows AnonHugePages (printed only as yes/no, and only when the
 *      collapse returned 0);
 *   2. the huge mapping split again by mprotect of one page, MADV_DONTNEED of another and munmap of a
 *      third: every other page keeps its data, the dropped one reads zero;
 *   3. a memfd (shmem) of 2 MiB mapped shared twice: written through the first mapping, MADV_COLLAPSE
 *      of the first (return value printed), then every page checked through both mappings and a write
 *      through the huge mapping seen through the other.
 * Only data checks and madvise return values are printed: whether a host kernel backs anything with
 * huge pages depends on its THP settings, what MADV_COLLAPSE returns does not (it ignores them).
 * Exit status 0 when every data check passed, 1 otherwise.
 */
#include "mmrt.h"

#define MADV_DONTNEED 4
#define MADV_HUGEPAGE 14
#define MADV_COLLAPSE 25
#define HPAGE (2UL << 20)

#if defined(__x86_64__)
#define NR_open 2
#define NR_close 3
#define NR_ftruncate 77
#define NR_memfd_create 319
#else
#define NR_open 5
#define NR_close 6
#define NR_ftruncate 93
#define NR_memfd_create 356
#endif

static int bad;

static uint64_t value(uintptr_t page, int salt)
{
    return (uint64_t)page * 0x9e3779b97f4a7c15ULL + (uint64_t)salt;
}

static void fill(volatile uint64_t *p, size_t len, int salt)
{
    for (size_t off = 0; off < len; off += MM_PAGE_SIZE) {
        p[(off + 8 * (off / MM_PAGE_SIZE % 500)) / 8] = value(off / MM_PAGE_SIZE, salt);
    }
}

/* Checks every page: page zero (or none: -1) must read zero, page gone (or -1) is not looked at. */
static void check(const char *what, volatile uint64_t *p, size_t len, int salt, long zero, long gone)
{
    size_t wrong = 0;
    for (size_t off = 0; off < len; off += MM_PAGE_SIZE) {
        long i = (long)(off / MM_PAGE_SIZE);
        if (i == gone) {
            continue;
        }
        uint64_t want = i == zero ? 0 : value((uintptr_t)i, salt);
        if (p[(off + 8 * (off / MM_PAGE_SIZE % 500)) / 8] != want) {
            wrong++;
        }
    }
    mm_printf("%s: %s\n", what, wrong ? "BAD" : "ok");
    bad |= wrong != 0;
}

/* Whether /proc/self/smaps_rollup has a nonzero AnonHugePages line: 1, 0, or -1 when unreadable. */
static int anon_huge_pages(void)
{
    static char buf[4096];
    long fd = mm_syscall3(NR_open, (long)"/proc/self/smaps_rollup", 0, 0);
    if (fd < 0) {
        return -1;
    }
    long n = sys_read((int)fd, buf, sizeof(buf) - 1);
    mm_syscall1(NR_close, fd);
    if (n <= 0) {
        return -1;
    }
    buf[n] = 0;
    const char *key = "AnonHugePages:";
    for (long i = 0; i < n; i++) {
        long k = 0;
        while (key[k] && buf[i + k] == key[k]) {
            k++;
        }
        if (!key[k]) {
            for (i += k; buf[i] == ' '; i++) {
            }
            return buf[i] != '0';
        }
    }
    return -1;
}

static volatile uint64_t *align(void *p)
{
    return (volatile uint64_t *)(((uintptr_t)p + HPAGE - 1) & ~(HPAGE - 1));
}

int main(void)
{
    /* 1. anonymous */
    void *raw = sys_mmap(0, 3 * HPAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mm_is_err((long)raw)) {
        mm_printf("mmap failed\n");
        return 1;
    }
    volatile uint64_t *a = align(raw);
    size_t alen = 2 * HPAGE;
    fill(a, alen, 1);
    mm_printf("anon MADV_HUGEPAGE: %ld\n", sys_madvise((void *)a, alen, MADV_HUGEPAGE));
    long r = sys_madvise((void *)a, alen, MADV_COLLAPSE);
    mm_printf("anon MADV_COLLAPSE: %ld\n", r);
    check("anon after collapse", a, alen, 1, -1, -1);
    if (r == 0) {
        int huge = anon_huge_pages();
        if (huge >= 0) {
            mm_printf("smaps_rollup AnonHugePages: %s\n", huge ? "yes" : "no");
        }
    }

    /* 2. split again: mprotect one page, drop another, unmap a third */
    mm_printf("mprotect: %ld\n", sys_mprotect((void *)(a + 3 * 512), MM_PAGE_SIZE, PROT_READ));
    mm_printf("MADV_DONTNEED: %ld\n", sys_madvise((void *)(a + 7 * 512), MM_PAGE_SIZE, MADV_DONTNEED));
    mm_printf("munmap: %ld\n", sys_munmap((void *)(a + 600 * 512), MM_PAGE_SIZE));
    check("anon after split", a, alen, 1, 7, 600);

    /* 3. memfd */
    long fd = mm_syscall2(NR_memfd_create, (long)"thp", 0);
    if (fd < 0 || mm_syscall2(NR_ftruncate, fd, (long)HPAGE) != 0) {
        mm_printf("memfd failed\n");
        return 1;
    }
    void *raw1 = sys_mmap(0, 2 * HPAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    volatile uint64_t *m1 = align(raw1);
    void *m1p = sys_mmap((void *)m1, HPAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, (int)fd, 0);
    void *m2p = sys_mmap(0, HPAGE, PROT_READ | PROT_WRITE, MAP_SHARED, (int)fd, 0);
    if (mm_is_err((long)m1p) || mm_is_err((long)m2p)) {
        mm_printf("memfd mmap failed\n");
        return 1;
    }
    volatile uint64_t *m2 = m2p;
    fill(m1, HPAGE, 3);
    mm_printf("memfd MADV_COLLAPSE: %ld\n", sys_madvise((void *)m1, HPAGE, MADV_COLLAPSE));
    check("memfd through the collapsed mapping", m1, HPAGE, 3, -1, -1);
    check("memfd through the other mapping", m2, HPAGE, 3, -1, -1);
    m1[5 * 512 + 1] = 0x1234;
    mm_printf("write seen through the other mapping: %s\n", m2[5 * 512 + 1] == 0x1234 ? "ok" : "BAD");
    bad |= m2[5 * 512 + 1] != 0x1234;
    mm_printf("%s\n", bad ? "FAIL" : "PASS");
    return bad;
}
