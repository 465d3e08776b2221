package org.mmulab.kernel;

import org.mmulab.emulator.cpu.Cpuid;

import java.io.InputStream;
import java.io.OutputStream;
import java.util.Objects;

/**
 * What the kernel is given by the composition root. {@code stdin}/{@code stdout}/{@code stderr} are the
 * guest's fds 0-2; they behave as pipes (ioctl TCGETS gives -ENOTTY, as Linux does on a pipe), so
 * a guest's output is the same whether or not the host stream is a terminal. The kernel's own
 * messages ("Segmentation fault", OOM) also go to {@code stderr}.
 *
 * @param pid    the process id getpid/gettid report (Linux starts user processes above 1; any is fine)
 * @param uid    the uid/gid reported in the auxiliary vector
 * @param hwcap  AT_HWCAP: CPUID.1:EDX of the emulated CPU
 * @param vdsoPages pages a native kernel's vvar+vDSO occupy just below mmap_base. mmulab has no vDSO
 *        (and no AT_SYSINFO_EHDR), but reserves that many pages there (an inaccessible placeholder VMA)
 *        so that mmap addresses match a native run under {@code setarch -R}. 8 matches Linux 6.18
 *        (vvar 4, vvar_vclock 2, vdso 2); 0 gives the layout of a kernel booted with vdso=0.
 * @param paging the machine's paging mode ({@code --paging 4level|pae}): FOUR_LEVEL is a 64-bit kernel
 *        (64-bit images in long mode, i386 images in compatibility mode, PCIDs on); PAE is a 32-bit
 *        kernel with CONFIG_X86_PAE (i386 images only, 3-level tables, TASK_SIZE 3 GiB, no PCID)
 */
public record KernelConfig(InputStream stdin, OutputStream stdout, OutputStream stderr, int pid, int uid, long hwcap,
        int vdsoPages, PagingMode paging) {
    /** The page-table format the kernel builds, and so the mode the MMU walks in. */
    public enum PagingMode {
        /** x86-64 4-level paging (CR4.PAE, EFER.LME/LMA): a 64-bit kernel. */
        FOUR_LEVEL,
        /** 32-bit PAE paging (CR4.PAE, no LME): a 32-bit kernel with 64-bit entries and PDPTE registers. */
        PAE;

        /** Parses the CLI spelling: {@code 4level} or {@code pae} (case-insensitive). */
        public static PagingMode parse(String s) {
            return switch (s.toLowerCase(java.util.Locale.ROOT)) {
                case "4level", "4-level", "four_level" -> FOUR_LEVEL;
                case "pae" -> PAE;
                default -> throw new IllegalArgumentException("unknown paging mode '" + s + "' (expected 4level or pae)");
            };
        }

        /** The CLI spelling {@link #parse} accepts: {@code 4level} or {@code pae}. */
        public String cliName() {
            return this == FOUR_LEVEL ? "4level" : "pae";
        }
    }

    /**
     * ELF_HWCAP is boot_cpu_data's CPUID.1:EDX (arch/x86/include/asm/elf.h), read from the interpreter's CPUID so
     * the two never disagree.
     */
    public static final long DEFAULT_HWCAP = Cpuid.LEAF1_EDX & 0xffff_ffffL;
    public static final int DEFAULT_PID = 1;
    public static final int DEFAULT_VDSO_PAGES = 8;

    public KernelConfig {
        Objects.requireNonNull(stdin, "stdin");
        Objects.requireNonNull(stdout, "stdout");
        Objects.requireNonNull(stderr, "stderr");
        if (vdsoPages < 0 || vdsoPages > 1024) {
            throw new IllegalArgumentException("vdsoPages out of range: " + vdsoPages);
        }
        Objects.requireNonNull(paging, "paging");
    }

    /** FOUR_LEVEL paging (the constructor before the paging mode existed). */
    public KernelConfig(InputStream stdin, OutputStream stdout, OutputStream stderr, int pid, int uid, long hwcap,
            int vdsoPages) {
        this(stdin, stdout, stderr, pid, uid, hwcap, vdsoPages, PagingMode.FOUR_LEVEL);
    }

    public KernelConfig(InputStream stdin, OutputStream stdout, OutputStream stderr) {
        this(stdin, stdout, stderr, DEFAULT_PID, 0, DEFAULT_HWCAP, DEFAULT_VDSO_PAGES);
    }

    /** The same streams and ids with another vDSO reservation (0: the vdso=0 layout). */
    public KernelConfig withVdsoPages(int pages) {
        return new KernelConfig(stdin, stdout, stderr, pid, uid, hwcap, pages, paging);
    }

    /** The same configuration with another paging mode. */
    public KernelConfig withPaging(PagingMode mode) {
        return new KernelConfig(stdin, stdout, stderr, pid, uid, hwcap, vdsoPages, mode);
    }
}
