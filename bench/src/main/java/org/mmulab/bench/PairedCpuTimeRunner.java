package org.mmulab.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * {@link CpuTimeRunner}'s operations for two or more benchmark jars (say main's and a branch's) in one JVM, their
 * rounds interleaved, so that every jar is timed under the same host load, minute by minute: on a shared host
 * the load drifts between two JVM runs more than many changes are worth. Each jar is loaded by a class loader
 * of its own (its own classes, profiles and compiled code) and timed through its own {@code CpuTimeRunner}
 * loop. Prints per operation and jar the best and the median round in thread CPU ns/op.
 *
 * <pre>java -cp bench/target/benchmarks.jar org.mmulab.bench.PairedCpuTimeRunner rounds ops name,name... a.jar b.jar...</pre>
 *
 * What it cannot remove: the same code measures differently from one JVM run to the next and even between two
 * copies of one jar timed here side by side (their own heap objects and compiled code): an {@code stlbHit} of one
 * build ranged 20-34 ns over JVM runs on a quiet 2-core Zen 5 VM, and two copies of one jar in one run differed by
 * up to 5 ns on {@code stlbHit} and 25 ns on {@code walkNoPscHit}. So compare several runs, not one, and a busy
 * sibling vCPU roughly doubles every figure: look at the best rounds.
 *
 * <p>The operations named also matter: they run one after the other in each jar's JVM state, and {@code Mmu.translate}
 * is compiled once, with the profile of the operations before. {@code supervisorTlbHit} timed alone measured 6.2 ns
 * on the stlb3 branch (main 8.0-9.0), timed after {@code tlbHit} or {@code stlbHit} 7.6-11 ns (main 8.7-11) on the
 * same afternoon; {@code stlbHitArrays} timed after {@code strideRead64} (whose bench maps 96 MiB) 15-17 ns, without
 * it 10-11 ns. Compare jars on one list of operations, and time the operation of interest alone as well.
 */
public final class PairedCpuTimeRunner {
    private PairedCpuTimeRunner() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 4) {
            System.err.println("usage: PairedCpuTimeRunner rounds ops name,name... a.jar b.jar...");
            System.exit(2);
        }
        int rounds = Integer.parseInt(args[0]);
        long ops = Long.parseLong(args[1]);
        List<String> names = List.of(args[2].split(","));
        int jars = args.length - 3;
        Method[] run = new Method[jars];
        Class<?>[] bench = new Class<?>[jars];
        for (int j = 0; j < jars; j++) {
            URL url = Path.of(args[3 + j]).toUri().toURL();
            ClassLoader loader = new URLClassLoader(new URL[] {url}, ClassLoader.getPlatformClassLoader());
            bench[j] = loader.loadClass(TranslateBench.class.getName());
            run[j] = loader.loadClass(CpuTimeRunner.class.getName()).getDeclaredMethod("run", int.class, bench[j], long.class);
            run[j].setAccessible(true);
        }
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        System.out.printf("%-16s %s   (thread CPU ns/op: best (median) of %d rounds of %d ops)%n", "operation",
                String.join("  ", Arrays.asList(args).subList(3, args.length)), rounds, ops);
        for (int which = 0; which < CpuTimeRunner.NAMES.length; which++) {
            if (!names.contains(CpuTimeRunner.NAMES[which])) {
                continue;
            }
            long n = CpuTimeRunner.opsOf(which, ops);
            Object[] b = new Object[jars];
            for (int j = 0; j < jars; j++) {
                b[j] = bench[j].getConstructor().newInstance();
                bench[j].getMethod("setUp").invoke(b[j]);
                run[j].invoke(null, which, b[j], n); // warm-up
                run[j].invoke(null, which, b[j], n);
            }
            double[][] r = new double[jars][rounds];
            for (int k = 0; k < rounds; k++) {
                for (int i = 0; i < jars; i++) {
                    int j = (i + k) % jars; // which jar goes first changes every round
                    long t0 = mx.getCurrentThreadCpuTime();
                    run[j].invoke(null, which, b[j], n);
                    r[j][k] = (double) (mx.getCurrentThreadCpuTime() - t0) / n;
                }
            }
            StringBuilder line = new StringBuilder(String.format("%-16s", CpuTimeRunner.NAMES[which]));
            for (double[] x : r) {
                Arrays.sort(x);
                line.append(String.format(" %8.2f (%7.2f)", x[0], x[rounds / 2]));
            }
            System.out.println(line);
        }
    }
}
