/*
 * mmsig.h: fault-signal handlers for mmulab's freestanding images. rt_sigaction with SA_RESTORER and
 * a restorer of our own, as libcs do: the kernel returns from a handler through sa_restorer, which
 * calls rt_sigreturn (SA_SIGINFO frames) or, on i386, the old sigreturn (non-SA_SIGINFO frames).
 * Include after mmrt.h.
 */
#ifndef MMSIG_H
#define MMSIG_H

#define MM_SIGSEGV 11
#define MM_SA_SIGINFO 4
#define MM_SA_RESTORER 0x04000000
#define MM_SA_RESETHAND 0x80000000u
#define MM_SEGV_MAPERR 1
#define MM_SEGV_ACCERR 2

/* The kernel's struct sigaction for rt_sigaction (no sa_mask padding: sigsetsize is 8). On i386 the
 * 64-bit mask sits at offset 12 (long long is 4-byte aligned in structs), as compat sigaction32 says. */
struct mm_sigaction {
    void *handler;
    unsigned long flags;
    void (*restorer)(void);
    uint64_t mask;
} __attribute__((packed));

/* The first words of siginfo_t / compat_siginfo_t. */
struct mm_siginfo {
    int si_signo;
    int si_errno;
    int si_code;
#if defined(__x86_64__)
    int pad;
#endif
    void *si_addr;
};

void mm_restore_rt(void);
#if defined(__x86_64__)
#define MM_NR_rt_sigaction 13
__asm__(".text\n.globl mm_restore_rt\nmm_restore_rt:\n\tmov $15, %eax\n\tsyscall\n\thlt\n");
#else
#define MM_NR_rt_sigaction 174
void mm_restore(void);
__asm__(".text\n.globl mm_restore_rt\nmm_restore_rt:\n\tmov $173, %eax\n\tint $0x80\n\thlt\n"
        ".globl mm_restore\nmm_restore:\n\tpop %eax\n\tmov $119, %eax\n\tint $0x80\n\thlt\n");
#endif

/* Installs handler for sig; SA_SIGINFO handlers take (sig, info, ucontext). Returns 0 or -errno. */
static inline long mm_sigaction(int sig, void *handler, unsigned long flags)
{
    struct mm_sigaction act;
    act.handler = handler;
    act.flags = flags | MM_SA_RESTORER;
#if defined(__i386__)
    act.restorer = (flags & MM_SA_SIGINFO) ? mm_restore_rt : mm_restore;
#else
    act.restorer = mm_restore_rt;
#endif
    act.mask = 0;
    return mm_syscall6(MM_NR_rt_sigaction, sig, (long)&act, 0, 8, 0, 0);
}

#endif
