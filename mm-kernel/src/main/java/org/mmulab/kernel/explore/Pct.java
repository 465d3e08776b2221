package org.mmulab.kernel.explore;

import java.util.Arrays;
import java.util.SplittableRandom;

import org.mmulab.emulator.machine.ScheduleSource;
import org.mmulab.emulator.machine.YieldKind;

/**
 * PCT, probabilistic concurrency testing (Burckhardt, Kothari, Musuvathi, Nagarakatte, "A Randomized
 * Scheduler with Probabilistic Guarantees of Finding Bugs", ASPLOS 2010), as a {@link ScheduleSource}:
 * from the seed, the vCPUs get distinct priorities {@code d .. d+n-1} and {@code d-1} change points are
 * drawn uniformly in [0, horizon) yield indices; at each yield point the eligible vCPU with the highest
 * priority runs, and when the i-th change point is reached the vCPU that reached it drops to priority
 * {@code i} (below every initial one). A bug of depth d among n vCPUs and k yield points is found with
 * probability at least 1/(n k^(d-1)) per seed.
 *
 * <p>Kernel waits are spins at yield points ({@code LOCK_SPIN}, IPI acknowledgements), not blocking:
 * PCT assumes a waiting thread is not enabled, so a vCPU whose last yield was a wait is passed over
 * until another vCPU makes progress (yields for any other reason), unless nobody else can run. Without
 * that a high-priority spinner, or two spinners taking turns, would starve the vCPU they wait for.
 */
public final class Pct implements ScheduleSource {
    private final int[] priority;
    private final long[] changeAt;
    /** vCPUs whose last yield was a wait (a spin or IPI acks) and nobody made progress since. */
    private final boolean[] spinning;
    private int nextChange;

    /**
     * @param cpus vCPUs of the machine; @param depth d >= 1 (d-1 change points); @param horizon the
     * number of yield points a run is expected to reach (change points are drawn below it)
     */
    public Pct(long seed, int cpus, int depth, long horizon) {
        if (depth < 1) {
            throw new IllegalArgumentException("PCT depth must be at least 1: " + depth);
        }
        SplittableRandom r = new SplittableRandom(seed);
        priority = new int[cpus];
        for (int i = 0; i < cpus; i++) {
            priority[i] = depth + i;
        }
        for (int i = cpus - 1; i > 0; i--) { // Fisher-Yates
            int j = r.nextInt(i + 1);
            int t = priority[i];
            priority[i] = priority[j];
            priority[j] = t;
        }
        spinning = new boolean[cpus];
        changeAt = new long[depth - 1];
        for (int i = 0; i < changeAt.length; i++) {
            changeAt[i] = r.nextLong(Math.max(1, horizon));
        }
        Arrays.sort(changeAt);
    }

    @Override
    public int next(long yieldIndex, int vcpu, YieldKind kind, int[] eligible, int count) {
        while (nextChange < changeAt.length && changeAt[nextChange] <= yieldIndex) {
            nextChange++;
            if (vcpu < priority.length) {
                priority[vcpu] = nextChange; // 1, 2, ...: below every initial priority
            }
        }
        if (kind == YieldKind.LOCK_SPIN || kind == YieldKind.IPI_ACK) {
            spinning[vcpu] = true;
        } else {
            Arrays.fill(spinning, false); // someone made progress: the waiters may look again
        }
        int best = -1;
        for (int i = 0; i < count; i++) {
            int id = eligible[i];
            if (!spinning[id] && (best < 0 || priority[id] > priority[best])) {
                best = id;
            }
        }
        if (best < 0) {
            // every eligible vCPU waits: take turns (the next id after this one), so the one whose
            // mailbox or lock state lets it go on is reached; priority alone would pick one forever
            best = eligible[0];
            for (int i = 0; i < count; i++) {
                if (eligible[i] > vcpu) {
                    best = eligible[i];
                    break;
                }
            }
        }
        return best;
    }
}
