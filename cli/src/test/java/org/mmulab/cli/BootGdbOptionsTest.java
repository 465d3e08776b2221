package org.mmulab.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

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

    private String hello() throws IOException {
        Path hello = Path.of("").toAbsolutePath().getParent().resolve("test-images/bin/x86_64/hello");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isRegularFile(hello), hello + " is not built");
        return hello.toString();
    }

    @Test
    void aWildcardAddressIsShownAsGivenWithOneWarning() throws IOException {
        CliRun r = run("boot", "--gdb", "0.0.0.0:0", hello());
        assertEquals(0, r.status(), r.err());
        List<String> lines = r.err().lines().toList();
        assertEquals(2, lines.size(), r.err());
        assertTrue(lines.get(0).matches("mmulab: gdb stub listening on 0\\.0\\.0\\.0:[1-9][0-9]*"), r.err());
        assertTrue(lines.get(1).startsWith("mmulab: warning: the gdb stub on 0.0.0.0:"), r.err());
        assertTrue(lines.get(1).contains("reachable from the network"), r.err());
        assertFalse(r.err().contains("0:0:0:0"), r.err());
    }

    @Test
    void aLoopbackAddressHasNoWarning() throws IOException {
        CliRun r = run("boot", "--gdb", "127.0.0.1:0", hello());
        assertEquals(0, r.status(), r.err());
        assertEquals(1, r.err().lines().count(), r.err());
        assertTrue(r.err().matches("mmulab: gdb stub listening on 127\\.0\\.0\\.1:[1-9][0-9]*\n"), r.err());
    }

    @Test
    void gdbLogGetsTheStubsDiagnosticsAndNeedsGdb() throws IOException {
        Path log = tmp.resolve("gdb.log");
        CliRun r = run("boot", "--gdb", "127.0.0.1:0", "--gdb-log", log.toString(), hello());
        assertEquals(0, r.status(), r.err());
        assertEquals(1, r.err().lines().count(), r.err());
        assertTrue(Files.readString(log).contains("gdb stub listening on"), Files.readString(log));
        CliRun noGdb = run("boot", "--gdb-log", log.toString(), image());
        assertEquals(Mmulab.EXIT_USAGE, noGdb.status());
        assertEquals("mmulab: --gdb-log needs --gdb HOST:PORT\n", noGdb.err());
        CliRun bad = run("boot", "--gdb", "127.0.0.1:0", "--gdb-log", tmp.resolve("no/such/dir/log").toString(), hello());
        assertEquals(Mmulab.EXIT_USAGE, bad.status());
        assertTrue(bad.err().startsWith("mmulab: --gdb-log "), bad.err());
        assertEquals(1, bad.err().lines().count(), bad.err());
    }

    @Test
    void helpListsTheOptions() {
        CliRun r = run("boot", "--help");
        assertTrue(r.out().contains("--gdb=HOST:PORT") && r.out().contains("--wait"), r.out());
        assertTrue(r.out().contains("--gdb-log=FILE"), r.out());
    }
}
