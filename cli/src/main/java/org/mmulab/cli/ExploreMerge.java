package org.mmulab.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.io.Reader;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonIOException;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import com.google.gson.stream.MalformedJsonException;

/**
 * {@code mmulab explore --merge FILE...}: the {@code --json} files of a sweep sharded over independent
 * jobs ({@code --from/--seeds} per array index) as one result. Seeds are independent runs, so the
 * union of the shards is the sweep over the union of their ranges: its first failing seed is the
 * smallest shard's first failing seed (every shard below it ran clean), with that shard's violation.
 * The shards must be of one sweep (scenario, fix, revert-fix, strategy, depth) and their seed ranges
 * must neither overlap (seeds counted twice) nor leave gaps (a lost job) unless gaps are allowed.
 * A merged file keeps its shards, so merged files merge again.
 */
final class ExploreMerge {
    /** Far above any real shard file (a merged file of 10⁵ shards is ~30 MB). */
    static final long MAX_FILE_BYTES = 256L << 20;
    /** Seed lists in one-line messages stop here. */
    private static final int LIST_MAX = 8;

    private ExploreMerge() {
    }

    /** A merge that cannot be done: unreadable or malformed file, shards of different sweeps, overlap, gap. */
    static final class MergeError extends Exception {
        MergeError(String message) {
            super(message);
        }
    }

    /** A shard and the file it came from. */
    record Source(String file, ExploreShard shard) {
    }

    /** The merged sweep: its shards in seed order and the seed ranges no shard asked for. */
    record Merged(List<Source> shards, List<long[]> gaps) {
        ExploreShard first() {
            return shards.get(0).shard();
        }

        /** The shard holding the smallest failing seed, or null. */
        ExploreShard firstFailing() {
            return shards.stream().map(Source::shard).filter(ExploreShard::failed).findFirst().orElse(null);
        }

        long failingShards() {
            return shards.stream().filter(s -> s.shard().failed()).count();
        }

        long seeds() {
            return shards.stream().mapToLong(s -> s.shard().seeds()).sum();
        }

        long seedsRun() {
            return shards.stream().mapToLong(s -> s.shard().seedsRun()).sum();
        }

        double seconds() {
            return shards.stream().mapToDouble(s -> s.shard().seconds()).sum();
        }

        /** Seeds per second of one shard's core: all seeds run over all shards' time. */
        double perShardRate() {
            double t = seconds();
            return t > 0 ? seedsRun() / t : 0;
        }

        /** Seeds per second of the shards running at once: the sum of their rates. */
        double togetherRate() {
            return shards.stream().mapToDouble(s -> s.shard().seedsPerSecond()).sum();
        }

        /** The seed ranges covered, e.g. {@code 0..99, 200..299}. */
        String ranges() {
            List<String> r = new ArrayList<>();
            long lo = first().from();
            long hi = first().end();
            for (Source s : shards.subList(1, shards.size())) {
                if (s.shard().from() != hi) {
                    r.add(lo + ".." + (hi - 1));
                    lo = s.shard().from();
                }
                hi = s.shard().end();
            }
            r.add(lo + ".." + (hi - 1));
            return capped(r);
        }
    }

    /** Reads every file (a shard or an earlier merge) and merges them. */
    static Merged merge(List<Path> files, boolean allowGaps) throws MergeError {
        List<Source> all = new ArrayList<>();
        for (Path p : files) {
            all.addAll(read(p));
        }
        return mergeShards(all, allowGaps);
    }

    static Merged mergeShards(List<Source> sources, boolean allowGaps) throws MergeError {
        Source ref = sources.get(0);
        for (Source s : sources) {
            String diff = differs(ref.shard(), s.shard());
            if (diff != null) {
                throw new MergeError(s.file() + " is a different sweep from " + ref.file() + ": " + diff);
            }
        }
        List<Source> sorted = new ArrayList<>(sources);
        sorted.sort(Comparator.comparingLong((Source s) -> s.shard().from()).thenComparingLong(s -> s.shard().end()));
        List<long[]> gaps = new ArrayList<>();
        for (int i = 1; i < sorted.size(); i++) {
            ExploreShard a = sorted.get(i - 1).shard();
            ExploreShard b = sorted.get(i).shard();
            if (b.from() < a.end()) {
                throw new MergeError(sorted.get(i - 1).file() + " (seeds " + a.from() + ".." + (a.end() - 1) + ") and "
                        + sorted.get(i).file() + " (seeds " + b.from() + ".." + (b.end() - 1) + ") overlap at seeds "
                        + b.from() + ".." + (Math.min(a.end(), b.end()) - 1));
            }
            if (b.from() > a.end()) {
                gaps.add(new long[] {a.end(), b.from() - 1});
            }
        }
        if (!gaps.isEmpty() && !allowGaps) {
            throw new MergeError("seeds " + gapList(gaps) + " are in no file (a shard missing?"
                    + " --allow-gaps merges anyway)");
        }
        return new Merged(List.copyOf(sorted), List.copyOf(gaps));
    }

    private static String differs(ExploreShard a, ExploreShard b) {
        if (!a.scenario().equals(b.scenario())) {
            return "scenario " + b.scenario() + ", not " + a.scenario();
        }
        if (!a.fix().equals(b.fix())) {
            return "fix " + b.fix() + ", not " + a.fix();
        }
        if (a.revertFix() != b.revertFix()) {
            return "fix " + (b.revertFix() ? "reverted" : "on") + ", not " + (a.revertFix() ? "reverted" : "on");
        }
        if (!a.strategy().equals(b.strategy())) {
            return "strategy " + b.strategy() + ", not " + a.strategy();
        }
        if (a.depth() != b.depth()) {
            return "depth " + b.depth() + ", not " + a.depth();
        }
        return null;
    }

    static String gapList(List<long[]> gaps) {
        List<String> r = new ArrayList<>();
        for (long[] g : gaps) {
            r.add(g[0] == g[1] ? Long.toString(g[0]) : g[0] + ".." + g[1]);
        }
        return capped(r);
    }

    private static String capped(List<String> items) {
        if (items.size() <= LIST_MAX) {
            return String.join(", ", items);
        }
        return String.join(", ", items.subList(0, LIST_MAX)) + " and " + (items.size() - LIST_MAX) + " more";
    }

    /** One file's shards: itself, or the {@code shards} of an earlier merge. */
    static List<Source> read(Path p) throws MergeError {
        String file = p.toString();
        JsonElement e;
        try {
            if (Files.size(p) > MAX_FILE_BYTES) {
                throw new MergeError(file + ": larger than " + (MAX_FILE_BYTES >> 20) + " MB, not an explore --json file");
            }
            try (Reader in = Files.newBufferedReader(p, StandardCharsets.UTF_8)) {
                JsonReader r = new JsonReader(in);
                r.setStrictness(Strictness.STRICT);
                e = JsonParser.parseReader(r);
                JsonToken next;
                try {
                    next = r.peek();
                } catch (MalformedJsonException x) {
                    next = null;
                }
                if (next != JsonToken.END_DOCUMENT) {
                    throw new MergeError(file + ": not JSON: more after the object");
                }
            }
        } catch (MalformedJsonException x) {
            throw new MergeError(file + ": not JSON: " + firstLine(x));
        } catch (IOException x) {
            throw ioError(file, x);
        } catch (JsonIOException x) {
            // Gson wraps the reader's I/O errors, bad UTF-8 among them.
            throw x.getCause() instanceof IOException io ? ioError(file, io) : new MergeError(file + ": " + firstLine(x));
        } catch (JsonParseException | IllegalStateException x) {
            throw new MergeError(file + ": not JSON: " + firstLine(x));
        }
        List<Source> out = new ArrayList<>();
        try {
            if (e.isJsonObject() && e.getAsJsonObject().has("shards")) {
                JsonElement shards = e.getAsJsonObject().get("shards");
                if (!shards.isJsonArray() || shards.getAsJsonArray().isEmpty()) {
                    throw new MergeError(file + ": 'shards' is not a non-empty array");
                }
                int i = 0;
                for (JsonElement s : shards.getAsJsonArray()) {
                    String where = file + " shard " + i++;
                    if (s.isJsonObject() && s.getAsJsonObject().get("file") instanceof JsonPrimitive f && f.isString()) {
                        where = file + " (" + f.getAsString() + ")";
                    }
                    out.add(new Source(where, ExploreShard.fromJson(s, where)));
                }
            } else {
                out.add(new Source(file, ExploreShard.fromJson(e, file)));
            }
        } catch (ExploreShard.BadShard x) {
            throw new MergeError(x.getMessage());
        }
        return out;
    }

    private static MergeError ioError(String file, IOException x) {
        if (x instanceof CharacterCodingException) {
            return new MergeError(file + ": not JSON: not UTF-8 text");
        }
        return new MergeError("cannot read " + file + ": " + ioReason(x));
    }

    private static String ioReason(IOException x) {
        if (x instanceof java.nio.file.NoSuchFileException) {
            return "no such file";
        }
        if (x instanceof java.nio.file.AccessDeniedException) {
            return "permission denied";
        }
        return x.getMessage() != null ? firstLine(x) : x.getClass().getSimpleName();
    }

    private static String firstLine(Exception x) {
        // Gson wraps the reader's MalformedJsonException; its message is the useful one.
        Throwable t = x.getCause() != null ? x.getCause() : x;
        String m = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
        // Gson's advice is for programmers; the user needs where the file is malformed.
        return m.lines().findFirst().orElse("").strip()
                .replace("Use JsonReader.setStrictness(Strictness.LENIENT) to accept malformed JSON", "malformed JSON");
    }

    /** The merged sweep in the single sweep's fields, plus its shards (so it merges again). */
    static String json(Merged m) {
        ExploreShard f = m.first();
        ExploreShard fail = m.firstFailing();
        ExploreShard whole = new ExploreShard(f.scenario(), f.fix(), f.revertFix(), f.strategy(), f.depth(), f.from(),
                m.seeds(), m.seedsRun(), fail != null ? fail.firstFailingSeed() : -1, fail != null ? fail.violation() : null,
                m.seconds());
        JsonObject j = whole.toJson();
        j.addProperty("shardCount", m.shards().size());
        j.addProperty("failingShards", m.failingShards());
        j.add("seedsPerSecondTogether", ExploreShard.decimal(m.togetherRate(), 2));
        JsonArray gaps = new JsonArray();
        for (long[] g : m.gaps()) {
            JsonArray a = new JsonArray();
            a.add(g[0]);
            a.add(g[1]);
            gaps.add(a);
        }
        j.add("gaps", gaps);
        JsonArray shards = new JsonArray();
        for (Source s : m.shards()) {
            JsonObject o = new JsonObject();
            o.addProperty("file", s.file());
            s.shard().toJson().entrySet().forEach(en -> o.add(en.getKey(), en.getValue()));
            shards.add(o);
        }
        j.add("shards", shards);
        return write(j);
    }

    static String write(JsonObject j) {
        return new GsonBuilder().setPrettyPrinting().serializeNulls().disableHtmlEscaping().create().toJson(j) + "\n";
    }

    /** The summary in the single sweep's words; returns the exit status (1 if any shard found a violation). */
    static int print(Merged m, PrintStream out) {
        ExploreShard f = m.first();
        ExploreShard fail = m.firstFailing();
        int n = m.shards().size();
        String gaps = m.gaps().isEmpty() ? "" : "; no shard for seeds " + gapList(m.gaps());
        if (fail == null) {
            out.printf("%s: violations: 0/%d (seeds %s in %d shards%s, %s)%n", f.scenario(), m.seedsRun(), m.ranges(), n,
                    gaps, f.describe());
        } else {
            List<String> seeds = m.shards().stream().map(Source::shard).filter(ExploreShard::failed)
                    .map(s -> Long.toString(s.firstFailingSeed())).toList();
            out.printf("%s: seed %d breaks %s%n", f.scenario(), fail.firstFailingSeed(), fail.violation());
            out.printf("violations in %d of %d shards (first failing seed of each: %s); %d of %d seeds run"
                    + " (seeds %s%s, %s)%n", m.failingShards(), n, capped(seeds), m.seedsRun(), m.seeds(), m.ranges(), gaps,
                    f.describe());
            out.println("replay: " + fail.replayCommand(fail.firstFailingSeed()));
        }
        out.printf(Locale.ROOT, "seeds/s: %.1f per shard (%d seeds in %.1f s of shard time), %.1f with the %d shards at once%n",
                m.perShardRate(), m.seedsRun(), m.seconds(), m.togetherRate(), n);
        return fail == null ? 0 : 1;
    }
}
