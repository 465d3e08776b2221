package org.mmulab.images;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The i386 build of the sse42 image (-m32 -msse4.2) against the output recorded natively from the
 * x86_64 build. The recording host cannot run i386 binaries (no IA32 emulation), so images.tsv lists
 * sse42 for x86_64 only; the image prints only fixed-width, architecture-independent digests (the
 * 64-bit-only instructions are replaced by equivalent 32-bit sequences on i386), so both builds must
 * print the same bytes. Runs under both paging modes, as the suite runs i386 images.
 */
class Sse42I386Test {
    @ParameterizedTest(name = "i386 sse42 --paging {0}")
    @ValueSource(strings = {"pae", "4level"})
    void i386BuildPrintsTheX8664NativeOutput(String paging) throws Exception {
        Path image = Images.image("i386", "sse42");
        assertTrue(Files.isRegularFile(image), image + " missing: run test-images/build.sh --arch i386");
        List<String> args = List.of("boot", "--clean-env", "--paging", paging, image.toString());
        MmulabRun run = MmulabRun.execute(args);
        String expected = Files.readString(Images.expected("x86_64", "sse42", "stdout"));
        assertEquals(expected, run.out(), () -> "mmulab " + String.join(" ", args) + "\n--- stderr ---\n" + run.err());
        assertEquals(0, run.status());
    }
}
