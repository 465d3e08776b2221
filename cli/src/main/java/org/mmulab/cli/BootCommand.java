package org.mmulab.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;

import org.mmulab.emulator.debug.DebugController;
import org.mmulab.emulator.debug.RegisterTraceWriter;
import org.mmulab.emulator.cpu.tier.Engine;
import org.mmulab.emulator.machine.Machine;
import org.mmulab.emulator.memory.HostMemory;
import org.mmulab.emulator.memory.HostMemoryException;
import org.mmulab.emulator.machine.PerfStats;
import org.mmulab.emulator.machine.TimingMode;
import org.mmulab.gdbstub.EmulatorTarget;
import org.mmulab.gdbstub.GdbServer;
import org.mmulab.gdbstub.StubLogFile;
import org.mmulab.gdbstub.codec.GdbPacketDecoder;
import org.mmulab.gdbstub.protocol.StubLog;
import org.mmulab.kernel.ExecFile;
import org.mmulab.kernel.ExecFormatException;
import org.mmulab.kernel.ExecOpenException;
import org.mmulab.kernel.Kernel;
import org.mmulab.kernel.KernelConfig;
import org.mmulab.kernel.KernelMonitor;
import org.mmulab.kernel.mm.FileBytes;
import org.mmulab.kernel.mm.FrameTable;
import org.mmulab.kernel.mm.MmCheck;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code mmulab boot [OPTIONS] IMAGE [ARGS...]}: loads a static ELF into a fresh machine and runs it to
 * completion. mmulab's options come before IMAGE; everything after IMAGE goes to the guest unchanged,
 * even when it looks like an option. The exit status is the guest's, as a shell reports it
 * (128+signal when it is killed).
 */
@Command(name = "boot", mixinStandardHelpOptions = true,
        description = "Boot a static x86-64 or i386 ELF image and run it until it exits.")
final class BootCommand implements Callable<Integer> {
    @Option(names = "--mem", paramLabel = "SIZE", defaultValue = "512M", converter = MemorySize.class,
            description = "Guest RAM (default ${DEFAULT-VALUE}); a guest that needs more is OOM-killed (status 137).")
    long memBytes;

    @Option(names = "--paging", paramLabel = "4level|pae", converter = PagingConverter.class,
            description = "Paging mode of the machine. Default: pae for 32-bit images, 4level for 64-bit ones; "
                    + "a 32-bit image under 4level runs in compatibility mode, as under a 64-bit Linux kernel.")
    KernelConfig.PagingMode paging;

    @Option(names = "--stats", description = "Print counters (faults, TLB, syscalls, unknown syscalls) on stderr at exit.")
    boolean stats;

    @Option(names = "--stats-json", paramLabel = "FILE",
            description = "Write the counters (per vCPU and totals, fault-latency histogram, kernel fault kinds, syscalls) to FILE as JSON at exit.")
    Path statsJson;

    @Option(names = "--timing", paramLabel = "fast|cycle", defaultValue = "fast", converter = TimingConverter.class,
            description = "fast (default): counters only, maximum host speed; cycle: every instruction, TLB level, "
                    + "walker load, kernel memory access, trap and lock is charged through the cycle model.")
    TimingMode timing;

    @Option(names = "--engine", paramLabel = "interp|tier", converter = EngineConverter.class,
            description = "tier (default): hot guest blocks compiled to JVM bytecode (exact, under either timing: identical cycles and counters); "
                    + "interp: the interpreter alone.")
    Engine engine;

    @Option(names = "--cpu-model", paramLabel = "NAME|host|list", defaultValue = CpuModelOption.DEFAULT,
            converter = CpuModelOption.Converter.class,
            description = "CPU preset: TLBs, caches, latencies, frequency (default ${DEFAULT-VALUE}); host: the preset "
                    + "closest to this machine's CPU; list: the presets.")
    CpuModelOption cpuModel;

    @Option(names = "--virt-layer", paramLabel = "none|SYSCALL,EXCEPTION[,WALK]", defaultValue = "none",
            converter = VirtLayerConverter.class,
            description = "Add a virtualised-host layer under the preset: SYSCALL cycles more per system call and "
                    + "EXCEPTION per exception (a hypervisor that traps guest kernel entries), WALK per page walk (a "
                    + "two-dimensional walk); 'bench --native --cpu-model host' calibrates it on a virtual machine. Default none "
                    + "(bare metal).")
    org.mmulab.emulator.timing.VirtualisedHost virtLayer;

    @Option(names = "--core-mhz", paramLabel = "MHZ", defaultValue = "0",
            description = "Run the preset's cores at MHZ (1..20000) instead of its nominal clock: caches, TLBs and "
                    + "instructions keep their cycles, DRAM its nanoseconds; 'bench --native --cpu-model host' measures this "
                    + "host's clock (walk_probe clock) and passes it. Default: the preset's clock.")
    int coreMhz;

    @Option(names = "--deterministic",
            description = "Guest clocks (clock_gettime, gettimeofday, time, RDTSC) follow virtual time (cycles / model frequency), "
                    + "nanosleep advances virtual time instead of sleeping, and AT_RANDOM comes from --seed; "
                    + "--stats then leaves out host time, so the same image and seed give identical output.")
    boolean deterministic;

    @Option(names = "--seed", paramLabel = "S", converter = SeedConverter.class,
            description = "With --deterministic: the seed of everything random (default 0). A decimal or 0x-hex 64-bit integer.")
    Long seed;

    @Option(names = "--cpus", paramLabel = "N", defaultValue = "1",
            description = "vCPUs of the machine, 1.." + Machine.MAX_CPUS + " (default ${DEFAULT-VALUE}): each runs on its own host "
                    + "thread (one at a time under --deterministic); the guest's threads and processes are scheduled on them.")
    int cpus;

    /** mmulab bench --scalability's comparison (kernel PtlockSplit): not in --help, never guest-reachable. */
    @Option(names = "--pte-lock", paramLabel = "split|mm", hidden = true, defaultValue = "split")
    String pteLock;

    @Option(names = "--quantum", paramLabel = "N",
            description = "With --deterministic: guest instructions a vCPU runs between two scheduling points "
                    + "(default " + Machine.DEFAULT_DETERMINISTIC_QUANTUM + " with several vCPUs).")
    Integer quantum;

    @Option(names = "--check",
            description = "Check the mm's invariants: the PTE lock is held when a PTE is written, no lock is held at a "
                    + "return to user mode, and at exit no page is leaked (or, if tasks remain, refcounts and RSS match the "
                    + "page tables). A violation is reported on stderr and the exit status is " + Mmulab.EXIT_INTERNAL + ".")
    boolean check;

    @Option(names = "--root", paramLabel = "DIR",
            description = "The guest's / (default: the host's /, read-only, as qemu-user shows it).")
    Path root;

    @Option(names = "--rw", paramLabel = "DIR",
            description = "Let the guest write below this host directory (repeatable); everything else is read-only.")
    List<Path> rwDirs = new ArrayList<>();

    @Option(names = "--clean-env", description = "Start the guest with an empty environment instead of mmulab's.")
    boolean cleanEnv;

    @Option(names = "--env", paramLabel = "NAME=VALUE", description = "Add or replace a guest environment variable (repeatable).")
    List<String> env = new ArrayList<>();

    @Option(names = "--trace-regs", paramLabel = "FILE",
            description = "Write the registers after every retired instruction to FILE (the native tracer's format).")
    Path traceRegs;

    @Option(names = "--gdb", paramLabel = "HOST:PORT",
            description = "Serve the GDB remote protocol on HOST:PORT (host defaults to 127.0.0.1; port 0 picks a free one). "
                    + "gdb may attach at any time (its first packet stops the guest; a port probe changes nothing); the "
                    + "guest keeps running when gdb detaches, and a gdb that vanishes leaves it as it was (stopped or running). "
                    + "Anything but a loopback host makes the stub reachable from the network.")
    String gdb;

    @Option(names = "--wait", description = "With --gdb: hold the guest at its first instruction until gdb continues it.")
    boolean waitForGdb;

    @Option(names = "--gdb-log", paramLabel = "FILE",
            description = "With --gdb: write the stub's diagnostics (connections, refused clients, resets, protocol "
                    + "errors) to FILE. Without it they are dropped; stderr stays the guest's.")
    Path gdbLog;

    @Parameters(index = "0", paramLabel = "IMAGE", description = "Static ELF executable to run.")
    String image;

    @Parameters(index = "1..*", paramLabel = "ARGS", description = "Arguments passed to the guest unchanged.")
    List<String> guestArgs = new ArrayList<>();

    /** The host's limits for --mem (tests inject small ones). */
    HostMemory hostMemory = HostMemory.system();

    private final InputStream in;
    private final PrintStream out;
    private final PrintStream err;

    BootCommand(InputStream in, PrintStream out, PrintStream err) {
        this.in = in;
        this.out = out;
        this.err = err;
    }

    @Override
    public Integer call() {
        InetSocketAddress gdbAddress = null;
        if (gdb != null) {
            try {
                gdbAddress = GdbServer.parseAddress(gdb);
            } catch (IllegalArgumentException e) {
                return fail("--gdb: " + e.getMessage());
            }
        } else if (waitForGdb) {
            return fail("--wait needs --gdb HOST:PORT");
        } else if (gdbLog != null) {
            return fail("--gdb-log needs --gdb HOST:PORT");
        }
        if (seed != null && !deterministic) {
            return fail("--seed needs --deterministic");
        }
        if (quantum != null && !deterministic) {
            return fail("--quantum needs --deterministic");
        }
        if (coreMhz < 0 || coreMhz > 20_000) {
            return fail("--core-mhz must be 1..20000 (0: the preset's clock), got " + coreMhz);
        }
        if (quantum != null && quantum < 1) {
            return fail("--quantum must be at least 1 instruction, got " + quantum);
        }
        if (!pteLock.equals("split") && !pteLock.equals("mm")) {
            return fail("--pte-lock: expected split or mm, got '" + pteLock + "'");
        }
        if (cpus < 1 || cpus > Machine.MAX_CPUS) {
            return fail("--cpus must be 1.." + Machine.MAX_CPUS + ", got " + cpus);
        }
        if (cpus > 1 && (gdb != null || traceRegs != null)) {
            return fail((gdb != null ? "--gdb" : "--trace-regs") + " works with one vCPU only (--cpus 1)");
        }
        if (statsJson != null) {
            // Fail before the guest runs, not after: create (or truncate) the file now.
            try {
                Files.writeString(statsJson, "");
            } catch (IOException | RuntimeException e) {
                return fail("--stats-json " + statsJson + ": cannot write: " + e.getClass().getSimpleName()
                        + (e.getMessage() != null ? " " + e.getMessage() : ""));
            }
        }
        String fsProblem = checkFilesystemOptions();
        if (fsProblem != null) {
            return fail(fsProblem);
        }
        String tooBig = hostMemory.refusal(memBytes, (memBytes >>> 12) * FrameTable.HEAP_BYTES_PER_FRAME);
        if (tooBig != null) {
            return fail("--mem " + HostMemory.formatSize(memBytes) + ": " + tooBig);
        }
        FileBytes elf;
        try {
            elf = ExecFile.open(Path.of(image));
        } catch (ExecOpenException | java.nio.file.InvalidPathException e) {
            return fail(image + ": " + e.getMessage());
        }
        List<String> envp;
        try {
            envp = guestEnvironment();
        } catch (IllegalArgumentException e) {
            return fail(e.getMessage());
        }
        List<String> argv = new ArrayList<>();
        argv.add(image);
        argv.addAll(guestArgs);

        org.mmulab.emulator.mmu.CpuModel clocked = coreMhz == 0 ? cpuModel.model() : cpuModel.model().withCoreClock(coreMhz * 1_000_000L);
        Machine machine;
        try {
            machine = new Machine(memBytes, cpus, virtLayer.isNone() ? clocked : clocked.withHostLayer(virtLayer));
        } catch (HostMemoryException e) {
            return fail("--mem " + HostMemory.formatSize(memBytes) + ": " + e.getMessage());
        }
        machine.configureTiming(timing);
        machine.vcpus().forEach(v -> v.interpreter().setEngine(engine != null ? engine : Engine.DEFAULT));
        if (cpuModel.message() != null) {
            err.println("mmulab: " + cpuModel.message());
        }
        if (coreMhz != 0) {
            err.println("mmulab: --core-mhz: the " + cpuModel.preset().name() + " cores at " + coreMhz + " MHz (memory latency "
                    + clocked.timing().memoryLatency() + " cycles)");
        }
        if (!virtLayer.isNone()) {
            err.println("mmulab: --virt-layer: " + virtLayer);
        }
        if (deterministic) {
            if (quantum != null) {
                machine.setDeterministicQuantum(quantum);
            }
            machine.setDeterministic(seed != null ? seed : 0L);
        }
        if (check) {
            MmCheck.enabled = true; // before the kernel makes its Memory; stays on for this JVM
        }
        KernelConfig.PagingMode mode = paging != null ? paging : defaultPaging(elf);
        Kernel kernel = new Kernel(machine, new KernelConfig(in, out, err).withPaging(mode));
        if (pteLock.equals("mm")) {
            kernel.memory().ptlockSplit.usePageTableLock(); // before any vCPU runs or table exists
        }
        try {
            kernel.filesystems().configure(root, rwDirs);
        } catch (IOException | RuntimeException e) {
            return fail((root != null ? "--root " + root : "--rw") + ": " + e.getClass().getSimpleName()
                    + (e.getMessage() != null ? " " + e.getMessage() : ""));
        }
        try {
            kernel.exec(elf, image, argv, envp);
        } catch (ExecFormatException e) {
            return fail(image + ": " + e.getMessage());
        }
        GdbServer server = null;
        EmulatorTarget target = null;
        StubLogFile stubLog = null;
        if (gdbAddress != null) {
            if (gdbLog != null) {
                try {
                    stubLog = StubLogFile.open(gdbLog);
                } catch (IOException | RuntimeException e) {
                    return fail("--gdb-log " + gdbLog + ": cannot write: " + e.getClass().getSimpleName()
                            + (e.getMessage() != null ? " " + e.getMessage() : ""));
                }
            }
            StubLog log = stubLog != null ? stubLog : StubLog.SILENT;
            DebugController debug = new DebugController(machine);
            KernelMonitor.register(kernel, debug.monitor());
            if (waitForGdb) {
                debug.haltAtStart();
            }
            target = new EmulatorTarget(debug, log);
            server = new GdbServer(target, gdbAddress, GdbPacketDecoder.DEFAULT_MAX_PAYLOAD, log);
            try {
                server.start();
            } catch (Exception e) {   // BindException arrives unchecked from Netty
                if (stubLog != null) {
                    stubLog.close();
                }
                return fail("--gdb " + gdb + ": cannot listen: " + e.getMessage());
            }
            String shown = GdbServer.display(gdbAddress, server.boundPort());
            err.println("mmulab: gdb stub listening on " + shown
                    + (waitForGdb ? " (waiting for gdb: target remote " + shown + ")" : ""));
            if (GdbServer.reachableFromNetwork(gdbAddress)) {
                err.println("mmulab: warning: the gdb stub on " + shown + " is reachable from the network and has no "
                        + "authentication: whoever connects controls the guest (use 127.0.0.1 unless you trust it)");
            }
            err.flush();
        }
        long started = System.nanoTime();
        long startedCpu = processCpuNanos();
        int status;
        try {
            try {
                status = runGuest(machine, kernel);
            } catch (IOException e) {
                return fail("--trace-regs " + traceRegs + ": " + e.getMessage());
            }
            if (server != null) {
                status = finishDebugging(kernel, target, server, status);
            }
        } finally {
            if (server != null) {
                server.close();   // also when the emulator failed: no stub outlives its machine
            }
            if (stubLog != null) {
                stubLog.close();
            }
        }
        long hostNanos = System.nanoTime() - started;
        long hostCpuNanos = startedCpu < 0 ? -1 : processCpuNanos() - startedCpu;
        out.flush();
        if (check) {
            List<String> violations = kernel.checkMm();
            for (String v : violations) {
                err.println("mmulab: --check: " + v);
            }
            if (!violations.isEmpty()) {
                status = Mmulab.EXIT_INTERNAL;
            }
        }
        if (stats) {
            kernel.printStats(err);
            printRunSummary(machine, mode, hostNanos, hostCpuNanos);
        }
        if (statsJson != null) {
            try {
                Files.writeString(statsJson, PerfStats.of(machine).toJson(kernel.statsSections()));
            } catch (IOException e) {
                err.println("mmulab: --stats-json " + statsJson + ": cannot write: " + e.getMessage());
                return Mmulab.EXIT_USAGE;
            }
        }
        return status;
    }

    /**
     * Instructions retired and host time of the run, the figures users compare across modes. Under
     * --deterministic host time is left out (it differs from run to run); the cycle totals are in the
     * counter table.
     */
    private void printRunSummary(Machine machine, KernelConfig.PagingMode mode, long hostNanos, long hostCpuNanos) {
        long instructions = 0;
        for (var v : machine.vcpus()) {
            instructions += v.state.instructions;
        }
        err.printf("== run ==%n  paging                           %s%n  timing                           %s%n"
                + "  vcpus                            %d%n  instructions                     %d%n", mode.cliName(), timing.cliName(),
                cpus, instructions);
        if (deterministic) {
            err.printf("  seed                             %d%n", seed != null ? seed : 0L);
            return;
        }
        double seconds = hostNanos / 1e9;
        err.printf("  host seconds                     %.3f%n  guest MIPS (host time)           %.1f%n", seconds,
                seconds > 0 ? instructions / seconds / 1e6 : 0.0);
        if (hostCpuNanos >= 0) { // all JVM threads (vCPUs, JIT compilers, GC) during the run: steadier on a loaded host
            err.printf("  host CPU seconds (process)       %.3f%n", hostCpuNanos / 1e9);
        }
    }

    /** CPU time of the whole JVM process so far, or -1 where the platform does not report it. */
    private static long processCpuNanos() {
        if (java.lang.management.ManagementFactory.getOperatingSystemMXBean()
                instanceof com.sun.management.OperatingSystemMXBean os) {
            return os.getProcessCpuTime();
        }
        return -1;
    }

    /**
     * The guest is gone: gdb hears how (W with the status, X with the signal; nothing after its own kill) and
     * gets a bounded moment to receive that reply and disconnect by itself. Returns the exit status.
     */
    private int finishDebugging(Kernel kernel, EmulatorTarget target, GdbServer server, int status) {
        if (target.killed()) {
            err.println("mmulab: guest killed by gdb");
            return 128 + Kernel.SIGKILL;
        }
        int signal = kernel.task() == null ? 0 : kernel.task().termSignal();
        if (signal != 0) {
            target.controller().machineTerminated(signal);   // gdb: "Program terminated with signal SIGSEGV"
        } else {
            target.controller().machineExited(status);
        }
        long deadline = System.nanoTime() + 2_000_000_000L;
        while (server.hasClient() && System.nanoTime() < deadline) {
            try {
                Thread.sleep(10);
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        return status;
    }

    private int runGuest(Machine machine, Kernel kernel) throws IOException {
        if (traceRegs != null) {
            try (RegisterTraceWriter trace = new RegisterTraceWriter(traceRegs)) {
                trace.begin(machine.vcpu(0)); // records the exact initial stack pointer
                machine.vcpu(0).setTrace(trace);
                int status = kernel.run();
                trace.finish(status);
                return status;
            }
        }
        return kernel.run();
    }

    /** ELF32 images get PAE paging (a 32-bit kernel), everything else 4-level (e_ident[EI_CLASS]). */
    /** --root must be a directory; each --rw a directory below the root. Null when they are fine. */
    private String checkFilesystemOptions() {
        Path r;
        try {
            r = (root != null ? root : Path.of("/")).toRealPath();
        } catch (IOException | RuntimeException e) {
            return "--root " + root + ": no such directory";
        }
        if (!Files.isDirectory(r)) {
            return "--root " + root + ": not a directory";
        }
        for (Path d : rwDirs) {
            Path real;
            try {
                real = d.toRealPath();
            } catch (IOException | RuntimeException e) {
                return "--rw " + d + ": no such directory";
            }
            if (!Files.isDirectory(real)) {
                return "--rw " + d + ": not a directory";
            }
            if (!real.startsWith(r)) {
                return "--rw " + d + ": not below the guest's root " + r;
            }
        }
        return null;
    }

    static KernelConfig.PagingMode defaultPaging(FileBytes elf) {
        boolean elf32 = elf.size() > 4 && elf.u8(4) == 1;
        return elf32 ? KernelConfig.PagingMode.PAE : KernelConfig.PagingMode.FOUR_LEVEL;
    }

    /** picocli converter for {@code --paging}. */
    static final class PagingConverter implements picocli.CommandLine.ITypeConverter<KernelConfig.PagingMode> {
        @Override
        public KernelConfig.PagingMode convert(String value) {
            try {
                return KernelConfig.PagingMode.parse(value);
            } catch (IllegalArgumentException e) {
                throw new picocli.CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }

    /** picocli converter for {@code --timing}. */
    static final class TimingConverter implements picocli.CommandLine.ITypeConverter<TimingMode> {
        @Override
        public TimingMode convert(String value) {
            try {
                return TimingMode.parse(value);
            } catch (IllegalArgumentException e) {
                throw new picocli.CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }

    /** picocli converter for {@code --engine}. */
    static final class EngineConverter implements picocli.CommandLine.ITypeConverter<Engine> {
        @Override
        public Engine convert(String value) {
            try {
                return Engine.parse(value);
            } catch (IllegalArgumentException e) {
                throw new picocli.CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }

    /** picocli converter for {@code --seed}: a signed decimal or 0x-prefixed hexadecimal 64-bit integer. */
    static final class SeedConverter implements picocli.CommandLine.ITypeConverter<Long> {
        @Override
        public Long convert(String value) {
            try {
                if (value.startsWith("0x") || value.startsWith("0X")) {
                    return Long.parseUnsignedLong(value.substring(2), 16);
                }
                return Long.parseLong(value);
            } catch (NumberFormatException e) {
                throw new picocli.CommandLine.TypeConversionException("--seed expects a 64-bit integer, got '" + value + "'");
            }
        }
    }

    private List<String> guestEnvironment() {
        Map<String, String> vars = new TreeMap<>();
        if (!cleanEnv) {
            vars.putAll(System.getenv());
        }
        for (String kv : env) {
            int eq = kv.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("--env expects NAME=VALUE, got '" + kv + "'");
            }
            vars.put(kv.substring(0, eq), kv.substring(eq + 1));
        }
        List<String> list = new ArrayList<>(vars.size());
        vars.forEach((k, v) -> list.add(k + "=" + v));
        return list;
    }

    private int fail(String message) {
        err.println("mmulab: " + message);
        return Mmulab.EXIT_USAGE;
    }

    /** {@code --virt-layer}: none or SYSCALL,EXCEPTION cycles; anything else is a one-line usage error. */
    static final class VirtLayerConverter implements picocli.CommandLine.ITypeConverter<org.mmulab.emulator.timing.VirtualisedHost> {
        @Override
        public org.mmulab.emulator.timing.VirtualisedHost convert(String value) {
            try {
                return org.mmulab.emulator.timing.VirtualisedHost.parse(value);
            } catch (IllegalArgumentException e) {
                throw new picocli.CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }
}
