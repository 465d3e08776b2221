/*
 * trap_cost [calls] [pages] [loops]: the two costs a virtualised host adds to every kernel entry, measured
 * on their own so that `mmulab bench --native` can report them as the calibration of its
 * virtualised-host layer (docs/cache-model.md, "The host is a virtual machine"):
 *
 *   RESULT trap_cost.ns_per_syscall       a null system call (getpid), `calls` (default 200000) of them
 *   RESULT trap_cost.cycles_per_syscall   the same by RDTSC
 *   RESULT trap_cost.ns_per_read_fault    a first read of an untouched anonymous page (a page fault that
 *                                         maps the page read-only: no zeroing, no copy), `pages`
 *                                         (default 4096) per loop, `loops` (default 4) loops; the
 *                                         mmap and munmap around each loop are outside the timing
 *   RESULT trap_cost.cycles_per_read_fault
 *
 * On bare metal a null system call is about 100-200 cycles and a read fault 1,000-2,000; under a
 * hypervisor that traps kernel entries (shadow paging: PVM, Xen PV) both grow by the hypervisor's
 * round trips, which is what the layer adds. Exit status 0, or 1 when mmap/munmap fail.
 */
#include "mmrt.h"
#include "mmbench.h"

int main(int argc, char **argv)
{
    uint64_t calls = mb_arg(argc, argv, 1, 200000);
    uint64_t pages = mb_arg(argc, argv, 2, 4096);
    uint64_t loops = mb_arg(argc, argv, 3, 4);
    if (calls == 0 || calls > 100000000 || pages == 0 || pages > 262144 || loops == 0 || loops > 1000) {
        mm_printf("usage: trap_cost [calls 1..1e8] [pages 1..262144] [loops 1..1000]\n");
        return 2;
    }
    mm_printf("trap_cost: %u null system calls, %u read faults x %u loops\n", (unsigned)calls, (unsigned)pages,
              (unsigned)loops);

    long sink = 0;
    uint64_t t0 = mm_now_ns();
    uint64_t c0 = mb_rdtsc();
    for (uint64_t i = 0; i < calls; i++) {
        sink += sys_getpid();
    }
    uint64_t c1 = mb_rdtsc();
    uint64_t t1 = mm_now_ns();
    mb_result("trap_cost.ns_per_syscall", t1 - t0, calls, "ns");
    mb_result("trap_cost.cycles_per_syscall", c1 - c0, calls, "cycles");

    size_t len = (size_t)pages * MM_PAGE_SIZE;
    uint64_t ns = 0, cycles = 0;
    for (uint64_t l = 0; l < loops; l++) {
        volatile char *p = sys_mmap(0, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (mm_is_err((long)p)) {
            mm_printf("mmap failed: %ld\n", (long)p);
            return 1;
        }
        sys_madvise((void *)p, len, MADV_NOHUGEPAGE);
        uint64_t f0 = mm_now_ns();
        uint64_t d0 = mb_rdtsc();
        for (size_t i = 0; i < len; i += MM_PAGE_SIZE) {
            sink += p[i];
        }
        uint64_t d1 = mb_rdtsc();
        uint64_t f1 = mm_now_ns();
        ns += f1 - f0;
        cycles += d1 - d0;
        if (sys_munmap((void *)p, len) != 0) {
            mm_printf("munmap failed\n");
            return 1;
        }
    }
    mb_result("trap_cost.ns_per_read_fault", ns, loops * pages, "ns");
    mb_result("trap_cost.cycles_per_read_fault", cycles, loops * pages, "cycles");
    return sink == -1; /* getpid is never -1 and the pages read 0: keeps the loops */
}
