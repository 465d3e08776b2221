package org.mmulab.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;

/**
 * {@link TranslateBench}'s operations timed in this thread's CPU time instead of wall time: on a shared,
 * loaded host (more runnable threads than cores) JMH's wall-clock figures include the time the thread
 * waited for a core, which this leaves out (cache sharing with other processes still shows). Each
 * operation is warmed up, then timed in {@code rounds} rounds of {@code ops} calls; the best round is
 * printed in ns/op, with the median.
 *
 * <pre>java -cp bench/target/benchmarks.jar org.mmulab.bench.CpuTimeRunner [rounds] [ops] [name,name...]</pre>
 * The optional third argument times only the named operations.
 */
public final class CpuTimeRunner {
    /** The operations, in the order of {@link #run}'s cases. */
    static final String[] NAMES = {"fastPathRead64", "tlbHit", "stlbHit", "walkPscHit", "walkNoPscHit", "fullWalk",
        "walkAfterInvlpg", "supervisorTlbHit", "strideRead64", "stlbHitArrays"};
    private static volatile long sink;

    private CpuTimeRunner() {
    }

    public static void main(String[] args) {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 15;
        long ops = args.length > 1 ? Long.parseLong(args[1]) : 20_000_000L;
        String[] names = NAMES;
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        System.out.printf("%-16s %12s %12s   (thread CPU time, %d rounds of %d ops)%n", "operation", "best ns/op",
                "median", rounds, ops);
        java.util.List<String> only = args.length > 2 ? java.util.List.of(args[2].split(",")) : java.util.List.of(names);
        for (int which = 0; which < names.length; which++) {
            if (!only.contains(names[which])) {
                continue;
            }
            TranslateBench b = new TranslateBench();
            b.setUp();
            long n = opsOf(which, ops);
            run(which, b, n); // warm-up
            run(which, b, n);
            double[] r = new double[rounds];
            for (int k = 0; k < rounds; k++) {
                long t0 = mx.getCurrentThreadCpuTime();
                run(which, b, n);
                r[k] = (double) (mx.getCurrentThreadCpuTime() - t0) / n;
            }
            java.util.Arrays.sort(r);
            System.out.printf("%-16s %12.2f %12.2f%n", names[which], r[0], r[rounds / 2]);
        }
    }

    /** Calls per round of operation {@code which}: the two that flush everything take 20 times fewer. */
    static long opsOf(int which, long ops) {
        return which == 5 || which == 6 ? ops / 20 : ops;
    }

    /** One loop per operation, so each call site stays monomorphic and inlines as under JMH. */
    private static void run(int which, TranslateBench b, long n) {
        long s = 0;
        switch (which) {
            case 0 -> {
                for (long i = 0; i < n; i++) {
                    s += b.fastPathRead64();
                }
            }
            case 1 -> {
                for (long i = 0; i < n; i++) {
                    s += b.tlbHit();
                }
            }
            case 2 -> {
                for (long i = 0; i < n; i++) {
                    s += b.stlbHit();
                }
            }
            case 3 -> {
                for (long i = 0; i < n; i++) {
                    s += b.walkPscHit();
                }
            }
            case 4 -> {
                for (long i = 0; i < n; i++) {
                    s += b.walkNoPscHit();
                }
            }
            case 5 -> {
                for (long i = 0; i < n; i++) {
                    s += b.fullWalk();
                }
            }
            case 6 -> {
                for (long i = 0; i < n; i++) {
                    s += b.walkAfterInvlpg();
                }
            }
            case 7 -> {
                for (long i = 0; i < n; i++) {
                    s += b.supervisorTlbHit();
                }
            }
            case 8 -> {
                for (long i = 0; i < n; i++) {
                    s += b.strideRead64();
                }
            }
            default -> {
                for (long i = 0; i < n; i++) {
                    s += b.stlbHitArrays();
                }
            }
        }
        sink = s;
    }
}
