package org.mmulab.kernel.explore;

import org.junit.jupiter.api.Test;

class ProbeMain {
    public static void main(String[] a) {
        new ProbeMain().probe();
    }

    @Test
    void probe() {
        String name = System.getProperty("probe.scenario", "pte-alloc-no-ptlock");
        int n = Integer.getInteger("probe.seeds", 50);
        String strat = System.getProperty("probe.strategy");
        int depth = Integer.getInteger("probe.depth", 3);
        Scenario s = Scenarios.find(name).orElseThrow();
        for (boolean rev : new boolean[] {true, false}) {
            Explorer.Options o = new Explorer.Options(rev, strat == null ? null : Strategy.valueOf(strat), depth);
            long t0 = System.nanoTime();
            int fails = 0;
            long first = -1;
            long ymax = 0, ysum = 0;
            String v = null;
            for (long seed = Long.getLong("probe.from", 0); seed < Long.getLong("probe.from", 0) + n; seed++) {
                if (Boolean.getBoolean("probe.verbose")) System.out.println("seed " + seed);
                long ts = System.nanoTime();
                Explorer.RunResult r = Explorer.runSeed(s, seed, o, null);
                if (System.nanoTime() - ts > 2_000_000_000L) {
                    System.out.println("slow seed " + seed + " revert=" + rev + ": " + r.yields() + " yields " + r.violations());
                }
                ymax = Math.max(ymax, r.yields());
                ysum += r.yields();
                if (r.failed()) {
                    fails++;
                    if (first < 0) {
                        first = seed;
                        v = r.violations().toString();
                    }
                }
            }
            System.out.printf("%s revert=%s: %d/%d failing, first %d (%s), yields avg %d max %d, %.1f seeds/s%n", name, rev,
                    fails, n, first, v, ysum / n, ymax, n / ((System.nanoTime() - t0) / 1e9));
        }
    }
}
