package org.mmulab.images;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;

/**
 * An image booted from a host directory the guest cannot name: below /tmp (the guest's /tmp is its own
 * tmpfs, so the host's /tmp/... is shadowed — a clean clone in /tmp hit this). libc_pipeline execs
 * /proc/self/exe; that link must jump to the executed file (mm->exe_file, nd_jump_link) rather than
 * re-walk its path, which names nothing in the guest. Before the fix every exec gave 126 (ENOENT).
 */
class ShadowedImageTest {
    @Test
    void execOfProcSelfExeRunsTheBootedImageFromAShadowedDirectory() throws IOException {
        Path dir = Files.createTempDirectory(Path.of("/tmp"), "mmulab-shadowed");
        try {
            Path image = dir.resolve("libc_pipeline-musl");
            Files.copy(Images.moduleDir().resolve("bin/x86_64/libc_pipeline-musl"), image);
            image.toFile().setExecutable(true);
            MmulabRun run = MmulabRun.execute(List.of("boot", "--clean-env", image.toString()));
            Path exp = Images.moduleDir().resolve("expected/x86_64");
            assertEquals(0, run.status(), run.err());
            assertArrayEquals(Files.readAllBytes(exp.resolve("libc_pipeline-musl.stdout")), run.outBytes(), run.out());
        } finally {
            try (var s = Files.walk(dir)) {
                s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }
}
