package org.mmulab.images.oracle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Assumptions;
import org.mmulab.images.Images;

/** Runs the prebuilt native tracer bin/host/regtrace; the calling test is skipped only when ptrace is not permitted. */
public final class NativeTracer {
    /** regtrace's exit status when PTRACE_TRACEME is refused (seccomp, yama, containers). */
    public static final int EXIT_NO_PTRACE = 77;

    private NativeTracer() {
    }

    /**
     * Traces {@code image} with argv = [image path as given, args...] and exactly {@code env} as its
     * environment; writes the trace to {@code trace} and the guest's stdout to {@code stdout}.
     */
    public static void trace(Path image, List<String> args, List<String> env, Path trace, Path stdout, long maxRecords)
            throws IOException, InterruptedException {
        trace(image, args, env, trace, stdout, maxRecords, null);
    }

    /**
     * As above; with {@code stackImage} non-null the child starts as a process does under mmulab:
     * from that initial stack (regtrace --stack) and without a vDSO (--no-vdso), so that stack,
     * argv/envp and mmap addresses are the same in both runs.
     */
    public static void trace(Path image, List<String> args, List<String> env, Path trace, Path stdout, long maxRecords,
            Path stackImage) throws IOException, InterruptedException {
        Path tracer = Images.regtrace();
        assertTrue(Files.isExecutable(tracer), tracer + " is missing: run test-images/build.sh");
        List<String> cmd = new ArrayList<>(List.of(tracer.toString(), "-o", trace.toString(), "--stdout",
                stdout.toString(), "-n", Long.toString(maxRecords), "--clean-env"));
        if (stackImage != null) {
            cmd.add("--no-vdso");
            cmd.add("--stack");
            cmd.add(stackImage.toString());
        }
        for (String kv : env) {
            cmd.add("--env");
            cmd.add(kv);
        }
        cmd.add(image.toString());
        cmd.addAll(args);
        Path log = trace.resolveSibling(trace.getFileName() + ".log");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        if (!p.waitFor(10, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new AssertionError("regtrace did not finish within 10 minutes: " + cmd);
        }
        String out = Files.readString(log, StandardCharsets.UTF_8);
        Assumptions.assumeFalse(p.exitValue() == EXIT_NO_PTRACE,
                () -> "skipped: ptrace is not permitted on this machine, so there is no native reference (" + out.trim() + ")");
        assertEquals(0, p.exitValue(), () -> "regtrace failed: " + cmd + "\n" + out);
    }
}
