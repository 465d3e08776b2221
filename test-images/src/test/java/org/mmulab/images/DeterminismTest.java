package org.mmulab.images;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.mmulab.cli.Mmulab;

/**
 * {@code --deterministic --seed S --timing cycle}: two runs of the same image give identical stdout,
 * exit status, {@code --stats} output (every counter and cycle total, the fault-latency histogram) and
 * {@code --stats-json} file — for every image of the manifest ({@link #determinismRun}), x86_64 under 4-level paging and i386
 * under PAE and under 4-level paging; the manifest's smp entries also with four vCPUs. The guest output must still be the native run's.
 */
class DeterminismTest {
    static final long SEED = 7;

    record Run(int status, String out, String err, String json) {
    }

    static Run boot(Path json, List<String> options, Path image, List<String> guestArgs) throws IOException {
        List<String> args = new ArrayList<>(List.of("boot", "--clean-env"));
        args.addAll(options);
        if (json != null) {
            args.add("--stats-json");
            args.add(json.toString());
        }
        args.add(image.toString());
        args.addAll(guestArgs);
        MmulabRun r = MmulabRun.execute(args);
        return new Run(r.status(), r.out(), r.err(),
                json == null ? null : Files.readString(json));
    }

    static Stream<Arguments> runs() throws IOException {
        ImageManifest m = ImageManifest.load();
        List<Arguments> out = new ArrayList<>();
        for (String arch : Images.BOOTABLE_ARCHES) {
            for (ImageManifest.Entry e : m.entries()) {
                if (!e.appliesTo(arch) || !determinismRun(e)) {
                    continue;
                }
                for (String paging : arch.equals("i386") ? List.of("pae", "4level") : List.of("4level")) {
                    out.add(Arguments.of(arch, paging, 1, e));
                    if (e.smp()) {
                        out.add(Arguments.of(arch, paging, 4, e)); // the baton scheduler's seeded interleaving
                    }
                }
            }
        }
        return out.stream();
    }

    /**
     * Which manifest entries are run twice: all but the slow profile's ({@code @slow...}) and, of the
     * libc images, only the plain glibc build's default run of each program: its -glibc-v2 and -musl
     * builds and argument variants exercise the same emulator paths, and the libc images are the
     * longest of the suite.
     */
    static boolean determinismRun(ImageManifest.Entry e) {
        if (e.slow()) {
            return false;
        }
        return !e.image().startsWith("libc_") || (e.image().endsWith("-glibc") && e.name().equals(e.image()));
    }

    @ParameterizedTest(name = "{0} {1} cpus={2} {3}")
    @MethodSource("runs")
    void twoRunsAreIdentical(String arch, String paging, int cpus, ImageManifest.Entry e, @TempDir Path tmp) throws IOException {
        System.out.println("determinism: seed " + SEED + ", " + arch + " " + paging + " cpus " + cpus + " " + e);
        Path image = Images.image(arch, e.image());
        List<String> opts = new ArrayList<>(List.of("--timing", "cycle", "--deterministic", "--seed", Long.toString(SEED),
                "--stats", "--paging", paging, "--cpus", Integer.toString(cpus)));
        for (String kv : e.env()) {
            opts.add("--env");
            opts.add(kv);
        }
        Run a = boot(tmp.resolve("a.json"), opts, image, e.args());
        Run b = boot(tmp.resolve("b.json"), opts, image, e.args());
        assertFalse(a.err().contains("internal error"), a.err());
        assertEquals(e.status(), a.status(), a.err());
        if (e.check() == ImageManifest.Check.STDOUT) {
            assertEquals(Files.readString(Images.expected(arch, e.name(), "stdout")), a.out(), "guest output");
        }
        assertEquals(a.status(), b.status());
        assertEquals(a.out(), b.out(), "stdout");
        assertEquals(a.err(), b.err(), "the whole --stats output");
        assertEquals(a.json(), b.json(), "--stats-json");
        assertFalse(a.err().contains("host seconds") || a.err().contains("MIPS"), "no host time under --deterministic");
        long cycles = counter(a.err(), "cycles");
        long instructions = counter(a.err(), "instructions");
        assertTrue(cycles > instructions && instructions > 0, "cycles " + cycles + ", instructions " + instructions);
        assertTrue(a.json().contains("\"cycles\": " + cycles), "JSON carries the same cycle total");
    }

    /** The total column of a counter row of the --stats table. */
    static long counter(String stats, String name) {
        return stats.lines().map(String::trim).filter(l -> l.startsWith(name + " "))
                .map(l -> l.split("\\s+")).map(f -> Long.parseLong(f[f.length - 1])).findFirst()
                .orElseThrow(() -> new AssertionError("no counter " + name + " in\n" + stats));
    }

    @Test
    void cycleModeCostsMoreCyclesThanTheFastEstimateAndFastModeIsDeterministicToo(@TempDir Path tmp) throws IOException {
        Path image = Images.image("x86_64", "fault_touch");
        List<String> fast = List.of("--deterministic", "--seed", "1", "--stats");
        List<String> cycle = List.of("--timing", "cycle", "--deterministic", "--seed", "1", "--stats");
        Run f1 = boot(null, fast, image, List.of("1"));
        Run f2 = boot(null, fast, image, List.of("1"));
        Run c = boot(null, cycle, image, List.of("1"));
        assertEquals(f1.err(), f2.err());
        assertEquals(f1.out(), c.out());
        assertEquals(counter(f1.err(), "instructions"), counter(c.err(), "instructions"));
        assertEquals(counter(f1.err(), "page-faults"), counter(c.err(), "page-faults"));
        assertTrue(counter(c.err(), "cycles") > counter(f1.err(), "cycles"),
                "fast mode prices every walker load as an L1D hit and every instruction at 1 cycle: a lower bound");
        assertTrue(c.err().contains("page_walker_loads.dtlb_memory"), "cycle mode splits walker loads by level");
        assertFalse(f1.err().contains("page_walker_loads.dtlb_memory"), "fast mode has no cache model");
    }

    /**
     * Zen 5's stride prefetcher walks the page tables on a TLB miss (mmu.PrefetchWalker): two runs on two
     * vCPUs give the same counters, and the guest's output (but its timings) and fault count are those of a
     * run whose prefetcher cannot walk (skylake's stops at the page): the walks have no guest-visible effect.
     * (Instruction counts differ between presets: the guest's timing loops read the virtual clock.)
     */
    @Test
    void zen5sWalkingPrefetcherIsDeterministicAndInvisibleToTheGuest(@TempDir Path tmp) throws IOException {
        Path image = Images.image("x86_64", "tlb_stride");
        List<String> args = List.of("2048", "20000");
        List<String> zen5 = List.of("--timing", "cycle", "--deterministic", "--seed", "5", "--stats", "--cpus", "2",
                "--cpu-model", "zen5");
        Run a = boot(tmp.resolve("a.json"), zen5, image, args);
        Run b = boot(tmp.resolve("b.json"), zen5, image, args);
        assertEquals(0, a.status(), a.err());
        assertEquals(a.err(), b.err(), "the whole --stats output");
        assertEquals(a.json(), b.json());
        assertTrue(counter(a.err(), "prefetch.walks") > 0, "the prefetcher walked");
        Run sky = boot(null, List.of("--timing", "cycle", "--deterministic", "--seed", "5", "--stats", "--cpus", "2",
                "--cpu-model", "skylake"), image, args);
        assertEquals(counter(sky.err(), "page-faults"), counter(a.err(), "page-faults"), "no fault from a prefetch");
        assertEquals(sky.out().lines().filter(l -> !l.startsWith("RESULT")).toList(),
                a.out().lines().filter(l -> !l.startsWith("RESULT")).toList(), "the same output but the timings");
    }

    @Test
    void withoutDeterministicTheRunSummaryShowsHostTime() throws IOException {
        Run r = boot(null, List.of("--stats"), Images.image("x86_64", "hello"), List.of());
        assertTrue(r.err().contains("host seconds"), r.err());
        Run d = boot(null, List.of("--stats", "--deterministic", "--seed", "3"), Images.image("x86_64", "hello"), List.of());
        assertNotEquals(r.err(), d.err());
        assertTrue(d.err().contains("deterministic seed 3"), d.err());
    }
}
