package org.mmulab.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What {@code mmulab bench} reads from its guest workloads and writes for the user: the {@code RESULT} lines the images
 * print (format in test-images/src/include/mmbench.h: {@code RESULT workload.figure[@key=param] value unit}), grouped into
 * one table row per operation (host ns, guest cycles, or another figure), and the table's CSV files and SVG plots.
 * {@link BenchCommand} runs the workloads; {@link NativeRun} and {@link NativeComparison} read the same lines from
 * the host's runs.
 */
final class BenchResults {
    private BenchResults() {
    }

    private static final Pattern RESULT = Pattern.compile("^RESULT (\\S+) (-?\\d+(?:\\.\\d+)?) (\\S+)$");
    static final Pattern HIST = Pattern.compile("^HIST (\\S+) (\\d+) (\\d+)$");
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

    static String cell(double v) {
        if (Double.isNaN(v)) {
            return "-";
        }
        return String.format(Locale.ROOT, v >= 100 ? "%.1f" : "%.3f", v);
    }

    private static String csv(double v) {
        return Double.isNaN(v) ? "" : String.format(Locale.ROOT, "%.3f", v);
    }

    /**
     * Writes results.csv (the table), results-raw.csv (every RESULT line), fault_latency.csv (page_fault1's histogram)
     * and the two SVG plots (tlb_cliff.svg, fault_latency.svg) into {@code out}.
     */
    static void write(Path out, String paging, String timing, List<Row> rows, List<Result> results, long[] hist) throws IOException {
        Files.createDirectories(out);
        String mode = paging + "," + timing;
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

        String sub = " (" + paging + ", " + timing + " timing)";
        Files.writeString(out.resolve("tlb_cliff.svg"), SvgChart.log2LineChart("TLB cliff: tlb_stride" + sub,
                "pages touched (one load per page, log2 scale)", "guest cycles per access",
                List.of(new SvgChart.Series("consecutive pages (TLB reach)", cliff(results, "tlb_stride")),
                        new SvgChart.Series("8 pages apart (walk loads leave the caches)", cliff(results, BenchCommand.TLB_STRIDE_8)))));
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
}
