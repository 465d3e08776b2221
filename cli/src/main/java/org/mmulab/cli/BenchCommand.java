package org.mmulab.cli;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

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
 * native.csv and shape.csv; bench's TlbShapePlot draws them (docs/cache-model.md).
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
            new Workload("cpu_loop", List.of("100"), List.of("2"), 1),
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

    private static final Pattern RESULT = Pattern.compile("^RESULT (\\S+) (-?\\d+(?:\\.\\d+)?) (\\S+)$");
    private static final Pattern HIST = Pattern.compile("^HIST (\\S+) (\\d+) (\\d+)$");
    private static final Pattern PER_OP = Pattern.compile("^(ns|us|cycles)_per_(.+)$");
    private static final Pattern PARAM = Pattern.compile("^([^@]+)(?:@(\\w+)=(\\d+))?$");

    /** One RESULT line: workload, figure (without the parameter), parameter key/value, value, unit. */
    record Result(String workload, String figure, String key, long param, double value, String unit) {
        String name() {
            return workload + "." + figure + (key == null ? "" : "@" + key + "=" + param);
        }
    }

    /** One table row: an operation's host ns and guest cycles (NaN when absent), or another figure. */
    static final class Row {
        final String workload, op;
        double ns = Double.NaN, cycles = Double.NaN, other = Double.NaN;
        String otherUnit = "";

        Row(String workload, String op) {
            this.workload = workload;
            this.op = op;
        }
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
                Result r = parseResult(line);
                if (r != null) {
                    results.add(w.relabel(r));
                    continue;
                }
                Matcher h = HIST.matcher(line);
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
        List<Row> rows = table(results);
        printTable(rows);
        try {
            writeOutputs(rows, results, hist);
        } catch (IOException e) {
            err.println("mmulab: bench: cannot write " + out + ": " + e.getMessage());
            return 1;
        }
        if (nativeToo) {
            NativeComparison cmp = new NativeComparison(rows, table(nativeResults), cpuModel.preset(), deterministic, coreMhz);
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

    static Result parseResult(String line) {
        Matcher m = RESULT.matcher(line);
        if (!m.matches()) {
            return null;
        }
        String name = m.group(1);
        int dot = name.indexOf('.');
        if (dot <= 0 || dot == name.length() - 1) {
            return null;
        }
        Matcher p = PARAM.matcher(name.substring(dot + 1));
        if (!p.matches()) {
            return null;
        }
        return new Result(name.substring(0, dot), p.group(1), p.group(2), p.group(3) == null ? 0 : Long.parseLong(p.group(3)),
                Double.parseDouble(m.group(2)), m.group(3));
    }

    /** Groups ns/us/cycles_per_OP figures of the same workload, operation and parameter into one row. */
    static List<Row> table(List<Result> results) {
        Map<String, Row> rows = new LinkedHashMap<>();
        for (Result r : results) {
            Matcher m = PER_OP.matcher(r.figure());
            String op = (m.matches() ? m.group(2) : r.figure()) + (r.key() == null ? "" : " @" + r.key() + "=" + r.param());
            Row row = rows.computeIfAbsent(r.workload() + "\0" + op, k -> new Row(r.workload(), op));
            if (!m.matches()) {
                row.other = r.value();
                row.otherUnit = r.unit();
            } else if (m.group(1).equals("cycles")) {
                row.cycles = r.value();
            } else {
                row.ns = m.group(1).equals("us") ? r.value() * 1000 : r.value();
            }
        }
        return new ArrayList<>(rows.values());
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
            stdout.printf(Locale.ROOT, "%-13s %-24s %14s %16s  %s%n", r.workload, r.op, cell(r.ns), cell(r.cycles),
                    Double.isNaN(r.other) ? "" : cell(r.other) + " " + r.otherUnit);
        }
    }

    static String cell(double v) {
        if (Double.isNaN(v)) {
            return "-";
        }
        return String.format(Locale.ROOT, v >= 100 ? "%.1f" : "%.3f", v);
    }

    private static String csv(double v) {
        return Double.isNaN(v) ? "" : String.format(Locale.ROOT, "%.3f", v);
    }

    private void writeOutputs(List<Row> rows, List<Result> results, long[] hist) throws IOException {
        Files.createDirectories(out);
        String mode = paging.cliName() + "," + timing;
        StringBuilder t = new StringBuilder("paging,timing,workload,figure,host_ns_per_op,guest_cycles_per_op,other,other_unit\n");
        for (Row r : rows) {
            t.append(mode).append(',').append(r.workload).append(',').append(r.op).append(',').append(csv(r.ns)).append(',')
                    .append(csv(r.cycles)).append(',').append(csv(r.other)).append(',').append(r.otherUnit).append('\n');
        }
        Files.writeString(out.resolve("results.csv"), t);
        StringBuilder raw = new StringBuilder("paging,timing,name,value,unit\n");
        for (Result r : results) {
            raw.append(mode).append(',').append(r.name()).append(',').append(csv(r.value())).append(',').append(r.unit()).append('\n');
        }
        Files.writeString(out.resolve("results-raw.csv"), raw);
        StringBuilder h = new StringBuilder("bucket_log2,lower_cycles,upper_cycles,count\n");
        for (int k = 0; k < hist.length; k++) {
            if (hist[k] != 0) {
                h.append(k).append(',').append(k == 0 ? 0 : 1L << k).append(',').append(k >= 62 ? Long.MAX_VALUE : 1L << (k + 1))
                        .append(',').append(hist[k]).append('\n');
            }
        }
        Files.writeString(out.resolve("fault_latency.csv"), h);

        String sub = " (" + paging.cliName() + ", " + timing + " timing)";
        Files.writeString(out.resolve("tlb_cliff.svg"), SvgChart.log2LineChart("TLB cliff: tlb_stride" + sub,
                "pages touched (one load per page, log2 scale)", "guest cycles per access",
                List.of(new SvgChart.Series("consecutive pages (TLB reach)", cliff(results, "tlb_stride")),
                        new SvgChart.Series("8 pages apart (walk loads leave the caches)", cliff(results, TLB_STRIDE_8)))));
        Files.writeString(out.resolve("fault_latency.svg"), SvgChart.log2Histogram("page_fault1 fault latency" + sub,
                "cycles per first-touch write fault (log2 buckets, RDTSC)", "faults", hist));
    }

    /** The (pages, cycles per access) points of one tlb_stride run. */
    private static List<double[]> cliff(List<Result> results, String label) {
        List<double[]> points = new ArrayList<>();
        for (Result r : results) {
            if (r.workload().equals(label) && r.figure().equals("cycles_per_access") && "pages".equals(r.key())) {
                points.add(new double[] {r.param(), r.value()});
            }
        }
        return points;
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
