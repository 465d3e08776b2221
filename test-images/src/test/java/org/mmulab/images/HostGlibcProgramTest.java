package org.mmulab.images;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

/**
 * The host's own dynamically linked glibc programs, booted through their PT_INTERP
 * (/lib64/ld-linux-x86-64.so.2) and compared with running the same program natively in this test.
 * glibc's loader refuses to start ("CPU ISA level is lower than required") unless CPUID reports the
 * x86-64 baseline, which includes MMX; this is the end-to-end check that mmulab's CPUID and the
 * instructions behind it are enough for it. Skipped, saying why, on a host without glibc's loader.
 */
class HostGlibcProgramTest {
    static final Path GLIBC_LOADER = Path.of("/lib64/ld-linux-x86-64.so.2");

    private static void assumeHostProgram(String program) {
        assumeTrue(Files.exists(GLIBC_LOADER), "the host has no glibc loader " + GLIBC_LOADER);
        assumeTrue(Files.isExecutable(Path.of(program)), "the host has no " + program);
    }

    /** Runs {@code cmd} natively: exit status and stdout. */
    private static MmulabRun nativeRun(List<String> cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        byte[] out = p.getInputStream().readAllBytes();
        return new MmulabRun(p.waitFor(), new String(out, StandardCharsets.UTF_8), "");
    }

    private static void bootsAsNatively(String... cmd) throws IOException, InterruptedException {
        assumeHostProgram(cmd[0]);
        List<String> args = new ArrayList<>(List.of("boot", "--clean-env"));
        args.addAll(List.of(cmd));
        MmulabRun run = MmulabRun.execute(args);
        MmulabRun host = nativeRun(List.of(cmd));
        assertFalse(run.err().contains("ISA level"), run.err());
        assertEquals(host.status(), run.status(), run.err());
        assertEquals(host.out(), run.out(), run.err());
    }

    /**
     * The program hashes its own binary: a host file the guest names the same way wherever the repository
     * lives (a repository file under the host's /tmp is shadowed by the guest's tmpfs /tmp).
     */
    @Test
    void sha256sumOfAHostFile() throws IOException, InterruptedException {
        bootsAsNatively("/usr/bin/sha256sum", "/usr/bin/sha256sum");
    }

    @Test
    void trueAndFalseExitStatuses() throws IOException, InterruptedException {
        bootsAsNatively("/bin/true");
        bootsAsNatively("/bin/false");
    }
}
