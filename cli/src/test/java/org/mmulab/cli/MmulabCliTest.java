package org.mmulab.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import picocli.CommandLine;

/** The command line as a user meets it: usage errors, bad images, argument pass-through, sizes. */
class MmulabCliTest {
    @TempDir
    Path tmp;

    private static CliRun run(String... args) {
        return CliRun.run(args);
    }

    @Test
    void helpAndVersionSucceed() {
        CliRun r = run("--help");
        assertEquals(0, r.status());
        assertTrue(r.out().contains("boot"), r.out());
        CliRun b = run("boot", "--help");
        assertEquals(0, b.status());
        assertTrue(b.out().contains("--mem"), b.out());
        assertEquals(0, run("--version").status());
    }

    /**
     * The command line registers only the subcommand its first argument names (or all of them when it names none):
     * help, help of a subcommand and a mistyped command read as they did with every subcommand registered.
     */
    @Test
    void aCommandLineOfOneSubcommandHelpsAndFailsAsTheFullOne() {
        String top = run("--help").out();
        for (String name : List.of("boot", "bench", "explore")) {
            assertTrue(top.contains("  " + name + " "), top);
            Mmulab.Factory factory = new Mmulab.Factory(System.in, System.out, System.err);
            CommandLine full = new CommandLine(new Mmulab(), factory);
            Mmulab.addSubcommands(full, factory, new String[0]);
            CommandLine one = new CommandLine(new Mmulab(), factory);
            Mmulab.addSubcommands(one, factory, new String[] {name, "--help"});
            assertEquals(List.of(name), List.copyOf(one.getSubcommands().keySet()));
            assertEquals(full.getSubcommands().get(name).getUsageMessage(), one.getSubcommands().get(name).getUsageMessage());
            assertEquals(0, run(name, "--help").status());
        }
        CliRun typo = run("bot", "x");
        assertEquals(2, typo.status());
        assertEquals("mmulab: Unmatched arguments from index 0: 'bot', 'x' (see 'mmulab --help')", typo.err().strip());
    }

    /** picocli prints an option's value as it parses; the CPU model option reads as the name the user gave. */
    @Test
    void theCpuModelOptionReadsAsItsPresetName() {
        assertEquals("zen5", CpuModelOption.parse("zen5").toString());
        assertEquals(CpuModelOption.DEFAULT, CpuModelOption.parse(CpuModelOption.DEFAULT).toString());
    }

    @Test
    void usageErrorsExitTwoWithAMessage() {
        CliRun noCmd = run();
        assertEquals(2, noCmd.status());
        assertTrue(noCmd.err().contains("a command is required"), noCmd.err());
        CliRun noImage = run("boot");
        assertEquals(2, noImage.status());
        assertTrue(noImage.err().contains("Missing required parameter: 'IMAGE'"), noImage.err());
        assertEquals(2, run("boot", "--no-such-option", "x").status());
        CliRun badMem = run("boot", "--mem", "lots", "x");
        assertEquals(2, badMem.status());
        assertTrue(badMem.err().contains("is not a size"), badMem.err());
        CliRun badEnv = run("boot", "--env", "NOEQUALS", tmp.resolve("x").toString());
        assertEquals(2, badEnv.status());
    }

    @Test
    void badImagesGetOneLineAndStatusTwo() throws IOException {
        Path missing = tmp.resolve("missing");
        Path text = Files.writeString(tmp.resolve("text"), "#!/bin/sh\necho hi\n");
        Path truncated = Files.write(tmp.resolve("trunc"), new byte[] {0x7f, 'E', 'L', 'F', 2, 1, 1});
        byte[] arm = new byte[64];
        arm[0] = 0x7f;
        arm[1] = 'E';
        arm[2] = 'L';
        arm[3] = 'F';
        arm[4] = 2;
        arm[5] = 1;
        arm[6] = 1;
        arm[16] = 2; // ET_EXEC
        arm[18] = (byte) 183; // EM_AARCH64
        arm[20] = 1;
        Path aarch64 = Files.write(tmp.resolve("arm"), arm);
        for (Path p : List.of(text, truncated, aarch64)) {
            p.toFile().setExecutable(true);
        }
        for (Path p : List.of(missing, text, truncated, aarch64)) {
            CliRun r = run("boot", p.toString());
            assertEquals(2, r.status(), p + ": " + r.err());
            String[] lines = r.err().strip().split("\n");
            assertEquals(1, lines.length, "one line: " + r.err());
            assertTrue(lines[0].startsWith("mmulab: " + p), r.err());
            assertFalse(r.err().contains("Exception"), r.err());
        }
    }

    @Test
    void everythingAfterTheImageGoesToTheGuest() {
        BootCommand boot = new BootCommand(System.in, System.out, System.err);
        CommandLine cl = new CommandLine(boot);
        cl.setStopAtPositional(true);
        cl.parseArgs("--mem", "64M", "--stats", "prog", "-t", "2", "--mem", "5", "--help");
        assertEquals("prog", boot.image);
        assertEquals(List.of("-t", "2", "--mem", "5", "--help"), boot.guestArgs);
        assertEquals(64L << 20, boot.memBytes);
        assertTrue(boot.stats);
    }

    @Test
    void memorySizes() {
        assertEquals(512L << 20, MemorySize.parse("512M"));
        assertEquals(2L << 30, MemorySize.parse("2g"));
        assertEquals(64L << 20, MemorySize.parse("65536K"));
        assertEquals(64L << 20, MemorySize.parse("64MB"));
        assertEquals(8L << 20, MemorySize.parse(Long.toString(8L << 20)));
        assertThrows(CommandLine.TypeConversionException.class, () -> MemorySize.parse("1M"));
        assertThrows(CommandLine.TypeConversionException.class, () -> MemorySize.parse("-5M"));
        assertThrows(CommandLine.TypeConversionException.class, () -> MemorySize.parse("999999999G"));
        assertThrows(CommandLine.TypeConversionException.class, () -> MemorySize.parse("M"));
    }
}
