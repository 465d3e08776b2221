package org.mmulab.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.mmulab.emulator.memory.HostMemory;

import picocli.CommandLine;

/** {@code --mem} larger than the host can give is refused before booting: one line, status 2 (issue 11 §2). */
class MemLimitCliTest {
    private static final String HELLO = Path.of("..", "test-images", "bin", "x86_64", "hello").toString();

    private static CliRun boot(HostMemory host, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
        PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8);
        BootCommand boot = new BootCommand(new ByteArrayInputStream(new byte[0]), o, e);
        boot.hostMemory = host;
        CommandLine cl = new CommandLine(boot);
        cl.setStopAtPositional(true);
        int status = cl.execute(args);
        return new CliRun(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void memMoreThanRamAndSwapIsRefusedWithOneLine() {
        HostMemory small = new HostMemory(256L << 20, HostMemory.UNLIMITED, HostMemory.UNLIMITED, HostMemory.UNLIMITED);
        CliRun r = boot(small, "--mem", "512M", HELLO);
        assertEquals(2, r.status(), r.err());
        assertEquals("mmulab: --mem 512M: 512M of guest RAM is more than this host has (256M of RAM + swap)\n", r.err());
        assertEquals("", r.out());
        CliRun ok = boot(small, "--mem", "128M", HELLO, "x");
        assertEquals(0, ok.status(), ok.err());
        assertTrue(ok.out().contains("hello"), ok.out());
    }

    @Test
    void memThatDoesNotFitTheHeapForTheFrameTableIsRefused() {
        HostMemory host = new HostMemory(HostMemory.UNLIMITED, HostMemory.UNLIMITED, HostMemory.UNLIMITED, 1L << 20);
        CliRun r = boot(host, "--mem", "64M", HELLO);
        assertEquals(2, r.status(), r.err());
        assertTrue(r.err().startsWith("mmulab: --mem 64M: 64M of guest RAM needs "), r.err());
        assertEquals(1, r.err().strip().split("\n").length, r.err());
    }

    @Test
    void memBeyondUlimitVIsRefusedUpFront() throws Exception {
        // A real address-space limit: the JVM runs under ulimit -v 3 GiB and is asked for 8 GiB of guest RAM.
        // Before guest RAM was mapped up front this ran hello (it touches little) and failed only later,
        // in whatever allocation crossed the limit.
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String cmd = "ulimit -v 3145728; exec '" + java + "' -Xmx64m -Xss1m -XX:ReservedCodeCacheSize=64m"
                + " -XX:CompressedClassSpaceSize=64m -XX:MaxMetaspaceSize=128m -XX:+UseSerialGC -cp '"
                + System.getProperty("java.class.path") + "' org.mmulab.cli.Mmulab boot --mem 8G '" + HELLO + "'";
        ProcessBuilder pb = new ProcessBuilder("bash", "-c", cmd);
        pb.environment().put("MALLOC_ARENA_MAX", "2");
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS));
        assertEquals(2, p.exitValue(), out + err);
        assertEquals("", out);
        assertEquals(1, err.strip().split("\n").length, err);
        assertTrue(err.startsWith("mmulab: --mem 8G: 8G of guest RAM "), err);
        assertFalse(err.contains("Exception") || err.contains("Error"), err);
    }
}
