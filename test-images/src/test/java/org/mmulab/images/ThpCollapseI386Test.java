package org.mmulab.images;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The i386 build of thp_collapse (MADV_HUGEPAGE / MADV_COLLAPSE on anonymous and memfd ranges, then
 * splits) against the output recorded natively from the x86_64 build: the recording host cannot run
 * i386 binaries, so images.tsv lists it for x86_64 only, and the image prints only data checks and
 * madvise return values, the same bytes on both architectures. PAE (2 MiB PMD leaves written as two
 * words) and 4-level, 1 vCPU and 4 under --deterministic with --check.
 */
class ThpCollapseI386Test {
    @ParameterizedTest(name = "i386 thp_collapse --paging {0} --cpus {1}")
    @CsvSource({"pae, 1", "4level, 1", "pae, 4"})
    void i386BuildPrintsTheX8664NativeOutput(String paging, int cpus) throws Exception {
        Path image = Images.image("i386", "thp_collapse");
        assertTrue(Files.isRegularFile(image), image + " missing: run test-images/build.sh --arch i386");
        List<String> args = cpus == 1
                ? List.of("boot", "--clean-env", "--paging", paging, image.toString())
                : List.of("boot", "--clean-env", "--paging", paging, "--cpus", "" + cpus, "--deterministic", "--seed", "7",
                        "--check", image.toString());
        MmulabRun run = MmulabRun.execute(args);
        String expected = Files.readString(Images.expected("x86_64", "thp_collapse", "stdout"));
        assertEquals(expected, run.out(), () -> "mmulab " + String.join(" ", args) + "\n--- stderr ---\n" + run.err());
        assertEquals(0, run.status());
    }
}
