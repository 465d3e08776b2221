package org.mmulab.gdbstub;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;

import org.mmulab.gdbstub.protocol.StubLog;

/**
 * The stub's diagnostics in a file ({@code mmulab boot --gdb-log FILE}): one timestamped line per event, an
 * exception's stack trace indented below it, flushed as written so the file can be followed with {@code tail -f}.
 * Opened (truncated) up front so that a bad path is a usage error, not a surprise mid-session. A write that fails
 * later is dropped: diagnostics never disturb the guest.
 */
public final class StubLogFile implements StubLog, AutoCloseable {
    private final Writer out;
    private boolean broken;

    private StubLogFile(Writer out) {
        this.out = out;
    }

    /** Creates or truncates {@code file}. */
    public static StubLogFile open(Path file) throws IOException {
        return new StubLogFile(Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE));
    }

    @Override
    public synchronized void log(String message, Throwable cause) {
        if (broken) {
            return;
        }
        StringBuilder sb = new StringBuilder(message.length() + 40);
        sb.append(Instant.now()).append(' ').append(message).append('\n');
        if (cause != null) {
            StringWriter trace = new StringWriter();
            cause.printStackTrace(new PrintWriter(trace));
            trace.toString().lines().forEach(l -> sb.append("    ").append(l).append('\n'));
        }
        try {
            out.write(sb.toString());
            out.flush();
        } catch (IOException e) {
            broken = true;
        }
    }

    @Override
    public synchronized void close() {
        try {
            out.close();
        } catch (IOException e) {
            broken = true;
        }
    }
}
