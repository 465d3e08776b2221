package org.mmulab.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.TreeMap;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.VectorGraphicsEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * Plots the TLB curves of the model and of the host on one chart, from the {@code native.csv} that
 * {@code mmulab bench --native --timing cycle --deterministic} writes: tlb_stride's time per access at N
 * pages (consecutive, and 8 pages apart) as a ratio to its 64-page plateau — model cycles and host
 * nanoseconds normalised alike, so the two shapes compare directly. Writes PNG and SVG (XChart).
 *
 * <pre>java -cp bench/target/benchmarks.jar org.mmulab.bench.TlbShapePlot native.csv "title" OUT_BASENAME</pre>
 */
public final class TlbShapePlot {
    private TlbShapePlot() {
    }

    /** pages → {model cycles, host ns} of one curve read from native.csv's lines. */
    static TreeMap<Long, double[]> curve(List<String> csv, String workload) {
        TreeMap<Long, double[]> c = new TreeMap<>();
        for (String line : csv) {
            String[] f = line.split(",", -1);
            // workload,figure,mmulab_ns,native_ns,model_cycles,host_cycles_nominal,...
            if (f.length >= 6 && f[0].equals(workload) && f[1].startsWith("access @pages=") && !f[3].isEmpty() && !f[4].isEmpty()) {
                c.put(Long.parseLong(f[1].substring("access @pages=".length())),
                        new double[] {Double.parseDouble(f[4]), Double.parseDouble(f[3])});
            }
        }
        return c;
    }

    static XYChart chart(List<String> csv, String title) {
        XYChart chart = new XYChartBuilder().width(900).height(560).title(title)
                .xAxisTitle("pages touched, one dependent load per page (log scale)")
                .yAxisTitle("time per access / 64-page plateau (log scale)").build();
        chart.getStyler().setXAxisLogarithmic(true).setYAxisLogarithmic(true).setLegendPosition(
                org.knowm.xchart.style.Styler.LegendPosition.InsideNW);
        String[][] curves = {{"tlb_stride", "consecutive pages"}, {"tlb_stride/8", "8 pages apart"},
                {"tlb_stride/rnd", "consecutive pages, random order"}};
        for (String[] c : curves) {
            TreeMap<Long, double[]> pts = curve(csv, c[0]);
            double[] base = pts.get(64L);
            if (base == null) {
                continue;
            }
            for (int k = 0; k < 2; k++) {
                List<Double> xs = new ArrayList<>(), ys = new ArrayList<>();
                for (var e : pts.entrySet()) {
                    xs.add((double) e.getKey());
                    ys.add(e.getValue()[k] / base[k]);
                }
                var s = chart.addSeries((k == 0 ? "model (cycles), " : "host (ns), ") + c[1], xs, ys);
                s.setMarker(k == 0 ? SeriesMarkers.CIRCLE : SeriesMarkers.DIAMOND);
            }
        }
        return chart;
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 3) {
            System.err.println("usage: TlbShapePlot NATIVE_CSV TITLE OUT_BASENAME");
            System.exit(2);
        }
        List<String> csv = Files.readAllLines(Path.of(args[0]));
        XYChart chart = chart(csv, args[1]);
        BitmapEncoder.saveBitmap(chart, args[2], BitmapEncoder.BitmapFormat.PNG);
        VectorGraphicsEncoder.saveVectorGraphic(chart, args[2], VectorGraphicsEncoder.VectorGraphicsFormat.SVG);
        System.out.printf(Locale.ROOT, "wrote %s.png and %s.svg%n", args[2], args[2]);
    }
}
