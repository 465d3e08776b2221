package org.mmulab.images;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import org.mmulab.cli.Mmulab;

/** One in-process {@code mmulab} command, as the suites run it: empty stdin, captured stdout and stderr. */
public record MmulabRun(int status, String out, String err) {
    public static MmulabRun execute(List<String> args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status;
        try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
                PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
            status = Mmulab.execute(args.toArray(String[]::new), new ByteArrayInputStream(new byte[0]), o, e);
        }
        return new MmulabRun(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    /** stdout as bytes (the guest's output is compared byte for byte). */
    public byte[] outBytes() {
        return out.getBytes(StandardCharsets.UTF_8);
    }
}
