package org.mmulab.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * {@code mmulab bench --native}: runs one workload image on the host itself, as a subprocess with the
 * same arguments (the images are static x86_64 Linux executables that need nothing but the kernel), and
 * collects the RESULT lines it prints, filed under the workload's label like the emulated run's.
 */
final class NativeRun {
    /** A native run that takes longer than this is killed and reported. */
    static final long TIMEOUT_MINUTES = 30;

    private NativeRun() {
    }

    /** Why this host cannot run the x86_64 images, or null when it can. */
    static String unsupportedHost() {
        String os = System.getProperty("os.name", "");
        String arch = System.getProperty("os.arch", "");
        if (!os.toLowerCase(Locale.ROOT).contains("linux") || !(arch.equals("amd64") || arch.equals("x86_64"))) {
            return "the images are x86_64 Linux executables and this host is " + os + "/" + arch;
        }
        return null;
    }

    /**
     * Runs {@code image args} natively {@code repeat} times and appends, per figure, the best of the runs to
     * {@code results}: the least time per operation, the highest rate (MIPS), other figures from the first
     * run. A shared host (other processes on its cores) only ever makes a run slower, so the best run is the
     * one closest to what the CPU does. Returns null on success, else a one-line reason.
     */
    static String run(Path image, List<String> args, BenchCommand.Workload w, int repeat, List<BenchResults.Result> results,
            PrintStream err) {
        java.util.Map<String, BenchResults.Result> best = new java.util.LinkedHashMap<>();
        for (int i = 0; i < repeat; i++) {
            List<BenchResults.Result> one = new ArrayList<>();
            String failure = run(image, args, w, one, err);
            if (failure != null) {
                return failure;
            }
            for (BenchResults.Result r : one) {
                best.merge(r.name(), r, NativeRun::better);
            }
        }
        results.addAll(best.values());
        return null;
    }

    private static BenchResults.Result better(BenchResults.Result a, BenchResults.Result b) {
        if (a.figure().matches("(ns|us|cycles)_per_.*")) {
            return b.value() < a.value() ? b : a;
        }
        if (a.unit().equals("MIPS") || a.unit().equals("MHz")) {
            return b.value() > a.value() ? b : a;
        }
        return a;
    }

    /** One native run of {@code image args}; appends its results; null on success, else a one-line reason. */
    static String run(Path image, List<String> args, BenchCommand.Workload w, List<BenchResults.Result> results, PrintStream err) {
        String unsupported = unsupportedHost();
        if (unsupported != null) {
            return unsupported;
        }
        List<String> cmd = new ArrayList<>();
        cmd.add(image.toAbsolutePath().toString());
        cmd.addAll(args);
        err.printf("mmulab bench:       %s natively ... ", w.label());
        err.flush();
        long t0 = System.nanoTime();
        Process p;
        try {
            p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        } catch (IOException e) {
            err.println("failed");
            return "cannot start " + image + ": " + e.getMessage();
        }
        String text;
        try (InputStream in = p.getInputStream()) {
            p.getOutputStream().close();
            text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(TIMEOUT_MINUTES, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                err.println("failed");
                return "still running after " + TIMEOUT_MINUTES + " minutes: killed";
            }
        } catch (IOException e) {
            p.destroyForcibly();
            err.println("failed");
            return "reading its output: " + e.getMessage();
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            return "interrupted";
        }
        if (p.exitValue() != 0) {
            err.println("failed");
            return "exited with status " + p.exitValue();
        }
        int before = results.size();
        for (String line : text.split("\n")) {
            BenchResults.Result r = BenchResults.parseResult(line);
            if (r != null) {
                results.add(w.relabel(r));
            }
        }
        if (results.size() == before) {
            err.println("failed");
            return "printed no RESULT line";
        }
        err.printf(Locale.ROOT, "%.2f s%n", (System.nanoTime() - t0) / 1e9);
        return null;
    }
}
