package org.mmulab.images;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The x87 image built with -m32, against the native x86_64 recording. The image is all inline x87
 * asm whose output does not depend on the architecture (every printed bit is architectural, and the
 * i386 and x86_64 builds execute the same x87 instructions on the same operands), so the x86_64
 * native run is the reference for the i386 build too; this host cannot run i386 binaries natively
 * (no IA32 emulation), which is why images.tsv lists x87 for x86_64 only. Runs under PAE and, in
 * compatibility mode, under 4-level paging, like the i386 images of the suite.
 */
class X87ImageTest {
    @ParameterizedTest(name = "i386 x87 {0} {1}")
    @CsvSource({"pae,x87,-", "4level,x87,-", "pae,x87@sigfpe,sigfpe", "4level,x87@sigfpe,sigfpe"})
    void i386BuildMatchesTheNativeX86_64Run(String paging, String name, String arg) throws IOException {
        List<String> args = new ArrayList<>(List.of("boot", "--clean-env", "--paging", paging,
                Images.image("i386", "x87").toString()));
        if (!arg.equals("-")) {
            args.add(arg);
        }
        MmulabRun run = MmulabRun.execute(args);
        assertFalse(run.err().contains("internal error"), run.err());
        byte[] expected = Files.readAllBytes(Images.expected("x86_64", name, "stdout"));
        if (!java.util.Arrays.equals(expected, run.outBytes())) {
            throw new AssertionError("stdout differs from the native x86_64 run\n"
                    + ImageSuiteTest.diff(expected, run.outBytes()));
        }
        int status = Integer.parseInt(Files.readString(Images.expected("x86_64", name, "status")).trim());
        assertEquals(status, run.status());
    }
}
