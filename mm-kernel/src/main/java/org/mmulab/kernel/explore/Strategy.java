package org.mmulab.kernel.explore;

/** How a seed becomes a schedule. */
public enum Strategy {
    /**
     * PCT ({@link Pct}): random distinct vCPU priorities, the highest eligible runs, and at d-1 yield
     * indices drawn from the seed the running vCPU drops below all others. Finds races that need a few
     * preemptions at the right places.
     */
    PCT,
    /**
     * A uniform choice among the eligible vCPUs at every yield point (the machine's seeded default):
     * many fine-grained preemptions, good for windows a single yield wide on both sides (torn PAE halves).
     */
    RANDOM
}
