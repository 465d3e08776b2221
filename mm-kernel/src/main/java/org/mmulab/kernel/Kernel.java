package org.mmulab.kernel;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.mmulab.emulator.cpu.CpuState;
import org.mmulab.emulator.machine.Machine;
import org.mmulab.emulator.machine.TrapHandler;
import org.mmulab.emulator.machine.Vcpu;
import org.mmulab.kernel.mm.FileBytes;
import org.mmulab.kernel.mm.CycleCharge;
import org.mmulab.kernel.mm.Memory;
import org.mmulab.kernel.mm.MmStruct;
import org.mmulab.kernel.mm.Mmap;
import org.mmulab.kernel.mm.PaePgtable;
import org.mmulab.kernel.mm.X86_64Pgtable;

/**
 * The Java kernel behind the vCPUs: trap entry (arch/x86/entry/common.c do_syscall_64, the exception
 * handlers of arch/x86/kernel/traps.c and arch/x86/mm/fault.c do_user_addr_fault), exec of a static
 * ELF64 image, signals with their default actions (kernel/signal.c), the OOM kill (mm/oom_kill.c), and
 * the counters behind {@code --stats}. The mm itself is in {@link org.mmulab.kernel.mm}.
 *
 * <p>Per-CPU kernel context ({@link CpuContext}): each vCPU has its current task, its user-copy path and
 * its struct vm_fault; {@link #current()} is the task of the vCPU whose thread calls. Tasks, thread
 * groups and the scheduler are {@link Task}, {@link SignalStruct} and {@link Sched}; clone/fork/vfork
 * are {@link SysClone}, exit and wait {@link SysExit}, futexes {@link Futex}. Every return to user
 * mode (after a syscall, an exception or a timer tick) goes through {@link #returnToUser}: a pending
 * kill, the OOM kill, pending signals, a reschedule.
 *
 * <p>Synchronous fault signals (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP) run the task's handler when
 * one is installed with SA_RESTORER and the signal is not blocked ({@link Signals}); otherwise, as
 * force_sig_fault does, the default action kills the whole thread group.
 *
 * <p>One file per Linux file, as the anchors split it: this class is the kernel's state, boot (CPU mode
 * setup; the first process's exec is {@link InitExec}), the run loop and the exit/OOM glue; {@link EntryCommon} is
 * arch/x86/entry/common.c (syscall and tick entry, exit_to_user_mode_loop), {@link Traps}
 * arch/x86/kernel/traps.c (exceptions to signals), {@link UserFault} arch/x86/mm/fault.c
 * (do_user_addr_fault), {@link KernelStats} the --stats report and monitor commands. The public entry
 * points stay here and delegate.
 */
public final class Kernel implements TrapHandler {
    public static final int SIGILL = 4, SIGTRAP = 5, SIGABRT = 6, SIGBUS = 7, SIGFPE = 8, SIGKILL = 9, SIGSEGV = 11,
            SIGSTOP = 19;

    private final Machine machine;
    private final KernelConfig config;
    private final Memory memory;
    private final Mmap mmap;
    private final Syscalls syscalls;
    /** The mount namespace, pipefs and the console files ({@code --root}, {@code --rw}). */
    private final Filesystems filesystems = new Filesystems(this);
    private final EntryCommon entry = new EntryCommon(this);
    private final Traps traps = new Traps(this);
    private final UserFault userFault = new UserFault(this);
    private final KernelStats stats = new KernelStats(this);
    private final Vcpu cpu0;
    /** Per-CPU data, by vCPU id. */
    private final CpuContext[] cpus;
    /** The per-CPU data of the vCPU whose thread runs kernel code (set at every trap entry). */
    private final ThreadLocal<CpuContext> here = new ThreadLocal<>();
    private final Sched sched;
    private final Futex futex;
    private final SysExit exits;
    private final SysClone clones;
    /** The first process's leader (pid {@code config.pid()}): the init of mmulab's pid namespace. */
    private Task initTask;
    /** The exit signal of fork (and of vfork): SIGCHLD in CSIGNAL. */
    static final long SIGCHLD_FLAGS = SignalQueue.SIGCHLD;
    String exitCounters = "";
    long exitHiwaterRss, exitHiwaterVm;

    public Kernel(Machine machine, KernelConfig config) {
        this.machine = machine;
        this.config = config;
        CycleCharge charge = new CycleCharge(machine);
        org.mmulab.kernel.mm.FrameTable frames = new org.mmulab.kernel.mm.FrameTable(machine.memory());
        frames.setCharge(charge);
        this.memory = new Memory(machine.memory(), frames,
                config.paging() == KernelConfig.PagingMode.PAE ? new PaePgtable(machine.memory(), charge)
                        : new X86_64Pgtable(machine.memory(), charge));
        this.mmap = new Mmap(memory);
        this.cpu0 = machine.vcpu(0);
        this.cpus = new CpuContext[machine.vcpus().size()];
        for (int i = 0; i < cpus.length; i++) {
            cpus[i] = new CpuContext(this, machine.vcpu(i));
        }
        this.sched = new Sched(this);
        this.futex = new Futex(this, sched);
        this.exits = new SysExit(this, sched);
        this.clones = new SysClone(this, sched);
        this.syscalls = new Syscalls(this);
        machine.setTrapHandler(this);
    }

    public Machine machine() {
        return machine;
    }

    public KernelConfig config() {
        return config;
    }

    public Memory memory() {
        return memory;
    }

    public Mmap mmap() {
        return mmap;
    }

    /**
     * The current task of the calling vCPU, or (outside a trap, or on an idle vCPU) the init process's
     * leader; null before exec. What tests and the CLI ask about "the process".
     */
    public Task task() {
        Task c = ctx().curr;
        return c != null ? c : initTask;
    }

    /** {@code current}: the task on the calling thread's vCPU (vCPU 0 outside a vCPU thread), or null. */
    public Task current() {
        return ctx().curr;
    }

    /** The init process's leader (the exec'd image), or null before exec. */
    public Task initTask() {
        return initTask;
    }

    SignalStruct initProcess() {
        return initTask == null ? null : initTask.sig;
    }

    /** The current mm (of {@link #task()}), or null. */
    public MmStruct mm() {
        Task t = task();
        return t == null ? null : t.mm;
    }

    /** copy_{to,from}_user on the calling vCPU. */
    public UserAccess userAccess() {
        return ctx().ua;
    }

    Sched sched() {
        return sched;
    }

    Futex futex() {
        return futex;
    }

    SysExit exits() {
        return exits;
    }

    SysClone clones() {
        return clones;
    }

    /** this_cpu: the calling thread's vCPU's data (vCPU 0's when the caller is not a vCPU thread). */
    CpuContext ctx() {
        CpuContext c = here.get();
        return c != null ? c : cpus[0];
    }

    /** Trap entry on {@code cpu}: binds the calling thread to its per-CPU data. */
    CpuContext enter(Vcpu cpu) {
        CpuContext c = cpus[cpu.id()];
        if (here.get() != c) {
            here.set(c);
        }
        return c;
    }

    /** The per-CPU data of {@code cpu}. */
    CpuContext cpuContext(Vcpu cpu) {
        return cpus[cpu.id()];
    }

    public Syscalls syscalls() {
        return syscalls;
    }

    /** The guest's file systems: configure them ({@link Filesystems#configure}) before exec. */
    public Filesystems filesystems() {
        return filesystems;
    }

    SysFsTable fsTable() {
        return syscalls.fsTable();
    }

    /** AT_RANDOM's seed when not deterministic: fixed, like a run with ASLR off, so traces compare. */
    static final long DEFAULT_RANDOM_SEED = 0x6d6d756c6162L;

    /**
     * The seed of everything random the kernel hands a guest (AT_RANDOM): the machine's {@code --seed}
     * under {@code --deterministic}, else {@link #DEFAULT_RANDOM_SEED}.
     */
    long randomSeed() {
        return machine.guestTime().isVirtual() ? machine.guestTime().seed() : DEFAULT_RANDOM_SEED;
    }

    /** TASK_SIZE of the current process (TASK_SIZE_32 for an i386 process under 4-level paging). */
    long taskSize() {
        MmStruct mm = mm();
        return mm != null ? mm.taskSize : memory.ops().taskSize();
    }

    /** TASK_SIZE_32 / IA32_PAGE_OFFSET of a 64-bit kernel: a compat task's address-space limit. */
    public static final long TASK_SIZE_32 = 0xFFFF_E000L;

    /** Is the current process a 32-bit (i386) one? Its syscall results and pointers are 32-bit. */
    public boolean compat32() {
        Task t = task();
        return t != null && t.ia32;
    }

    /**
     * The paging mode and code size for a new image (what a 64-bit kernel's exec does with
     * set_personality_ia32 / TIF_ADDR32, or a 32-bit PAE kernel's boot-time CR setup): PAE = CR4.PAE
     * without EFER.LME/LMA and without PCIDE; 4-level = EFER.LME|LMA with CR4.PCIDE (the kernel uses
     * PCIDs for its ASIDs). CR3 is first pointed at the new PGD so that the PDPTE load a paging-mode
     * change triggers reads the new mm's PDPT, never a stale or freed one.
     */
    void setCpuMode(Vcpu cpu, long pgdPhys, boolean elf32) {
        CpuState s = cpu.state;
        long oldCr0 = s.cr0, oldCr4 = s.cr4, oldEfer = s.efer;
        boolean pae = config.paging() == KernelConfig.PagingMode.PAE;
        s.cr3 = pgdPhys;
        s.cr0 |= CpuState.CR0_PE | CpuState.CR0_PG | CpuState.CR0_WP;
        if (pae) {
            s.efer = (s.efer & ~(CpuState.EFER_LME | CpuState.EFER_LMA | CpuState.EFER_SCE)) | CpuState.EFER_NXE;
            s.cr4 = (s.cr4 & ~CpuState.CR4_PCIDE) | CpuState.CR4_PAE | CpuState.CR4_PGE;
        } else {
            s.efer |= CpuState.EFER_LME | CpuState.EFER_LMA | CpuState.EFER_NXE | CpuState.EFER_SCE;
            s.cr4 |= CpuState.CR4_PAE | CpuState.CR4_PGE | CpuState.CR4_PCIDE;
        }
        s.longMode64 = !elf32;
        // The user code segments of Linux's GDT (arch/x86/include/asm/segment.h): __USER_CS 0x33 and
        // __USER32_CS 0x23 on a 64-bit kernel; a 32-bit kernel has only __USER_CS 0x73.
        s.userCs64 = pae ? -1 : 0x33;
        s.userCs32 = pae ? 0x73 : 0x23;
        Tls.installGdt(cpu, pae);
        // fpu__init_cpu_xstate: CR4.OSXSAVE and XCR0 = the user xfeatures (x87 | SSE), as on every x86 CPU with XSAVE.
        s.cr4 |= CpuState.CR4_OSXSAVE;
        s.xcr0 = 3;
        if (oldCr0 != s.cr0 || oldCr4 != s.cr4 || oldEfer != s.efer) {
            cpu.mmu().controlRegistersChanged(oldCr0, oldCr4, oldEfer);
        }
    }

    // ==========================================================================================
    // exec

    /**
     * Loads a static ELF64 or ELF32 (i386) executable into a new process on vCPU 0 (execve of
     * {@code execPath}). Under {@code PagingMode.PAE} only i386 images run (32-bit protected mode, PAE
     * tables, TASK_SIZE 3 GiB); under FOUR_LEVEL an i386 image runs in compatibility mode (EFER.LMA,
     * CS.L=0: {@code CpuState.longMode64 = false}) with TASK_SIZE_32. Format problems throw before
     * anything changes. Running out of guest memory while loading does not throw:
     * the process is then OOM-killed by {@link #run()}, as a guest touching too much memory would be.
     */
    public void exec(byte[] elfImage, String execPath, List<String> argv, List<String> envp) throws ExecFormatException {
        exec(FileBytes.of(elfImage), execPath, argv, envp);
    }

    /** {@link #exec(byte[], String, List, List)} for an image read or mapped by {@link ExecFile}. */
    public void exec(FileBytes elfImage, String execPath, List<String> argv, List<String> envp) throws ExecFormatException {
        InitExec.exec(this, elfImage, execPath, argv, envp);
    }

    /** The first process's leader, replaced by {@link InitExec}. */
    void setInitTask(Task t) {
        initTask = t;
    }

    BinfmtElf.Loaded lastLoaded;
    /** Signals delivered to a user handler. */
    long signalsDelivered;

    /** Entry, initial RSP and the auxv of the last exec (for tests and tracing tools). */
    public long initialStackPointer() {
        return lastLoaded == null ? 0 : lastLoaded.sp();
    }

    /**
     * Runs vCPU 0 until the process exits; returns the status a shell reports: the exit code, or
     * 128 + the signal that killed it (139 SIGSEGV, 132 SIGILL, 136 SIGFPE, 137 OOM kill). If vCPU 0 is
     * stopped from outside (a debugger, a truncated trace) before the process exits, it returns 0 and
     * {@code task().exited()} is false.
     */
    public int run() {
        Task t = initTask;
        if (t == null) {
            throw new IllegalStateException("exec first");
        }
        if (t.oomKillPending && !t.exited) {
            oomKill();
        } else if (t.execFailure != null && !t.exited) {
            forceSigFault(SIGSEGV, "mmulab: exec of " + t.comm + ": " + t.execFailure
                    + " after the point of no return; the process gets SIGSEGV as on Linux");
        }
        if (!t.sig.zombie) {
            try {
                machine.runAll();
            } finally {
                // vCPU 0 ran on this thread: its per-CPU binding would otherwise keep this kernel, its
                // machine and the machine's mapped RAM reachable from the caller's ThreadLocalMap for as
                // long as the thread lives (a suite booting hundreds of machines on one thread).
                here.remove();
            }
        }
        return t.sig.zombie ? t.sig.exitStatus : 0;
    }

    /**
     * {@code --check} at the end of a run: with every task gone, no frame may be left referenced but by a
     * page cache (checkNoLeak); with tasks left (the run was stopped), each live mm's refcounts and RSS
     * must match its page tables. Returns every violation found during the run and now.
     */
    public java.util.List<String> checkMm() {
        java.util.List<MmStruct> mms = new java.util.ArrayList<>();
        synchronized (sched.lock) {
            for (Task t : sched.liveTasksLocked()) {
                if (t.mm != null && !mms.contains(t.mm)) {
                    mms.add(t.mm);
                }
            }
        }
        if (mms.isEmpty()) {
            memory.check.checkNoLeak();
        } else {
            memory.check.checkMms(mms);
        }
        return memory.check.violations();
    }

    /** The deadlock report if the run ended in one, else null. */
    public String deadlockReport() {
        return sched.deadlock;
    }

    // ==========================================================================================
    // Trap entry

    @Override
    public void syscall(Vcpu cpu, boolean int80) {
        entry.syscall(cpu, int80);
    }

    /**
     * The timer tick (scheduler_tick + the return from the interrupt): preempts a task whose slice is
     * used up while another waits, and acts on kills and signals sent from other vCPUs. An idle vCPU
     * (no task) enters the scheduler.
     */
    @Override
    public void tick(Vcpu cpu) {
        entry.tick(cpu);
    }

    /**
     * exit_to_user_mode_loop for the vCPU's current task: a pending kill exits it, the OOM kill, pending
     * signals are delivered. True when the task goes back to user mode; false when the vCPU must
     * schedule (the task exited, blocked, or must yield).
     */
    boolean returnToUser(CpuContext ctx) {
        return entry.returnToUser(ctx);
    }

    @Override
    public void exception(Vcpu cpu, int vector, long errorCode) {
        traps.exception(cpu, vector, errorCode);
    }

    /** Same fault, same RIP, no instruction retired and no syscall in between (per task): not progress. */

    /** The last fatal signal's kernel-log line, or null. Also printed by {@link #printStats}. */
    public String lastFatalSignal() {
        return traps.lastFatal;
    }

    // ==========================================================================================
    // Page faults (arch/x86/mm/fault.c)

    static final int FAULT_OK = 0, FAULT_SIGSEGV = 1, FAULT_SIGBUS = 2, FAULT_OOM = 3;

    /**
     * do_user_addr_fault: find the VMA (expanding a stack), check access, handle_mm_fault. Returns
     * FAULT_OK when the access should be retried.
     */
    public int doUserAddrFault(Vcpu cpu, long address, long err) {
        return userFault.doUserAddrFault(cpu, address, err);
    }

    /**
     * A #PF taken by the kernel itself on a user address (copy_to/from_user). True when resolved; on
     * VM_FAULT_OOM the OOM killer's SIGKILL is left pending for the task, and the copy fails.
     */
    boolean kernelModeFault(Vcpu cpu, long address, long err) {
        return userFault.kernelModeFault(cpu, address, err);
    }

    // ==========================================================================================
    // Signals and exit

    static String signalMessage(int sig) {
        return switch (sig) {
            case SIGILL -> "Illegal instruction";
            case SIGTRAP -> "Trace/breakpoint trap";
            case SIGABRT -> "Aborted";
            case SIGBUS -> "Bus error";
            case SIGFPE -> "Floating point exception";
            case SIGKILL -> "Killed";
            case SIGSEGV -> "Segmentation fault";
            default -> "Terminated by signal " + sig;
        };
    }

    /**
     * force_sig_fault with the default action: the thread group dies with status 128 + sig. The shell's
     * message ("Segmentation fault") is printed for init only; a child's death is its parent's to report.
     */
    void forceSigFault(int sig, String detail) {
        if (detail != null) {
            stderrLine(detail);
        }
        Task t = current();
        if (t != null && t.sig == initProcess()) {
            stderrLine(signalMessage(sig));
        }
        doExit(128 + sig, sig);
    }

    /** mm/oom_kill.c: the guest needed a frame and none was left; kill it like the OOM killer. */
    void oomKill() {
        Task task = current();
        MmStruct mm = task.mm;
        long kb = 4;
        String detail = mm == null ? "" : String.format(
                " total-vm:%dkB, anon-rss:%dkB, file-rss:%dkB, shmem-rss:%dkB, UID:%d pgtables:%dkB oom_score_adj:0",
                mm.totalVm() * kb, mm.counter(MmStruct.MM_ANONPAGES) * kb, mm.counter(MmStruct.MM_FILEPAGES) * kb,
                mm.counter(MmStruct.MM_SHMEMPAGES) * kb, config.uid(), (mm.nrPgtables() + 1) * kb);
        stderrLine("Out of memory: Killed process " + task.tgid() + " (" + task.comm + ")" + detail);
        if (task.sig == initProcess()) {
            stderrLine(signalMessage(SIGKILL));
        }
        task.oomKillPending = false;
        doExit(128 + SIGKILL, SIGKILL);
    }

    /** do_group_exit of the current task: the status a shell would report; the group's threads die. */
    void doExit(int status, int sig) {
        Task t = current();
        if (t == null || t.exited) {
            return;
        }
        t.oomKillPending = false;
        exits.groupExit(t, status, sig);
    }

    /** exit(2): only the calling thread exits (the process with it when it is the last). */
    void doExitThread(int code) {
        exits.exitThread(current(), code, 0);
    }

    /** The last user of {@code mm} is gone: exit_mmap (init's counters are kept for --stats). */
    void teardownMm(Task t, MmStruct mm) {
        mm.updateHiwaterRss();
        if (t.sig == initProcess() || initTask == null) {
            exitCounters = mm.countersDescription();
            exitHiwaterRss = mm.hiwaterRss();
            exitHiwaterVm = mm.hiwaterVm();
        }
        memory.exitMmap(mm);
    }

    /** fork's copy of the mm (dup_mm, the mm package's {@link org.mmulab.kernel.mm.Fork}), or null when memory ran out. */
    MmStruct dupMm(MmStruct mm) {
        return org.mmulab.kernel.mm.Fork.dupMmap(memory, mm);
    }

    /** switch_mm_irqs_off on {@code cpu} to {@code mm} (the scheduler's context switch and exec). */
    void switchMm(Vcpu cpu, MmStruct mm) {
        mm.activate(cpu);
    }

    /** Wakes idle vCPUs to look at the run queue again. */
    void kickIdle() {
        machine.kickAll();
    }

    /** Makes the given vCPUs enter the kernel at their next instruction boundary (a kill, a signal). */
    void interruptCpus(java.util.List<Integer> ids) {
        Vcpu self = machine.currentVcpu();
        for (int id : ids) {
            Vcpu v = machine.vcpu(id);
            if (v != self) {
                v.interrupt();
            }
        }
    }

    /** The last task is gone: every vCPU stops. */
    void stopMachine() {
        sched.stopAll();
        machine.shutdown();
    }

    /** Whether {@code cpu} may go on scheduling (not stopped from outside). */
    boolean machineRunning(Vcpu cpu) {
        return !cpu.isStopRequested();
    }

    /**
     * The idle loop of {@code ctx}'s vCPU until work arrives or {@code deadline} (guest monotonic ns):
     * {@link Vcpu#idle} on the vCPU's own thread (no host CPU; the deterministic baton moves on), a wait on
     * the scheduler's lock for a thread that drives a vCPU without its run loop (tests).
     */
    void idleWait(CpuContext ctx, long deadline) {
        Vcpu cpu = ctx.cpu;
        if (machine.currentVcpu() != cpu) {
            sched.waitForWork(cpu, deadline);
            return;
        }
        cpu.idleDeadlineNanos = deadline;
        try {
            cpu.idle(() -> sched.hasQueued() || sched.stopping);
        } finally {
            cpu.idleDeadlineNanos = Long.MAX_VALUE;
        }
    }

    void stderrLine(String s) {
        OutputStream err = config.stderr();
        try {
            err.write((s + "\n").getBytes(StandardCharsets.UTF_8));
            err.flush();
        } catch (IOException ignored) {
            // the host's stderr went away; nothing useful to do
        }
    }

    // ==========================================================================================
    // Debug monitor commands (gdb: monitor vmas / monitor pte VA / monitor mmstat)

    /** Adds the kernel's monitor commands to the emulator's registry (the CLI calls this with --gdb). */
    public void registerMonitorCommands(org.mmulab.emulator.debug.MonitorRegistry registry) {
        stats.registerMonitorCommands(registry);
    }

    // ==========================================================================================
    // --stats

    public void printStats(PrintStream out) {
        stats.printStats(out);
    }

    /** The kernel's counter groups for {@code --stats-json}: mm fault kinds (vmstat) and system calls by name. */
    public Map<String, Map<String, Long>> statsSections() {
        return stats.statsSections();
    }
}
