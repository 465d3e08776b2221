package org.mmulab.images.oracle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mmulab.emulator.debug.RegisterTraceWriter;
import org.mmulab.images.Images;
import org.mmulab.images.MmulabRun;

/**
 * {@code mmulab boot --trace-regs FILE} end to end: the CLI's trace of hello, compared with a native
 * trace started from the same initial stack, matches instruction by instruction.
 */
class CliTraceRegsTest {
    @TempDir
    Path dir;

    @Test
    void cliTraceMatchesTheNativeTrace() throws Exception {
        Path image = Images.image("x86_64", "hello");
        List<String> args = List.of("x", "yz");
        // the CLI sorts the environment by name; give it in that order everywhere
        List<String> env = List.of("A_FIRST=1", "MMULAB_GREETING=cli");
        Path cliTrace = dir.resolve("cli.trace");
        MmulabRun run = MmulabRun.execute(List.of("boot", "--clean-env", "--env", env.get(0), "--env", env.get(1),
                "--trace-regs", cliTrace.toString(), image.toString(), args.get(0), args.get(1)));
        assertEquals(0, run.status(), run.err());

        // the stack the CLI's process started from: same kernel configuration as the CLI's
        EmulatedRun sameStart = new EmulatedRun(image, image.toString(), args, env,
                org.mmulab.kernel.KernelConfig.DEFAULT_VDSO_PAGES);
        Path stack = dir.resolve("stack");
        sameStart.dumpInitialStack(stack);
        Path nativeTrace = dir.resolve("native.trace");
        Path nativeOut = dir.resolve("native.stdout");
        NativeTracer.trace(image, args, env, nativeTrace, nativeOut, 1_000_000, stack);

        try (RegisterTrace t = RegisterTrace.open(cliTrace)) {
            assertEquals(RegisterTraceWriter.PRODUCER_MMULAB, t.producer);
            assertEquals(3, t.argc);
            assertEquals(2, t.envc);
        }
        TraceComparator.Result r = new TraceComparator(ElfCode.load(image), Long.MAX_VALUE).compare(nativeTrace, cliTrace);
        assertFalse(r.diverged(), r.report());
        assertTrue(r.compared() > 1000, r.report());
        assertEquals(Files.readString(nativeOut), run.out());
    }
}
