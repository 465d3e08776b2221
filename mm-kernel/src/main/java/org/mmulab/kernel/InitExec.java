package org.mmulab.kernel;

import java.util.List;

import org.mmulab.emulator.cpu.CpuState;
import org.mmulab.emulator.machine.Vcpu;
import org.mmulab.kernel.mm.AddressSpace;
import org.mmulab.kernel.mm.FileBytes;
import org.mmulab.kernel.mm.Memory;
import org.mmulab.kernel.mm.MmStruct;
import org.mmulab.kernel.mm.Mmap;
import org.mmulab.kernel.mm.PaePgtable;
import org.mmulab.kernel.mm.X86_64Pgtable;

/**
 * The exec of the first process (init/main.c run_init_process into fs/exec.c and fs/binfmt_elf.c,
 * Linux 6.x): a new thread group with the boot pid, its console fds and root, a fresh mm, every vCPU's
 * paging mode set for the image (64-bit, compatibility mode or PAE), the image loaded by
 * {@link BinfmtElf}, and start_thread's registers. Behind {@link Kernel#exec}; a process's own execve
 * is {@link SysExec}.
 */
final class InitExec {
    private InitExec() {
    }

    static void exec(Kernel k, FileBytes elfImage, String execPath, List<String> argv, List<String> envp)
            throws ExecFormatException {
        KernelConfig config = k.config();
        Memory memory = k.memory();
        Sched sched = k.sched();
        Filesystems filesystems = k.filesystems();
        Vcpu cpu0 = k.machine().vcpu(0);
        CpuContext ctx0 = k.cpuContext(cpu0);
        int ncpus = k.machine().vcpus().size();
        ElfImage elf = ElfImage.parse(elfImage);
        boolean pae = config.paging() == KernelConfig.PagingMode.PAE;
        if (pae && !elf.elf32) {
            throw new ExecFormatException("64-bit image needs --paging 4level");
        }
        ElfInterp.Opened interp = ElfInterp.openForBoot(k, elf); // PT_INTERP: the dynamic loader
        Task old = k.initTask();
        if (old != null) {
            if (!old.exited && old.mm != null) {
                k.teardownMm(old, old.mm);
                old.mm = null;
            }
            sched.forget(old);
            if (old.files != null) {
                old.files.release();
                old.files = null;
            }
            ctx0.curr = null;
            k.setInitTask(null);
        }
        SignalStruct sig = new SignalStruct(config.pid());
        Task t = new Task(config.pid(), sig);
        sig.leader = t;
        sig.threads.add(t);
        sig.parent = null;
        sig.rlimits = SysProc.initRlimits(memory.frames().frameCount());
        sched.resetPids(config.pid() + 1);
        t.ia32 = elf.elf32;
        t.exePath = java.nio.file.Path.of(execPath).toAbsolutePath().normalize().toString();
        t.exeDentry = filesystems.bootExe(t.exePath);
        t.exePath = filesystems.guestPath(t.exePath);
        t.files = filesystems.consoleFiles();
        t.fs = filesystems.initialFs();
        String base = execPath.substring(execPath.lastIndexOf('/') + 1);
        t.comm = base.length() > 15 ? base.substring(0, 15) : base;
        long taskSize = !elf.elf32 ? X86_64Pgtable.TASK_SIZE : pae ? PaePgtable.TASK_SIZE : Kernel.TASK_SIZE_32;
        MmStruct mm = memory.mmAlloc(taskSize);
        k.setInitTask(t);
        ctx0.curr = t;
        t.mm = mm;
        sched.attach(t, 0);
        if (mm == null) {
            t.oomKillPending = true;
            if (interp != null) {
                interp.file().releaseUser();
            }
            return;
        }
        mm.mmapBase = Mmap.mmapBase(mm.taskSize, mm.stackRlimit);
        mm.setOwner(t);
        CpuState s = cpu0.state;
        s.cpl = 3;
        k.setCpuMode(cpu0, mm.pgdPhys(), elf.elf32);
        for (int i = 1; i < ncpus; i++) {
            // A secondary vCPU starts idle on init_mm's tables (no user mapping): its first fetch traps into
            // the scheduler (exception() with no current task), which gives it a task once one is runnable.
            Vcpu v = k.machine().vcpu(i);
            k.setCpuMode(v, memory.swapperPgdPhys(), elf.elf32);
            v.state.cpl = 3;
            v.state.rip = 0;
            v.mmu().writeCr3(memory.swapperPgdPhys());
        }
        k.switchMm(cpu0, mm);
        t.exe = AddressSpace.file(memory.frames(), execPath, elfImage);
        BinfmtElf.Loaded l;
        try {
            l = BinfmtElf.load(k, mm, t.exe, elf, interp, execPath, argv, envp, ctx0.ua);
        } catch (ExecFormatException e) {
            // Past the point of no return Linux would kill the task; nothing has run yet, so undo.
            k.teardownMm(t, mm);
            t.mm = null;
            t.exe.releaseUser();
            t.exe = null;
            sched.forget(t);
            ctx0.curr = null;
            k.setInitTask(null);
            throw e;
        }
        if (l == null) {
            // Past the point of no return: out of frames is the OOM killer's SIGKILL (137); any other
            // failure (a mapping's ENOMEM, an EFAULT) is bprm_execve's force_fatal_sig(SIGSEGV) (139).
            if (!t.oomKillPending && t.execFailure == null) {
                t.execFailure = "loading the image failed";
            }
            return;
        }
        // start_thread: every register zero (ELF_PLAT_INIT), RFLAGS.IF, fresh FPU state.
        java.util.Arrays.fill(s.gpr, 0);
        java.util.Arrays.fill(s.xmm, 0);
        s.mxcsr = 0x1f80;
        s.fpu.init(); // FCW 0x37F, empty stack (fpstate_init_fstate)
        s.gpr[CpuState.RSP] = l.sp();
        s.rip = l.entry();
        s.setRflags(CpuState.IF);
        Tls.startThread(s, pae, elf.elf32); // selectors; FS/GS null with zero bases
        Tls.loadTls(t, s, pae);
        s.exceptionVector = -1;
        k.lastLoaded = l;
    }
}
