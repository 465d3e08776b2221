package org.mmulab.images.gdb;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.condition.EnabledIf;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.mmulab.images.Images;

/**
 * The real gdb (13, {@code gdb -batch -nx}) against {@code mmulab boot --gdb 127.0.0.1:0 [--wait]} of the
 * {@code gdbdemo} image, as a user would debug it: connect, registers, memory, a breakpoint at a symbol,
 * {@code stepi}, a watchpoint on a global, the MMU and kernel monitor commands, Ctrl-C on a spinning guest,
 * attaching to a guest that already runs, {@code detach} (the guest finishes with its own status) and
 * {@code kill}.
 *
 * <p>One run per architecture variant: x86_64 (4-level paging, amd64 registers) and i386 under PAE (i386
 * registers); a variant whose {@code bin/<arch>/gdbdemo} is not built is skipped. Loopback only, ephemeral port.
 */
@EnabledIf("gdbInstalled")
class GdbEndToEndTest {
    private static final long BOOT_S = 30;
    private static final long GDB_S = 60;

    /** What differs between the variants. */
    record Variant(String arch, String paging, String pcName, int cs, int ss) {
        @Override
        public String toString() {
            return arch + (paging == null ? "" : " " + paging);
        }

        Path image() {
            return Images.image(arch, "gdbdemo");
        }
    }

    static boolean gdbInstalled() {
        return Gdb.installed();
    }

    static Stream<Variant> variants() {
        return Stream.of(new Variant("x86_64", null, "rip", 0x33, 0x2b), new Variant("i386", "pae", "eip", 0x23, 0x2b))
                .filter(v -> Images.BOOTABLE_ARCHES.contains(v.arch()));
    }

    private static Path imageOf(Variant v) {
        Path image = v.image();
        Assumptions.assumeTrue(Files.isRegularFile(image), image + " is not built (test-images/build.sh --arch " + v.arch() + ")");
        return image;
    }

    private static List<String> connect(Path image, int port) {
        List<String> c = new ArrayList<>();
        c.add("set confirm off");
        c.add("set pagination off");
        c.add("file " + image);
        c.add("target remote 127.0.0.1:" + port);
        return c;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("variants")
    void breakStepWatchMonitorAndDetach(Variant v) throws Exception {
        Path image = imageOf(v);
        try (BootedGuest guest = BootedGuest.boot(image.toString(), v.paging(), true)) {
            List<String> c = connect(image, guest.port(BOOT_S));
            c.addAll(List.of(
                    "p $pc",
                    "info registers " + v.pcName() + " eflags cs ss",
                    "x/1dw $sp",
                    "break gd_tick",
                    "continue",
                    "p (long)$pc - (long)&gd_tick",
                    "stepi",
                    "p (long)$pc - (long)&gd_tick",
                    "x/1dw &gd_counter",
                    "delete",
                    "watch *(long *)&gd_counter",
                    "continue",
                    "x/1dw &gd_counter",
                    "delete",
                    "monitor walk $pc",
                    "monitor tlb",
                    "monitor vmas",
                    "monitor ptdump",
                    "info threads",
                    "detach"));
            String out;
            try (Gdb gdb = Gdb.start(c)) {
                out = gdb.finish(GDB_S);
            }
            // Held at the first instruction (--wait): _start.
            assertTrue(out.contains("<_start>"), out);
            assertTrue(Pattern.compile(v.pcName() + " +0x[0-9a-f]+ +0x[0-9a-f]+ <_start>").matcher(out).find(), out);
            assertTrue(Pattern.compile("cs +0x" + Integer.toHexString(v.cs()) + " ").matcher(out).find(), out);
            assertTrue(Pattern.compile("ss +0x" + Integer.toHexString(v.ss()) + " ").matcher(out).find(), out);
            assertTrue(Pattern.compile("eflags +0x[0-9a-f]+ +\\[ IF \\]").matcher(out).find(), out);
            assertTrue(Pattern.compile("0x[0-9a-f]+:\\s+1\\n").matcher(out).find(), "argc = 1 at the stack pointer\n" + out);
            // The breakpoint at a symbol: stopped at the function, before its first instruction ran.
            assertTrue(Pattern.compile("Breakpoint 1, 0x[0-9a-f]+ in gd_tick \\(\\)").matcher(out).find(), out);
            assertTrue(out.contains("$2 = 0\n"), out);
            assertTrue(out.contains("$3 = 4\n"), "stepi over endbr: one 4-byte instruction\n" + out);
            assertTrue(Pattern.compile("<gd_counter>:\\s+1\\n").matcher(out).find(), out);
            // The watchpoint triggers after the write: gdb shows both values and reads the new one.
            assertTrue(out.contains("Hardware watchpoint 2: *(long *)&gd_counter"), out);
            assertTrue(out.contains("Old value = 1\nNew value = 2\n"), out);
            assertTrue(Pattern.compile("<gd_counter>:\\s+2\\n").matcher(out).find(), out);
            // MMU and kernel monitor commands.
            assertTrue(out.contains("PTE") && out.contains("=> PA 0x"), out);
            assertTrue(out.contains("entries"), out);
            assertTrue(out.contains("[stack]") && out.contains("gdbdemo") && out.contains("r-xp"), out);
            assertTrue(Pattern.compile("page tables of gdbdemo at 0x[0-9a-f]+ \\(" + (v.paging() == null ? 4 : 3)
                    + " levels\\)").matcher(out).find(), out);
            assertTrue(out.contains("Thread 1 (vCPU 0)"), out);
            assertTrue(out.contains("[Inferior 1 (Remote target) detached]"), out);
            // Detached with no breakpoints left: the guest finishes on its own, with its own status.
            assertEquals(3, guest.awaitExit(BOOT_S), guest.stderr());
            assertEquals("gd_counter=7\n", guest.stdout());
            assertFalse(guest.stderr().contains("internal error"), guest.stderr());
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("variants")
    void attachToARunningGuestCtrlCThenLetItFinish(Variant v) throws Exception {
        Path image = imageOf(v);
        // No --wait: the guest spins in gd_spin_loop until a debugger clears gd_spin.
        try (BootedGuest guest = BootedGuest.boot(image.toString(), v.paging(), false, "spin")) {
            List<String> c = connect(image, guest.port(BOOT_S));   // attaching stops it
            c.addAll(List.of(
                    "p 1000 + 1",
                    "continue",
                    "p 2000 + 2",
                    "set var *(int *)&gd_spin = 0",
                    "continue"));
            String out;
            try (Gdb gdb = Gdb.start(c)) {
                gdb.awaitOutput("$1 = 1001", GDB_S);   // the next command is continue
                guest.awaitGuestRunning(GDB_S);
                gdb.interrupt();
                out = gdb.finish(GDB_S);
            }
            assertTrue(out.contains("received signal SIGINT"), out);
            assertTrue(Pattern.compile("0x[0-9a-f]+ in gd_spin_loop \\(\\)").matcher(out).find(), out);
            assertTrue(out.contains("$2 = 2002"), out);
            assertTrue(out.contains("exited with code 03]"), out);
            assertEquals(3, guest.awaitExit(BOOT_S), guest.stderr());
            assertEquals("gd_counter=7\n", guest.stdout());
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("variants")
    void killStopsTheGuestAndMmulabExits(Variant v) throws Exception {
        Path image = imageOf(v);
        try (BootedGuest guest = BootedGuest.boot(image.toString(), v.paging(), true)) {
            List<String> c = connect(image, guest.port(BOOT_S));
            c.addAll(List.of("break gd_tick", "continue", "kill"));
            String out;
            try (Gdb gdb = Gdb.start(c)) {
                out = gdb.finish(GDB_S);
            }
            assertTrue(out.contains("in gd_tick ()"), out);
            assertTrue(out.contains("[Inferior 1 (Remote target) killed]"), out);
            assertEquals(137, guest.awaitExit(BOOT_S), guest.stderr());
            assertTrue(guest.stderr().contains("mmulab: guest killed by gdb"), guest.stderr());
            assertEquals("", guest.stdout(), "killed before it printed");
        }
    }
}
