package org.mmulab.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --root} and {@code --rw} as a user meets them: a missing directory, a file, or an --rw
 * directory outside the root get one line on stderr and status 2, before the image is opened.
 */
class FsOptionsCliTest {
    @TempDir
    Path tmp;

    private static void refused(String expected, String... args) {
        CliRun r = CliRun.run(args);
        assertEquals(Mmulab.EXIT_USAGE, r.status(), r.err());
        assertTrue(r.err().contains(expected), r.err());
        assertEquals(1, r.err().strip().lines().count(), "one line: " + r.err());
    }

    @Test
    void rootAndRwMustBeDirectoriesAndRwBelowTheRoot() throws Exception {
        Path root = Files.createDirectory(tmp.resolve("root"));
        Path file = Files.writeString(tmp.resolve("file"), "x");
        Path outside = Files.createDirectory(tmp.resolve("outside"));
        refused("--root /nonexistent-mmulab: no such directory", "boot", "--root", "/nonexistent-mmulab", "/nonexistent");
        refused("not a directory", "boot", "--root", file.toString(), "/nonexistent");
        refused("--rw /nonexistent-mmulab: no such directory", "boot", "--rw", "/nonexistent-mmulab", "/nonexistent");
        refused("not below the guest's root", "boot", "--root", root.toString(), "--rw", outside.toString(), "/nonexistent");
        CliRun ok = CliRun.run("boot", "--root", root.toString(), "--rw", root.toString(), "/nonexistent");
        assertTrue(ok.err().contains("/nonexistent"), "the options pass, the image is what is missing: " + ok.err());
    }

    @Test
    void theOptionsAreDocumented() {
        CliRun r = CliRun.run("boot", "--help");
        assertTrue(r.out().contains("--root") && r.out().contains("--rw"), r.out());
    }
}
