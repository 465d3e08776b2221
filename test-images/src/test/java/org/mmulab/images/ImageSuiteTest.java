package org.mmulab.images;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The golden image suite: boots every manifest entry through the CLI entry point ({@code mmulab boot})
 * and compares stdout byte for byte and the exit status with what the same binary did natively
 * (expected/&lt;arch&gt;/, recorded by build.sh --record).
 *
 * <p>Entries named {@code @slow...} are left to the slow profile ({@link LibcImageTest}).
 * <p>Architectures: those in {@link #ARCHES}. x86_64 images run under 4-level paging; i386 images
 * (the same sources built with -m32) run under PAE and, in compatibility mode, under 4-level paging.
 * <p>Modes ({@link Mode}): every entry boots in the base mode (one vCPU, PARALLEL scheduling). Entries
 * marked {@code smp} in the manifest's modes column (the thread and fork images, and a few small
 * single-threaded ones as controls) also boot with four vCPUs in PARALLEL, and with one and four vCPUs
 * under {@code --deterministic}: every mode is covered without multiplying the whole manifest (the
 * libc images dominate its run time) by four.
 */
class ImageSuiteTest {
    static final List<String> ARCHES = Images.BOOTABLE_ARCHES;

    /** A scheduling mode of the suite: vCPU count and PARALLEL or DETERMINISTIC. */
    enum Mode {
        CPUS1(1, false), CPUS4(4, false), CPUS1_DET(1, true), CPUS4_DET(4, true);

        final int cpus;
        final boolean deterministic;

        Mode(int cpus, boolean deterministic) {
            this.cpus = cpus;
            this.deterministic = deterministic;
        }

        /** The CLI options of this mode (none for the base mode). */
        List<String> options() {
            List<String> o = new ArrayList<>();
            if (cpus != 1) {
                o.add("--cpus");
                o.add(Integer.toString(cpus));
            }
            if (deterministic) {
                o.add("--deterministic");
                o.add("--seed");
                o.add("12");
            }
            return o;
        }

        @Override
        public String toString() {
            return "cpus=" + cpus + (deterministic ? " deterministic" : " parallel");
        }
    }

    /** The modes an entry boots in: the base mode, and all four for an smp entry. */
    static List<Mode> modes(ImageManifest.Entry e) {
        return e.smp() ? List.of(Mode.values()) : List.of(Mode.CPUS1);
    }

    /** Paging modes each architecture's images run under; null: the CLI's default (no --paging). */
    static List<String> pagingModes(String arch) {
        return arch.equals("i386") ? List.of("pae", "4level") : java.util.Collections.singletonList(null);
    }

    static Stream<Arguments> runs() throws IOException {
        ImageManifest m = ImageManifest.load();
        List<Arguments> out = new ArrayList<>();
        for (String arch : ARCHES) {
            if (!Files.isDirectory(Images.moduleDir().resolve("bin").resolve(arch))) {
                continue;
            }
            for (ImageManifest.Entry e : m.entries()) {
                if (!e.appliesTo(arch) || e.slow()) {
                    continue;
                }
                for (String paging : pagingModes(arch)) {
                    for (Mode mode : modes(e)) {
                        out.add(Arguments.of(arch, paging, mode, e));
                    }
                }
            }
        }
        return out.stream();
    }

    @Test
    void theSuiteCoversEveryManifestEntry() throws IOException {
        long entries = ImageManifest.load().entries().stream().filter(e -> e.appliesTo("x86_64") && !e.slow()).count();
        long x86Runs = runs().filter(a -> a.get()[0].equals("x86_64") && a.get()[2] == Mode.CPUS1).count();
        assertEquals(entries, x86Runs);
        assertTrue(entries >= 5, "hello, fault_touch, brk_grow, compute, mprotect_segv at least");
        for (Mode m : Mode.values()) {
            assertTrue(runs().anyMatch(a -> a.get()[2] == m), "some image boots in mode " + m);
        }
    }

    @ParameterizedTest(name = "{0} {1} {2} {3}")
    @MethodSource("runs")
    void bootsAndMatchesTheNativeRun(String arch, String paging, Mode mode, ImageManifest.Entry e) throws IOException {
        check(arch, paging, mode.options(), e);
    }

    /** Boots one manifest entry in the base mode and compares its stdout and status with the native recording. */
    static void check(String arch, String paging, ImageManifest.Entry e) throws IOException {
        check(arch, paging, List.of(), e);
    }

    /** Boots one manifest entry with extra CLI {@code options} and compares its stdout and status with the native recording. */
    static void check(String arch, String paging, List<String> options, ImageManifest.Entry e) throws IOException {
        Path image = Images.image(arch, e.image());
        assertTrue(Files.isRegularFile(image), image + " missing: run test-images/build.sh");
        List<String> args = new ArrayList<>(List.of("boot", "--clean-env"));
        args.addAll(options);
        if (paging != null) {
            args.add("--paging");
            args.add(paging);
        }
        for (String kv : e.env()) {
            args.add("--env");
            args.add(kv);
        }
        args.add(image.toString());
        args.addAll(e.args());

        MmulabRun run = MmulabRun.execute(args);
        int status = run.status();
        String stderr = run.err();
        String cmd = "mmulab " + String.join(" ", args);
        assertFalse(stderr.contains("internal error"), () -> cmd + ": the emulator failed:\n" + stderr);

        int expectedStatus = Integer.parseInt(Files.readString(Images.expected(arch, e.name(), "status")).trim());
        assertEquals(e.status(), expectedStatus, "manifest and recorded status disagree: re-run build.sh --record");
        if (e.check() == ImageManifest.Check.STDOUT) {
            byte[] expected = Files.readAllBytes(Images.expected(arch, e.name(), "stdout"));
            byte[] actual = run.outBytes();
            if (!java.util.Arrays.equals(expected, actual)) {
                throw new AssertionError(cmd + ": stdout differs from the native run\n" + diff(expected, actual)
                        + "\n--- stderr ---\n" + stderr);
            }
        }
        assertEquals(expectedStatus, status, () -> cmd + ": exit status\n--- stderr ---\n" + stderr);
    }

    /** The first differing line with a little context, and both outputs in full when short. */
    static String diff(byte[] expected, byte[] actual) {
        String a = new String(expected, StandardCharsets.UTF_8), b = new String(actual, StandardCharsets.UTF_8);
        String[] la = a.split("\n", -1), lb = b.split("\n", -1);
        int i = 0;
        while (i < la.length && i < lb.length && la[i].equals(lb[i])) {
            i++;
        }
        StringBuilder sb = new StringBuilder();
        sb.append("first difference at line ").append(i + 1).append(":\n");
        sb.append("  native: ").append(i < la.length ? la[i] : "(end of output)").append('\n');
        sb.append("  mmulab: ").append(i < lb.length ? lb[i] : "(end of output)").append('\n');
        sb.append(String.format("(native %d bytes, mmulab %d bytes)%n", expected.length, actual.length));
        if (a.length() + b.length() < 4000) {
            sb.append("--- native stdout ---\n").append(a).append("--- mmulab stdout ---\n").append(b);
        }
        return sb.toString();
    }
}
