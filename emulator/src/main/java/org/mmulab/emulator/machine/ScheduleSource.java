package org.mmulab.emulator.machine;

/**
 * Who gets the baton next under {@link Machine.Scheduling#DETERMINISTIC}: consulted at every yield
 * point the baton holder reaches. The default is {@link #seeded}; the race explorer replays or steers
 * a schedule by installing its own ({@link Machine#setScheduleSource}) and logs one with a
 * {@link ScheduleRecorder}.
 */
@FunctionalInterface
public interface ScheduleSource {
    /**
     * Picks the vCPU that runs after yield point {@code yieldIndex} (0, 1, 2... over the whole run),
     * reached by vCPU {@code vcpu} doing {@code kind}. {@code eligible[0..count)} are the vCPU ids that
     * may run, ascending, {@code count >= 1}; the result must be one of them.
     */
    int next(long yieldIndex, int vcpu, YieldKind kind, int[] eligible, int count);

    /**
     * Uniform choice among the eligible vCPUs from a SplitMix64 stream seeded by {@code seed}; draws
     * only when there is a choice, so the same seed always gives the same schedule.
     */
    static ScheduleSource seeded(long seed) {
        return new ScheduleSource() {
            private long state = seed ^ 0x5DEECE66DL;

            @Override
            public int next(long yieldIndex, int vcpu, YieldKind kind, int[] eligible, int count) {
                if (count == 1) {
                    return eligible[0];
                }
                long z = (state += 0x9E3779B97F4A7C15L);
                z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
                z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
                z ^= z >>> 31;
                return eligible[(int) Long.remainderUnsigned(z, count)];
            }
        };
    }

    /**
     * Replays {@code choices} (the {@code next} values a {@link ScheduleRecorder} logged, indexed by
     * yield index) while they last and are eligible, then defers to {@code fallback}.
     */
    static ScheduleSource replay(int[] choices, ScheduleSource fallback) {
        int[] copy = choices.clone();
        return (yieldIndex, vcpu, kind, eligible, count) -> {
            if (yieldIndex < copy.length) {
                int want = copy[(int) yieldIndex];
                for (int i = 0; i < count; i++) {
                    if (eligible[i] == want) {
                        return want;
                    }
                }
            }
            return fallback.next(yieldIndex, vcpu, kind, eligible, count);
        };
    }
}
