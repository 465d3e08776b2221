package org.mmulab.images.gdb;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The real gdb in batch mode ({@code gdb -batch -nx -ex ...}), its output collected as it comes. */
final class Gdb implements AutoCloseable {
    private final Process process;
    private final StringBuffer output = new StringBuffer();
    private final Thread reader;
    private final String commandLine;

    static boolean installed() {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            if (new File(dir, "gdb").canExecute()) {
                return true;
            }
        }
        return false;
    }

    /** Starts {@code gdb -batch -nx} with one {@code -ex} per command. */
    static Gdb start(List<String> commands) throws IOException {
        return new Gdb(commands);
    }

    private Gdb(List<String> commands) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("gdb", "-batch", "-nx"));
        for (String c : commands) {
            cmd.add("-ex");
            cmd.add(c);
        }
        commandLine = String.join(" | ", commands);
        process = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        process.getOutputStream().close();
        reader = new Thread(() -> {
            byte[] buf = new byte[4096];
            try (InputStream in = process.getInputStream()) {
                for (int n; (n = in.read(buf)) > 0; ) {
                    output.append(new String(buf, 0, n, StandardCharsets.UTF_8));
                }
            } catch (IOException ignored) {
                // gdb went away
            }
        }, "gdb-output");
        reader.setDaemon(true);
        reader.start();
    }

    /** Waits (bounded) until the output contains {@code text}. */
    void awaitOutput(String text, long timeoutS) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutS);
        while (output.indexOf(text) < 0) {
            if (System.nanoTime() > deadline || !process.isAlive() && !reader.isAlive()) {
                throw new AssertionError("gdb never printed '" + text + "'; output so far:\n" + output);
            }
            Thread.sleep(10);
        }
    }

    /** Sends SIGINT to gdb, as Ctrl-C at its terminal does. */
    void interrupt() throws IOException, InterruptedException {
        Process kill = new ProcessBuilder("kill", "-INT", Long.toString(process.pid())).inheritIO().start();
        if (kill.waitFor() != 0) {
            throw new AssertionError("kill -INT failed");
        }
    }

    /** Waits (bounded) for gdb to exit and returns everything it printed. */
    String finish(long timeoutS) throws InterruptedException {
        if (!process.waitFor(timeoutS, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("gdb did not exit within " + timeoutS + " s; output:\n" + output);
        }
        reader.join(TimeUnit.SECONDS.toMillis(timeoutS));
        String text = output.toString();
        System.out.println("---- gdb " + commandLine + "\n" + text);
        return text;
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            process.destroyForcibly();
        }
    }
}
