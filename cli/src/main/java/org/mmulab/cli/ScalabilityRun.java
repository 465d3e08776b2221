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

import org.mmulab.kernel.KernelConfig;

/**
 * {@code mmulab bench --scalability}: what split PTE locks buy (Linux 2.6.15 "split page_table_lock",
 * include/linux/mm.h pte_lockptr). For each vCPU count N, boots the fault_scale image with N threads on
 * N vCPUs under {@code --timing cycle --deterministic}, each thread write-faulting its own pages in its
 * own PTE tables of one mm, twice: with split PTE locks and with the mm's page_table_lock for every PTE
 * (boot's hidden {@code --pte-lock mm}, kernel PtlockSplit). Prints the aggregate faults per million
 * (virtual) cycles against N for both and writes scalability.csv and scalability.svg (log2 x axis).
 * Large N use fewer pages per thread so the default run stays at a few minutes.
 */
final class ScalabilityRun {
    static final int MAX_CPUS = 256;
    private static final String IMAGE = "fault_scale-glibc";

    private final Path bin;
    private final List<Integer> cpus;
    private final boolean quick;
    private final Path out;
    private final PrintStream stdout;
    private final PrintStream err;

    ScalabilityRun(Path bin, List<Integer> cpus, boolean quick, Path out, PrintStream stdout, PrintStream err) {
        this.bin = bin;
        this.cpus = cpus;
        this.quick = quick;
        this.out = out;
        this.stdout = stdout;
        this.err = err;
    }

    /** Pages each thread faults at N vCPUs: fewer for the large machines (a run's cost grows with N x pages). */
    static int pagesPerThread(int n, boolean quick) {
        int pages = n <= 16 ? 512 : n <= 64 ? 128 : 32;
        return quick ? Math.max(8, pages / 8) : pages;
    }

    int run(KernelConfig.PagingMode paging, String cpuModel) {
        Path image = bin.resolve(IMAGE);
        if (!Files.isRegularFile(image)) {
            err.println("mmulab: bench: no " + image + " (fault_scale is built for x86_64 only: use --paging 4level)");
            return Mmulab.EXIT_USAGE;
        }
        List<double[]> split = new ArrayList<>();
        List<double[]> shared = new ArrayList<>();
        StringBuilder csv = new StringBuilder("vcpus,pages_per_vcpu,split_faults_per_mcycle,page_table_lock_faults_per_mcycle\n");
        stdout.printf("mmulab bench --scalability: fault_scale, %s paging, cycle timing, deterministic, cpu model %s%n",
                paging.cliName(), cpuModel);
        stdout.printf("%6s %8s %22s %26s %8s%n", "vCPUs", "pages/vCPU", "split PTE locks", "page_table_lock per PTE", "ratio");
        for (int n : cpus) {
            int pages = pagesPerThread(n, quick);
            double s = boot(image, paging, cpuModel, n, pages, "split");
            if (Double.isNaN(s)) {
                return 1;
            }
            double m = boot(image, paging, cpuModel, n, pages, "mm");
            if (Double.isNaN(m)) {
                return 1;
            }
            split.add(new double[] {n, s});
            shared.add(new double[] {n, m});
            stdout.printf(Locale.ROOT, "%6d %8d %22.3f %26.3f %8.2f%n", n, pages, s, m, s / m);
            csv.append(String.format(Locale.ROOT, "%d,%d,%.3f,%.3f%n", n, pages, s, m));
        }
        try {
            Files.createDirectories(out);
            Files.writeString(out.resolve("scalability.csv"), csv);
            Files.writeString(out.resolve("scalability.svg"), SvgChart.log2LineChart(
                    "PTE-lock scalability: fault_scale (" + paging.cliName() + ", cycle timing, deterministic)",
                    "vCPUs = threads, each faulting its own pages (log2 scale)", "faults per million cycles (all vCPUs)",
                    List.of(new SvgChart.Series("split PTE locks", split),
                            new SvgChart.Series("page_table_lock for every PTE", shared))));
        } catch (IOException e) {
            err.println("mmulab: bench: cannot write " + out + ": " + e.getMessage());
            return 1;
        }
        stdout.println("wrote " + out.resolve("scalability.csv") + ", scalability.svg");
        return 0;
    }

    /** One boot; its aggregate faults per million cycles, or NaN (message printed) when it failed. */
    private double boot(Path image, KernelConfig.PagingMode paging, String cpuModel, int n, int pages, String pteLock) {
        err.printf("mmulab bench: fault_scale %d vCPUs x %d pages, --pte-lock %s ... ", n, pages, pteLock);
        err.flush();
        long t0 = System.nanoTime();
        String[] args = {"boot", "--paging", paging.cliName(), "--mem", "1024M", "--clean-env", "--cpus", Integer.toString(n),
            "--timing", "cycle", "--deterministic", "--cpu-model", cpuModel, "--pte-lock", pteLock, image.toString(),
            Integer.toString(n), Integer.toString(pages)};
        ByteArrayOutputStream gout = new ByteArrayOutputStream();
        ByteArrayOutputStream gerr = new ByteArrayOutputStream();
        int status = Mmulab.execute(args, new ByteArrayInputStream(new byte[0]), new PrintStream(gout, true, StandardCharsets.UTF_8),
                new PrintStream(gerr, true, StandardCharsets.UTF_8));
        if (status != 0) {
            err.println("failed");
            String e = gerr.toString(StandardCharsets.UTF_8).strip();
            err.println("mmulab: bench: fault_scale on " + n + " vCPUs exited with status " + status
                    + (e.isEmpty() ? "" : ": " + e.lines().findFirst().orElse("")));
            return Double.NaN;
        }
        for (String line : gout.toString(StandardCharsets.UTF_8).split("\n")) {
            BenchResults.Result r = BenchResults.parseResult(line);
            if (r != null && r.figure().equals("faults_per_mcycle")) {
                err.printf(Locale.ROOT, "%.2f s%n", (System.nanoTime() - t0) / 1e9);
                return r.value();
            }
        }
        err.println("failed");
        err.println("mmulab: bench: fault_scale printed no faults_per_mcycle RESULT");
        return Double.NaN;
    }
}
