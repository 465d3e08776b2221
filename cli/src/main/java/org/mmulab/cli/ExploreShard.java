package org.mmulab.cli;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.Locale;

import org.mmulab.kernel.explore.Explorer;
import org.mmulab.kernel.explore.Scenario;
import org.mmulab.kernel.explore.Scenarios;
import org.mmulab.kernel.explore.Strategy;
import org.mmulab.kernel.explore.Violation;

import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;

/**
 * One sweep of {@code mmulab explore NAME --from S --seeds N} as its {@code --json} file records it: the
 * sweep's identity (scenario, fix, revert-fix, strategy, depth), the seeds asked for ({@code from},
 * {@code seeds}), how many ran before the first violation stopped it, that violation, and the time
 * taken. {@code --merge} reads these back ({@link #fromJson}), so the reader checks everything the
 * writer guarantees: a sweep stops at its first failing seed, so that seed is the last one run, and a
 * clean sweep ran every seed asked for.
 */
record ExploreShard(String scenario, String fix, boolean revertFix, String strategy, int depth, long from, long seeds,
        long seedsRun, long firstFailingSeed, Violation violation, double seconds) {

    /** A shard file that is not what {@code --json} writes; the message is one line naming the problem. */
    static final class BadShard extends Exception {
        BadShard(String message) {
            super(message);
        }
    }

    boolean failed() {
        return firstFailingSeed >= 0;
    }

    /** One past the last seed asked for. */
    long end() {
        return from + seeds;
    }

    double seedsPerSecond() {
        return seconds > 0 ? seedsRun / seconds : 0;
    }

    /** The sweep identity as the summaries print it, e.g. {@code pct depth 3, fix reverted}. */
    String describe() {
        return (strategy.equals("pct") ? "pct depth " + depth : strategy) + ", fix " + (revertFix ? "reverted" : "on");
    }

    static ExploreShard of(Scenario s, Explorer.Options o, long seeds, Explorer.Sweep r) {
        Strategy st = o.strategy() != null ? o.strategy() : s.strategy();
        double seconds = r.seedsPerSecond() > 0 ? r.seedsRun() / r.seedsPerSecond() : 0;
        return new ExploreShard(s.name(), s.fix().cliName(), o.revertFix(), st.name().toLowerCase(Locale.ROOT),
                o.depth(), r.from(), seeds, r.seedsRun(), r.firstFailingSeed(), r.violation(), seconds);
    }

    /**
     * The command that replays {@code seed} of this sweep with its trace. {@code --strategy} only when
     * it is not the scenario's own (or the scenario is unknown to this build), {@code --depth} only when
     * not the default.
     */
    String replayCommand(long seed) {
        StringBuilder b = new StringBuilder("mmulab explore ").append(scenario).append(" --replay ").append(seed)
                .append(" --trace");
        if (revertFix) {
            b.append(" --revert-fix");
        }
        boolean ownStrategy = Scenarios.find(scenario)
                .map(s -> s.strategy().name().toLowerCase(Locale.ROOT).equals(strategy)).orElse(false);
        if (!ownStrategy) {
            b.append(" --strategy ").append(strategy);
        }
        if (depth != Explorer.DEFAULT_DEPTH) {
            b.append(" --depth ").append(depth);
        }
        return b.toString();
    }

    JsonObject toJson() {
        JsonObject j = new JsonObject();
        j.addProperty("scenario", scenario);
        j.addProperty("fix", fix);
        j.addProperty("revertFix", revertFix);
        j.addProperty("strategy", strategy);
        j.addProperty("depth", depth);
        j.addProperty("from", from);
        j.addProperty("seeds", seeds);
        j.addProperty("seedsRun", seedsRun);
        j.add("firstFailingSeed", failed() ? new JsonPrimitive(firstFailingSeed) : JsonNull.INSTANCE);
        j.add("violation", violationJson(violation));
        j.add("seconds", decimal(seconds, 4));
        j.add("seedsPerSecond", decimal(seedsPerSecond(), 2));
        return j;
    }

    static JsonElement violationJson(Violation v) {
        if (v == null) {
            return JsonNull.INSTANCE;
        }
        JsonObject j = new JsonObject();
        j.addProperty("invariant", v.invariant());
        j.addProperty("detail", v.detail());
        j.addProperty("atYield", v.atYield());
        return j;
    }

    static JsonPrimitive decimal(double x, int places) {
        return new JsonPrimitive(BigDecimal.valueOf(x).setScale(places, RoundingMode.HALF_UP));
    }

    /** Reads what {@link #toJson} wrote; {@code where} names the file in messages. */
    static ExploreShard fromJson(JsonElement e, String where) throws BadShard {
        if (!e.isJsonObject()) {
            throw new BadShard(where + ": not a JSON object");
        }
        JsonObject j = e.getAsJsonObject();
        String scenario = string(j, "scenario", where);
        String fix = string(j, "fix", where);
        boolean revertFix = bool(j, "revertFix", where);
        String strategy = string(j, "strategy", where);
        if (!strategy.equals("pct") && !strategy.equals("random")) {
            throw new BadShard(where + ": strategy '" + strategy + "' is not pct or random");
        }
        long depth = integer(j, "depth", 1, Integer.MAX_VALUE, where);
        long from = integer(j, "from", 0, Long.MAX_VALUE, where);
        long seeds = integer(j, "seeds", 1, Long.MAX_VALUE - from, where);
        long seedsRun = integer(j, "seedsRun", 1, seeds, where);
        JsonElement ffs = j.get("firstFailingSeed");
        JsonElement vj = j.get("violation");
        if (ffs == null || vj == null) {
            throw new BadShard(where + ": no '" + (ffs == null ? "firstFailingSeed" : "violation") + "'");
        }
        long first = -1;
        Violation v = null;
        if (ffs.isJsonNull() != vj.isJsonNull()) {
            throw new BadShard(where + ": firstFailingSeed and violation must be both null or both set");
        }
        if (!ffs.isJsonNull()) {
            first = integer(j, "firstFailingSeed", from, from + seedsRun - 1, where);
            if (first != from + seedsRun - 1) {
                throw new BadShard(where + ": firstFailingSeed " + first + " is not the last seed run ("
                        + (from + seedsRun - 1) + "): a sweep stops at its first violation");
            }
            if (!vj.isJsonObject()) {
                throw new BadShard(where + ": violation is not an object");
            }
            JsonObject vo = vj.getAsJsonObject();
            String vwhere = where + ": violation";
            v = new Violation(string(vo, "invariant", vwhere), string(vo, "detail", vwhere),
                    integer(vo, "atYield", 0, Long.MAX_VALUE, vwhere));
        } else if (seedsRun != seeds) {
            throw new BadShard(where + ": no violation, yet only " + seedsRun + " of " + seeds + " seeds ran");
        }
        double seconds = nonNegative(j, "seconds", where);
        return new ExploreShard(scenario, fix, revertFix, strategy, (int) depth, from, seeds, seedsRun, first, v, seconds);
    }

    private static JsonPrimitive primitive(JsonObject j, String field, String where, String what) throws BadShard {
        JsonElement e = j.get(field);
        if (e == null || !e.isJsonPrimitive()) {
            throw new BadShard(where + ": " + (e == null ? "no '" + field + "'" : "'" + field + "' is not " + what));
        }
        return e.getAsJsonPrimitive();
    }

    private static String string(JsonObject j, String field, String where) throws BadShard {
        JsonPrimitive p = primitive(j, field, where, "a string");
        if (!p.isString() || p.getAsString().isEmpty()) {
            throw new BadShard(where + ": '" + field + "' is not a non-empty string");
        }
        return p.getAsString();
    }

    private static boolean bool(JsonObject j, String field, String where) throws BadShard {
        JsonPrimitive p = primitive(j, field, where, "true or false");
        if (!p.isBoolean()) {
            throw new BadShard(where + ": '" + field + "' is not true or false");
        }
        return p.getAsBoolean();
    }

    private static long integer(JsonObject j, String field, long min, long max, String where) throws BadShard {
        JsonPrimitive p = primitive(j, field, where, "an integer");
        long x;
        try {
            if (!p.isNumber()) {
                throw new NumberFormatException();
            }
            x = p.getAsBigDecimal().longValueExact();
        } catch (NumberFormatException | ArithmeticException e) {
            throw new BadShard(where + ": '" + field + "' is not an integer: " + p);
        }
        if (x < min || x > max) {
            throw new BadShard(where + ": '" + field + "' is " + x + ", not in " + min + ".." + max);
        }
        return x;
    }

    private static double nonNegative(JsonObject j, String field, String where) throws BadShard {
        JsonPrimitive p = primitive(j, field, where, "a number");
        double x = p.isNumber() ? p.getAsDouble() : Double.NaN;
        if (!(x >= 0) || Double.isInfinite(x)) {
            throw new BadShard(where + ": '" + field + "' is not a non-negative number: " + p);
        }
        return x;
    }
}
