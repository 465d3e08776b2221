package org.mmulab.kernel.explore;

import org.mmulab.kernel.mm.MmFix;

/**
 * A race scenario: a few Java-driven guest threads on 2-3 vCPUs and the invariants that catch the race
 * its {@link #fix()} closes. {@link #run} builds the address space from the setup thread, runs the
 * bodies on the vCPUs ({@link ExploreRig#run}) and checks what must hold at the end; invariants checked
 * while running report through {@link ExploreRig#violate} or a monitor.
 */
public abstract class Scenario {
    /** The CLI name, e.g. {@code pte-alloc-no-ptlock}. */
    public abstract String name();

    /** The fix whose revert this scenario must catch. */
    public abstract MmFix fix();

    /** One line: what the threads do. */
    public abstract String description();

    /** The invariants it checks, as violations name them. */
    public abstract String invariants();

    /** vCPUs of the machine (2 or 3). */
    public int cpus() {
        return 2;
    }

    /** PAE paging (two-word entries) instead of 4-level. */
    public boolean pae() {
        return false;
    }

    /** The strategy that turns a seed into a schedule unless the caller names one. */
    public Strategy strategy() {
        return Strategy.PCT;
    }

    /** PCT's horizon: about the number of yield points one run reaches. */
    public long horizon() {
        return 2000;
    }

    /**
     * Seeds from 0 within which the reverted fix must be caught (the JUnit test and {@code --all}); the
     * same seeds must all be clean with the fix.
     */
    public abstract int budget();

    /**
     * Does {@link #run} boot a guest program with the whole kernel on the rig's bare machine
     * ({@link GuestScenario}) instead of Java bodies on a {@link BodyRig}?
     */
    boolean guest() {
        return false;
    }

    /** Yield points after which a run is a livelock (a {@code kernel-bug} violation). */
    long maxYields() {
        return ExploreRig.MAX_YIELDS;
    }

    /** Guest instructions between two QUANTUM yield points of a guest run (0: the machine's default). */
    int quantum() {
        return 0;
    }

    /** One run under the rig's schedule. */
    abstract void run(ExploreRig rig);
}
