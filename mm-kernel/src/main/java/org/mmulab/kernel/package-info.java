/**
 * The process model on top of the mm port: {@link org.mmulab.kernel.Kernel} (the vCPUs' trap handler:
 * syscalls, exceptions, page faults via {@code do_user_addr_fault}, signals' default actions, the OOM
 * kill, {@code --stats}), the static ELF64 / ELF32 loader and initial stack ({@code BinfmtElf}, following
 * fs/binfmt_elf.c with ASLR off), the x86-64 and ia32 syscall tables ({@link org.mmulab.kernel.Syscalls}, which
 * dispatch by subsystem: {@code SysFsTable} for fs/ (the VFS), {@code SysTime} for kernel/time/, the mm port for mm/) and
 * signal frames ({@code Signals}, arch/x86/kernel/signal_64.c), user-memory access through the MMU ({@link org.mmulab.kernel.UserAccess}).
 *
 * <p>Decisions worth knowing:
 * <ul>
 * <li>fds 0-2 of the first process are pipes (the console: stdin read-only, stdout/stderr
 *     write-only); TCGETS/TIOCGWINSZ/TCSBRK give -ENOTTY as Linux does on a pipe, so output does not
 *     depend on whether the host has a terminal. /dev/tty is ENXIO (no controlling terminal).</li>
 * <li>Files: the VFS of {@link org.mmulab.kernel.fs} ({@code Filesystems} builds the namespace: the host
 *     tree read-only at / or {@code --root DIR}, {@code --rw DIR} writable, tmpfs /tmp and /dev/shm in
 *     guest RAM, /proc ({@code ProcFs}), /dev); the calls are {@code SysFile} (fds), {@code SysPath}
 *     (names), {@code SysPoll}, {@code SysExec} (execve, #! scripts, process groups), routed by
 *     {@code SysFsTable}. Interrupted blocking calls restart as on Linux ({@code SyscallRestart}).</li>
 * <li>ELF segments are private file mappings of the image: pages come from the image's page cache at
 *     fault time (read → shared read-only page, write → private copy).</li>
 * <li>No vDSO: AT_SYSINFO_EHDR is absent, so the initial RSP is 16 bytes above a native 6.x run; the
 *     pages a 6.18 host's vvar+vDSO take below mmap_base are reserved, so mmap addresses are native.</li>
 * <li>Paging mode per machine ({@link org.mmulab.kernel.KernelConfig.PagingMode}): FOUR_LEVEL is a
 *     64-bit kernel (64-bit images in long mode; i386 images in compatibility mode, TASK_SIZE_32,
 *     CR4.PCIDE with 6 ASIDs); PAE is a 32-bit PAE kernel (i386 images only, TASK_SIZE 3 GiB, no PCID;
 *     a 64-bit image is refused with "64-bit image needs --paging 4level").</li>
 * <li>i386 TLS: set_thread_area records the user_desc per task and loads its base into
 *     {@code CpuState.gsBase}, which the interpreter uses as the %gs base in 32-bit mode.</li>
 * <li>ia32 tasks get the i386 frames (SignalsIa32): rt_sigframe_ia32 for SA_SIGINFO handlers, the
 *     old sigframe_ia32 otherwise; rt_sigreturn (#173) and sigreturn (#119) restore them.</li>
 * <li>Argument checks are Linux's, in Linux's order: addresses and lengths are unsigned longs compared
 *     with TASK_SIZE; access_ok (the whole range below the kernel's TASK_SIZE_MAX) comes before
 *     rw_verify_area; the 64-bit syscall number is an int; overcommit follows mode 0 (a single charged
 *     request larger than RAM is ENOMEM, see {@code mm.Overcommit}).</li>
 * <li>#GP (a privileged instruction, a far return to a selector that is not __USER_CS/__USER32_CS) is
 *     SIGSEGV with SI_KERNEL, status 139; #UD is SIGILL.</li>
 * <li>A fault signal runs its handler if one is installed (with SA_RESTORER) and not blocked, else
 *     takes the default action: the whole thread group dies with status 128+sig; the shell's message
 *     ("Segmentation fault", ...) is printed on stderr for init only (a child's death is its parent's
 *     to report).</li>
 * <li>Processes and threads: {@code Task} (one thread), {@code SignalStruct} (its process),
 *     {@code CpuContext} (per-vCPU current task, user access, vm_fault), {@code Sched} (one run queue,
 *     slices counted in instructions, blocking as continuations, deadlock detection), {@code SysClone}
 *     (clone/fork/vfork), {@code SysExit} (exit, exit_group, wait4, waitid), {@code Futex}. The exec'd
 *     image is init of its own pid namespace: its pid is {@code KernelConfig.pid()}, its getppid 0, and
 *     when it dies every other task is killed and the run ends with its status.</li>
 * </ul>
 * Implements emulator.machine.TrapHandler; may call org.mmulab.emulator.*, never gdbstub or cli.
 */
package org.mmulab.kernel;
