package org.mmulab.images;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The translation tier against the interpreter (issue 16 item 2): every x86_64 manifest entry of the image
 * suite (base mode, slow variants excluded) is booted with {@code --engine interp} and {@code --engine tier}
 * under {@code --deterministic}, and stdout, exit status and the whole {@code --stats-json} document
 * (instructions, cycles, every TLB/walk/fault counter, virtual time) must be identical. Under
 * --deterministic the guest clocks follow the counters, so even images that print timings must print the
 * same bytes. A second set runs {@code --timing cycle --deterministic} on the images with hot loops and
 * requires identical cycle totals and every cycle-mode counter (cache levels of data accesses, fetch lines
 * and walker loads, fault latencies): the tier's blocks charge what the interpreter charges. Only the
 * tier's own counters ({@code tier.*}, absent under interp) are left out of the comparison, and under cycle
 * timing they must show that compiled blocks ran, so the comparison is not interpreter against itself;
 * under either timing compiled code must have retired at least 90% of compute's instructions (its
 * division, string and indirect-jump mix runs in blocks through interpreter calls).
 * The i386 entries (32-bit code, which the tier translates too) run the same way under PAE and under
 * 4-level paging (compatibility mode), and the hot-loop ones under cycle timing with PAE; for every i386
 * run the tier must have compiled and run blocks, so 32-bit translation is what is compared (except
 * gdbdemo, which retires too few instructions for any block to get hot).
 */
class TierDifferentialTest {
    static Stream<Arguments> fast() throws IOException {
        List<Arguments> out = new ArrayList<>();
        for (ImageManifest.Entry e : ImageManifest.load().entries()) {
            if (e.appliesTo("x86_64") && !e.slow() && Files.isRegularFile(Images.image("x86_64", e.image()))) {
                out.add(Arguments.of("fast", "x86_64", null, e));
            }
        }
        for (ImageManifest.Entry e : ImageManifest.load().entries()) {
            if (e.appliesTo("i386") && !e.slow() && Files.isRegularFile(Images.image("i386", e.image()))) {
                out.add(Arguments.of("fast", "i386", "pae", e));
                out.add(Arguments.of("fast", "i386", "4level", e));
            }
        }
        return out.stream();
    }

    static Stream<Arguments> cycle() throws IOException {
        List<Arguments> out = new ArrayList<>();
        for (String arch : List.of("x86_64", "i386")) {
            for (ImageManifest.Entry e : ImageManifest.load().entries()) {
                String n = e.name();
                if (e.appliesTo(arch) && !e.slow() && Files.isRegularFile(Images.image(arch, e.image()))
                        && (n.equals("compute@scale1") || n.startsWith("tlb_stride") || n.startsWith("cpu_loop") || n.equals("hello"))) {
                    out.add(Arguments.of("cycle", arch, arch.equals("i386") ? "pae" : null, e));
                }
                if (e.appliesTo(arch) && !e.slow() && Files.isRegularFile(Images.image(arch, e.image()))
                        && n.startsWith("tlb_stride")) {
                    // Zen 5's stride prefetcher, which walks on a TLB miss
                    out.add(Arguments.of("cycle-zen5", arch, arch.equals("i386") ? "pae" : null, e));
                }
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} {1} {2} {3}")
    @MethodSource({"fast", "cycle"})
    void tierAndInterpreterAgree(String timing, String arch, String paging, ImageManifest.Entry e, @TempDir Path dir)
            throws IOException {
        Run interp = boot(dir, "interp", timing, arch, paging, e);
        Run tier = boot(dir, "tier", timing, arch, paging, e);
        String what = arch + " " + e.name() + " (" + timing + " timing" + (paging != null ? ", " + paging : "") + ")";
        assertEquals(interp.run.out(), tier.run.out(), what + ": stdout");
        assertEquals(interp.run.status(), tier.run.status(), what + ": exit status");
        assertTrue(interp.stats.contains("\"instructions\""), what + ": stats written");
        assertFalse(interp.stats.contains("\"tier."), what + ": no tier counters under --engine interp");
        if (timing.startsWith("cycle") || (arch.equals("i386") && !e.name().equals("gdbdemo"))) {
            assertTrue(total(tier.stats, "tier.blocks_compiled") > 0, what + ": the tier compiled blocks");
            assertTrue(total(tier.stats, "tier.block_runs") > 0, what + ": compiled blocks ran");
        }
        if (e.name().startsWith("compute")) {
            // compute's mix (division, string instructions, indirect jumps, RMW ALU...) runs in compiled blocks,
            // through interpreter calls where there is no bytecode translation (TierCallTest), under either timing
            long all = total(tier.stats, "instructions"), compiled = total(tier.stats, "tier.instructions");
            assertTrue(compiled * 10 >= all * 9, what + ": compiled code retired " + compiled + " of " + all);
        }
        assertEquals(interp.stats, withoutTierCounters(tier.stats), what + ": instructions, cycles and counters");
    }

    private static final Pattern TIER_COUNTER = Pattern.compile(", \"tier\\.[a-z_]+\": \\d+");

    /** The stats JSON without the tier's own counters (never the first of a counter object). */
    static String withoutTierCounters(String json) {
        return TIER_COUNTER.matcher(json).replaceAll("");
    }

    /** A counter's total from the stats JSON's "total" object. */
    static long total(String json, String counter) {
        Matcher m = Pattern.compile("\"total\": \\{[^}]*\"" + Pattern.quote(counter) + "\": (\\d+)").matcher(json);
        assertTrue(m.find(), counter + " in the stats");
        return Long.parseLong(m.group(1));
    }

    private record Run(MmulabRun run, String stats) {
    }

    private static Run boot(Path dir, String engine, String timing, String arch, String paging, ImageManifest.Entry e)
            throws IOException {
        Path json = dir.resolve(engine + ".json");
        List<String> args = new ArrayList<>(List.of("boot", "--clean-env", "--deterministic", "--engine", engine,
                "--timing", timing.startsWith("cycle") ? "cycle" : timing, "--stats-json", json.toString()));
        if (timing.equals("cycle-zen5")) {
            args.add("--cpu-model");
            args.add("zen5");
        }
        if (paging != null) {
            args.add("--paging");
            args.add(paging);
        }
        for (String kv : e.env()) {
            args.add("--env");
            args.add(kv);
        }
        args.add(Images.image(arch, e.image()).toString());
        args.addAll(e.args());
        MmulabRun run = MmulabRun.execute(args);
        assertFalse(run.err().contains("internal error"), () -> engine + ": the emulator failed:\n" + run.err());
        return new Run(run, Files.readString(json));
    }
}
