package org.mmulab.images.gdb;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.condition.EnabledIf;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.mmulab.images.Images;

/**
 * gdb sessions the way QEMU's {@code -s -S} serves them, with the real gdb (13, batch mode) against
 * {@code mmulab boot --gdb 127.0.0.1:0 --wait gdbdemo}: a wait-for-port probe before gdb attaches changes nothing;
 * gdb attaches, steps, reads CR3 (the page-table root the kernel's {@code monitor ptdump} names), disconnects,
 * attaches again and continues to the guest's normal end. And a client that resets its connection (after being
 * refused company and sending an oversized packet) leaves the machine stopped and puts nothing on stderr.
 */
@EnabledIf("gdbInstalled")
class GdbSessionEndToEndTest {
    private static final long BOOT_S = 30;
    private static final long GDB_S = 60;

    record Variant(String arch, String paging, long cr3Mask) {
        @Override
        public String toString() {
            return arch + (paging == null ? "" : " " + paging);
        }
    }

    static boolean gdbInstalled() {
        return Gdb.installed();
    }

    static Stream<Variant> variants() {
        // 4-level: CR3[11:0] is the PCID; PAE: CR3[4:0] are ignored, the PDPT is 32-byte aligned.
        return Stream.of(new Variant("x86_64", null, ~0xfffL), new Variant("i386", "pae", ~0x1fL))
                .filter(v -> Images.BOOTABLE_ARCHES.contains(v.arch()));
    }

    private static Path gdbdemo(Variant v) {
        Path image = Images.image(v.arch(), "gdbdemo");
        Assumptions.assumeTrue(Files.isRegularFile(image), image + " is not built");
        return image;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("variants")
    void portProbeAttachStepiCr3DisconnectAttachContinue(Variant v) throws Exception {
        Path image = gdbdemo(v);
        try (BootedGuest guest = BootedGuest.boot(image.toString(), v.paging(), true)) {
            int port = guest.port(BOOT_S);
            new Socket(InetAddress.getLoopbackAddress(), port).close();   // what wait-for-port scripts do
            List<String> c = new ArrayList<>(List.of(
                    "set confirm off",
                    "set pagination off",
                    "file " + image,
                    "target remote 127.0.0.1:" + port,
                    "p $pc",
                    "stepi",
                    "p $cr3",
                    "p/x $cr3",
                    "info registers cr0 cr4 efer",
                    "monitor ptdump",
                    "disconnect",
                    "target remote 127.0.0.1:" + port,
                    "p $pc",
                    "continue"));
            String out;
            try (Gdb gdb = Gdb.start(c)) {
                out = gdb.finish(GDB_S);
            }
            // The probe did not let the guest run: gdb finds it at its first instruction.
            assertTrue(Pattern.compile("\\$1 = \\(void \\(\\*\\)\\(\\)\\) 0x[0-9a-f]+ <_start>").matcher(out).find(), out);
            assertTrue(out.contains("$2 = [ PDBR="), "p $cr3 shows QEMU's flags type\n" + out);
            assertFalse(out.contains("Invalid register"), out);
            Matcher cr3 = Pattern.compile("\\$3 = 0x([0-9a-f]+)\\n").matcher(out);
            assertTrue(cr3.find(), out);
            assertTrue(Pattern.compile("cr0 +0x80010001 +\\[ PG WP PE \\]").matcher(out).find(), out);
            assertTrue(Pattern.compile("efer +0x[0-9a-f]+ +\\[ NXE").matcher(out).find(), out);
            Matcher pgd = Pattern.compile("page tables of gdbdemo at 0x([0-9a-f]+)").matcher(out);
            assertTrue(pgd.find(), out);
            assertEquals(Long.parseUnsignedLong(pgd.group(1), 16), Long.parseUnsignedLong(cr3.group(1), 16) & v.cr3Mask(),
                    "CR3 points at the page tables the kernel built\n" + out);
            // Attached again, still where the step left it (one instruction past _start), then runs to the end.
            assertTrue(Pattern.compile("\\$4 = \\(void \\(\\*\\)\\(\\)\\) 0x[0-9a-f]+ <_start\\+[1-9][0-9]*>").matcher(out).find(),
                    out);
            assertTrue(out.contains("[Inferior 1 (Remote target) exited with code 03]"), out);
            assertEquals(3, guest.awaitExit(BOOT_S), guest.stderr());
            assertEquals("gd_counter=7\n", guest.stdout());
            assertEquals(1, guest.stderr().lines().count(), "only the listening line\n" + guest.stderr());
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("variants")
    void aClientThatResetsLeavesTheGuestStoppedAndStderrClean(Variant v) throws Exception {
        Path image = gdbdemo(v);
        ByteArrayOutputStream jvmErr = new ByteArrayOutputStream();
        List<LogRecord> jul = Collections.synchronizedList(new ArrayList<>());
        Handler julHandler = new Handler() {
            @Override
            public void publish(LogRecord r) {
                jul.add(r);
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        PrintStream savedErr = System.err;
        System.setErr(new PrintStream(jvmErr, true, StandardCharsets.UTF_8));   // the guest's stderr, in-process
        Logger.getLogger("").addHandler(julHandler);
        try (BootedGuest guest = BootedGuest.boot(image.toString(), v.paging(), true)) {
            int port = guest.port(BOOT_S);
            Socket raw = new Socket(InetAddress.getLoopbackAddress(), port);
            raw.setSoTimeout((int) (GDB_S * 1000));
            send(raw, frame("?"));                                 // attaches (the guest is already held)
            readUntil(raw.getInputStream(), "#");
            try (Socket second = new Socket(InetAddress.getLoopbackAddress(), port)) {
                second.setSoTimeout((int) (GDB_S * 1000));
                send(second, "+" + frame("qSupported"));
                assertTrue(new String(second.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1)
                        .contains("another gdb is already attached"));
            }
            send(raw, frame("m" + "0".repeat(0x5000)));            // far over PacketSize: E01
            readUntil(raw.getInputStream(), frame("E01"));
            raw.setSoLinger(true, 0);
            raw.close();                                           // RST: "Connection reset by peer" at the stub
            // The machine stays where it was (stopped at _start); a real gdb attaches and lets it finish.
            List<String> c = List.of("set confirm off", "file " + image, "target remote 127.0.0.1:" + port, "p $pc",
                    "continue");
            String out = "";
            for (int i = 0; i < 100; i++) {   // the stub notices the reset asynchronously; until then: refused
                try (Gdb gdb = Gdb.start(c)) {
                    out = gdb.finish(GDB_S);
                }
                if (!out.contains("another gdb is already attached")) {
                    break;
                }
                Thread.sleep(50);
            }
            assertTrue(Pattern.compile("\\$1 = \\(void \\(\\*\\)\\(\\)\\) 0x[0-9a-f]+ <_start>").matcher(out).find(), out);
            assertTrue(out.contains("[Inferior 1 (Remote target) exited with code 03]"), out);
            assertEquals(3, guest.awaitExit(BOOT_S), guest.stderr());
            assertEquals("gd_counter=7\n", guest.stdout());
            assertEquals(1, guest.stderr().lines().count(), "only the listening line\n" + guest.stderr());
        } finally {
            Logger.getLogger("").removeHandler(julHandler);
            System.setErr(savedErr);
        }
        assertEquals("", jvmErr.toString(StandardCharsets.UTF_8), "nothing on the process's stderr");
        synchronized (jul) {
            assertTrue(jul.isEmpty(), () -> "java.util.logging records: "
                    + jul.stream().map(r -> r.getLoggerName() + ": " + r.getMessage()).toList());
        }
    }

    /** {@code $payload#checksum}. */
    private static String frame(String payload) {
        int sum = 0;
        for (char ch : payload.toCharArray()) {
            sum += ch;
        }
        return String.format("$%s#%02x", payload, sum & 0xff);
    }

    private static void send(Socket s, String text) throws Exception {
        s.getOutputStream().write(text.getBytes(StandardCharsets.ISO_8859_1));
        s.getOutputStream().flush();
    }

    private static void readUntil(InputStream in, String want) throws Exception {
        StringBuilder sb = new StringBuilder();
        while (!sb.toString().endsWith(want)) {
            int b = in.read();
            if (b < 0) {
                throw new AssertionError("EOF after '" + sb + "', wanted '" + want + "'");
            }
            sb.append((char) b);
        }
    }
}
