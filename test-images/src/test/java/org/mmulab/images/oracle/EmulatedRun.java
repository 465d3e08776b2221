package org.mmulab.images.oracle;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.mmulab.emulator.debug.RegisterTraceWriter;
import org.mmulab.emulator.machine.Machine;
import org.mmulab.kernel.Kernel;
import org.mmulab.kernel.KernelConfig;

/**
 * Boots an image on the emulator the way {@code mmulab boot} does (Machine + Kernel), with argv[0]
 * = the image path as given, so that a trace can be compared with the native tracer's.
 */
public final class EmulatedRun {
    public static final long RAM = 256L << 20;

    public final Machine machine;
    public final Kernel kernel;
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    /** The process after exec, before its first instruction. */
    public EmulatedRun(Path image, List<String> args, List<String> env) throws Exception {
        machine = new Machine(RAM, 1);
        kernel = new Kernel(machine, new KernelConfig(new ByteArrayInputStream(new byte[0]), out, err));
        List<String> argv = new ArrayList<>();
        argv.add(image.toString());
        argv.addAll(args);
        kernel.exec(Files.readAllBytes(image), image.toString(), argv, env);
    }

    /** What a run produced; {@code crash} is a Java exception that escaped the emulator (a bug), or null. */
    public record Outcome(int status, byte[] stdout, String stderr, String crash, long records) {
    }

    /** Runs to exit (or {@code maxRecords} instructions) writing the register trace to {@code trace}. */
    public Outcome runTraced(Path trace, long maxRecords) throws IOException {
        int status = -1;
        String crash = null;
        long records;
        try (RegisterTraceWriter w = new RegisterTraceWriter(trace)) {
            w.begin(machine.vcpu(0));
            w.setMaxRecords(maxRecords);
            machine.vcpu(0).setTrace(w);
            try {
                status = kernel.run();
                w.finish(status);
            } catch (RuntimeException | StackOverflowError e) {
                StringWriter sw = new StringWriter();
                e.printStackTrace(new PrintWriter(sw));
                crash = sw.toString();
            }
            records = w.records();
        }
        return new Outcome(status, out.toByteArray(), err.toString(java.nio.charset.StandardCharsets.UTF_8), crash, records);
    }
}
