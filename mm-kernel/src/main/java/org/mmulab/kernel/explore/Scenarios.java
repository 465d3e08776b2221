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
            new MmuGatherFreeBeforeFlush(),
            new TextFaultRewrite(),
            new RssCounterRace(),
            new HiwaterRace(),
            new MprotectLostDirty(),
            new PteOffsetMapStalePmd(), new CollapseVsFault());

    private static final String GUP = "issue 15 [vma-ops] item 7 (GUP, follow_page)";

    private static final List<PendingScenario> PENDING = List.of(
            new PendingScenario("mremap-flush-after-unlock", "CVE-2018-18281", "no mremap / move_page_tables",
                    "issue 15 [vma-ops] item 1"),
            new PendingScenario("mremap-vs-truncate", "seed 004", "no mremap and no shmem truncate through i_mmap",
                    "issue 15 [vma-ops] items 1 and 4, issue 14 [vfs]"),
            new PendingScenario("dirty-cow", "FOLL_COW (6.x)", "no GUP with FOLL_FORCE (/proc/pid/mem, ptrace)", GUP),
            new PendingScenario("gup-pin-cow-leak", "PageAnonExclusive reuse rule",
                    "no GUP pins (the reuse rule is in: do_wp_page's 6.x refcount test)", GUP),
            new PendingScenario("follow-page-no-lock", "seed 003 follow_page with inner ptlock", "no follow_page",
                    GUP),
            new PendingScenario("gup-follows-pfnmap", "1ff8038988 get_user_pages: don't follow PFNMAP",
                    "no VM_PFNMAP mappings and no GUP", "issue 15 [vma-ops] items 6 and 7"),
            new PendingScenario("cow-on-pfnmap", "seed 003 unpaged: COW on VM_UNPAGED", "no remap_pfn_range",
                    "issue 15 [vma-ops] item 6"));

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
