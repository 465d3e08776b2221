package org.mmulab.cli;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * This host's core clock, for {@code bench --core-mhz auto}: test-images' {@code walk_probe clock} run natively (a
 * chain of dependent ADDs, one cycle each on every x86-64 core, timed by clock_gettime), the fastest of the runs (a
 * shared host only ever slows a run). The presets model their part at its base clock; a host running at its boost
 * clock (this Zen 5 VM: 3.6-3.8 GHz against the EPYC 9755's 2.7 GHz base) spends more of its own cycles on each DRAM
 * access than the preset's nominal cycles say.
 */
final class HostClock {
    private HostClock() {
    }

    /** MHz, or 0 (and a note on {@code err}) when the probe is missing or printed no figure. */
    static int measure(Path walkProbe, int runs, PrintStream err) {
        if (!Files.isRegularFile(walkProbe)) {
            err.println("mmulab: bench: no walk_probe image: the model keeps the preset's nominal clock");
            return 0;
        }
        List<BenchResults.Result> results = new ArrayList<>();
        BenchCommand.Workload w = new BenchCommand.Workload("walk_probe", "walk_probe/clock", List.of("clock"), List.of("clock"), 1);
        String failure = NativeRun.run(walkProbe, List.of("clock"), w, runs, results, err);
        if (failure == null) {
            for (BenchResults.Result r : results) {
                if (r.figure().equals("core_mhz") && r.value() >= 1 && r.value() <= 20_000) {
                    return (int) Math.round(r.value());
                }
            }
        }
        err.println("mmulab: bench: walk_probe clock " + (failure != null ? "failed: " + failure : "printed no core_mhz")
                + "; the model keeps the preset's nominal clock");
        return 0;
    }
}
