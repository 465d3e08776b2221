package org.mmulab.cli;

import java.util.List;
import java.util.Locale;

/**
 * A minimal SVG 1.1 chart writer for {@code mmulab bench}: a line chart with a log2 x axis (the
 * TLB-cliff curve) and a bar chart over log2 buckets (the fault-latency histogram). Hand-written
 * rather than a charting dependency (see the cli pom): two fixed chart shapes need ~150 lines of
 * string building, while XChart/JFreeChart would add megabytes and AWT to a command-line jar. SVG is
 * text, so the files diff in review and any browser shows them.
 */
final class SvgChart {
    private static final int W = 720, H = 420, LEFT = 80, RIGHT = 24, TOP = 48, BOTTOM = 64;
    private static final String[] COLORS = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e"};

    private SvgChart() {
    }

    /** One named series of (x, y) points, x > 0, drawn in order. */
    record Series(String name, List<double[]> points) {
    }

    /**
     * Line chart, x on a log2 axis (ticks at powers of two); y linear from 0, or also log2 when the values
     * span more than a factor of 16 (a TLB/cache curve from 5 to 250 cycles keeps its low steps visible).
     */
    static String log2LineChart(String title, String xLabel, String yLabel, List<Series> series) {
        double xmin = Double.MAX_VALUE, xmax = -Double.MAX_VALUE, ymax = 0, ymin = Double.MAX_VALUE;
        for (Series s : series) {
            for (double[] p : s.points()) {
                xmin = Math.min(xmin, log2(p[0]));
                xmax = Math.max(xmax, log2(p[0]));
                ymax = Math.max(ymax, p[1]);
                ymin = Math.min(ymin, p[1]);
            }
        }
        boolean logY = ymin > 0 && ymax / ymin > 16;
        int ylo = logY ? (int) Math.floor(log2(ymin)) : 0, yhi = logY ? (int) Math.ceil(log2(ymax)) : 0;
        if (xmin > xmax) {
            xmin = 0;
            xmax = 1;
        }
        if (xmax == xmin) {
            xmax = xmin + 1;
        }
        ymax = niceCeiling(ymax);
        StringBuilder b = header(title, xLabel, logY ? yLabel + " (log2 scale)" : yLabel);
        if (logY) {
            for (int k = ylo; k <= yhi; k++) {
                double y = syLog(Math.pow(2, k), ylo, yhi);
                b.append(line(LEFT - 5, y, LEFT + plotW(), y, k == ylo ? "#000" : "#ddd"));
                b.append(text(LEFT - 8, y + 4, "end", 11, format(Math.pow(2, k))));
            }
        } else {
            yAxis(b, ymax);
        }
        for (int k = (int) Math.ceil(xmin); k <= (int) Math.floor(xmax); k++) {
            double x = sx(k, xmin, xmax);
            b.append(line(x, TOP + plotH(), x, TOP + plotH() + 5, "#000"));
            b.append(text(x, TOP + plotH() + 20, "middle", 11, format(Math.pow(2, k))));
        }
        int i = 0;
        for (Series s : series) {
            String color = COLORS[i % COLORS.length];
            StringBuilder pts = new StringBuilder();
            for (double[] p : s.points()) {
                double x = sx(log2(p[0]), xmin, xmax);
                double y = logY ? syLog(p[1], ylo, yhi) : sy(p[1], ymax);
                pts.append(num(x)).append(',').append(num(y)).append(' ');
                b.append(String.format(Locale.ROOT, "<circle cx=\"%s\" cy=\"%s\" r=\"3\" fill=\"%s\"/>%n", num(x), num(y), color));
            }
            b.append(String.format(Locale.ROOT, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"%s\"/>%n",
                    color, pts.toString().trim()));
            b.append(text(LEFT + 12, TOP + 16 + 16 * i, "start", 12, s.name()).replace("<text ", "<text fill=\"" + color + "\" "));
            i++;
        }
        return b.append("</svg>\n").toString();
    }

    /** Bar chart: bar k spans [2^k, 2^(k+1)) of the x quantity; counts on a linear y axis. */
    static String log2Histogram(String title, String xLabel, String yLabel, long[] counts) {
        int lo = -1, hi = -1;
        long ymaxRaw = 0;
        for (int k = 0; k < counts.length; k++) {
            if (counts[k] != 0) {
                lo = lo < 0 ? k : lo;
                hi = k;
                ymaxRaw = Math.max(ymaxRaw, counts[k]);
            }
        }
        StringBuilder b = header(title, xLabel, yLabel);
        double ymax = niceCeiling(ymaxRaw);
        yAxis(b, ymax);
        if (lo >= 0) {
            int n = hi - lo + 1;
            double bw = plotW() / (double) n;
            for (int k = lo; k <= hi; k++) {
                double x = LEFT + (k - lo) * bw;
                double y = sy(counts[k], ymax);
                b.append(String.format(Locale.ROOT,
                        "<rect x=\"%s\" y=\"%s\" width=\"%s\" height=\"%s\" fill=\"%s\"><title>%s-%s: %d</title></rect>%n",
                        num(x + 1), num(y), num(Math.max(bw - 2, 1)), num(TOP + plotH() - y), COLORS[0],
                        format(Math.pow(2, k)), format(Math.pow(2, k + 1)), counts[k]));
                b.append(text(x + bw / 2, TOP + plotH() + 20, "middle", 11, format(Math.pow(2, k))));
            }
        }
        return b.append("</svg>\n").toString();
    }

    private static StringBuilder header(String title, String xLabel, String yLabel) {
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>%n"
                + "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
                + "font-family=\"sans-serif\">%n<rect width=\"100%%\" height=\"100%%\" fill=\"#fff\"/>%n", W, H, W, H));
        b.append(text(W / 2.0, 24, "middle", 15, title));
        b.append(text(LEFT + plotW() / 2.0, H - 18, "middle", 12, xLabel));
        b.append(String.format(Locale.ROOT, "<text x=\"18\" y=\"%s\" font-size=\"12\" text-anchor=\"middle\" "
                + "transform=\"rotate(-90 18 %s)\">%s</text>%n", num(TOP + plotH() / 2.0), num(TOP + plotH() / 2.0), esc(yLabel)));
        b.append(line(LEFT, TOP, LEFT, TOP + plotH(), "#000"));
        b.append(line(LEFT, TOP + plotH(), LEFT + plotW(), TOP + plotH(), "#000"));
        return b;
    }

    private static void yAxis(StringBuilder b, double ymax) {
        for (int i = 0; i <= 4; i++) {
            double v = ymax * i / 4;
            double y = sy(v, ymax);
            b.append(line(LEFT - 5, y, LEFT + plotW(), y, i == 0 ? "#000" : "#ddd"));
            b.append(text(LEFT - 8, y + 4, "end", 11, format(v)));
        }
    }

    private static int plotW() {
        return W - LEFT - RIGHT;
    }

    private static int plotH() {
        return H - TOP - BOTTOM;
    }

    private static double sx(double lx, double xmin, double xmax) {
        return LEFT + 10 + (plotW() - 20) * (lx - xmin) / (xmax - xmin);
    }

    private static double sy(double v, double ymax) {
        return TOP + plotH() - plotH() * (ymax <= 0 ? 0 : v / ymax);
    }

    private static double syLog(double v, int ylo, int yhi) {
        return TOP + plotH() - plotH() * (log2(v) - ylo) / Math.max(1, yhi - ylo);
    }

    private static double log2(double v) {
        return Math.log(v) / Math.log(2);
    }

    /** The smallest of 1, 2, 5 x 10^n at or above v (1 for v <= 0). */
    static double niceCeiling(double v) {
        if (v <= 0) {
            return 1;
        }
        double p = Math.pow(10, Math.floor(Math.log10(v)));
        for (double m : new double[] {1, 2, 5, 10}) {
            if (m * p >= v) {
                return m * p;
            }
        }
        return 10 * p;
    }

    /** 1536, 64K, 2M, 0.5: compact labels for powers of two and axis values. */
    static String format(double v) {
        if (v >= 1 << 20 && v % (1 << 20) == 0) {
            return (long) (v / (1 << 20)) + "M";
        }
        if (v >= 1 << 14 && v % (1 << 10) == 0) {
            return (long) (v / (1 << 10)) + "K";
        }
        if (v == Math.rint(v)) {
            return Long.toString((long) v);
        }
        return String.format(Locale.ROOT, "%.2f", v);
    }

    private static String line(double x1, double y1, double x2, double y2, String color) {
        return String.format(Locale.ROOT, "<line x1=\"%s\" y1=\"%s\" x2=\"%s\" y2=\"%s\" stroke=\"%s\"/>%n",
                num(x1), num(y1), num(x2), num(y2), color);
    }

    private static String text(double x, double y, String anchor, int size, String s) {
        return String.format(Locale.ROOT, "<text x=\"%s\" y=\"%s\" font-size=\"%d\" text-anchor=\"%s\">%s</text>%n",
                num(x), num(y), size, anchor, esc(s));
    }

    private static String num(double v) {
        return String.format(Locale.ROOT, "%.1f", v);
    }

    static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
