package org.mmulab.cli;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

import org.mmulab.emulator.mmu.cpudb.CpuPresets;

/**
 * The side-by-side report of {@code mmulab bench --native}: every figure the emulated run and the native
 * run both printed, with ratios; the shape of the TLB curves (tlb_stride's time per access at N pages as
 * a ratio to its 64-page plateau, where every load hits the L1 dTLB and L1D) for the model and the host
 * at {@link #SHAPE_POINTS}; and page_fault1's cycles per page, the host's as ns × the preset's nominal
 * frequency. Model cycles are the guest's RDTSC deltas, which are the model's cycles only under
 * {@code --timing cycle --deterministic}; the header says which.
 */
final class NativeComparison {
    /** Page counts whose shape ratios are reported: past the Skylake STLB, past 64 MiB of reach, 1 GiB. */
    static final long[] SHAPE_POINTS = {1536, 16384, 262144};
    static final long PLATEAU = 64;
    /** Issue 17's check: the model's shape ratio within this fraction of the host's, per point. */
    static final double WITHIN = 0.25;

    /** The verdict of one shape point: "within 25 %" or "outside 25 %". */
    static String verdict(double model, double host) {
        return Math.abs(model / host - 1) <= WITHIN + 1e-9 ? "within 25 %" : "outside 25 %";
    }

    private final List<BenchResults.Row> model;
    private final Map<String, BenchResults.Row> host = new LinkedHashMap<>();
    private final CpuPresets.Preset preset;
    private final boolean modelCycles;
    /** The model's core clock: the preset's nominal one, or the host's measured one (bench --core-mhz). */
    private final long modelHz;
    private final boolean measuredClock;

    NativeComparison(List<BenchResults.Row> model, List<BenchResults.Row> host, CpuPresets.Preset preset, boolean modelCycles) {
        this(model, host, preset, modelCycles, 0);
    }

    /** @param coreMhz the clock the model ran at (bench --core-mhz), 0 for the preset's nominal clock */
    NativeComparison(List<BenchResults.Row> model, List<BenchResults.Row> host, CpuPresets.Preset preset, boolean modelCycles,
            int coreMhz) {
        this.measuredClock = coreMhz > 0;
        this.modelHz = coreMhz > 0 ? coreMhz * 1_000_000L : preset.model().timing().frequencyHz();
        this.model = model;
        for (BenchResults.Row r : host) {
            this.host.put(key(r), r);
        }
        this.preset = preset;
        this.modelCycles = modelCycles;
    }

    private static String key(BenchResults.Row r) {
        return r.workload + "\0" + r.op;
    }

    private double ghz() {
        return modelHz / 1e9;
    }

    /** A curve: pages → time per access (model cycles, or host ns) of one tlb_stride run. */
    static TreeMap<Long, Double> curve(List<BenchResults.Row> rows, String label, boolean cycles) {
        TreeMap<Long, Double> c = new TreeMap<>();
        for (BenchResults.Row r : rows) {
            if (r.workload.equals(label) && r.op.startsWith("access @pages=")) {
                double v = cycles ? r.cycles : r.ns;
                if (!Double.isNaN(v)) {
                    c.put(Long.parseLong(r.op.substring("access @pages=".length())), v);
                }
            }
        }
        return c;
    }

    /**
     * The curve's value at {@code pages} as a ratio to its 64-page value; between two measured points it is
     * interpolated on log-log axes (tlb_stride measures powers of two; 1,536 falls between 1,024 and 2,048).
     * NaN when the curve does not reach that far.
     */
    static double shape(TreeMap<Long, Double> c, long pages) {
        Double base = c.get(PLATEAU);
        if (base == null || base <= 0) {
            return Double.NaN;
        }
        Double exact = c.get(pages);
        if (exact != null) {
            return exact / base;
        }
        Map.Entry<Long, Double> lo = c.floorEntry(pages), hi = c.ceilingEntry(pages);
        if (lo == null || hi == null) {
            return Double.NaN;
        }
        double t = (Math.log(pages) - Math.log(lo.getKey())) / (Math.log(hi.getKey()) - Math.log(lo.getKey()));
        return Math.exp(Math.log(lo.getValue()) + t * (Math.log(hi.getValue()) - Math.log(lo.getValue()))) / base;
    }

    void print(PrintStream out) {
        String clock = measuredClock ? "cores at the host's measured" : "nominal";
        out.printf(Locale.ROOT, "%nmmulab vs native on this host (%s): preset %s (%s), %s %.2f GHz%n", BenchCommand.hostCpu(),
                preset.name(), preset.summary(), clock, ghz());
        out.println(modelCycles ? "(model cycles: --timing cycle --deterministic; host cycles = native ns x " + clock + " GHz)"
                : "(mmulab cycles are host time at a nominal 2 GHz, not the model's: use --timing cycle --deterministic)");
        out.printf("%-13s %-24s %12s %12s %8s %14s %14s %8s%n", "workload", "figure", "mmulab ns", "native ns", "ratio",
                "model cycles", "host cycles", "ratio");
        for (BenchResults.Row m : model) {
            BenchResults.Row h = host.get(key(m));
            if (h == null) {
                continue;
            }
            if (!Double.isNaN(m.other)) {
                out.printf(Locale.ROOT, "%-13s %-24s %12s %12s %8s   (%s)%n", m.workload, m.op, BenchResults.cell(m.other),
                        BenchResults.cell(h.other), ratio(m.other, h.other), m.otherUnit);
                continue;
            }
            double hc = h.ns * ghz();
            out.printf(Locale.ROOT, "%-13s %-24s %12s %12s %8s %14s %14s %8s%n", m.workload, m.op, BenchResults.cell(m.ns),
                    BenchResults.cell(h.ns), ratio(m.ns, h.ns), BenchResults.cell(m.cycles), BenchResults.cell(hc), ratio(m.cycles, hc));
        }
        out.printf("%nTLB curve shape (time per access / the %d-page plateau; 1,536 interpolated between 1,024 and 2,048)%n", PLATEAU);
        out.printf("%-15s %8s %10s %10s %10s  %s%n", "curve", "pages", "model", "host", "model/host", "check");
        for (String label : List.of("tlb_stride", BenchCommand.TLB_STRIDE_8, BenchCommand.TLB_STRIDE_RANDOM)) {
            TreeMap<Long, Double> mc = curve(model, label, true);
            TreeMap<Long, Double> hc = curve(new ArrayList<>(host.values()), label, false);
            for (long n : SHAPE_POINTS) {
                double a = shape(mc, n), b = shape(hc, n);
                if (!Double.isNaN(a) && !Double.isNaN(b)) {
                    out.printf(Locale.ROOT, "%-15s %8d %10.2f %10.2f %+9.0f%%  %s%n", label, n, a, b, (a / b - 1) * 100,
                            verdict(a, b));
                }
            }
        }
    }

    private static String ratio(double a, double b) {
        return Double.isNaN(a) || Double.isNaN(b) || b == 0 ? "-" : String.format(Locale.ROOT, "%.2fx", a / b);
    }

    /** native.csv: one line per figure both runs printed. */
    String csv() {
        StringBuilder b = new StringBuilder("workload,figure,mmulab_ns,native_ns,model_cycles,host_cycles_nominal,mmulab_other,native_other\n");
        for (BenchResults.Row m : model) {
            BenchResults.Row h = host.get(key(m));
            if (h == null) {
                continue;
            }
            b.append(m.workload).append(',').append(m.op).append(',').append(num(m.ns)).append(',').append(num(h.ns)).append(',')
                    .append(num(m.cycles)).append(',').append(num(h.ns * ghz())).append(',').append(num(m.other)).append(',')
                    .append(num(h.other)).append('\n');
        }
        return b.toString();
    }

    /** shape.csv: the shape ratios of {@link #SHAPE_POINTS} for both curves, model and host. */
    String shapeCsv() {
        StringBuilder b = new StringBuilder("curve,pages,model_ratio,host_ratio,within_25pct\n");
        for (String label : List.of("tlb_stride", BenchCommand.TLB_STRIDE_8, BenchCommand.TLB_STRIDE_RANDOM)) {
            TreeMap<Long, Double> mc = curve(model, label, true);
            TreeMap<Long, Double> hc = curve(new ArrayList<>(host.values()), label, false);
            for (long n : SHAPE_POINTS) {
                double m = shape(mc, n), h = shape(hc, n);
                b.append(label).append(',').append(n).append(',').append(num(m)).append(',').append(num(h)).append(',')
                        .append(Double.isNaN(m) || Double.isNaN(h) ? "" : verdict(m, h).startsWith("within") ? "yes" : "no")
                        .append('\n');
            }
        }
        return b.toString();
    }

    private static String num(double v) {
        return Double.isNaN(v) ? "" : String.format(Locale.ROOT, "%.3f", v);
    }
}
