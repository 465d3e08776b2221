package org.mmulab.images.gdb;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.mmulab.cli.Mmulab;

/**
 * {@code mmulab boot --gdb 127.0.0.1:0 [--wait] IMAGE ARGS} run in-process on its own thread, as a user runs
 * it; the port the stub actually bound is read from the one line it prints on stderr.
 */
final class BootedGuest implements AutoCloseable {
    private static final Pattern LISTENING = Pattern.compile("mmulab: gdb stub listening on 127\\.0\\.0\\.1:(\\d+)");

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();
    private final Thread thread;
    private final List<String> args;
    private volatile Integer status;
    private volatile Throwable failure;

    private BootedGuest(List<String> args) {
        this.args = args;
        PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
        PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8);
        thread = new Thread(() -> {
            try {
                status = Mmulab.execute(args.toArray(String[]::new), new ByteArrayInputStream(new byte[0]), o, e);
            } catch (Throwable t) {
                failure = t;
            }
        }, "mmulab-boot");
        thread.setDaemon(true);
    }

    /** Boots {@code image} with {@code --gdb 127.0.0.1:0}, plus {@code --wait} and {@code --paging} if given. */
    static BootedGuest boot(String image, String paging, boolean waitForGdb, String... guestArgs) {
        List<String> a = new ArrayList<>(List.of("boot", "--clean-env", "--gdb", "127.0.0.1:0"));
        if (waitForGdb) {
            a.add("--wait");
        }
        if (paging != null) {
            a.add("--paging");
            a.add(paging);
        }
        a.add(image);
        a.addAll(List.of(guestArgs));
        BootedGuest g = new BootedGuest(a);
        g.thread.start();
        return g;
    }

    /** The port from the "listening on" line; waits for it (bounded). */
    int port(long timeoutS) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutS);
        while (System.nanoTime() < deadline) {
            Matcher m = LISTENING.matcher(stderr());
            if (m.find()) {
                return Integer.parseInt(m.group(1));
            }
            if (!thread.isAlive()) {
                break;
            }
            Thread.sleep(10);
        }
        throw new AssertionError("mmulab " + String.join(" ", args) + " printed no listening line; stderr:\n" + stderr());
    }

    /** Waits (bounded) for mmulab to return; its exit status. */
    int awaitExit(long timeoutS) throws InterruptedException {
        thread.join(TimeUnit.SECONDS.toMillis(timeoutS));
        if (thread.isAlive()) {
            throw new AssertionError("mmulab did not exit within " + timeoutS + " s; stderr:\n" + stderr());
        }
        if (failure != null) {
            throw new AssertionError("mmulab threw", failure);
        }
        return status;
    }

    /**
     * Waits (bounded) until the guest runs: the boot thread, which is vCPU 0's, leaves the WAITING state it
     * is in while the debugger holds the machine stopped.
     */
    void awaitGuestRunning(long timeoutS) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutS);
        while (thread.getState() != Thread.State.RUNNABLE) {
            if (System.nanoTime() > deadline || !thread.isAlive()) {
                throw new AssertionError("the guest is not running (" + thread.getState() + ")");
            }
            Thread.sleep(5);
        }
    }

    String stdout() {
        synchronized (out) {
            return out.toString(StandardCharsets.UTF_8);
        }
    }

    String stderr() {
        synchronized (err) {
            return err.toString(StandardCharsets.UTF_8);
        }
    }

    /** A guest still running at the end of a failed test: stop the JVM-wide leftovers as far as we can. */
    @Override
    public void close() {
        if (thread.isAlive()) {
            thread.interrupt();
        }
    }
}
