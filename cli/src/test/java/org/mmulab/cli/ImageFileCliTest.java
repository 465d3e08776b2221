package org.mmulab.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.RandomAccessFile;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Images are opened as execve opens them (issue 11 §2): regular files only, execute permission required,
 * large files mapped rather than read whole, and every refusal one line with the reason and status 2.
 */
class ImageFileCliTest {
    private static final Path HELLO = Path.of("..", "test-images", "bin", "x86_64", "hello");

    @TempDir
    Path tmp;

    private static void assertRefused(CliRun r, String path, String reason) {
        assertEquals(2, r.status(), r.err());
        assertEquals("", r.out());
        assertEquals("mmulab: " + path + ": " + reason + "\n", r.err());
    }

    @Test
    void devicesAndDirectoriesAreEaccesWithoutBeingRead() {
        // /dev/zero and /dev/urandom used to be read until OutOfMemoryError.
        for (String dev : new String[] {"/dev/zero", "/dev/urandom"}) {
            CliRun r = assertTimeoutPreemptively(Duration.ofSeconds(60), () -> CliRun.run("boot", dev));
            assertRefused(r, dev, "Permission denied (EACCES: a device, FIFO or socket, only regular files can be executed)");
        }
        assertRefused(CliRun.run("boot", tmp.toString()), tmp.toString(),
                "Permission denied (EACCES: a directory, only regular files can be executed)");
    }

    @Test
    void aFifoIsRefusedInsteadOfHanging() throws Exception {
        Path fifo = tmp.resolve("fifo");
        Process mk = new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start();
        assertEquals(0, mk.waitFor());
        CliRun r = assertTimeoutPreemptively(Duration.ofSeconds(60), () -> CliRun.run("boot", fifo.toString()));
        assertRefused(r, fifo.toString(), "Permission denied (EACCES: a device, FIFO or socket, only regular files can be executed)");
    }

    @Test
    void withoutTheExecuteBitItIsEacces() throws Exception {
        Path copy = Files.copy(HELLO, tmp.resolve("hello"));
        Files.setPosixFilePermissions(copy, PosixFilePermissions.fromString("rw-r--r--"));
        assertRefused(CliRun.run("boot", copy.toString()), copy.toString(),
                "Permission denied (EACCES: no execute permission; chmod +x it)");
        Files.setPosixFilePermissions(copy, PosixFilePermissions.fromString("rwxr-xr-x"));
        CliRun ok = CliRun.run("boot", copy.toString(), "a");
        assertEquals(0, ok.status(), ok.err());
    }

    @Test
    void missingPathsSayWhy() throws Exception {
        Path missing = tmp.resolve("missing");
        assertRefused(CliRun.run("boot", missing.toString()), missing.toString(), "No such file or directory (ENOENT)");
        Path file = Files.writeString(tmp.resolve("file"), "x");
        Path under = file.resolve("child");
        assertRefused(CliRun.run("boot", under.toString()), under.toString(), "Not a directory");
        assertEquals("Permission denied (EACCES)",
                org.mmulab.kernel.ExecFileAccess.describe(new AccessDeniedException(file.toString())));
    }

    @Test
    void aLargeSparseImageIsMappedNotReadWhole() throws Exception {
        // hello followed by a 2.1 GB hole: Files.readAllBytes ended in OutOfMemoryError ("Required array size
        // too large"); the loader maps it and only the pages the program uses are read.
        Path big = Files.copy(HELLO, tmp.resolve("hello_sparse"));
        try (RandomAccessFile f = new RandomAccessFile(big.toFile(), "rw")) {
            f.setLength(2_100_000_000L + 4096 * 3);
        }
        big.toFile().setExecutable(true);
        CliRun r = CliRun.run("boot", big.toString(), "a", "b");
        CliRun ref = CliRun.run("boot", HELLO.toString(), "a", "b");
        assertEquals(0, r.status(), r.err());
        assertEquals(ref.out().replace("basename=hello\n", "basename=hello_sparse\n"), r.out());
        assertTrue(r.out().length() > 0);
    }
}
