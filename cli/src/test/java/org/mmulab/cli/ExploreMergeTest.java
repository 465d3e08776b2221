package org.mmulab.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mmulab.kernel.explore.Violation;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

/**
 * {@code mmulab explore --merge}: shards of a real sweep merge to the sweep over their union; shards of
 * different sweeps, overlapping or gapped ranges and bad files are one-line errors with status 2.
 */
class ExploreMergeTest {
    private static JsonObject json(Path p) throws Exception {
        return JsonParser.parseString(Files.readString(p)).getAsJsonObject();
    }

    private static CliRun sweep(Path dir, String file, String... args) {
        List<String> a = new ArrayList<>(List.of("explore", "hiwater-race", "--no-progress", "--json",
                dir.resolve(file).toString()));
        a.addAll(List.of(args));
        return CliRun.run(a.toArray(String[]::new));
    }

    /** The fields a merge must reproduce from the single run over the union (not seedsRun or timing). */
    private static void assertSameSweep(JsonObject union, JsonObject merged) {
        for (String f : List.of("scenario", "fix", "revertFix", "strategy", "depth", "from", "seeds", "firstFailingSeed",
                "violation")) {
            assertEquals(union.get(f), merged.get(f), f + ": " + union + " vs " + merged);
        }
    }

    @Test
    void threeShardsWithTheFixRevertedMergeToTheRunOverTheirUnion(@TempDir Path dir) throws Exception {
        // hiwater-race with its fix reverted breaks at seeds 7 and 9 of 0..11 (pct depth 3): the middle and
        // last shard fail, the union run stops at 7.
        CliRun union = sweep(dir, "union.json", "--revert-fix", "--seeds", "12");
        assertEquals(1, union.status(), union.out() + union.err());
        assertEquals(0, sweep(dir, "a.json", "--revert-fix", "--seeds", "5").status());
        assertEquals(1, sweep(dir, "b.json", "--revert-fix", "--from", "5", "--seeds", "3").status());
        assertEquals(1, sweep(dir, "c.json", "--revert-fix", "--from", "8", "--seeds", "4").status());

        Path out = dir.resolve("merged.json");
        CliRun m = CliRun.run("explore", "--merge", dir.resolve("c.json").toString(), dir.resolve("a.json").toString(),
                dir.resolve("b.json").toString(), "--json", out.toString());
        assertEquals(1, m.status(), m.out() + m.err());
        JsonObject u = json(dir.resolve("union.json"));
        JsonObject j = json(out);
        assertSameSweep(u, j);
        assertEquals(7, j.get("firstFailingSeed").getAsLong(), j.toString());
        assertEquals(2, j.get("failingShards").getAsInt(), j.toString());
        assertEquals(5 + 3 + 2, j.get("seedsRun").getAsLong(), "shards stop at their own first violation");
        // Same first lines as the single run: the seed, the invariant, the replay command.
        String firstLine = union.out().lines().findFirst().orElseThrow();
        assertTrue(m.out().startsWith(firstLine + "\n"), m.out() + " vs " + union.out());
        String replay = union.out().lines().filter(l -> l.startsWith("replay: ")).findFirst().orElseThrow();
        assertTrue(m.out().contains(replay + "\n"), m.out());
        assertTrue(m.out().contains("violations in 2 of 3 shards (first failing seed of each: 7, 9)"), m.out());
        assertTrue(m.out().contains("seeds/s: ") && m.out().contains("with the 3 shards at once"), m.out());
    }

    @Test
    void cleanShardsMergeToViolationsZeroAndMergedFilesMergeAgain(@TempDir Path dir) throws Exception {
        CliRun union = sweep(dir, "union.json", "--seeds", "6");
        assertEquals(0, union.status(), union.out() + union.err());
        for (int i = 0; i < 3; i++) {
            assertEquals(0, sweep(dir, "s" + i + ".json", "--from", Integer.toString(2 * i), "--seeds", "2").status());
        }
        Path ab = dir.resolve("ab.json");
        CliRun m1 = CliRun.run("explore", "--merge", dir.resolve("s0.json").toString(), dir.resolve("s1.json").toString(),
                "--json", ab.toString());
        assertEquals(0, m1.status(), m1.out() + m1.err());
        Path all = dir.resolve("all.json");
        CliRun m = CliRun.run("explore", "--merge", ab.toString(), dir.resolve("s2.json").toString(), "--json", all.toString());
        assertEquals(0, m.status(), m.out() + m.err());
        assertTrue(m.out().startsWith("hiwater-race: violations: 0/6 (seeds 0..5 in 3 shards, pct depth 3, fix on)"), m.out());
        JsonObject j = json(all);
        assertSameSweep(json(dir.resolve("union.json")), j);
        assertEquals(3, j.get("shards").getAsJsonArray().size(), j.toString());
    }

    /** A shard file as a sweep writes it, without running one. */
    private static Path shard(Path dir, String name, String scenario, boolean revert, String strategy, int depth, long from,
            long seeds, long failAt) throws Exception {
        boolean failed = failAt >= 0;
        ExploreShard s = new ExploreShard(scenario, "hiwater-exact", revert, strategy, depth, from, seeds,
                failed ? failAt - from + 1 : seeds, failAt, failed ? new Violation("hiwater-peak", "RSS reached 8", 40) : null,
                0.5);
        Path p = dir.resolve(name);
        Files.writeString(p, ExploreMerge.write(s.toJson()));
        return p;
    }

    private static Path clean(Path dir, String name, long from, long seeds) throws Exception {
        return shard(dir, name, "hiwater-race", false, "pct", 3, from, seeds, -1);
    }

    private static void assertUsageError(String expect, String... args) {
        CliRun r = CliRun.run(args);
        assertEquals(Mmulab.EXIT_USAGE, r.status(), String.join(" ", args) + ": " + r.out() + r.err());
        assertEquals(1, r.err().lines().count(), r.err());
        assertTrue(r.err().startsWith("mmulab: ") && r.err().contains(expect), expect + " in: " + r.err());
        assertEquals("", r.out());
    }

    @Test
    void overlapsGapsAndDifferentSweepsAreReported(@TempDir Path dir) throws Exception {
        String a = clean(dir, "a.json", 0, 100).toString();
        String b = clean(dir, "b.json", 50, 100).toString();
        String c = clean(dir, "c.json", 200, 100).toString();
        String d = clean(dir, "d.json", 100, 100).toString();
        assertUsageError("overlap at seeds 50..99", "explore", "--merge", a, b);
        assertUsageError("overlap at seeds 0..99", "explore", "--merge", a, a);
        assertUsageError("seeds 100..199 are in no file", "explore", "--merge", c, a);

        CliRun gapped = CliRun.run("explore", "--merge", c, a, "--allow-gaps");
        assertEquals(0, gapped.status(), gapped.out() + gapped.err());
        assertTrue(gapped.out().contains("violations: 0/200 (seeds 0..99, 200..299 in 2 shards; no shard for seeds 100..199"),
                gapped.out());
        CliRun whole = CliRun.run("explore", "--merge", c, a, d);
        assertEquals(0, whole.status(), whole.out() + whole.err());
        assertTrue(whole.out().contains("violations: 0/300 (seeds 0..299 in 3 shards"), whole.out());
        // 0.5 s per shard in these files: 100 seeds each.
        assertTrue(whole.out().contains("seeds/s: 200.0 per shard (300 seeds in 1.5 s of shard time), 600.0 with the 3 shards"),
                whole.out());

        assertUsageError("scenario pae-torn-pte, not hiwater-race", "explore", "--merge", a,
                shard(dir, "e.json", "pae-torn-pte", false, "pct", 3, 100, 100, -1).toString());
        assertUsageError("fix reverted, not on", "explore", "--merge", a,
                shard(dir, "f.json", "hiwater-race", true, "pct", 3, 100, 100, -1).toString());
        assertUsageError("strategy random, not pct", "explore", "--merge", a,
                shard(dir, "g.json", "hiwater-race", false, "random", 3, 100, 100, -1).toString());
        assertUsageError("depth 4, not 3", "explore", "--merge", a,
                shard(dir, "h.json", "hiwater-race", false, "pct", 4, 100, 100, -1).toString());
    }

    @Test
    void aViolationInAnyShardExitsOneWithTheSmallestFailingSeed(@TempDir Path dir) throws Exception {
        String a = shard(dir, "a.json", "hiwater-race", true, "random", 5, 0, 100, 80).toString();
        String b = shard(dir, "b.json", "hiwater-race", true, "random", 5, 100, 100, 120).toString();
        CliRun r = CliRun.run("explore", "--merge", b, a);
        assertEquals(1, r.status(), r.out() + r.err());
        assertTrue(r.out().startsWith("hiwater-race: seed 80 breaks hiwater-peak: RSS reached 8\n"), r.out());
        assertTrue(r.out().contains("replay: mmulab explore hiwater-race --replay 80 --trace --revert-fix --strategy random"
                + " --depth 5\n"), r.out());
        assertTrue(r.out().contains("102 of 200 seeds run"), r.out()); // 81 in a, 21 in b
    }

    @Test
    void badFilesAreOneLineAndStatusTwo(@TempDir Path dir) throws Exception {
        String good = clean(dir, "good.json", 0, 10).toString();
        String valid = Files.readString(Path.of(good));
        Object[][] cases = {
                {"missing.json", null, "cannot read"},
                {"empty.json", "", "not a JSON object"},
                {"truncated.json", valid.substring(0, valid.length() / 2), "not JSON"},
                {"array.json", "[1, 2]", "not a JSON object"},
                {"trailing.json", valid + "{}", "not JSON: more after the object"},
                {"lenient.json", "{'scenario': 'hiwater-race'}", "not JSON"},
                {"nofield.json", valid.replace("\"seeds\":", "\"seedz\":"), "no 'seeds'"},
                {"type.json", valid.replace("\"depth\": 3", "\"depth\": \"3\""), "'depth' is not an integer"},
                {"fraction.json", valid.replace("\"from\": 0", "\"from\": 0.5"),
                        "'from' is not an integer"},
                {"negative.json", valid.replace("\"from\": 0", "\"from\": -3"), "'from' is -3"},
                {"cleanshort.json", valid.replace("\"seedsRun\": 10", "\"seedsRun\": 4"), "only 4 of 10 seeds ran"},
                {"halfviolation.json", valid.replace("\"firstFailingSeed\": null", "\"firstFailingSeed\": 9"),
                        "both null or both set"},
                {"strategy.json", valid.replace("\"pct\"", "\"dfs\""), "strategy 'dfs'"},
                {"shards.json", "{\"shards\": []}", "'shards' is not a non-empty array"},
        };
        for (Object[] c : cases) {
            Path p = dir.resolve((String) c[0]);
            if (c[1] != null) {
                Files.writeString(p, (String) c[1]);
            }
            assertUsageError((String) c[2], "explore", "--merge", good, p.toString());
        }
        Path latin1 = dir.resolve("latin1.json");
        Files.write(latin1, "{\"scenario\": \"caf\u00e9\"}".getBytes(StandardCharsets.ISO_8859_1));
        assertUsageError("not UTF-8", "explore", "--merge", latin1.toString());
        assertUsageError("cannot read", "explore", "--merge", dir.toString());
        assertFalse(Files.exists(dir.resolve("out.json")));
    }

    @Test
    void mergeTakesNoSweepOptions(@TempDir Path dir) throws Exception {
        String a = clean(dir, "a.json", 0, 10).toString();
        assertUsageError("not --seeds", "explore", "--merge", a, "--seeds", "3");
        assertUsageError("not --revert-fix", "explore", "--revert-fix", "--merge", a);
        assertUsageError("no scenario NAME", "explore", "hiwater-race", "--merge", a);
        assertUsageError("--allow-gaps goes with --merge", "explore", "hiwater-race", "--allow-gaps");
        assertUsageError("--merge", "explore", "--merge");
    }
}
