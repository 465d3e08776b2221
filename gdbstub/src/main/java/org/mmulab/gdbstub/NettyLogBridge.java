package org.mmulab.gdbstub;

import io.netty.util.internal.logging.AbstractInternalLogger;
import io.netty.util.internal.logging.InternalLogger;
import io.netty.util.internal.logging.InternalLoggerFactory;
import org.mmulab.gdbstub.protocol.StubLog;

/**
 * Netty's own diagnostics ({@link InternalLoggerFactory}: without SLF4J or Log4j on the class path Netty would use
 * java.util.logging, which prints timestamped lines and stack traces on stderr, the guest's stream) go to the
 * stub's {@link StubLog} instead: warnings and errors are kept, debug chatter is dropped. Installed once, before the
 * first Netty class asks for its logger; the sink can change later (the last server started wins).
 */
final class NettyLogBridge extends InternalLoggerFactory {
    private static volatile StubLog sink = StubLog.SILENT;

    static {
        InternalLoggerFactory.setDefaultFactory(new NettyLogBridge());
    }

    private NettyLogBridge() {
    }

    /** Routes Netty's warnings and errors to {@code log} (and makes sure Netty logs nowhere else). */
    static void routeTo(StubLog log) {
        sink = log;
    }

    @Override
    protected InternalLogger newInstance(String name) {
        return new Logger(name);
    }

    /** Netty's "{}" placeholders filled in order; a trailing Throwable argument becomes the cause. */
    static void emit(String name, String format, Object... args) {
        Throwable cause = null;
        int n = args.length;
        if (n > 0 && args[n - 1] instanceof Throwable t) {
            cause = t;
        }
        StringBuilder sb = new StringBuilder(name).append(": ");
        int from = 0;
        int a = 0;
        String f = String.valueOf(format);
        for (int i = f.indexOf("{}"); i >= 0 && a < n; i = f.indexOf("{}", from)) {
            sb.append(f, from, i).append(args[a++]);
            from = i + 2;
        }
        sb.append(f.substring(from));
        sink.log(sb.toString(), cause);
    }

    private static final class Logger extends AbstractInternalLogger {
        private static final long serialVersionUID = 1L;

        Logger(String name) {
            super(name);
        }

        private void log(String format, Object... args) {
            emit(name(), format, args);
        }

        // trace, debug, info: dropped.
        @Override public boolean isTraceEnabled() { return false; }
        @Override public void trace(String msg) { }
        @Override public void trace(String format, Object arg) { }
        @Override public void trace(String format, Object a, Object b) { }
        @Override public void trace(String format, Object... args) { }
        @Override public void trace(String msg, Throwable t) { }
        @Override public boolean isDebugEnabled() { return false; }
        @Override public void debug(String msg) { }
        @Override public void debug(String format, Object arg) { }
        @Override public void debug(String format, Object a, Object b) { }
        @Override public void debug(String format, Object... args) { }
        @Override public void debug(String msg, Throwable t) { }
        @Override public boolean isInfoEnabled() { return false; }
        @Override public void info(String msg) { }
        @Override public void info(String format, Object arg) { }
        @Override public void info(String format, Object a, Object b) { }
        @Override public void info(String format, Object... args) { }
        @Override public void info(String msg, Throwable t) { }

        // warn, error: to the stub log.
        @Override public boolean isWarnEnabled() { return true; }
        @Override public void warn(String msg) { log(msg); }
        @Override public void warn(String format, Object arg) { log(format, arg); }
        @Override public void warn(String format, Object a, Object b) { log(format, a, b); }
        @Override public void warn(String format, Object... args) { log(format, args); }
        @Override public void warn(String msg, Throwable t) { log(msg, t); }
        @Override public boolean isErrorEnabled() { return true; }
        @Override public void error(String msg) { log(msg); }
        @Override public void error(String format, Object arg) { log(format, arg); }
        @Override public void error(String format, Object a, Object b) { log(format, a, b); }
        @Override public void error(String format, Object... args) { log(format, args); }
        @Override public void error(String msg, Throwable t) { log(msg, t); }
    }
}
