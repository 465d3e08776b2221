package org.mmulab.images;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Dynamically linked images (bin/dynamic/NAME-musl-dyn: musl PIEs whose PT_INTERP is the host's
 * /lib/ld-musl-x86_64.so.1, built and recorded natively by build.sh): exec maps the program at
 * ELF_ET_DYN_BASE and the interpreter read through the VFS, musl's loader maps libc.so with mmap, and
 * the output matches the native run's; libc_pipeline execs itself (/proc/self/exe), so execve of a
 * dynamic program is covered too. Skipped (with the reason) on a host without musl's loader.
 */
class DynamicImageTest {
    static final Path MUSL_LOADER = Path.of("/lib/ld-musl-x86_64.so.1");

    static Stream<String> images() throws IOException {
        try (Stream<Path> s = Files.list(Images.moduleDir().resolve("bin/dynamic"))) {
            return s.map(p -> p.getFileName().toString()).sorted().toList().stream();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("images")
    void bootsAsNatively(String name) throws IOException {
        assumeTrue(Files.isExecutable(MUSL_LOADER), "the host has no " + MUSL_LOADER + " (Debian package musl)");
        Path image = Images.moduleDir().resolve("bin/dynamic").resolve(name);
        MmulabRun run = MmulabRun.execute(List.of("boot", "--clean-env", image.toString()));
        assertFalse(run.err().contains("internal error"), run.err());
        Path exp = Images.moduleDir().resolve("expected/dynamic");
        assertEquals(Integer.parseInt(Files.readString(exp.resolve(name + ".status")).trim()), run.status(), run.err());
        assertArrayEquals(Files.readAllBytes(exp.resolve(name + ".stdout")), run.outBytes(), run.out());
    }
}
