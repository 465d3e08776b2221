package org.mmulab.kernel.explore;

import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.function.LongConsumer;

import org.mmulab.emulator.machine.ScheduleSource;
import org.mmulab.kernel.mm.MmFix;

/**
 * Runs scenarios under seeds. A seed fixes everything: the machine's deterministic randomness and the
 * schedule ({@link Pct} or a uniform random walk), so {@link #runSeed} twice with the same arguments
 * gives the same interleaving, violations and yield count on any host.
 */
public final class Explorer {
    /** PCT's default depth: two change points (bugs needing two preemptions at the right places). */
    public static final int DEFAULT_DEPTH = 3;

    private Explorer() {
    }

    /** How to turn seeds into runs. {@code strategy} null: the scenario's own. */
    public record Options(boolean revertFix, Strategy strategy, int depth) {
        public Options {
            if (depth < 1) {
                throw new IllegalArgumentException("depth must be at least 1: " + depth);
            }
        }

        public static Options of(boolean revertFix) {
            return new Options(revertFix, null, DEFAULT_DEPTH);
        }

        Strategy strategyFor(Scenario s) {
            return strategy != null ? strategy : s.strategy();
        }
    }

    /** One seed's outcome. */
    public record RunResult(long seed, List<Violation> violations, long yields) {
        public boolean failed() {
            return !violations.isEmpty();
        }
    }

    /** A sweep's outcome: seeds run, the first failing one (or -1) and its first violation. */
    public record Sweep(String scenario, long from, long seedsRun, long firstFailingSeed, Violation violation,
            double seedsPerSecond) {
        public boolean failed() {
            return firstFailingSeed >= 0;
        }
    }

    /** One run of {@code s} under {@code seed}; {@code trace} (may be null) logs every decision. */
    public static RunResult runSeed(Scenario s, long seed, Options o, TraceLog trace) {
        Set<MmFix> reverted = o.revertFix() ? EnumSet.of(s.fix()) : EnumSet.noneOf(MmFix.class);
        ScheduleSource schedule = switch (o.strategyFor(s)) {
            case PCT -> new Pct(seed, s.cpus(), o.depth(), s.horizon());
            case RANDOM -> ScheduleSource.seeded(seed);
        };
        ExploreRig rig = new ExploreRig(s.cpus(), s.pae(), reverted, seed, schedule, trace, s.guest(), s.quantum(), s.maxYields());
        s.run(rig);
        return new RunResult(seed, rig.violations(), rig.yields());
    }

    /**
     * Runs seeds {@code from .. from+count-1} in order and stops at the first that breaks an invariant.
     * {@code progress} (may be null) is told after each seed.
     */
    public static Sweep sweep(Scenario s, long from, long count, Options o, LongConsumer progress) {
        long t0 = System.nanoTime();
        long run = 0;
        for (long seed = from; seed < from + count; seed++) {
            RunResult r = runSeed(s, seed, o, null);
            run++;
            if (progress != null) {
                progress.accept(seed);
            }
            if (r.failed()) {
                return new Sweep(s.name(), from, run, seed, r.violations().get(0), rate(run, t0));
            }
        }
        return new Sweep(s.name(), from, run, -1, null, rate(run, t0));
    }

    private static double rate(long n, long t0) {
        double secs = (System.nanoTime() - t0) / 1e9;
        return secs > 0 ? n / secs : 0;
    }
}
