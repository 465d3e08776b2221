/**
 * The process model on top of the mm port: {@link org.mmulab.kernel.Kernel} (the vCPUs' trap handler:
 * syscalls, exceptions, page faults via {@code do_user_addr_fault}, signals' default actions, the OOM
 * kill, {@code --stats}), the static ELF64 loader and initial stack ({@code BinfmtElf}, following
 * fs/binfmt_elf.c with ASLR off), the x86-64 syscall table ({@link org.mmulab.kernel.Syscalls}) and
 * signal frames ({@code Signals}, arch/x86/kernel/signal_64.c), user-memory access through the MMU ({@link org.mmulab.kernel.UserAccess}).
 *
 * <p>Decisions worth knowing:
 * <ul>
 * <li>fds 0-2 are pipes: stdin read-only, stdout/stderr write-only; TCGETS/TIOCGWINSZ/TCSBRK give
 *     -ENOTTY as Linux does on a pipe, so output does not depend on whether the host has a terminal.</li>
 * <li>ELF segments are private file mappings of the image: pages come from the image's page cache at
 *     fault time (read → shared read-only page, write → private copy).</li>
 * <li>No vDSO: AT_SYSINFO_EHDR is absent, so the initial RSP is 16 bytes above a native 6.x run; the
 *     pages a 6.18 host's vvar+vDSO take below mmap_base are reserved, so mmap addresses are native.</li>
 * <li>A fault signal runs its handler if one is installed (with SA_RESTORER) and not blocked, else
 *     takes the default action: the shell's message ("Segmentation fault", ...) on stderr, status 128+sig.</li>
 * </ul>
 * Implements emulator.machine.TrapHandler; may call org.mmulab.emulator.*, never gdbstub or cli.
 */
package org.mmulab.kernel;
