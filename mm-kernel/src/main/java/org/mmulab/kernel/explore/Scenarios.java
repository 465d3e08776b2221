package org.mmulab.kernel.explore;

import java.util.List;
import java.util.Optional;

/**
 * The catalogue of issue 18's scenarios: those the port can run today, and the rest as
 * {@link PendingScenario}s naming the missing kernel feature and the issue it waits for.
 */
public final class Scenarios {
    private Scenarios() {
    }

    private static final List<Scenario> REAL = List.of(
            new PteAllocNoPtlock(),
            new PteOffsetMapStalePmd(),
            new CollapseVsFault(),
            new PaeTornPte(),
            new ZapVsFault(),
            new ParallelDontneedStaleTlb(),
            new MremapFlushAfterUnlock(),
            new MremapVsTruncate(),
            new DirtyCow(),
            new GupPinCowLeak(),
            new MmuGatherFreeBeforeFlush(),
            new TextFaultRewrite(),
            new RssCounterRace(),
            new HiwaterRace(),
            new FollowPageNoLock(),
            new GupFollowsPfnmap(),
            new CowOnPfnmap(),
            new MprotectLostDirty());

    /** None left: mremap-vs-truncate waited for copy_vma's merge and the pgoff-ordered i_mmap walk. */
    private static final List<PendingScenario> PENDING = List.of();

    /** The scenarios that run, in issue order. */
    public static List<Scenario> real() {
        return REAL;
    }

    /** The scenarios waiting for kernel features. */
    public static List<PendingScenario> pending() {
        return PENDING;
    }

    public static Optional<Scenario> find(String name) {
        return REAL.stream().filter(s -> s.name().equals(name)).findFirst();
    }

    public static Optional<PendingScenario> findPending(String name) {
        return PENDING.stream().filter(s -> s.name().equals(name)).findFirst();
    }
}
