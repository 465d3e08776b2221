package org.mmulab.cli;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;

import org.mmulab.cli.BenchResults.Result;
import org.mmulab.cli.BenchResults.Row;
import org.mmulab.emulator.timing.VirtualisedHost;
import org.mmulab.kernel.KernelConfig;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code mmulab bench}: boots each guest workload image (test-images/src/images: page_fault1 after
 * will-it-scale's tests/page_fault1.c, sparse_unmap, tlb_stride, cpu_loop) in-process through
 * {@code mmulab boot}, collects the {@code RESULT} and {@code HIST} lines they print (format in
 * test-images/src/include/mmbench.h), and reports one table of host ns and guest cycles per operation,
 * CSV files and two SVG plots: the TLB-cliff curve (tlb_stride cycles per access against pages, log2 x)
 * and page_fault1's per-fault latency histogram (log2 buckets of RDTSC cycles, sampled by the guest).
 *
 * <p>{@code --paging} and {@code --timing} are passed to every boot ({@code --timing fast} is boot's
 * default and is not passed, so this works before boot knows the option); a boot that rejects an
 * option fails the run with exit status 2 and boot's message. Workloads are a list of {@link Workload}
 * records with a vCPU count, so multi-vCPU and fork/COW workloads slot in once the machine runs more
 * than one vCPU; today {@code --cpus} above 1 is refused.
 *
 * <p>{@code --cpu-model} is passed to every boot ({@code host} is resolved once, here). {@code --native}
 * also runs each x86_64 image on the host ({@link NativeRun}, best of {@code --native-runs}) and prints
 * the two side by side with ratios and the TLB-curve shape ratios ({@link NativeComparison}), writing
 * native.csv and shape.csv; bench's TlbShapePlot draws them (docs/cache-model.md). Parsing the images' lines and
 * writing the table, CSV files and plots is {@link BenchResults}'.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Run the guest workload benchmarks (page_fault1, sparse_unmap, tlb_stride, cpu_loop); "
                + "print a table of host ns and guest cycles per operation and write CSV and SVG plots.")
final class BenchCommand implements Callable<Integer> {
    /**
     * A guest workload: image name in bin/ARCH/, the label its results are filed under in the table and
     * plots (the image name, or e.g. "tlb_stride/8" for a second run of an image), full and --quick guest
     * arguments, vCPUs it needs.
     */
    record Workload(String name, String label, List<String> args, List<String> quickArgs, int cpus) {
        Workload(String name, List<String> args, List<String> quickArgs, int cpus) {
            this(name, name, args, quickArgs, cpus);
        }

        /** A result the image printed under its own name, filed under this workload's label. */
        Result relabel(Result r) {
            return r.workload().equals(name) && !label.equals(name)
                    ? new Result(label, r.figure(), r.key(), r.param(), r.value(), r.unit())
                    : r;
        }
    }

    /**
     * Milliseconds each tlb_stride point is timed for at least in a native run (best pass of as many as fit):
     * a point of 262,144 loads at 8-64 pages takes a few hundred microseconds on the host, too short to be
     * stable on a shared machine. Under --timing cycle the emulated run times one pass (its cycles are exact);
     * under --timing fast its clock is the host's too, so it gets the same rule and the ratio compares best
     * passes on both sides (a one-pass emulated point of a few milliseconds was decided by JIT warm-up and
     * lost time slices: 32 pages once took 286 ns and 64 pages 48 ns per access in one run).
     */
    static final int NATIVE_TLB_MIN_MS = 50;

    /**
     * The arguments of {@code w}'s native run: tlb_stride's with {@link #NATIVE_TLB_MIN_MS} added (its 5th), walk_probe's
     * with its min_ms (the model's run times one pass: 0) set to the same.
     */
    static List<String> nativeArgs(Workload w, List<String> args) {
        if (w.name().equals("walk_probe") && args.size() == 2) {
            return List.of(args.get(0), Integer.toString(NATIVE_TLB_MIN_MS));
        }
        if (!w.name().equals("tlb_stride")) {
            return args;
        }
        List<String> a = new ArrayList<>(args);
        List<String> defaults = List.of("65536", "4194304", "1", "0"); // tlb_stride's own defaults
        while (a.size() < defaults.size()) {
            a.add(defaults.get(a.size()));
        }
        a.add(Integer.toString(NATIVE_TLB_MIN_MS));
        return a;
    }

    /** Label of the tlb_stride run at a stride of 8 pages (each PTE in its own cache line). */
    static final String TLB_STRIDE_8 = "tlb_stride/8";
    /** Label of the tlb_stride run over consecutive pages in a random order (no stride for a prefetcher). */
    static final String TLB_STRIDE_RANDOM = "tlb_stride/rnd";

    /** The suite, in run order. Add multi-vCPU (cpus > 1) and fork/COW workloads here. */
    static final List<Workload> WORKLOADS = List.of(
            // First: a null system call and a read fault, the calibration of the virtualised-host layer (--virt-layer auto).
            new Workload("trap_cost", List.of("200000", "4096", "4"), List.of("2000", "64", "2"), 1),
            // Then page walks of pages 2 MiB apart (PDE and PTE lines in L2): the layer's walk figure (same rule; --quick
            // runs a short address-order chase instead, so a quick run calibrates no walk figure).
            new Workload("walk_probe", List.of("pde", "0"), List.of("4", "0", "0", "0", "16"), 1),
            new Workload("page_fault1", List.of("128", "16"), List.of("4", "2"), 1),
            new Workload("sparse_unmap", List.of("200000"), List.of("50"), 1),
            // Consecutive pages: the L1 dTLB and STLB reach.
            // Consecutive pages up to 262,144 (1 GiB): past the STLB and the paging-structure caches.
            new Workload("tlb_stride", List.of("262144", "262144"), List.of("256", "20000"), 1),
            // 8 pages apart: every PTE in its own line, so the walks' loads leave L1D, L2, LLC in turn.
            new Workload("tlb_stride", TLB_STRIDE_8, List.of("32768", "262144", "8"), List.of("256", "20000", "8"), 1),
            // Consecutive pages in a random order: no constant stride for a prefetcher (to 16,384 pages: past the
            // L2 DTLB; beyond, a virtualised host's walks dominate and its best-of-3 timings scatter).
            new Workload("tlb_stride", TLB_STRIDE_RANDOM, List.of("16384", "65536", "1", "1"), List.of("256", "20000", "1", "1"), 1),
            // 1,000 million instructions: the loop's block runs in HotSpot's interpreter and C1 until C2's OSR compile
            // (about 0.2 s on a 2-core host), which decided a 100-million run (0.29x native where 1,000 million gives the
            // throughput a long guest run sees); the warm-up is the `compute` and `hello` boots' subject, not this figure's.
            new Workload("cpu_loop", List.of("1000"), List.of("2"), 1),
            // fork, then the child writes every page: one COW fault (do_wp_page copy) each.
            new Workload("cow_fork-glibc", "cow_fork", List.of("8192", "4"), List.of("256", "2"), 1),
            // N threads, one per vCPU, each faulting its own pages in one mm; runs with --cpus N > 1 only.
            new Workload("fault_scale-glibc", "fault_scale", List.of("2048"), List.of("64"), 2));

    @Option(names = "--paging", paramLabel = "4level|pae", converter = BootCommand.PagingConverter.class,
            defaultValue = "4level",
            description = "Paging mode (default ${DEFAULT-VALUE}); pae runs the i386 images under a 32-bit PAE kernel.")
    KernelConfig.PagingMode paging;

    @Option(names = "--timing", paramLabel = "fast|cycle", defaultValue = "fast",
            description = "Timing level passed to each boot (default ${DEFAULT-VALUE}).")
    String timing;

    @Option(names = "--engine", paramLabel = "interp|tier",
            description = "Engine passed to each boot (default tier; see boot --engine).")
    String engine;

    @Option(names = "--deterministic",
            description = "Pass --deterministic to each boot (with --timing cycle: RDTSC and the clock follow virtual cycles).")
    boolean deterministic;

    @Option(names = "--cpus", paramLabel = "N", defaultValue = "1",
            description = "vCPUs of each boot, 1..256 (default ${DEFAULT-VALUE}); with N > 1 fault_scale runs N threads too.")
    int cpus;

    @Option(names = "--scalability",
            description = "Instead of the suite: the PTE-lock scalability run (ScalabilityRun). fault_scale with N threads on N vCPUs "
                    + "under --timing cycle --deterministic for each N of --scalability-cpus, with split PTE locks and with "
                    + "page_table_lock for every PTE (the pre-split kernel); prints faults per million cycles against N for both, "
                    + "writes scalability.csv and scalability.svg to --out. Default run: a few minutes.")
    boolean scalability;

    @Option(names = "--scalability-cpus", paramLabel = "N,N,...", split = ",", defaultValue = "1,2,4,8,16,64,256",
            description = "With --scalability: the vCPU counts (default ${DEFAULT-VALUE}); each 1..256.")
    List<Integer> scalabilityCpus;

    @Option(names = "--out", paramLabel = "DIR", defaultValue = "bench-results",
            description = "Directory for CSV files and plots (default ${DEFAULT-VALUE}).")
    Path out;

    @Option(names = "--quick", description = "Small sizes: a smoke run of a few seconds, figures dominated by warm-up.")
    boolean quick;

    @Option(names = "--images", paramLabel = "DIR",
            description = "Directory with x86_64/ and i386/ images (default: test-images/bin of this checkout).")
    Path images;

    @Option(names = "--mem", paramLabel = "SIZE", defaultValue = "1536M",
            description = "Guest RAM per workload (default ${DEFAULT-VALUE}: tlb_stride maps 1 GiB).")
    String mem;

    @Option(names = "--cpu-model", paramLabel = "NAME|host|list", defaultValue = CpuModelOption.DEFAULT,
            converter = CpuModelOption.Converter.class,
            description = "CPU preset passed to each boot (default ${DEFAULT-VALUE}); host: the preset closest to this machine.")
    CpuModelOption cpuModel;

    @Option(names = "--native",
            description = "Also run each x86_64 image natively on this host (they are ordinary static Linux binaries) "
                    + "and print mmulab and native side by side with ratios, the TLB-curve shape ratios, and native.csv.")
    boolean nativeToo;

    @Option(names = "--core-mhz", paramLabel = "auto|nominal|MHZ", defaultValue = "auto",
            description = "The model's core clock, passed to each boot (boot --core-mhz). auto (default): the preset's nominal "
                    + "clock, except with --native --timing cycle --deterministic --cpu-model host, where this host's clock is "
                    + "measured first (walk_probe clock, natively, best of --native-runs) and used: DRAM latency stays in ns, "
                    + "so the model's cycles are the host core's.")
    String coreMhzOption;

    /** The clock passed to boot, MHz; 0: the preset's. */
    private int coreMhz;

    @Option(names = "--virt-layer", paramLabel = "auto|none|SYSCALL,EXCEPTION[,WALK]", defaultValue = "auto",
            description = "The virtualised-host layer passed to each boot (boot --virt-layer). auto (default): none, except "
                    + "with --native --timing cycle --deterministic --cpu-model host on a virtual machine (cpuinfo flag "
                    + "'hypervisor'), where it is calibrated from trap_cost and walk_probe pde (host minus bare model), printed, "
                    + "and used for the workloads after each.")
    String virtLayerOption;

    /** The layer the boots after trap_cost get (none until calibrated or given). */
    private VirtualisedHost virtLayer = VirtualisedHost.NONE;

    @Option(names = "--native-runs", paramLabel = "N", defaultValue = "3",
            description = "With --native: run each image N times natively and keep the best figure of each (default ${DEFAULT-VALUE}).")
    int nativeRuns;

    private final PrintStream stdout;
    private final PrintStream err;

    BenchCommand(PrintStream stdout, PrintStream err) {
        this.stdout = stdout;
        this.err = err;
    }

    @Override
    public Integer call() {
        if (cpus < 1) {
            return usage("--cpus must be at least 1");
        }
        if (cpus > ScalabilityRun.MAX_CPUS) {
            return usage("--cpus must be 1.." + ScalabilityRun.MAX_CPUS + ", got " + cpus);
        }
        for (int n : scalabilityCpus) {
            if (n < 1 || n > ScalabilityRun.MAX_CPUS) {
                return usage("--scalability-cpus: each N must be 1.." + ScalabilityRun.MAX_CPUS + ", got " + n);
            }
        }
        if (engine != null && !engine.equals("interp") && !engine.equals("tier")) {
            return usage("--engine: expected interp or tier, got '" + engine + "'");
        }
        if (!timing.equals("fast") && !timing.equals("cycle")) {
            return usage("--timing: expected fast or cycle, got '" + timing + "'");
        }
        try {
            MemorySize.parse(mem);
        } catch (RuntimeException e) {
            return usage("--mem: " + e.getMessage());
        }
        if (nativeRuns < 1 || nativeRuns > 100) {
            return usage("--native-runs must be 1..100, got " + nativeRuns);
        }
        if (nativeToo && paging != KernelConfig.PagingMode.FOUR_LEVEL) {
            return usage("--native runs the x86_64 images on the host: use --paging 4level");
        }
        if (cpuModel.message() != null) {
            err.println("mmulab: bench: " + cpuModel.message());
        }
        boolean measureClock = false;
        if (coreMhzOption.equals("auto")) {
            measureClock = nativeToo && cpuModel.fromHost() && timing.equals("cycle") && deterministic;
        } else if (!coreMhzOption.equals("nominal")) {
            try {
                coreMhz = Integer.parseInt(coreMhzOption);
            } catch (NumberFormatException e) {
                coreMhz = -1;
            }
            if (coreMhz < 1 || coreMhz > 20_000) {
                return usage("--core-mhz: expected auto, nominal or 1..20000 MHz, got '" + coreMhzOption + "'");
            }
        }
        boolean calibrate = false;
        if (!virtLayerOption.equals("auto")) {
            try {
                virtLayer = VirtualisedHost.parse(virtLayerOption);
            } catch (IllegalArgumentException e) {
                return usage(e.getMessage());
            }
        } else if (cpuModel.virtualised() && nativeToo) {
            if (timing.equals("cycle") && deterministic) {
                calibrate = true;
                err.println("mmulab: bench: virtual machine: the virtualised-host layer is calibrated from trap_cost "
                        + "(native minus the bare model) and added to every workload after it");
            } else {
                err.println("mmulab: bench: virtual machine: calibrating the virtualised-host layer needs --timing cycle "
                        + "--deterministic (model cycles); the model stays bare metal");
            }
        }
        Path bin = images != null ? images : defaultImages();
        String arch = paging == KernelConfig.PagingMode.PAE ? "i386" : "x86_64";
        if (bin == null || !Files.isDirectory(bin.resolve(arch))) {
            return usage("no workload images in " + (bin == null ? "test-images/bin" : bin.resolve(arch))
                    + " (give --images DIR, the test-images/bin directory)");
        }
        if (scalability) {
            return new ScalabilityRun(bin.resolve(arch), scalabilityCpus, quick, out, stdout, err).run(paging, cpuModel.preset().name());
        }
        List<Workload> suite = new ArrayList<>();
        for (Workload w : WORKLOADS) {
            if (!Files.isRegularFile(bin.resolve(arch).resolve(w.name()))) {
                err.println("mmulab bench: " + w.label() + ": no " + arch + " build of " + w.name() + ", skipped");
                continue;
            }
            if (w.cpus() <= cpus) {
                suite.add(w);
            }
        }
        List<Result> results = new ArrayList<>();
        List<Result> nativeResults = new ArrayList<>();
        if (measureClock) {
            coreMhz = HostClock.measure(bin.resolve(arch).resolve("walk_probe"), nativeRuns, err);
            if (coreMhz > 0) {
                stdout.println("model core clock: " + coreMhz + " MHz, this host's, measured by walk_probe clock (the "
                        + cpuModel.preset().name() + " preset's nominal: " + cpuModel.model().timing().frequencyHz() / 1_000_000
                        + " MHz); the workloads run with --core-mhz " + coreMhz);
            }
        }
        long[] hist = new long[64];
        int i = 0;
        for (Workload w : suite) {
            i++;
            Path image = bin.resolve(arch).resolve(w.name());
            List<String> args = new ArrayList<>(quick ? w.quickArgs() : w.args());
            if (w.cpus() > 1) {
                args.add(0, Integer.toString(cpus)); // one thread per vCPU
            }
            err.printf("mmulab bench: [%d/%d] %s %s (%s, %s timing) ... ", i, suite.size(), w.label(), String.join(" ", args),
                    paging.cliName(), timing);
            err.flush();
            long t0 = System.nanoTime();
            ByteArrayOutputStream gout = new ByteArrayOutputStream();
            ByteArrayOutputStream gerr = new ByteArrayOutputStream();
            List<String> guestArgs = timing.equals("fast") ? nativeArgs(w, args) : args;
            int status = Mmulab.execute(bootArgs(image, guestArgs), new ByteArrayInputStream(new byte[0]),
                    new PrintStream(gout, true, StandardCharsets.UTF_8), new PrintStream(gerr, true, StandardCharsets.UTF_8));
            double secs = (System.nanoTime() - t0) / 1e9;
            String errText = gerr.toString(StandardCharsets.UTF_8).strip();
            if (status != 0) {
                err.println("failed");
                if (status == Mmulab.EXIT_USAGE) {
                    err.println("mmulab: bench: boot rejected " + w.name() + " with these options: "
                            + firstLine(errText));
                    return Mmulab.EXIT_USAGE;
                }
                err.println("mmulab: bench: " + w.name() + " exited with status " + status
                        + (errText.isEmpty() ? "" : ": " + firstLine(errText)));
                return 1;
            }
            int before = results.size();
            for (String line : gout.toString(StandardCharsets.UTF_8).split("\n")) {
                Result r = BenchResults.parseResult(line);
                if (r != null) {
                    results.add(w.relabel(r));
                    continue;
                }
                Matcher h = BenchResults.HIST.matcher(line);
                if (h.matches() && h.group(1).equals("page_fault1.fault_cycles")) {
                    int k = Integer.parseInt(h.group(2));
                    if (k < hist.length) {
                        hist[k] += Long.parseLong(h.group(3));
                    }
                }
            }
            if (results.size() == before) {
                err.println("failed");
                err.println("mmulab: bench: " + w.name() + " printed no RESULT line");
                return 1;
            }
            err.printf(Locale.ROOT, "%.2f s%n", secs);
            if (nativeToo) {
                String failure = NativeRun.run(image, nativeArgs(w, args), w, nativeRuns, nativeResults, err);
                if (failure != null) {
                    err.println("mmulab: bench: native " + w.name() + ": " + failure);
                    return 1;
                }
            }
            if (calibrate && w.name().equals("trap_cost")) {
                virtLayer = LayerCalibration.traps(modelTiming(), results, nativeResults, err);
                stdout.println("virtualised-host layer (calibrated, not predicted): " + virtLayer);
                stdout.println("  the workloads after trap_cost run with --virt-layer " + virtLayer.option()
                        + "; pass it to boot or bench to reproduce them");
            }
            if (calibrate && w.name().equals("walk_probe")) {
                virtLayer = LayerCalibration.walk(virtLayer, modelTiming(), results, nativeResults, err);
                stdout.println("virtualised-host layer with its walk figure (calibrated, not predicted): " + virtLayer);
                stdout.println("  the workloads after walk_probe run with --virt-layer " + virtLayer.option()
                        + "; pass it to boot or bench to reproduce them");
            }
        }
        List<Row> rows = BenchResults.table(results);
        printTable(rows);
        try {
            BenchResults.write(out, paging.cliName(), timing, rows, results, hist);
        } catch (IOException e) {
            err.println("mmulab: bench: cannot write " + out + ": " + e.getMessage());
            return 1;
        }
        if (nativeToo) {
            NativeComparison cmp = new NativeComparison(rows, BenchResults.table(nativeResults), cpuModel.preset(), deterministic, coreMhz);
            cmp.print(stdout);
            try {
                Files.writeString(out.resolve("native.csv"), cmp.csv());
                Files.writeString(out.resolve("shape.csv"), cmp.shapeCsv());
            } catch (IOException e) {
                err.println("mmulab: bench: cannot write " + out + ": " + e.getMessage());
                return 1;
            }
        }
        stdout.println("wrote " + out.resolve("results.csv") + ", results-raw.csv, fault_latency.csv, tlb_cliff.svg, fault_latency.svg"
                + (nativeToo ? ", native.csv, shape.csv" : ""));
        return 0;
    }

    private String[] bootArgs(Path image, List<String> args) {
        List<String> a = new ArrayList<>(List.of("boot", "--paging", paging.cliName(), "--mem", mem, "--clean-env",
                "--cpus", Integer.toString(cpus)));
        if (!timing.equals("fast")) {
            a.add("--timing");
            a.add(timing);
        }
        if (deterministic) {
            a.add("--deterministic");
        }
        if (engine != null) {
            a.add("--engine");
            a.add(engine);
        }
        a.add("--cpu-model");
        a.add(cpuModel.preset().name());
        if (coreMhz > 0) {
            a.add("--core-mhz");
            a.add(Integer.toString(coreMhz));
        }
        if (!virtLayer.isNone()) {
            a.add("--virt-layer");
            a.add(virtLayer.option());
        }
        a.add(image.toString());
        a.addAll(args);
        return a.toArray(new String[0]);
    }

    /** The timing the boots run with: the preset's, at the measured or given core clock when there is one. */
    private org.mmulab.emulator.timing.TimingModel modelTiming() {
        org.mmulab.emulator.timing.TimingModel t = cpuModel.model().timing();
        return coreMhz > 0 ? t.withCoreClock(coreMhz * 1_000_000L) : t;
    }

    private void printTable(List<Row> rows) {
        stdout.printf("mmulab bench: paging %s, timing %s, cpu model %s, %d vCPU%s; host %s, %d cores%n", paging.cliName(), timing,
                cpuModel.preset().name(), cpus, quick ? ", --quick" : "", hostCpu(), Runtime.getRuntime().availableProcessors());
        if (deterministic) {
            stdout.println("(deterministic: guest cycles = RDTSC = the model's virtual cycles; ns = virtual time, not host time)");
        } else {
            stdout.println("(guest cycles = RDTSC, host time at a nominal 2 GHz; host ns = the guest's clock_gettime)");
        }
        stdout.printf("%-13s %-24s %14s %16s  %s%n", "workload", "figure", deterministic ? "virtual ns/op" : "host ns/op",
                "guest cycles/op", "other");
        for (Row r : rows) {
            stdout.printf(Locale.ROOT, "%-13s %-24s %14s %16s  %s%n", r.workload, r.op, BenchResults.cell(r.ns), BenchResults.cell(r.cycles),
                    Double.isNaN(r.other) ? "" : BenchResults.cell(r.other) + " " + r.otherUnit);
        }
    }

    /** test-images/bin of the checkout: under the working directory, or above the jar / classes directory. */
    static Path defaultImages() {
        Path cwd = Path.of("test-images", "bin");
        if (Files.isDirectory(cwd)) {
            return cwd;
        }
        try {
            Path p = Path.of(BenchCommand.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            for (int up = 0; up < 4 && p != null; up++, p = p.getParent()) {
                Path c = p.resolve("test-images").resolve("bin");
                if (Files.isDirectory(c)) {
                    return c;
                }
            }
        } catch (Exception e) {
            return null;
        }
        return null;
    }

    static String hostCpu() {
        try {
            for (String l : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (l.startsWith("model name")) {
                    return l.substring(l.indexOf(':') + 1).strip();
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux: fall through
        }
        return System.getProperty("os.arch");
    }

    private static String firstLine(String s) {
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    private int usage(String message) {
        err.println("mmulab: bench: " + message);
        return Mmulab.EXIT_USAGE;
    }
}
