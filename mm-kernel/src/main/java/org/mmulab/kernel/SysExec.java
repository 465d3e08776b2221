package org.mmulab.kernel;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import org.mmulab.emulator.cpu.CpuState;
import org.mmulab.emulator.machine.Vcpu;
import org.mmulab.kernel.fs.Dentry;
import org.mmulab.kernel.fs.File;
import org.mmulab.kernel.fs.FsException;
import org.mmulab.kernel.fs.Inode;
import org.mmulab.kernel.fs.Vfs;
import org.mmulab.kernel.mm.AddressSpace;
import org.mmulab.kernel.mm.FileBytes;
import org.mmulab.kernel.mm.MmStruct;
import org.mmulab.kernel.mm.Mmap;
import org.mmulab.kernel.mm.PaePgtable;
import org.mmulab.kernel.mm.X86_64Pgtable;

/**
 * execve/execveat of static ELF images and #! scripts through the VFS (fs/exec.c do_execveat_common,
 * bprm_execve, begin_new_exec; fs/binfmt_script.c; Linux 6.x), and process groups and sessions
 * (kernel/sys.c setpgid, getpgid, setsid, getsid).
 *
 * <p>Before the point of no return every failure is an errno (EFAULT for bad argv/envp pointers,
 * E2BIG past MAX_ARG_STRLEN or a quarter of the stack limit, EACCES for a non-regular or non-executable
 * file, ENOEXEC for an image that is neither ELF nor a script, ELOOP past 4 nested interpreters,
 * ENOMEM for no new mm). Then begin_new_exec: the other threads are killed (de_thread), a vfork parent
 * is released, the new mm replaces the old (which is torn down by its last user), the fd table is
 * unshared and its close-on-exec fds closed, handlers are reset to SIG_DFL (ignored signals stay
 * ignored), the alternate signal stack, TLS, robust list and clear_child_tid are forgotten, and the
 * image is loaded by {@link BinfmtElf}. A failure after that point kills the process (SIGSEGV) as Linux does.
 */
final class SysExec {
    static final int MAX_ARG_STRLEN = 32 * 4096, MAX_ARG_STRINGS = 0x7fffffff, BINPRM_MAX_RECURSION = 4;
    /** Largest image read into the heap for exec. */
    static final long MAX_IMAGE = 1L << 30;

    private final Kernel k;
    private final SysPath paths;

    SysExec(Kernel k, SysPath paths) {
        this.k = k;
        this.paths = paths;
    }

    long execve(Vcpu cpu, int dfd, long pathp, long argvp, long envpp, int flags) {
        if ((flags & ~(SysPath.AT_EMPTY_PATH | SysPath.AT_SYMLINK_NOFOLLOW)) != 0) {
            return -Errno.EINVAL;
        }
        Task t = k.current();
        int word = t.ia32 ? 4 : 8;
        try {
            String path = k.fsTable().files().userPath(pathp, Vfs.PATH_MAX);
            List<String> argv = strings(argvp, word);
            List<String> envp = strings(envpp, word);
            long total = 0;
            for (String s : argv) {
                total += s.length() + 1 + word;
            }
            for (String s : envp) {
                total += s.length() + 1 + word;
            }
            long stackLimit = t.mm != null ? t.mm.stackRlimit : 8L << 20;
            if (total > Math.max(stackLimit / 4, 32 * 4096)) {
                return -Errno.E2BIG;
            }
            return exec(cpu, dfd, path, argv, envp, flags, 0);
        } catch (FsException e) {
            return e.ret();
        }
    }

    /** The NULL-terminated array of string pointers at {@code p} (NULL: none). */
    private List<String> strings(long p, int word) throws FsException {
        List<String> l = new ArrayList<>();
        if (p == 0) {
            return l;
        }
        byte[] w = new byte[word];
        for (int i = 0;; i++) {
            if (k.userAccess().copyFromUser(w, 0, p + (long) i * word, word) != 0) {
                throw new FsException(Errno.EFAULT);
            }
            long sp = word == 8 ? Le.le64(w, 0) : Le.le32(w, 0);
            if (sp == 0) {
                return l;
            }
            try {
                l.add(k.fsTable().files().userPath(sp, MAX_ARG_STRLEN - 1));
            } catch (FsException e) {
                throw new FsException(e.errno == Errno.ENAMETOOLONG ? Errno.E2BIG : e.errno);
            }
            if (l.size() >= MAX_ARG_STRINGS) {
                throw new FsException(Errno.E2BIG);
            }
        }
    }

    private long exec(Vcpu cpu, int dfd, String path, List<String> argv, List<String> envp, int flags, int depth)
            throws FsException {
        Dentry d;
        if (path.isEmpty()) {
            if ((flags & SysPath.AT_EMPTY_PATH) == 0) {
                throw new FsException(Errno.ENOENT);
            }
            File f = k.fsTable().files().file(dfd);
            if (f.dentry == null) {
                throw new FsException(Errno.EACCES);
            }
            d = f.dentry;
        } else {
            d = paths.lookup(dfd, path, (flags & SysPath.AT_SYMLINK_NOFOLLOW) == 0);
            if (d.inode.isLink()) {
                throw new FsException(Errno.ELOOP);
            }
        }
        Inode i = d.inode;
        i.refresh();
        if (!i.isReg()) {
            throw new FsException(Errno.EACCES);
        }
        int perm = Vfs.permission(i, Vfs.MAY_EXEC, k.config().uid());
        if (perm != 0) {
            throw new FsException(perm == Errno.EROFS ? Errno.EACCES : perm);
        }
        byte[] img = ElfInterp.readAll(d, MAX_IMAGE);
        if (img.length >= 2 && img[0] == '#' && img[1] == '!') {
            if (depth >= BINPRM_MAX_RECURSION) {
                throw new FsException(Errno.ELOOP);
            }
            return script(cpu, d, path, img, argv, envp, depth);
        }
        ElfImage elf;
        try {
            elf = ElfImage.parse(img);
        } catch (ExecFormatException e) {
            throw new FsException(Errno.ENOEXEC);
        }
        boolean pae = k.config().paging() == KernelConfig.PagingMode.PAE;
        if (pae && !elf.elf32) {
            throw new FsException(Errno.ENOEXEC);
        }
        Task t = k.current();
        ElfInterp.Opened interp = ElfInterp.open(k, t.fs.root(), t.fs.cwd(), k.config().uid(), elf);
        return beginNewExec(cpu, d, path.isEmpty() ? d.path() : path, img, elf, interp, argv, envp);
    }

    /** binfmt_script: "#!interp [arg]" runs interp with [arg], the script's path and argv[1..]. */
    private long script(Vcpu cpu, Dentry d, String path, byte[] img, List<String> argv, List<String> envp, int depth)
            throws FsException {
        int end = 2;
        while (end < img.length && end < 256 && img[end] != '\n') {
            end++;
        }
        String line = new String(img, 2, end - 2, StandardCharsets.UTF_8).trim();
        if (line.isEmpty()) {
            throw new FsException(Errno.ENOEXEC);
        }
        int sp = line.indexOf(' ');
        int tab = line.indexOf('\t');
        if (sp < 0 || tab >= 0 && tab < sp) {
            sp = tab;
        }
        String interp = sp < 0 ? line : line.substring(0, sp);
        String arg = sp < 0 ? "" : line.substring(sp + 1).trim();
        List<String> nargv = new ArrayList<>();
        nargv.add(interp);
        if (!arg.isEmpty()) {
            nargv.add(arg);
        }
        nargv.add(path);
        if (argv.size() > 1) {
            nargv.addAll(argv.subList(1, argv.size()));
        }
        return exec(cpu, SysPath.AT_FDCWD, interp, nargv, envp, 0, depth + 1);
    }

    /** begin_new_exec + load_elf_binary + start_thread. */
    private long beginNewExec(Vcpu cpu, Dentry d, String execPath, byte[] img, ElfImage elf, ElfInterp.Opened interp,
            List<String> argv, List<String> envp) throws FsException {
        Task t = k.current();
        boolean pae = k.config().paging() == KernelConfig.PagingMode.PAE;
        long taskSize = !elf.elf32 ? X86_64Pgtable.TASK_SIZE : pae ? PaePgtable.TASK_SIZE : Kernel.TASK_SIZE_32;
        MmStruct mm = k.memory().mmAlloc(taskSize);
        if (mm == null) {
            if (interp != null) {
                interp.file().releaseUser();
            }
            throw new FsException(Errno.ENOMEM);
        }
        // ---- point of no return ----
        Sched s = k.sched();
        List<Integer> cpus = new ArrayList<>();
        synchronized (s.lock) {
            k.exits().killOthersLocked(t.sig, t, cpus); // de_thread
            t.sig.execed = true; // setpgid from the parent is EACCES from now on
            Task p = t.vforkParent;
            if (p != null) {
                t.vforkParent = null;
                s.wakeLocked(p, 0);
            }
        }
        k.interruptCpus(cpus);
        k.futex().exitRobustList(t);
        k.futex().clearChildTid(t);
        t.clearChildTid = 0;
        t.robustList = 0;
        t.robustListLen = 0;
        long[][] rl = t.sig.rlimits;
        mm.stackRlimit = rl != null ? rl[SysProc.RLIMIT_STACK][0] : 8L << 20;
        mm.mmapBase = Mmap.mmapBase(mm.taskSize, mm.stackRlimit);
        MmStruct old = t.mm;
        s.mmget(mm);
        t.mm = mm;
        mm.setOwner(t);
        t.vmacache = null;
        k.setCpuMode(cpu, mm.pgdPhys(), elf.elf32);
        k.switchMm(cpu, mm);
        if (old != null) {
            if (s.mmput(old)) {
                k.teardownMm(t, old);
            }
        }
        if (t.exe != null) {
            t.exe.releaseUser();
        }
        t.exe = AddressSpace.file(k.memory().frames(), d.path(), FileBytes.of(img));
        k.filesystems().registerMapping(t.exe, d.inode);
        t.ia32 = elf.elf32;
        t.exePath = d.path();
        t.exeDentry = d;
        String base = execPath.substring(execPath.lastIndexOf('/') + 1);
        t.comm = base.length() > 15 ? base.substring(0, 15) : base;
        // Files: unshare, then close-on-exec.
        if (t.files.shared()) {
            org.mmulab.kernel.fs.FdTable mine = t.files.dup();
            t.files.release();
            t.files = mine;
        }
        for (File f : t.files.closeOnExec()) {
            f.put();
        }
        // flush_signal_handlers: handlers back to SIG_DFL, SIG_IGN stays; unshare a shared table.
        long[][] acts = new long[Task.NSIG + 1][];
        for (int i = 0; i <= Task.NSIG; i++) {
            long[] a = t.sigactions[i];
            acts[i] = a[0] == Signals.SIG_IGN ? new long[] {Signals.SIG_IGN, 0, 0, 0} : new long[4];
        }
        t.sigactions = acts;
        t.sasSp = 0;
        t.sasSize = 0;
        t.sasFlags = 0;
        java.util.Arrays.fill(t.tls, 0);
        BinfmtElf.Loaded l;
        try {
            l = BinfmtElf.load(k, mm, t.exe, elf, interp, execPath, argv, envp, k.userAccess());
        } catch (ExecFormatException e) {
            l = null;
            t.execFailure = e.getMessage();
        }
        CpuState st = cpu.state;
        if (l == null) {
            if (t.oomKillPending) {
                k.oomKill();
            } else {
                k.forceSigFault(Kernel.SIGSEGV, null);
            }
            return 0;
        }
        java.util.Arrays.fill(st.gpr, 0);
        java.util.Arrays.fill(st.xmm, 0);
        st.mxcsr = 0x1f80;
        st.fpu.init();
        st.gpr[CpuState.RSP] = l.sp();
        st.rip = l.entry();
        st.setRflags(CpuState.IF);
        Tls.startThread(st, pae, elf.elf32);
        Tls.loadTls(t, st, pae);
        st.exceptionVector = -1;
        return 0;
    }

    // ---- process groups and sessions ----------------------------------------------------------------

    /** setpgid(pid, pgid): the caller or one of its children, into a group of the same session. */
    long setpgid(int pid, int pgid) {
        Task t = k.current();
        if (pgid < 0) {
            return -Errno.EINVAL;
        }
        synchronized (k.sched().lock) {
            SignalStruct target;
            if (pid == 0 || pid == t.tgid()) {
                target = t.sig;
            } else {
                target = null;
                for (SignalStruct c : t.sig.children) {
                    if (c.tgid == pid && !c.zombie) {
                        target = c;
                    }
                }
                if (target == null) {
                    return -Errno.ESRCH;
                }
                if (target.sid != t.sig.sid) {
                    return -Errno.EPERM;
                }
                if (target.execed) {
                    return -Errno.EACCES;
                }
            }
            if (pgid == 0) {
                pgid = target.tgid;
            }
            if (target.sid == target.tgid) {
                return -Errno.EPERM; // a session leader
            }
            if (pgid != target.tgid) {
                boolean exists = false;
                for (SignalStruct p : k.sched().processesLocked()) {
                    if (p.pgid == pgid && p.sid == t.sig.sid) {
                        exists = true;
                    }
                }
                if (!exists) {
                    return -Errno.EPERM;
                }
            }
            target.pgid = pgid;
            return 0;
        }
    }

    private SignalStruct process(int pid) {
        if (pid == 0) {
            return k.current().sig;
        }
        Task x = k.sched().findTaskLocked(pid);
        return x == null ? null : x.sig;
    }

    long getpgid(int pid) {
        synchronized (k.sched().lock) {
            SignalStruct s = pid < 0 ? null : process(pid);
            return s == null ? -Errno.ESRCH : s.pgid;
        }
    }

    long getsid(int pid) {
        synchronized (k.sched().lock) {
            SignalStruct s = pid < 0 ? null : process(pid);
            return s == null ? -Errno.ESRCH : s.sid;
        }
    }

    /** setsid: a process that leads no group starts a session and a group of its own. */
    long setsid() {
        synchronized (k.sched().lock) {
            SignalStruct s = k.current().sig;
            for (SignalStruct p : k.sched().processesLocked()) {
                if (p.pgid == s.tgid) {
                    return -Errno.EPERM;
                }
            }
            s.pgid = s.tgid;
            s.sid = s.tgid;
            return s.tgid;
        }
    }
}
