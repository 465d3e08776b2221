package org.mmulab.gdbstub.target;

import java.util.Arrays;

/**
 * What each vCPU does on resume, resolved from a {@code vCont} packet (or legacy {@code c/s/C/S}): one action per
 * thread {@code 1..N}. Threads without an action stay stopped (all-stop semantics of {@code vCont}).
 */
public final class ResumePlan {
    public enum Action { STAY, CONTINUE, STEP }

    private final Action[] actions;
    private final int[] signals;

    private ResumePlan(Action[] actions, int[] signals) {
        this.actions = actions;
        this.signals = signals;
    }

    /** Every thread continues without a signal. */
    public static ResumePlan continueAll(int threads) {
        Builder b = builder(threads);
        for (int t = 1; t <= threads; t++) {
            b.set(t, Action.CONTINUE, 0);
        }
        return b.build();
    }

    public static Builder builder(int threads) {
        return new Builder(threads);
    }

    public int threadCount() {
        return actions.length;
    }

    /** Action for {@code thread} (1-based). */
    public Action action(int thread) {
        return actions[thread - 1];
    }

    /** Signal to deliver to {@code thread} as it resumes ({@code C}/{@code S}), 0 for none. */
    public int signal(int thread) {
        return signals[thread - 1];
    }

    /** True if some thread is resumed (continue or step). */
    public boolean resumesAny() {
        for (Action a : actions) {
            if (a != Action.STAY) {
                return true;
            }
        }
        return false;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ResumePlan p && Arrays.equals(actions, p.actions) && Arrays.equals(signals, p.signals);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(actions) * 31 + Arrays.hashCode(signals);
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("ResumePlan[");
        for (int t = 1; t <= actions.length; t++) {
            sb.append(t == 1 ? "" : ", ").append(t).append('=').append(actions[t - 1]);
            if (signals[t - 1] != 0) {
                sb.append("/sig").append(signals[t - 1]);
            }
        }
        return sb.append(']').toString();
    }

    public static final class Builder {
        private final Action[] actions;
        private final int[] signals;

        private Builder(int threads) {
            actions = new Action[threads];
            signals = new int[threads];
            Arrays.fill(actions, Action.STAY);
        }

        public Builder set(int thread, Action action, int signal) {
            actions[thread - 1] = action;
            signals[thread - 1] = signal;
            return this;
        }

        public boolean isSet(int thread) {
            return actions[thread - 1] != Action.STAY;
        }

        public ResumePlan build() {
            return new ResumePlan(actions.clone(), signals.clone());
        }
    }
}
