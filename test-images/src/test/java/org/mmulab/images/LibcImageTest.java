package org.mmulab.images;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.io.IOException;
import java.nio.file.Files;
import java.util.List;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The static glibc i386 build of src/libc/libc_stdio.c (gcc -m32 -static: TLS through set_thread_area
 * and %gs, int 0x80 startup calls, ia32 signal frames on a sigaltstack) against the native x86_64
 * recording: the program prints nothing architecture-dependent, and this host cannot run i386 binaries
 * natively (no IA32 emulation), so images.tsv lists the libc images for x86_64 only. Runs under PAE
 * and, in compatibility mode, under 4-level paging.
 */
class LibcImageTest {
    @ParameterizedTest(name = "i386 glibc libc_stdio {0}")
    @CsvSource({"pae", "4level"})
    void i386GlibcBuildMatchesTheNativeX86_64Run(String paging) throws IOException {
        MmulabRun run = MmulabRun.execute(List.of("boot", "--clean-env", "--env", "LIBC_GREETING=hello", "--paging", paging,
                Images.image("i386", "libc_stdio-glibc").toString(), "a", "bc"));
        assertFalse(run.err().contains("internal error"), run.err());
        byte[] expected = Files.readAllBytes(Images.expected("x86_64", "libc_stdio-glibc", "stdout"));
        if (!java.util.Arrays.equals(expected, run.outBytes())) {
            throw new AssertionError("stdout differs from the native x86_64 run\n" + ImageSuiteTest.diff(expected, run.outBytes()));
        }
        assertEquals(3, run.status());
    }
}
