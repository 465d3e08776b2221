package org.mmulab.cli;

import java.io.PrintStream;
import java.util.List;

import org.mmulab.cli.BenchResults.Result;
import org.mmulab.emulator.timing.TimingModel;
import org.mmulab.emulator.timing.VirtualisedHost;

/**
 * The virtualised-host layer of {@code bench --native} on a virtual machine, from images run natively and in the
 * bare model: the kernel-entry figures from trap_cost ({@link VirtualisedHost#calibrate}), the walk figure from
 * {@code walk_probe pde} ({@link VirtualisedHost#calibrateWalk}), using only the points where every target load walks
 * on both the host and the model ({@link #POINTS}: past the L2 DTLB set the 2 MiB-apart targets share, 16-24 targets
 * on this Zen 5 host and in the model; up to 192, below the 256-target point whose filler and target lines leave L2
 * on the host).
 */
final class LayerCalibration {
    /** The targets (PDEs) of the walk_probe points used. */
    static final long[] POINTS = {32, 48, 64, 80, 96, 128, 160, 192};

    private LayerCalibration() {
    }

    /**
     * The layer from trap_cost's figures: the host's ns per null system call and per read fault (best of the native
     * runs) against the bare model's cycles for the same image; bare metal (and a note on {@code err}) when missing.
     */
    static VirtualisedHost traps(TimingModel bare, List<Result> model, List<Result> host, PrintStream err) {
        double ms = trapFigure(model, "cycles_per_syscall"), mf = trapFigure(model, "cycles_per_read_fault");
        double hs = trapFigure(host, "ns_per_syscall"), hf = trapFigure(host, "ns_per_read_fault");
        if (Double.isNaN(ms) || Double.isNaN(mf) || Double.isNaN(hs) || Double.isNaN(hf)) {
            err.println("mmulab: bench: trap_cost printed no syscall/read-fault figures; the model stays bare metal");
            return VirtualisedHost.NONE;
        }
        return VirtualisedHost.calibrate(bare, hs, hf, ms, mf);
    }

    private static double trapFigure(List<Result> results, String figure) {
        for (Result r : results) {
            if (r.workload().equals("trap_cost") && r.figure().equals(figure)) {
                return r.value();
            }
        }
        return Double.NaN;
    }

    /** {@code layer} with its walk figure, or {@code layer} unchanged (and a note on {@code err}) when a point is missing. */
    static VirtualisedHost walk(VirtualisedHost layer, TimingModel bare, List<Result> model, List<Result> host, PrintStream err) {
        double[] h = new double[POINTS.length], m = new double[POINTS.length];
        for (int i = 0; i < POINTS.length; i++) {
            m[i] = point(model, "cycles_per_pde_target", POINTS[i]);
            h[i] = point(host, "ns_per_pde_target", POINTS[i]);
            if (Double.isNaN(m[i]) || Double.isNaN(h[i])) {
                err.println("mmulab: bench: walk_probe printed no figure for " + POINTS[i]
                        + " targets; the layer has no walk figure");
                return layer;
            }
        }
        int walk = VirtualisedHost.calibrateWalk(bare, h, m);
        return layer.withWalk(walk, String.format(java.util.Locale.ROOT,
                "walk: walk_probe pde at %d-%d targets, native ns x %.1f GHz minus the bare model's cycles, median",
                POINTS[0], POINTS[POINTS.length - 1], bare.frequencyHz() / 1e9));
    }

    private static double point(List<Result> results, String figure, long targets) {
        for (Result r : results) {
            if (r.workload().equals("walk_probe") && r.figure().equals(figure) && "targets".equals(r.key()) && r.param() == targets) {
                return r.value();
            }
        }
        return Double.NaN;
    }
}
