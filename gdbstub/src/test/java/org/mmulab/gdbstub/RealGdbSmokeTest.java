package org.mmulab.gdbstub;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIf;
import org.mmulab.gdbstub.target.TargetArch;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The packet layer against the real client: gdb (13, as Debian ships it) in batch mode talks to a
 * {@link GdbServer} serving {@link FakeTarget}. Skipped only if no {@code gdb} is on the PATH.
 */
@EnabledIf("gdbInstalled")
class RealGdbSmokeTest {
    private static final long GDB_TIMEOUT_S = 120;

    static boolean gdbInstalled() {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            if (new File(dir, "gdb").canExecute()) {
                return true;
            }
        }
        return false;
    }

    /** Runs gdb in batch mode with {@code commands} against a fresh server; returns stdout+stderr. */
    static String runGdb(GdbServer server, String... commands) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("gdb", "-batch", "-nx"));
        for (String c : commands) {
            cmd.add("-ex");
            cmd.add(c.replace("PORT", Integer.toString(server.boundPort())));
        }
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        p.getOutputStream().close();
        byte[] out = p.getInputStream().readAllBytes();   // ends when gdb exits
        assertTrue(p.waitFor(GDB_TIMEOUT_S, TimeUnit.SECONDS), "gdb did not exit");
        String text = new String(out, StandardCharsets.UTF_8);
        System.out.println("---- gdb " + String.join(" ", commands) + "\n" + text);
        return text;
    }

    @Test
    void amd64RegistersMemoryThreadsStepMonitorDetach() throws Exception {
        FakeTarget target = new FakeTarget(TargetArch.AMD64, 2, true);
        target.setRegister(1, TargetArch.AMD64.register("cr3").regnum(), 0x12_3000L);
        target.setRegister(1, TargetArch.AMD64.register("cr0").regnum(), 0x8001_0001L);
        try (GdbServer server = new GdbServer(target, 0).start()) {
            String out = runGdb(server,
                    "set architecture i386:x86-64",
                    "target remote 127.0.0.1:PORT",
                    "p $cr3",
                    "p/x $cr3",
                    "info registers cr0",
                    "set var $cr8 = 5",
                    "set $cr3 = (unsigned long) 0x456000",   // a flags register takes a value of its size
                    "p/x $efer",
                    "p/x $k_gs_base",
                    "info registers rip",
                    "x/4xb 0x1000",
                    "x/2xb 0x3000",
                    "info threads",
                    "thread 2",
                    "p/x $rax",
                    "p/x $fs_base",
                    "stepi",
                    "p/x $pc",
                    "monitor echo hello from the stub",
                    "set {unsigned int}0x2000 = 0x7d232a24",
                    "x/4xb 0x2000",
                    "set {char}0x3000 = 1",
                    "detach");
            // QEMU's system registers: p $cr3 shows the flags type, p/x the number; writes reach the target.
            assertTrue(out.contains("$1 = [ PDBR=291 PCID=0 ]"), out);   // 0x123000 >> 12
            assertTrue(out.contains("$2 = 0x123000"), out);
            assertTrue(out.contains("[ PG WP PE ]"), out);
            assertEquals(5, target.register(1, TargetArch.AMD64.register("cr8").regnum()));
            assertEquals(0x45_6000L, target.register(1, TargetArch.AMD64.register("cr3").regnum()));
            assertFalse(out.contains("Invalid register"), out);
            assertTrue(out.contains("rip            0x1000"), out);
            assertTrue(out.contains("0x1000:\t0x00\t0x01\t0x02\t0x03"), out);
            assertTrue(out.contains("Cannot access memory at address 0x3000"), out);
            assertTrue(out.contains("Thread 2"), out);
            assertTrue(out.contains("$5 = 0x2222"), out);
            assertTrue(out.contains("$6 = 0x0"), out);
            assertTrue(out.contains("$7 = 0x1001"), out);
            assertTrue(out.contains("hello from the stub"), out);
            // gdb writes with X and escapes $ # } *; the stub must unescape them
            assertTrue(out.contains("0x2000:\t0x24\t0x2a\t0x23\t0x7d"), out);
            assertTrue(out.contains("Cannot access memory at address 0x3000"), out);
            assertTrue(out.contains("[Inferior 1 (Remote target) detached]"), out);
            GdbServerTest.waitFor(() -> target.detaches() == 1);
            assertEquals(0x1001, target.pc(2));
        }
    }

    @Test
    void amd64BreakpointAndWatchpoint() throws Exception {
        FakeTarget target = new FakeTarget(TargetArch.AMD64, 1, true);
        try (GdbServer server = new GdbServer(target, 0).start()) {
            String out = runGdb(server,
                    "set architecture i386:x86-64",
                    "target remote 127.0.0.1:PORT",
                    "break *0x1234",
                    "continue",
                    "p/x $pc",
                    "delete",
                    "watch *(char *)0x2000",
                    "continue",
                    "delete",
                    "detach");
            assertTrue(out.contains("Breakpoint 1, 0x0000000000001234 in ?? ()"), out);
            assertTrue(out.contains("$1 = 0x1234"), out);
            assertTrue(out.contains("Hardware watchpoint 2: *(char *)0x2000"), out);
            assertTrue(out.contains("Old value = 0 '\\000'"), out);
            assertTrue(out.contains("New value = 1 '\\001'"), out);
            assertEquals(1, target.peek(0x2000, 1)[0]);
            GdbServerTest.waitFor(() -> target.detaches() == 1);
        }
    }

    @Test
    void i386Layout() throws Exception {
        FakeTarget target = new FakeTarget(TargetArch.I386, 1, true);
        try (GdbServer server = new GdbServer(target, 0).start()) {
            String out = runGdb(server,   // no "set architecture": target.xml alone must select i386
                    "target remote 127.0.0.1:PORT",
                    "show architecture",
                    "info registers eip esp",
                    "p/x $cr3",
                    "p/x $cr4",
                    "p/x $fs_base",
                    "x/2xb 0x1002",
                    "stepi",
                    "p/x $eip",
                    "detach");
            assertTrue(out.contains("(currently \"i386\")"), out);
            assertTrue(out.contains("eip            0x1000"), out);
            assertFalse(out.contains("Invalid register"), out);
            assertTrue(out.contains("esp            0x8000"), out);
            assertTrue(out.contains("0x1002:\t0x02\t0x03"), out);
            assertTrue(out.contains("$4 = 0x1001"), out);
        }
    }

    @Test
    void killEndsTheSession() throws Exception {
        FakeTarget target = new FakeTarget(TargetArch.AMD64, 1, true);
        try (GdbServer server = new GdbServer(target, 0).start()) {
            String out = runGdb(server,
                    "set architecture i386:x86-64",
                    "target remote 127.0.0.1:PORT",
                    "kill");
            assertTrue(out.contains("[Inferior 1 (Remote target) killed]"), out);
            assertEquals(1, target.kills());
            GdbServerTest.waitFor(() -> !server.hasClient());
            assertEquals(0, target.detaches());
        }
    }

    @Test
    void secondGdbIsRefused() throws Exception {
        FakeTarget target = new FakeTarget(TargetArch.AMD64, 1, true);
        try (GdbServer server = new GdbServer(target, 0).start();
             java.net.Socket first = new java.net.Socket(java.net.InetAddress.getLoopbackAddress(),
                     server.boundPort())) {
            first.getOutputStream().write("$?#3f".getBytes(java.nio.charset.StandardCharsets.US_ASCII));   // attaches
            GdbServerTest.waitFor(server::hasClient);
            String out = runGdb(server,
                    "set architecture i386:x86-64",
                    "target remote 127.0.0.1:PORT");
            assertTrue(out.contains("Remote failure reply: E." + GdbServer.BUSY_MESSAGE), out);
            assertTrue(!out.contains("0x0000000000001000 in ?? ()"), out);
            assertEquals(1, target.attaches());
        }
    }

    @Test
    void ctrlCInterruptsARunningTarget() throws Exception {
        FakeTarget target = new FakeTarget(TargetArch.AMD64, 2, true);
        try (GdbServer server = new GdbServer(target, 0).start()) {
            List<String> cmd = List.of("gdb", "-batch", "-nx",
                    "-ex", "set architecture i386:x86-64",
                    "-ex", "target remote 127.0.0.1:" + server.boundPort(),
                    "-ex", "continue",
                    "-ex", "p/x $pc",
                    "-ex", "detach");
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            p.getOutputStream().close();
            java.util.concurrent.CompletableFuture<byte[]> output = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                try {
                    return p.getInputStream().readAllBytes();
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            GdbServerTest.waitFor(target::running);   // gdb resumed the fake, which spins until interrupted
            Process kill = new ProcessBuilder("kill", "-INT", Long.toString(p.pid())).inheritIO().start();
            assertEquals(0, kill.waitFor());
            assertTrue(p.waitFor(GDB_TIMEOUT_S, TimeUnit.SECONDS), "gdb did not exit");
            String out = new String(output.get(GDB_TIMEOUT_S, TimeUnit.SECONDS), StandardCharsets.UTF_8);
            System.out.println("---- gdb continue + SIGINT\n" + out);
            assertTrue(out.contains("received signal SIGINT"), out);
            assertTrue(out.contains("$1 = 0x1000"), out);
            assertTrue(out.contains("[Inferior 1 (Remote target) detached]"), out);
            assertEquals(1, target.interrupts());
        }
    }
}
