package org.mmulab.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;

import org.mmulab.kernel.explore.Explorer;
import org.mmulab.kernel.explore.PendingScenario;
import org.mmulab.kernel.explore.Scenario;
import org.mmulab.kernel.explore.Scenarios;
import org.mmulab.kernel.explore.Strategy;
import org.mmulab.kernel.explore.TraceLog;
import org.mmulab.kernel.explore.Violation;

import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code mmulab explore}: the race explorer (issue 18) on the command line. Sweeps seeds of a scenario
 * (each seed is one schedule, the same on any host), exits 1 at the first seed that breaks an invariant
 * with the command that replays it, 0 with {@code violations: 0/N}; {@code --replay SEED --trace}
 * prints the interleaving that led there; {@code --all} the summary table of every scenario with its
 * fix reverted and on; {@code --merge FILE...} the {@code --json} files of a sweep sharded over jobs
 * ({@link ExploreMerge}). Usage errors (unknown scenario, bad numbers, unmergeable files) are one line
 * and status 2.
 */
@Command(name = "explore", mixinStandardHelpOptions = true,
        description = "Search thread interleavings of the mm port for races (deterministic schedules as seeds).")
final class ExploreCommand implements Callable<Integer> {
    private final PrintStream out;
    private final PrintStream err;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", arity = "0..1", paramLabel = "NAME", description = "Scenario (see --list).")
    String name;

    @Option(names = "--list", description = "One line per scenario: name, fix, description.")
    boolean list;

    @Option(names = "--all", description = "Every scenario with its fix reverted and on: the summary table.")
    boolean all;

    @Option(names = "--seeds", paramLabel = "N", description = "Seeds to run (default 100; --all: each scenario's budget).")
    Long seeds;

    @Option(names = "--from", paramLabel = "S", defaultValue = "0", description = "First seed (default 0).")
    long from;

    @Option(names = "--revert-fix", description = "Turn the scenario's fix off in the kernel port.")
    boolean revertFix;

    @Option(names = "--json", paramLabel = "FILE", description = "Write the sweep's result as JSON.")
    Path json;

    @Option(names = "--replay", paramLabel = "SEED", description = "Run one seed and report its violations.")
    Long replay;

    @Option(names = "--trace", description = "With --replay: print the interleaving before the violation.")
    boolean trace;

    @Option(names = "--window", paramLabel = "LINES", defaultValue = "60", description = "Trace lines (default 60).")
    int window;

    @Option(names = "--depth", paramLabel = "D", defaultValue = "3", description = "PCT depth: D-1 priority change points (default 3).")
    int depth;

    @Option(names = "--strategy", paramLabel = "pct|random", converter = StrategyConverter.class,
            description = "Seed to schedule: PCT or a uniform random walk (default: the scenario's).")
    Strategy strategy;

    @Option(names = "--no-progress", description = "No progress bar.")
    boolean noProgress;

    @Option(names = "--merge", arity = "1..*", paramLabel = "FILE",
            description = "Merge the --json files of sharded sweeps (--from/--seeds ranges) into one result.")
    List<Path> merge;

    @Option(names = "--allow-gaps", description = "With --merge: merge even if no file covers some seeds between the shards.")
    boolean allowGaps;

    /** The options that mean something with --merge; the shard files name the sweep. */
    private static final Set<String> MERGE_OPTIONS = Set.of("--merge", "--json", "--allow-gaps", "--no-progress");

    ExploreCommand(PrintStream out, PrintStream err) {
        this.out = out;
        this.err = err;
    }

    static final class StrategyConverter implements CommandLine.ITypeConverter<Strategy> {
        @Override
        public Strategy convert(String s) {
            try {
                return Strategy.valueOf(s.toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException("'" + s + "' is not pct or random");
            }
        }
    }

    private CommandLine.ParameterException usage(String msg) {
        return new CommandLine.ParameterException(spec.commandLine(), msg);
    }

    @Override
    public Integer call() throws IOException {
        if (seeds != null && seeds < 1) {
            throw usage("--seeds must be at least 1: " + seeds);
        }
        if (from < 0) {
            throw usage("--from must not be negative: " + from);
        }
        if (depth < 1) {
            throw usage("--depth must be at least 1: " + depth);
        }
        if (window < 1) {
            throw usage("--window must be at least 1: " + window);
        }
        if (replay != null && replay < 0) {
            throw usage("--replay must not be negative: " + replay);
        }
        if (merge != null) {
            return merge();
        }
        if (allowGaps) {
            throw usage("--allow-gaps goes with --merge");
        }
        if (list) {
            return list();
        }
        if (all) {
            return all();
        }
        if (name == null) {
            throw usage("a scenario NAME, --list or --all is required");
        }
        Scenario s = Scenarios.find(name).orElse(null);
        if (s == null) {
            PendingScenario p = Scenarios.findPending(name).orElse(null);
            if (p != null) {
                throw usage("scenario '" + name + "' is pending: " + p.reason() + " (waits for " + p.waitsFor() + ")");
            }
            throw usage("unknown scenario '" + name + "' (see 'mmulab explore --list')");
        }
        Explorer.Options o = new Explorer.Options(revertFix, strategy, depth);
        if (replay != null) {
            return replay(s, o);
        }
        return sweep(s, o);
    }

    private int merge() throws IOException {
        if (name != null) {
            throw usage("--merge takes no scenario NAME: the files name their sweep");
        }
        for (CommandLine.Model.OptionSpec o : spec.commandLine().getParseResult().matchedOptions()) {
            if (!MERGE_OPTIONS.contains(o.longestName())) {
                throw usage("--merge goes only with --json and --allow-gaps, not " + o.longestName()
                        + ": the files name their sweep");
            }
        }
        ExploreMerge.Merged m;
        try {
            m = ExploreMerge.merge(merge, allowGaps);
        } catch (ExploreMerge.MergeError e) {
            throw usage("--merge: " + e.getMessage());
        }
        if (json != null) {
            Files.writeString(json, ExploreMerge.json(m), StandardCharsets.UTF_8);
        }
        return ExploreMerge.print(m, out);
    }

    private int list() {
        out.printf("%-30s %-26s %s%n", "scenario", "fix", "description");
        for (Scenario s : Scenarios.real()) {
            out.printf("%-30s %-26s %s [%s; %s]%n", s.name(), s.fix().cliName(), s.description(), s.invariants(),
                    s.strategy().name().toLowerCase(Locale.ROOT));
        }
        for (PendingScenario p : Scenarios.pending()) {
            out.printf("%-30s %-26s pending: %s (waits for %s)%n", p.name(), p.fix(), p.reason(), p.waitsFor());
        }
        return 0;
    }

    private ProgressBar progress(String task, long max) {
        if (noProgress) {
            return null;
        }
        return new ProgressBarBuilder().setTaskName(task).setInitialMax(max).setStyle(ProgressBarStyle.ASCII)
                .setConsumer(new ConsoleProgressBarConsumer(err, 100)).setUpdateIntervalMillis(250).showSpeed()
                .build();
    }

    private Explorer.Sweep sweepWithBar(Scenario s, long start, long n, Explorer.Options o) {
        ProgressBar bar = progress(s.name() + (o.revertFix() ? " (fix reverted)" : ""), n);
        try {
            return Explorer.sweep(s, start, n, o, bar == null ? null : seed -> bar.step());
        } finally {
            if (bar != null) {
                bar.close();
            }
        }
    }

    private int sweep(Scenario s, Explorer.Options o) throws IOException {
        long n = seeds != null ? seeds : 100;
        Explorer.Sweep r = sweepWithBar(s, from, n, o);
        ExploreShard shard = ExploreShard.of(s, o, n, r);
        if (json != null) {
            Files.writeString(json, ExploreMerge.write(shard.toJson()), StandardCharsets.UTF_8);
        }
        if (!r.failed()) {
            out.printf("%s: violations: 0/%d (seeds %d..%d, %s, fix %s, %.1f seeds/s)%n", s.name(), r.seedsRun(), from,
                    from + r.seedsRun() - 1, strategyName(s, o), o.revertFix() ? "reverted" : "on", r.seedsPerSecond());
            return 0;
        }
        out.printf("%s: seed %d breaks %s%n", s.name(), r.firstFailingSeed(), r.violation());
        out.printf("found after %d seeds (%s, fix %s)%n", r.seedsRun(), strategyName(s, o), o.revertFix() ? "reverted" : "on");
        out.println("replay: " + shard.replayCommand(r.firstFailingSeed()));
        return 1;
    }

    private String strategyName(Scenario s, Explorer.Options o) {
        Strategy st = o.strategy() != null ? o.strategy() : s.strategy();
        return st == Strategy.PCT ? "pct depth " + o.depth() : "random";
    }

    private int replay(Scenario s, Explorer.Options o) {
        TraceLog log = trace ? new TraceLog() : null;
        Explorer.RunResult r = Explorer.runSeed(s, replay, o, log);
        if (log != null) {
            long upTo = r.failed() ? r.violations().get(0).atYield() : r.yields();
            out.printf("interleaving before yield %d (%d yield points in all):%n", upTo, r.yields());
            for (String line : log.render(upTo, window)) {
                out.println(line);
            }
        }
        if (!r.failed()) {
            out.printf("%s: seed %d: violations: 0 (%d yield points)%n", s.name(), replay, r.yields());
            return 0;
        }
        for (Violation v : r.violations()) {
            out.printf("%s: seed %d breaks %s (at yield %d)%n", s.name(), replay, v, v.atYield());
        }
        return 1;
    }

    private int all() {
        List<String[]> rows = new ArrayList<>();
        boolean ok = true;
        for (Scenario s : Scenarios.real()) {
            long n = seeds != null ? seeds : s.budget();
            Explorer.Options rev = new Explorer.Options(true, strategy, depth);
            Explorer.Options on = new Explorer.Options(false, strategy, depth);
            Explorer.Sweep broken = sweepWithBar(s, from, n, rev);
            Explorer.Sweep fixed = sweepWithBar(s, from, n, on);
            boolean good = broken.failed() && !fixed.failed();
            ok &= good;
            rows.add(new String[] {s.name(), s.fix().cliName(), strategyName(s, on),
                    broken.failed() ? Long.toString(broken.seedsRun()) : "not in " + n,
                    fixed.failed() ? "FAILS at seed " + fixed.firstFailingSeed() : fixed.seedsRun() + "/" + n,
                    String.format(Locale.ROOT, "%.1f", fixed.seedsPerSecond()), good ? "ok" : "FAIL"});
        }
        out.printf("%-30s %-26s %-12s %-16s %-14s %-8s %s%n", "scenario", "fix", "strategy", "seeds-to-violation",
                "clean-with-fix", "seeds/s", "");
        for (String[] r : rows) {
            out.printf("%-30s %-26s %-12s %-16s %-14s %-8s %s%n", (Object[]) r);
        }
        for (PendingScenario p : Scenarios.pending()) {
            out.printf("%-30s %-26s pending: %s (waits for %s)%n", p.name(), p.fix(), p.reason(), p.waitsFor());
        }
        out.printf("%d scenarios run, %d pending: %s%n", rows.size(), Scenarios.pending().size(),
                ok ? "every reverted fix caught, every fixed version clean" : "FAILED");
        return ok ? 0 : 1;
    }
}
