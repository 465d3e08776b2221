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
            new PaeTornPte(),
            new ZapVsFault(),
            new ParallelDontneedStaleTlb(),
            new MremapFlushAfterUnlock(),
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

    private static final String THP = "THP collapse (DESIGN.md: khugepaged-style collapse_pte_mapped_thp / retract_page_tables; no issue yet)";
    private static final List<PendingScenario> PENDING = List.of(
            new PendingScenario("pte-offset-map-stale-pmd", "seed 002 pmd_same",
                    "the fix is in (PgtableGeneric.mapLock re-checks pmd_same) but nothing changes a PMD under the mmap"
                            + " read lock yet: Linux's writer is retract_page_tables",
                    THP),
            new PendingScenario("collapse-vs-fault", "seed 001", "no THP collapse (retract without the PMD lock,"
                    + " immediate pte free)", THP),
            new PendingScenario("mremap-vs-truncate", "seed 004",
                    "the switch is in (Mremap.setRevertRmapLocks) but no schedule can lose a PTE: the port's i_mmap is in"
                            + " link order and copy_vma never merges the new VMA into an earlier one, so a truncate walk"
                            + " always visits the old VMA before the new (Linux's miss needs vma_merge at copy time)",
                    "copy_vma merging at move time and a pgoff-ordered i_mmap walk (issue 15 [vma-ops])"));

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
