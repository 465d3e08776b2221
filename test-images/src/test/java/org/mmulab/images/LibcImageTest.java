package org.mmulab.images;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The static glibc i386 builds of src/libc/*.c (gcc -m32 -static: TLS through set_thread_area and %gs,
 * int 0x80 startup calls, ia32 signal frames, x87 floating point) against the native x86_64 glibc
 * recordings: these programs print nothing architecture-dependent in their default runs (see each
 * source's header), and this host cannot run i386 binaries natively (no IA32 emulation), so images.tsv
 * lists the libc images for x86_64 only. Checked this way: libc_stdio (with args and env), libc_fmt,
 * libc_math, libc_mem, libc_vec and libc_vma, each under PAE and, in compatibility mode, under 4-level
 * paging.
 * The x86_64-only variants (libc_math@exact, libc_vec@general) print per-architecture results and have
 * no i386 counterpart.
 *
 * <p>The SMP programs (threads_fault, fork_cow, ...: smp in the manifest) are booted in every mode of
 * {@link ImageSuiteTest.Mode}, like their x86_64 builds.
 *
 * <p>The slow profile also boots the manifest's {@code @slow...} entries (libc_mem full: every size
 * 0-700 at every source and destination alignment) and the i386 build of the same run.
 */
class LibcImageTest {
    static Stream<Arguments> i386Runs() throws IOException {
        List<Arguments> out = new ArrayList<>();
        ImageManifest m = ImageManifest.load();
        for (String image : Images.libcBinaries("i386")) {
            ImageManifest.Entry e = m.entries().stream().filter(x -> x.name().equals(image)).findFirst().orElse(null);
            if (e != null && e.check() == ImageManifest.Check.STATUS) {
                continue; // a benchmark (cow_fork, fault_scale): its stdout is timings, x86_64 only
            }
            for (String paging : List.of("pae", "4level")) {
                // The thread and fork programs (smp in the manifest) run in every mode of ImageSuiteTest.
                for (ImageSuiteTest.Mode mode : e == null ? List.of(ImageSuiteTest.Mode.CPUS1) : ImageSuiteTest.modes(e)) {
                    out.add(Arguments.of(image, paging, mode));
                }
            }
        }
        return out.stream();
    }

    @Test
    void everyLibcSourceHasAnI386BuildChecked() throws IOException {
        assertTrue(i386Runs().count() >= 10, "libc_stdio, libc_fmt, libc_math, libc_mem, libc_vec x 2 paging modes");
    }

    @ParameterizedTest(name = "i386 {0} {1} {2}")
    @MethodSource("i386Runs")
    void i386GlibcBuildMatchesTheNativeX86_64Run(String image, String paging, ImageSuiteTest.Mode mode) throws IOException {
        ImageManifest.Entry e = ImageManifest.load().entries().stream().filter(x -> x.name().equals(image)).findFirst()
                .orElseThrow(() -> new AssertionError(image + " has no x86_64 manifest entry"));
        bootI386(e, e.name(), paging, mode.options());
    }

    static Stream<Arguments> slowRuns() throws IOException {
        List<Arguments> out = new ArrayList<>();
        for (ImageManifest.Entry e : ImageManifest.load().entries()) {
            if (e.slow()) {
                out.add(Arguments.of("x86_64", null, e));
                if (e.image().endsWith("-glibc")) {
                    out.add(Arguments.of("i386", "pae", e));
                }
            }
        }
        return out.stream();
    }

    @Tag("slow")
    @ParameterizedTest(name = "{0} {1} {2}")
    @MethodSource("slowRuns")
    void slowVariantsMatchTheNativeRun(String arch, String paging, ImageManifest.Entry e) throws IOException {
        if (arch.equals("x86_64")) {
            ImageSuiteTest.check(arch, paging, e);
        } else {
            bootI386(e, e.name(), paging, List.of());
        }
    }

    /** Boots the i386 build of entry {@code e} and compares with the x86_64 recording {@code recorded}. */
    private static void bootI386(ImageManifest.Entry e, String recorded, String paging, List<String> options) throws IOException {
        List<String> args = new ArrayList<>(List.of("boot", "--clean-env", "--paging", paging));
        args.addAll(options);
        for (String kv : e.env()) {
            args.add("--env");
            args.add(kv);
        }
        args.add(Images.image("i386", e.image()).toString());
        args.addAll(e.args());
        MmulabRun run = MmulabRun.execute(args);
        assertFalse(run.err().contains("internal error"), run.err());
        byte[] expected = Files.readAllBytes(Images.expected("x86_64", recorded, "stdout"));
        if (!java.util.Arrays.equals(expected, run.outBytes())) {
            throw new AssertionError("mmulab " + String.join(" ", args) + ": stdout differs from the native x86_64 run\n"
                    + ImageSuiteTest.diff(expected, run.outBytes()) + "\n--- stderr ---\n" + run.err());
        }
        int status = Integer.parseInt(Files.readString(Images.expected("x86_64", recorded, "status")).trim());
        assertEquals(status, run.status(), run.err());
    }
}
