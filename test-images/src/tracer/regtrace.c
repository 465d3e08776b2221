/*
 * regtrace: the native half of mmulab's instruction-level oracle.
 *
 * Runs a static image under ptrace, single-stepping, and writes the registers after every
 * instruction in the MMRT register-trace format (documented in test-images/README.md and in
 * org.mmulab.emulator.debug.RegisterTraceWriter, which writes the same format from the emulator).
 *
 *   regtrace [-o TRACE] [-n MAX] [--stdout FILE] [--clean-env] [--env K=V]... IMAGE [ARGS...]
 *
 *   -o TRACE       output file (default: regtrace.out)
 *   -n MAX         stop after MAX records (the child is killed; the trace ends with status -2)
 *   --stdout FILE  the child's stdout goes to FILE (default: inherited)
 *   --clean-env    start the child with an empty environment (default: regtrace's environment)
 *   --env K=V      add K=V to the child's environment (repeatable)
 *   --no-vdso      unmap the child's [vvar]/[vdso] mappings before its first instruction, so that
 *                  mmap places memory where a kernel without a vDSO (mmulab's) does
 *   --stack FILE   replace the child's initial stack with the one in FILE before its first
 *                  instruction (see below), so that both runs start from the same bytes at the
 *                  same addresses
 *
 * The child runs with personality(ADDR_NO_RANDOMIZE) and argv[0] = IMAGE exactly as given.
 *
 * Stack transplant (--stack): FILE holds "MMSTACK1", u64 base, u64 rsp0, u64 length, then length
 * bytes to place at [base, base+length) - the emulator's initial stack (argc, argv, envp, auxv,
 * strings, zeroes below rsp0), dumped by the test. The range must lie inside the child's [stack]
 * mapping (both kernels put the top of the stack at 0x7ffffffff000). RSP is then set to rsp0. The
 * native auxv is replaced too, which images without libc never read.
 * Exit status: 0 when the trace was written (whatever the child did), 77 when ptrace is not
 * permitted here (tests skip on 77), 1 on other errors.
 *
 * Record stream (format version 2): per record a LEB128 of the 128-bit mask of the register slots
 * that changed since the previous record (0 RIP, 1 RFLAGS, 2..17 RAX RCX RDX RBX RSP RBP RSI RDI
 * R8..R15, 18 FS_BASE, 19..50 XMM0..15 as low/high 64-bit halves, 51 FSW, 52 FTW (abridged, as
 * FXSAVE stores it), 53 FCW, 54 MXCSR, 55..62 significands of the physical x87 registers R0..R7,
 * 63..70 their sign/exponent; bit 71 marks the end record), then for each set bit, lowest first,
 * the zig-zag LEB128 of (new - old) modulo 2^64. PTRACE_GETFPREGS gives the FXSAVE image, whose
 * register area is in stack order ST(0)..ST(7); R(p) is ST((p - TOP) mod 8), TOP = FSW bits 13:11.
 * The "previous record" before the first one is all zeroes. The end record carries the zig-zag
 * LEB128 of the exit status as a shell reports it (128+signal when killed), -1 unknown,
 * -2 truncated by -n.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/ptrace.h>
#include <sys/types.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#define NREGS 71
#define END_SLOT 71
#define REG_FSW 51
#define REG_FP_SIG0 55
#define REG_FP_SE0 63
#define EXIT_NO_PTRACE 77

static const char MAGIC[8] = { 'M', 'M', 'R', 'T', 'R', 'A', 'C', 'E' };
enum { FORMAT_VERSION = 2, PRODUCER_PTRACE = 1 };

static FILE *out;
static uint64_t prev[NREGS];

static void put_u8(unsigned v) { fputc((int)(v & 0xff), out); }

static void put_u32(uint32_t v)
{
    for (int i = 0; i < 4; i++) {
        put_u8(v >> (8 * i));
    }
}

static void put_u64(uint64_t v)
{
    for (int i = 0; i < 8; i++) {
        put_u8((unsigned)(v >> (8 * i)));
    }
}

static void put_uleb(uint64_t v)
{
    do {
        unsigned b = v & 0x7f;
        v >>= 7;
        put_u8(v ? b | 0x80 : b);
    } while (v);
}

typedef unsigned __int128 mask_t;

static void put_uleb128(mask_t v)
{
    do {
        unsigned b = (unsigned)(v & 0x7f);
        v >>= 7;
        put_u8(v ? b | 0x80 : b);
    } while (v);
}

static void put_zz(int64_t v) { put_uleb(((uint64_t)v << 1) ^ (uint64_t)(v >> 63)); }

static void regs_to_array(const struct user_regs_struct *r, const struct user_fpregs_struct *f, uint64_t *a)
{
    for (int i = 0; i < 16; i++) {
        a[19 + 2 * i] = (uint64_t)f->xmm_space[4 * i] | (uint64_t)f->xmm_space[4 * i + 1] << 32;
        a[20 + 2 * i] = (uint64_t)f->xmm_space[4 * i + 2] | (uint64_t)f->xmm_space[4 * i + 3] << 32;
    }
    a[0] = r->rip;
    a[1] = r->eflags;
    a[2] = r->rax;
    a[3] = r->rcx;
    a[4] = r->rdx;
    a[5] = r->rbx;
    a[6] = r->rsp;
    a[7] = r->rbp;
    a[8] = r->rsi;
    a[9] = r->rdi;
    a[10] = r->r8;
    a[11] = r->r9;
    a[12] = r->r10;
    a[13] = r->r11;
    a[14] = r->r12;
    a[15] = r->r13;
    a[16] = r->r14;
    a[17] = r->r15;
    a[18] = r->fs_base;
    a[REG_FSW] = f->swd;
    a[REG_FSW + 1] = f->ftw & 0xff;
    a[REG_FSW + 2] = f->cwd;
    a[REG_FSW + 3] = f->mxcsr;
    unsigned top = (f->swd >> 11) & 7;
    for (unsigned p = 0; p < 8; p++) {
        const uint32_t *st = &f->st_space[4 * ((p - top) & 7)];
        a[REG_FP_SIG0 + p] = (uint64_t)st[0] | (uint64_t)st[1] << 32;
        a[REG_FP_SE0 + p] = st[2] & 0xffff;
    }
}

static void write_record(const uint64_t *cur)
{
    mask_t mask = 0;
    for (int i = 0; i < NREGS; i++) {
        if (cur[i] != prev[i]) {
            mask |= (mask_t)1 << i;
        }
    }
    put_uleb128(mask);
    for (int i = 0; i < NREGS; i++) {
        if (mask & ((mask_t)1 << i)) {
            put_zz((int64_t)(cur[i] - prev[i]));
            prev[i] = cur[i];
        }
    }
}

static void write_end(int64_t status)
{
    put_uleb128((mask_t)1 << END_SLOT);
    put_zz(status);
}

static int peek(pid_t pid, uint64_t addr, uint64_t *val)
{
    errno = 0;
    long v = ptrace(PTRACE_PEEKDATA, pid, (void *)addr, 0);
    if (errno != 0) {
        return -1;
    }
    *val = (uint64_t)v;
    return 0;
}

/* Replaces the child's initial stack with the image in path; returns the new RSP, 0 on failure. */
static uint64_t transplant_stack(pid_t pid, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return 0;
    }
    char magic[8];
    uint64_t hdr[3];
    if (fread(magic, 1, 8, f) != 8 || memcmp(magic, "MMSTACK1", 8) != 0 || fread(hdr, 8, 3, f) != 3) {
        fprintf(stderr, "regtrace: %s is not a stack image\n", path);
        fclose(f);
        return 0;
    }
    uint64_t base = hdr[0], rsp0 = hdr[1], len = hdr[2];
    char *bytes = malloc(len ? len : 1);
    if (!bytes || fread(bytes, 1, len, f) != len) {
        fprintf(stderr, "regtrace: %s is truncated\n", path);
        fclose(f);
        return 0;
    }
    fclose(f);
    char maps_path[64];
    snprintf(maps_path, sizeof maps_path, "/proc/%d/maps", (int)pid);
    FILE *maps = fopen(maps_path, "r");
    if (!maps) {
        perror(maps_path);
        return 0;
    }
    char line[512];
    uint64_t lo = 0, hi = 0;
    while (fgets(line, sizeof line, maps)) {
        if (strstr(line, "[stack]")) {
            unsigned long long a, b;
            if (sscanf(line, "%llx-%llx", &a, &b) == 2) {
                lo = a;
                hi = b;
            }
        }
    }
    fclose(maps);
    if (!(rsp0 >= base && rsp0 < base + len)) {
        fprintf(stderr, "regtrace: stack image rsp0 0x%llx outside its bytes\n", (unsigned long long)rsp0);
        return 0;
    }
    if (base < lo || base + len > hi) {
        fprintf(stderr,
                "regtrace: stack image [0x%llx, 0x%llx) does not fit the native stack [0x%llx, 0x%llx)\n",
                (unsigned long long)base, (unsigned long long)(base + len), (unsigned long long)lo,
                (unsigned long long)hi);
        return 0;
    }
    char mem_path[64];
    snprintf(mem_path, sizeof mem_path, "/proc/%d/mem", (int)pid);
    int fd = open(mem_path, O_RDWR);
    ssize_t w = fd < 0 ? -1 : pwrite(fd, bytes, len, (off_t)base);
    if (fd >= 0) {
        close(fd);
    }
    if (w != (ssize_t)len) {
        /* no writable /proc/pid/mem: poke word by word */
        for (uint64_t off = 0; off + 8 <= len; off += 8) {
            uint64_t word;
            memcpy(&word, bytes + off, 8);
            if (ptrace(PTRACE_POKEDATA, pid, (void *)(base + off), (void *)word) != 0) {
                perror("regtrace: PTRACE_POKEDATA");
                return 0;
            }
        }
    }
    free(bytes);
    return rsp0;
}

/*
 * Makes the stopped child execute one munmap(start, len) at its current RIP: the instruction
 * bytes there are replaced by SYSCALL (INT 0x80 for 32-bit) for one step, then everything is put
 * back. Returns the syscall's result.
 */
static long remote_munmap(pid_t pid, uint64_t start, uint64_t len, int bits)
{
    struct user_regs_struct saved, r;
    if (ptrace(PTRACE_GETREGS, pid, 0, &saved) != 0) {
        return -1;
    }
    errno = 0;
    long orig = ptrace(PTRACE_PEEKTEXT, pid, (void *)saved.rip, 0);
    if (errno != 0) {
        return -1;
    }
    long patched = orig;
    unsigned char *pb = (unsigned char *)&patched;
    if (bits == 64) {
        pb[0] = 0x0f;
        pb[1] = 0x05;
    } else {
        pb[0] = 0xcd;
        pb[1] = 0x80;
    }
    if (ptrace(PTRACE_POKETEXT, pid, (void *)saved.rip, (void *)patched) != 0) {
        return -1;
    }
    r = saved;
    if (bits == 64) {
        r.rax = 11; /* munmap */
        r.rdi = start;
        r.rsi = len;
    } else {
        r.rax = 91; /* munmap */
        r.rbx = start;
        r.rcx = len;
    }
    long result = -1;
    int status;
    if (ptrace(PTRACE_SETREGS, pid, 0, &r) == 0 && ptrace(PTRACE_SINGLESTEP, pid, 0, 0) == 0
        && waitpid(pid, &status, 0) == pid && WIFSTOPPED(status) && ptrace(PTRACE_GETREGS, pid, 0, &r) == 0) {
        result = bits == 64 ? (long)r.rax : (long)(int32_t)r.rax;
    }
    ptrace(PTRACE_POKETEXT, pid, (void *)saved.rip, (void *)orig);
    ptrace(PTRACE_SETREGS, pid, 0, &saved);
    return result;
}

/* Unmaps [vvar], [vvar_vclock] and [vdso]; returns 0 on success. */
static int unmap_vdso(pid_t pid, int bits)
{
    char maps_path[64];
    snprintf(maps_path, sizeof maps_path, "/proc/%d/maps", (int)pid);
    FILE *maps = fopen(maps_path, "r");
    if (!maps) {
        perror(maps_path);
        return -1;
    }
    uint64_t lo[8], hi[8];
    int n = 0;
    char line[512];
    while (fgets(line, sizeof line, maps) && n < 8) {
        if (strstr(line, "[vdso]") || strstr(line, "[vvar]") || strstr(line, "[vvar_vclock]")) {
            unsigned long long a, b;
            if (sscanf(line, "%llx-%llx", &a, &b) == 2) {
                lo[n] = a;
                hi[n] = b;
                n++;
            }
        }
    }
    fclose(maps);
    for (int i = 0; i < n; i++) {
        long r = remote_munmap(pid, lo[i], hi[i] - lo[i], bits);
        if (r != 0) {
            fprintf(stderr, "regtrace: munmap of the vDSO area [0x%llx, 0x%llx) failed: %ld\n",
                    (unsigned long long)lo[i], (unsigned long long)hi[i], r);
            return -1;
        }
    }
    return 0;
}

static void usage(void)
{
    fprintf(stderr, "usage: regtrace [-o TRACE] [-n MAX] [--stdout FILE] [--no-vdso] [--stack FILE] [--clean-env] [--env K=V]... "
                    "IMAGE [ARGS...]\n");
    exit(1);
}

int main(int argc, char **argv)
{
    const char *trace_path = "regtrace.out";
    const char *stdout_path = NULL;
    uint64_t max = UINT64_MAX;
    const char *stack_path = NULL;
    int no_vdso = 0;
    int clean_env = 0;
    char **env_add = calloc((size_t)argc + 1, sizeof(char *));
    int n_env_add = 0;
    int i = 1;
    for (; i < argc; i++) {
        if (strcmp(argv[i], "-o") == 0 && i + 1 < argc) {
            trace_path = argv[++i];
        } else if (strcmp(argv[i], "-n") == 0 && i + 1 < argc) {
            max = strtoull(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--stdout") == 0 && i + 1 < argc) {
            stdout_path = argv[++i];
        } else if (strcmp(argv[i], "--no-vdso") == 0) {
            no_vdso = 1;
        } else if (strcmp(argv[i], "--stack") == 0 && i + 1 < argc) {
            stack_path = argv[++i];
        } else if (strcmp(argv[i], "--clean-env") == 0) {
            clean_env = 1;
        } else if (strcmp(argv[i], "--env") == 0 && i + 1 < argc) {
            env_add[n_env_add++] = argv[++i];
        } else if (strcmp(argv[i], "--") == 0) {
            i++;
            break;
        } else if (argv[i][0] == '-') {
            usage();
        } else {
            break;
        }
    }
    if (i >= argc) {
        usage();
    }
    char **child_argv = argv + i;
    int child_argc = argc - i;

    /* the child's environment */
    extern char **environ;
    size_t base_n = 0;
    if (!clean_env) {
        while (environ[base_n]) {
            base_n++;
        }
    }
    char **child_env = calloc(base_n + (size_t)n_env_add + 1, sizeof(char *));
    size_t env_n = 0;
    for (size_t k = 0; k < base_n; k++) {
        child_env[env_n++] = environ[k];
    }
    for (int k = 0; k < n_env_add; k++) {
        child_env[env_n++] = env_add[k];
    }
    child_env[env_n] = NULL;

    out = fopen(trace_path, "wb");
    if (!out) {
        perror(trace_path);
        return 1;
    }
    static char obuf[1 << 20];
    setvbuf(out, obuf, _IOFBF, sizeof obuf);

    int ready[2];
    if (pipe(ready) != 0) {
        perror("pipe");
        return 1;
    }
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        return 1;
    }
    if (pid == 0) {
        close(ready[0]);
        fcntl(ready[1], F_SETFD, FD_CLOEXEC);
        if (stdout_path) {
            int fd = open(stdout_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
            if (fd < 0 || dup2(fd, 1) < 0) {
                perror(stdout_path);
                _exit(1);
            }
            close(fd);
        }
        if (ptrace(PTRACE_TRACEME, 0, 0, 0) != 0) {
            char c = 'P';
            if (write(ready[1], &c, 1) < 0) {
                _exit(EXIT_NO_PTRACE);
            }
            _exit(EXIT_NO_PTRACE);
        }
        personality(ADDR_NO_RANDOMIZE);
        execve(child_argv[0], child_argv, child_env);
        char c = 'E';
        if (write(ready[1], &c, 1) < 0) {
            _exit(1);
        }
        _exit(1);
    }
    close(ready[1]);

    int status;
    if (waitpid(pid, &status, 0) != pid) {
        perror("waitpid");
        return 1;
    }
    if (!WIFSTOPPED(status) || WSTOPSIG(status) != SIGTRAP) {
        char c = 0;
        if (read(ready[0], &c, 1) == 1 && c == 'E') {
            fprintf(stderr, "regtrace: cannot execute %s\n", child_argv[0]);
            return 1;
        }
        fprintf(stderr, "regtrace: ptrace not permitted here (PTRACE_TRACEME failed, status 0x%x)\n", status);
        return EXIT_NO_PTRACE;
    }
    ptrace(PTRACE_SETOPTIONS, pid, 0, (void *)(long)PTRACE_O_EXITKILL);

    struct user_regs_struct regs;
    if (ptrace(PTRACE_GETREGS, pid, 0, &regs) != 0) {
        perror("PTRACE_GETREGS");
        return EXIT_NO_PTRACE;
    }

    if (no_vdso && unmap_vdso(pid, regs.cs == 0x23 ? 32 : 64) != 0) {
        kill(pid, SIGKILL);
        return 1;
    }
    if (stack_path) {
        uint64_t rsp = transplant_stack(pid, stack_path);
        if (rsp == 0) {
            kill(pid, SIGKILL);
            return 1;
        }
        regs.rsp = rsp;
        if (ptrace(PTRACE_SETREGS, pid, 0, &regs) != 0) {
            perror("PTRACE_SETREGS");
            kill(pid, SIGKILL);
            return 1;
        }
    }

    /* header: magic, version, producer, address size, rsp0, rip0, argc, string table */
    uint64_t rsp0 = regs.rsp;
    int bits = regs.cs == 0x23 ? 32 : 64;
    int word = bits / 8;
    uint64_t argc0 = 0;
    peek(pid, rsp0, &argc0);
    if (bits == 32) {
        argc0 &= 0xffffffffu;
    }
    fwrite(MAGIC, 1, sizeof MAGIC, out);
    put_u8(FORMAT_VERSION);
    put_u8(PRODUCER_PTRACE);
    put_u8((unsigned)bits);
    put_u8(0);
    put_u64(rsp0);
    put_u64(regs.rip);
    put_u32((uint32_t)argc0);
    put_u32((uint32_t)env_n);
    /* addresses of argv[] and envp[] strings, read back from the child's stack */
    uint64_t slot = rsp0 + (uint64_t)word;
    for (int k = 0; k < (int)argc0 + 1 + (int)env_n + 1; k++, slot += (uint64_t)word) {
        uint64_t p = 0;
        peek(pid, slot, &p);
        if (bits == 32) {
            p &= 0xffffffffu;
        }
        if (k == (int)argc0 || k == (int)argc0 + 1 + (int)env_n) {
            continue; /* the NULL terminators */
        }
        const char *s = k < (int)argc0 ? child_argv[k] : child_env[k - (int)argc0 - 1];
        put_u64(p);
        put_u32((uint32_t)strlen(s));
    }
    (void)child_argc;

    uint64_t cur[NREGS];
    struct user_fpregs_struct fpregs;
    uint64_t records = 0;
    int pending_signal = 0;
    for (;;) {
        if (records >= max) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            write_end(-2);
            break;
        }
        if (ptrace(PTRACE_SINGLESTEP, pid, 0, (void *)(long)pending_signal) != 0) {
            perror("PTRACE_SINGLESTEP");
            return 1;
        }
        pending_signal = 0;
        if (waitpid(pid, &status, 0) != pid) {
            perror("waitpid");
            return 1;
        }
        if (WIFEXITED(status)) {
            write_end(WEXITSTATUS(status));
            break;
        }
        if (WIFSIGNALED(status)) {
            write_end(128 + WTERMSIG(status));
            break;
        }
        if (!WIFSTOPPED(status)) {
            continue;
        }
        if (WSTOPSIG(status) != SIGTRAP) {
            /* a signal for the child (SIGSEGV from a faulting instruction...): that instruction did
               not retire; deliver the signal with the next step */
            pending_signal = WSTOPSIG(status);
            continue;
        }
        if (ptrace(PTRACE_GETREGS, pid, 0, &regs) != 0 || ptrace(PTRACE_GETFPREGS, pid, 0, &fpregs) != 0) {
            perror("PTRACE_GETREGS/GETFPREGS");
            return 1;
        }
        regs_to_array(&regs, &fpregs, cur);
        write_record(cur);
        records++;
    }
    if (fclose(out) != 0) {
        perror(trace_path);
        return 1;
    }
    fprintf(stderr, "regtrace: %llu records\n", (unsigned long long)records);
    return 0;
}
