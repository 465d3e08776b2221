package org.mmulab.kernel;

import java.util.ArrayList;
import java.util.List;

import org.mmulab.kernel.fs.Inode;
import org.mmulab.kernel.fs.SuperBlock;
import org.mmulab.kernel.fs.Synth;
import org.mmulab.kernel.fs.Vfs;
import org.mmulab.kernel.mm.MmStruct;
import org.mmulab.kernel.mm.Mmap;
import org.mmulab.kernel.mm.VmArea;

/**
 * procfs (fs/proc/, Linux 6.x) for what test programs read: /proc/self and /proc/PID with exe, cwd,
 * root (symlinks), cmdline, comm, fd/ (links), maps (the real VMA list in show_map_vma's format),
 * smaps_rollup, status (task_mem's Vm and Rss lines from the mm's counters, Threads), stat (the 52
 * fields of do_task_stat), statm, pagemap ({@link ProcPagemap}), clear_refs; and /proc/meminfo,
 * /proc/cpuinfo (from the emulated CPUID), /proc/mounts, /proc/uptime, /proc/sys/vm/mmap_min_addr and
 * overcommit_memory. Text is made when a file is opened (seq_file's snapshot).
 *
 * <p>/proc/PID/root reads as "/" and is walked as a symlink: it can never leave the guest's root.
 */
final class ProcFs {
    private final Kernel k;
    private final Filesystems fss;
    private final SuperBlock sb = new SuperBlock("proc", SuperBlock.PROC_SUPER_MAGIC, 0x15, false);
    private final Inode root;

    ProcFs(Kernel k, Filesystems fss) {
        this.k = k;
        this.fss = fss;
        java.util.Map<String, Inode> fixed = new java.util.LinkedHashMap<>();
        fixed.put("self", new Synth.Link(sb, () -> Integer.toString(k.current() == null ? 1 : k.current().tgid())));
        fixed.put("thread-self", new Synth.Link(sb, () -> k.current() == null ? "1" : k.current().tgid() + "/task/" + k.current().pid));
        fixed.put("meminfo", text(this::meminfo));
        fixed.put("cpuinfo", text(this::cpuinfo));
        fixed.put("mounts", new Synth.Link(sb, () -> "self/mounts"));
        fixed.put("uptime", text(() -> {
            long ns = k.machine().guestTime().monotonicNanos(k.ctx().cpu);
            return String.format("%d.%02d 0.00%n", ns / 1_000_000_000L, ns / 10_000_000L % 100);
        }));
        fixed.put("version", text(() -> "Linux version 6.6.0-mmulab (mmulab) #1 SMP PREEMPT_DYNAMIC\n"));
        fixed.put("filesystems", text(() -> "nodev\tproc\nnodev\ttmpfs\nnodev\tpipefs\n"));
        Inode vm = dir(List.of("mmap_min_addr", "overcommit_memory"), n -> switch (n) {
            case "mmap_min_addr" -> text(() -> Mmap.MMAP_MIN_ADDR + "\n");
            case "overcommit_memory" -> text(() -> "0\n");
            default -> null;
        });
        Inode sys = dir(List.of("vm"), n -> n.equals("vm") ? vm : null);
        fixed.put("sys", sys);
        root = new Synth.Dir(sb, 0555, () -> {
            List<String> l = new ArrayList<>(fixed.keySet());
            for (SignalStruct s : processes()) {
                l.add(Integer.toString(s.tgid));
            }
            return l;
        }, name -> {
            Inode f = fixed.get(name);
            if (f != null) {
                return f;
            }
            try {
                int pid = Integer.parseInt(name);
                return pid > 0 && task(pid) != null ? pidDir(pid) : null;
            } catch (NumberFormatException e) {
                return null;
            }
        });
    }

    Inode root() {
        return root;
    }

    private Inode text(java.util.function.Supplier<String> s) {
        return new Synth.TextFile(sb, 0444, s, null);
    }

    private Inode dir(List<String> names, java.util.function.Function<String, Inode> lookup) {
        return new Synth.Dir(sb, 0555, () -> names, lookup);
    }

    private List<SignalStruct> processes() {
        synchronized (k.sched().lock) {
            return k.sched().processesLocked();
        }
    }

    /** A live thread of process (or thread) {@code pid}, or null. */
    private Task task(int pid) {
        synchronized (k.sched().lock) {
            Task t = k.sched().findTaskLocked(pid);
            if (t == null) {
                for (SignalStruct s : k.sched().processesLocked()) {
                    if (s.tgid == pid && !s.threads.isEmpty()) {
                        return s.threads.get(0);
                    }
                }
            }
            return t;
        }
    }

    private Inode pidDir(int pid) {
        java.util.Map<String, java.util.function.Supplier<Inode>> e = new java.util.LinkedHashMap<>();
        e.put("exe", () -> new Synth.Link(sb, () -> alive(pid).exePath, () -> alive(pid).exeDentry));
        e.put("cwd", () -> new Synth.Link(sb, () -> alive(pid).fs.cwd().path()));
        e.put("root", () -> new Synth.Link(sb, () -> "/"));
        e.put("comm", () -> text(() -> alive(pid).comm + "\n"));
        e.put("cmdline", () -> text(() -> cmdline(alive(pid))));
        e.put("maps", () -> text(() -> maps(alive(pid))));
        e.put("smaps_rollup", () -> text(() -> smapsRollup(alive(pid))));
        e.put("smaps", () -> text(() -> ProcSmaps.text(k, this, alive(pid))));
        e.put("status", () -> text(() -> status(alive(pid))));
        e.put("stat", () -> text(() -> stat(alive(pid))));
        e.put("statm", () -> text(() -> statm(alive(pid))));
        e.put("mounts", () -> text(this::mounts));
        e.put("pagemap", () -> new Synth.TextFile(sb, 0400, (pos, len) -> ProcPagemap.read(k, alive(pid), pos, len)));
        e.put("clear_refs", () -> new Synth.TextFile(sb, 0200, () -> "", s -> ProcPagemap.clearRefs(k, alive(pid), s)));
        e.put("fd", () -> fdDir(pid));
        return new Synth.Dir(sb, 0555, () -> List.copyOf(e.keySet()), n -> {
            var s = e.get(n);
            return s == null ? null : s.get();
        });
    }

    /** The task, or (it exited meanwhile) the caller: the files made at open time then describe a live task. */
    private Task alive(int pid) {
        Task t = task(pid);
        return t != null ? t : k.current();
    }

    private Inode fdDir(int pid) {
        return new Synth.Dir(sb, 0500, () -> {
            List<String> l = new ArrayList<>();
            Task t = alive(pid);
            if (t.files != null) {
                for (int fd : t.files.openFds()) {
                    l.add(Integer.toString(fd));
                }
            }
            return l;
        }, n -> {
            Task t = alive(pid);
            try {
                int fd = Integer.parseInt(n);
                org.mmulab.kernel.fs.File f = t.files == null ? null : t.files.peek(fd);
                return f == null ? null : new Synth.Link(sb, f::describe, () -> f.dentry);
            } catch (NumberFormatException ex) {
                return null;
            }
        });
    }

    private String mounts() {
        StringBuilder b = new StringBuilder();
        for (Vfs.Mount m : fss.vfs().mounts()) {
            b.append(m.source()).append(' ').append(m.path()).append(' ').append(m.type()).append(' ')
                    .append(m.readOnly() ? "ro" : "rw").append(",relatime 0 0\n");
        }
        return b.toString();
    }

    /** The argument strings as they are in the process's memory (access_remote_vm over arg_start..arg_end). */
    private String cmdline(Task t) {
        MmStruct mm = t.mm;
        if (mm == null || mm.argEnd <= mm.argStart) {
            return "";
        }
        StringBuilder b = new StringBuilder();
        for (long va = mm.argStart; va < mm.argEnd && va - mm.argStart < 1 << 20; va++) {
            long pte = k.memory().lookupPte(mm, va);
            if (!org.mmulab.kernel.mm.PteBits.present(pte)) {
                break;
            }
            long pa = (org.mmulab.kernel.mm.PteBits.pfn(pte) << 12) | (va & 4095);
            b.append((char) k.machine().memory().read8(pa));
        }
        return new String(b.toString().getBytes(java.nio.charset.StandardCharsets.ISO_8859_1),
                java.nio.charset.StandardCharsets.UTF_8);
    }

    // ---- maps ------------------------------------------------------------------------------------

    /** show_map_vma: "start-end perms offset MAJ:MIN inode", padded to column 73 before the name. */
    String maps(Task t) {
        return eachVma(t, this::mapLine);
    }

    /** What a /proc file writes for one VMA (maps: its line; smaps: the line and the page counts). */
    interface VmaText {
        void append(StringBuilder b, VmArea v, MmStruct mm);
    }

    /** m_start/m_next over the task's VMAs under the mmap lock (fs/proc/task_mmu.c); "" without an mm. */
    static String eachVma(Task t, VmaText text) {
        MmStruct mm = t.mm;
        if (mm == null) {
            return "";
        }
        StringBuilder b = new StringBuilder();
        mm.mmapLock.downRead();
        try {
            for (VmArea v : mm.vmaList()) {
                text.append(b, v, mm);
            }
        } finally {
            mm.mmapLock.upRead();
        }
        return b.toString();
    }

    void mapLine(StringBuilder b, VmArea v, MmStruct mm) {
        int f = v.flags();
        long dev = 0, ino = 0;
        String name = null;
        if (v.file() != null) {
            Inode i = fss.inodeOf(v.file());
            if (i != null) {
                dev = i.dev();
                ino = i.ino();
            }
            name = v.file().isShmem() && i == null ? "/dev/zero (deleted)" : v.file().name();
        }
        if (v.name() != null) {
            name = v.name();
        } else if (v.file() == null && v.start() <= mm.brk && v.end() >= mm.startBrk && mm.brk > mm.startBrk) {
            name = "[heap]";
        }
        int start = b.length();
        b.append(String.format("%08x-%08x %c%c%c%c %08x %02x:%02x %d ", v.start(), v.end(),
                (f & VmArea.VM_READ) != 0 ? 'r' : '-', (f & VmArea.VM_WRITE) != 0 ? 'w' : '-',
                (f & VmArea.VM_EXEC) != 0 ? 'x' : '-', (f & VmArea.VM_MAYSHARE) != 0 ? 's' : 'p',
                v.file() == null ? 0 : v.pgoff() << 12, major(dev), minor(dev), ino));
        if (name != null) {
            while (b.length() - start < 72) {
                b.append(' ');
            }
            b.append(' ').append(name);
        }
        b.append('\n');
    }

    /** MAJOR/MINOR of a user-visible dev_t (glibc's gnu_dev_major/minor). */
    static long major(long dev) {
        return ((dev >>> 8) & 0xfff) | ((dev >>> 32) & ~0xfffL);
    }

    static long minor(long dev) {
        return (dev & 0xff) | ((dev >>> 12) & ~0xffL);
    }

    // ---- status, stat, statm, smaps_rollup ----------------------------------------------------------

    /** {@link #vmSizes} under the mmap lock (status and statm). */
    private static long[] vmSizesLocked(MmStruct mm) {
        mm.mmapLock.downRead();
        try {
            return vmSizes(mm);
        } finally {
            mm.mmapLock.upRead();
        }
    }

    /** The Vm* sizes task_mem derives from the VMA list: {total, stack, exec, data} in pages. */
    private static long[] vmSizes(MmStruct mm) {
        long total = 0, stack = 0, exec = 0, data = 0;
        for (VmArea v : mm.vmaList()) {
            long pages = (v.end() - v.start()) >>> 12;
            int f = v.flags();
            total += pages;
            if ((f & VmArea.VM_GROWSDOWN) != 0) {
                stack += pages;
            } else if ((f & (VmArea.VM_EXEC | VmArea.VM_WRITE)) == VmArea.VM_EXEC) {
                exec += pages;
            } else if ((f & (VmArea.VM_WRITE | VmArea.VM_SHARED)) == VmArea.VM_WRITE) {
                data += pages;
            }
        }
        return new long[] {total, stack, exec, data};
    }

    private static String kb(String name, long pages) {
        return String.format("%s:\t%8d kB%n", name, pages * 4);
    }

    /** The process's parent, thread count, process group and session, read under the scheduler's lock. */
    private record Ids(int ppid, int threads, int pgid, int sid) {
    }

    private Ids ids(SignalStruct s) {
        synchronized (k.sched().lock) {
            return new Ids(s.parent == null ? 0 : s.parent.tgid, s.threads.size(), s.pgid, s.sid);
        }
    }

    String status(Task t) {
        StringBuilder b = new StringBuilder();
        SignalStruct s = t.sig;
        Ids id = ids(s);
        int uid = k.config().uid();
        b.append("Name:\t").append(t.comm).append('\n');
        b.append(String.format("Umask:\t%04o%n", t.umask));
        b.append("State:\t").append(t.state == Task.BLOCKED ? "S (sleeping)" : "R (running)").append('\n');
        b.append("Tgid:\t").append(t.tgid()).append('\n');
        b.append("Ngid:\t0\n");
        b.append("Pid:\t").append(t.pid).append('\n');
        b.append("PPid:\t").append(id.ppid()).append('\n');
        b.append("TracerPid:\t0\n");
        b.append(String.format("Uid:\t%d\t%d\t%d\t%d%nGid:\t%d\t%d\t%d\t%d%n", uid, uid, uid, uid, uid, uid, uid, uid));
        b.append("FDSize:\t64\nGroups:\t\n");
        b.append("NStgid:\t").append(t.tgid()).append("\nNSpid:\t").append(t.pid).append("\nNSpgid:\t").append(id.pgid())
                .append("\nNSsid:\t").append(id.sid()).append('\n');
        MmStruct mm = t.mm;
        if (mm != null) {
            mm.updateHiwaterRss();
            long[] v = vmSizesLocked(mm);
            long anon = mm.counter(MmStruct.MM_ANONPAGES), file = mm.counter(MmStruct.MM_FILEPAGES),
                    shmem = mm.counter(MmStruct.MM_SHMEMPAGES);
            long exe = ((mm.endCode + 4095) >>> 12) - (mm.startCode >>> 12);
            b.append(kb("VmPeak", mm.hiwaterVm())).append(kb("VmSize", mm.totalVm())).append(kb("VmLck", 0))
                    .append(kb("VmPin", 0)).append(kb("VmHWM", mm.hiwaterRss())).append(kb("VmRSS", anon + file + shmem))
                    .append(kb("RssAnon", anon)).append(kb("RssFile", file)).append(kb("RssShmem", shmem))
                    .append(kb("VmData", v[3])).append(kb("VmStk", v[1])).append(kb("VmExe", exe))
                    .append(kb("VmLib", Math.max(0, v[2] - exe))).append(kb("VmPTE", mm.nrPgtables() + 1))
                    .append(kb("VmSwap", 0)).append("HugetlbPages:\t       0 kB\nCoreDumping:\t0\nTHP_enabled:\t1\n");
        }
        b.append("Threads:\t").append(id.threads()).append('\n');
        b.append("SigQ:\t0/").append(s.rlimits == null ? 0 : s.rlimits[11][0]).append('\n');
        long ign = 0, cgt = 0;
        for (int i = 1; i <= Task.NSIG; i++) {
            long h = t.sigactions[i][0];
            if (h == Signals.SIG_IGN) {
                ign |= 1L << (i - 1);
            } else if (h != Signals.SIG_DFL) {
                cgt |= 1L << (i - 1);
            }
        }
        b.append(String.format("SigPnd:\t%016x%nShdPnd:\t%016x%nSigBlk:\t%016x%nSigIgn:\t%016x%nSigCgt:\t%016x%n",
                t.pending.signal, t.sig.sharedPending.signal, t.sigmask, ign, cgt));
        long caps = uid == 0 ? 0x000001ffffffffffL : 0;
        b.append(String.format("CapInh:\t%016x%nCapPrm:\t%016x%nCapEff:\t%016x%nCapBnd:\t%016x%nCapAmb:\t%016x%n",
                0L, caps, caps, 0x000001ffffffffffL, 0L));
        b.append("NoNewPrivs:\t0\nSeccomp:\t0\nSeccomp_filters:\t0\n");
        b.append("Speculation_Store_Bypass:\tthread vulnerable\n");
        int n = k.machine().vcpus().size();
        b.append("Cpus_allowed_list:\t").append(n == 1 ? "0" : "0-" + (n - 1)).append('\n');
        b.append("voluntary_ctxt_switches:\t0\nnonvoluntary_ctxt_switches:\t0\n");
        return b.toString();
    }

    /** do_task_stat's 52 fields. */
    String stat(Task t) {
        SignalStruct s = t.sig;
        Ids id = ids(s);
        MmStruct mm = t.mm;
        long vsize = mm == null ? 0 : mm.totalVm() * 4096, rss = mm == null ? 0 : mm.rss();
        char state = t.state == Task.BLOCKED ? 'S' : 'R';
        long startCode = 0, endCode = 0, startStack = 0, startData = 0, endData = 0, startBrk = 0, argS = 0, argE = 0,
                envS = 0, envE = 0;
        if (mm != null) {
            startCode = mm.startCode;
            endCode = mm.endCode;
            startStack = mm.startStack;
            startData = mm.startData;
            endData = mm.endData;
            startBrk = mm.startBrk;
            argS = mm.argStart;
            argE = mm.argEnd;
            envS = mm.envStart;
            envE = mm.envEnd;
        }
        long minflt = k.memory().stats.faults.get();
        Object[] f = {t.pid, "(" + t.comm + ")", state, id.ppid(), id.pgid(), id.sid(), 0, -1, 4194304, minflt, 0, 0, 0, 0, 0, 0, 0, 20, 0,
            id.threads(), 0, 0, vsize, rss, Long.toUnsignedString(-1L), startCode, endCode, startStack, 0, 0,
            t.pending.signal, t.sigmask, 0, 0, 0, 0, 0, 17, 0, 0, 0, 0, 0, 0, startData, endData, startBrk, argS, argE,
            envS, envE, 0};
        StringBuilder b = new StringBuilder();
        for (Object o : f) {
            b.append(b.length() == 0 ? "" : " ").append(o);
        }
        return b.append('\n').toString();
    }

    String statm(Task t) {
        MmStruct mm = t.mm;
        if (mm == null) {
            return "0 0 0 0 0 0 0\n";
        }
        long shared = mm.counter(MmStruct.MM_FILEPAGES) + mm.counter(MmStruct.MM_SHMEMPAGES);
        long text = ((mm.endCode + 4095) >>> 12) - (mm.startCode >>> 12);
        long[] v = vmSizesLocked(mm);
        return String.format("%d %d %d %d 0 %d 0%n", mm.totalVm(), mm.rss(), shared, text, v[3] + v[1]);
    }

    /** smaps_rollup: the header line, then the summed Rss and its parts. */
    String smapsRollup(Task t) {
        MmStruct mm = t.mm;
        if (mm == null) {
            return "";
        }
        long lo = Long.MAX_VALUE, hi = 0;
        for (VmArea v : mm.vmaList()) {
            lo = Math.min(lo, v.start());
            hi = Math.max(hi, v.end());
        }
        long anon = mm.counter(MmStruct.MM_ANONPAGES), file = mm.counter(MmStruct.MM_FILEPAGES),
                shmem = mm.counter(MmStruct.MM_SHMEMPAGES);
        long rss = anon + file + shmem;
        StringBuilder b = new StringBuilder();
        int start = b.length();
        b.append(String.format("%08x-%08x ---p 00000000 00:00 0 ", lo == Long.MAX_VALUE ? 0 : lo, hi));
        while (b.length() - start < 72) {
            b.append(' ');
        }
        b.append(" [rollup]\n");
        String[] names = {"Rss", "Pss", "Pss_Dirty", "Pss_Anon", "Pss_File", "Pss_Shmem", "Shared_Clean", "Shared_Dirty",
            "Private_Clean", "Private_Dirty", "Referenced", "Anonymous", "KSM", "LazyFree", "AnonHugePages",
            "ShmemPmdMapped", "FilePmdMapped", "Shared_Hugetlb", "Private_Hugetlb", "Swap", "SwapPss", "Locked"};
        long thpAnon = mm.hugePmdCounts.get(0) * 512, thpShmem = mm.hugePmdCounts.get(1) * 512; // AnonHugePages, ShmemPmdMapped
        long[] vals = {rss, rss, anon, anon, file, shmem, 0, 0, file + shmem, anon, rss, anon, 0, 0, thpAnon, thpShmem, 0, 0, 0, 0, 0, 0};
        for (int i = 0; i < names.length; i++) {
            b.append(String.format("%-15s %8d kB%n", names[i] + ":", vals[i] * 4));
        }
        return b.toString();
    }

    // ---- meminfo, cpuinfo -----------------------------------------------------------------------------

    private String meminfo() {
        long total = k.memory().frames().frameCount(), free = k.memory().frames().freePages();
        long shmem = fss.tmpfsPages();
        String[][] rows = {
            {"MemTotal", "" + total}, {"MemFree", "" + free}, {"MemAvailable", "" + free}, {"Buffers", "0"},
            {"Cached", "" + shmem}, {"SwapCached", "0"}, {"Active", "0"}, {"Inactive", "0"}, {"SwapTotal", "0"},
            {"SwapFree", "0"}, {"Dirty", "0"}, {"Writeback", "0"}, {"AnonPages", "0"}, {"Mapped", "0"},
            {"Shmem", "" + shmem}, {"PageTables", "" + k.memory().frames().pageTablePages()},
            {"CommitLimit", "" + total}, {"HugePages_Total", null}, {"Hugepagesize", "2048"},
        };
        StringBuilder b = new StringBuilder();
        for (String[] r : rows) {
            if (r[1] == null) {
                b.append(String.format("%-16s%8d%n", r[0] + ":", 0));
            } else if (r[0].equals("Hugepagesize")) {
                b.append(String.format("%-16s%8s kB%n", r[0] + ":", r[1]));
            } else {
                b.append(String.format("%-16s%8d kB%n", r[0] + ":", Long.parseLong(r[1]) * 4));
            }
        }
        return b.toString();
    }

    private String cpuinfo() { // follows the preset, as CPUID does (cpudb.ProcCpuinfo)
        StringBuilder b = new StringBuilder();
        int n = k.machine().vcpus().size();
        for (int i = 0; i < n; i++) {
            b.append(org.mmulab.emulator.mmu.cpudb.ProcCpuinfo.entry(k.machine().vcpus().get(i).mmu().model(), i, n));
        }
        return b.toString();
    }
}
