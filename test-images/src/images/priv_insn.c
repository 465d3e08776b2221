/*
 * priv_insn: executes one instruction that user mode may not execute (argv[1] names it) and reports
 * the signal. Linux turns the #GP(0) (or the #GP(selector) of a far return to a bad code segment)
 * into SIGSEGV with si_code SI_KERNEL (0x80) and si_addr 0 (arch/x86/kernel/traps.c
 * exc_general_protection -> gp_user_force_sig_segv); an unknown opcode is #UD -> SIGILL ILL_ILLOPN.
 * With "-default" after the name no handler is installed, so the shell sees the default action.
 * "retf64" far-returns to __USER_CS itself, which is allowed, and prints that it came back.
 */
#include "mmrt.h"
#include "mmsig.h"

static void handler(int sig, struct mm_siginfo *info, void *uc)
{
    (void)uc;
    mm_printf("signal %d code 0x%x addr %lx\n", sig, info->si_code, (unsigned long)info->si_addr);
    mm_flush();
    sys_exit_group(0);
}

static void run(const char *what)
{
    if (!strcmp(what, "hlt")) {
        __asm__ volatile("hlt");
    } else if (!strcmp(what, "cli")) {
        __asm__ volatile("cli");
    } else if (!strcmp(what, "sti")) {
        __asm__ volatile("sti");
    } else if (!strcmp(what, "in")) {
        __asm__ volatile("inb $0x80, %%al" ::: "eax");
    } else if (!strcmp(what, "out")) {
        __asm__ volatile("outb %%al, %%dx" ::"a"(0), "d"(0x80));
    } else if (!strcmp(what, "movcr3")) {
        unsigned long v;
        __asm__ volatile("mov %%cr3, %0" : "=r"(v));
    } else if (!strcmp(what, "movtocr0")) {
        __asm__ volatile("mov %0, %%cr0" ::"r"(0UL));
    } else if (!strcmp(what, "lgdt")) {
        static char desc[10];
        __asm__ volatile("lgdt %0" ::"m"(desc));
    } else if (!strcmp(what, "invlpg")) {
        __asm__ volatile("invlpg (%0)" ::"r"(0UL) : "memory");
    } else if (!strcmp(what, "wrmsr")) {
        __asm__ volatile("wrmsr" ::"c"(0x10), "a"(0), "d"(0));
    } else if (!strcmp(what, "rdmsr")) {
        __asm__ volatile("rdmsr" ::"c"(0x10) : "eax", "edx");
    } else if (!strcmp(what, "wbinvd")) {
        __asm__ volatile("wbinvd");
    } else if (!strcmp(what, "clts")) {
        __asm__ volatile("clts");
#if defined(__x86_64__)
    } else if (!strcmp(what, "retf-bad")) {
        /* push a data selector as the code segment: #GP(0x28) */
        __asm__ volatile("pushq $0x2b\n\tpushq $1f\n\tlretq\n1:" ::: "memory");
    } else if (!strcmp(what, "retf-null")) {
        __asm__ volatile("pushq $0\n\tpushq $1f\n\tlretq\n1:" ::: "memory");
    } else if (!strcmp(what, "retf-kernel")) {
        __asm__ volatile("pushq $0x10\n\tpushq $1f\n\tlretq\n1:" ::: "memory");
    } else if (!strcmp(what, "retf64")) {
        __asm__ volatile("pushq $0x33\n\tpushq $1f\n\tlretq\n1:" ::: "memory");
        mm_printf("retf to 0x33 returned\n");
        return;
#endif
    } else if (!strcmp(what, "ud2")) {
        __asm__ volatile("ud2");
    } else {
        mm_printf("unknown instruction %s\n", what);
        return;
    }
    mm_printf("BAD: %s executed at CPL 3\n", what);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        mm_printf("usage: priv_insn INSN [-default]\n");
        return 2;
    }
    if (argc < 3 || strcmp(argv[2], "-default")) {
        mm_sigaction(MM_SIGSEGV, (void *)handler, MM_SA_SIGINFO);
        mm_sigaction(4, (void *)handler, MM_SA_SIGINFO);
    }
    mm_printf("executing %s\n", argv[1]);
    mm_flush();
    run(argv[1]);
    return 0;
}
