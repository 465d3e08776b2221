package org.mmulab.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code --gdb} and {@code --wait} as a user meets them when something is wrong: usage errors exit 2, one line. */
class BootGdbOptionsTest {
    @TempDir
    Path tmp;

    private static CliRun run(String... args) {
        return CliRun.run(args);
    }

    /** The options are checked before the image is read: any existing file will do. */
    private String image() throws IOException {
        Path p = tmp.resolve("image");
        Files.write(p, new byte[] {0x7f, 'E', 'L', 'F'});
        return p.toString();
    }

    @Test
    void badGdbAddressesAreUsageErrors() throws IOException {
        for (String bad : new String[] {"nonsense", "127.0.0.1:", "127.0.0.1:99999", "1:2:3", "[::1]", "host:-1"}) {
            CliRun r = run("boot", "--gdb", bad, image());
            assertEquals(Mmulab.EXIT_USAGE, r.status(), bad + ": " + r.err());
            assertTrue(r.err().startsWith("mmulab: --gdb: "), bad + ": " + r.err());
            assertEquals(1, r.err().lines().count(), "one line: " + r.err());
        }
        CliRun missing = run("boot", "--gdb");
        assertEquals(Mmulab.EXIT_USAGE, missing.status(), missing.err());
    }

    @Test
    void waitNeedsGdb() throws IOException {
        CliRun r = run("boot", "--wait", image());
        assertEquals(Mmulab.EXIT_USAGE, r.status());
        assertEquals("mmulab: --wait needs --gdb HOST:PORT\n", r.err());
    }

    @Test
    void aPortInUseIsAOneLineError() throws IOException {
        Path hello = Path.of("").toAbsolutePath().getParent().resolve("test-images/bin/x86_64/hello");
        String image = Files.isRegularFile(hello) ? hello.toString() : image();
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            CliRun r = run("boot", "--gdb", "127.0.0.1:" + taken.getLocalPort(), image);
            assertEquals(Mmulab.EXIT_USAGE, r.status(), r.err());
            assertTrue(r.err().startsWith("mmulab: "), r.err());
            assertTrue(r.err().contains("--gdb 127.0.0.1:" + taken.getLocalPort()), r.err());
            assertEquals(1, r.err().lines().count(), "one line: " + r.err());
        }
    }

    @Test
    void helpListsTheOptions() {
        CliRun r = run("boot", "--help");
        assertTrue(r.out().contains("--gdb=HOST:PORT") && r.out().contains("--wait"), r.out());
    }
}
