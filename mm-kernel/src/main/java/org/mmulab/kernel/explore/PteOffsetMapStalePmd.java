package org.mmulab.kernel.explore;

import org.mmulab.kernel.mm.MmFix;

/**
 * Seed 002 ("mm/pgtable: allow pte_offset_map[_lock]() to fail"): __pte_offset_map_lock reads the PMD
 * without a lock, takes the lock of the table it points at, and must then re-check that the PMD still
 * points there (pmd_same), because collapse_pte_mapped_thp can retract that table under the mmap read
 * lock in between. The workload of {@link CollapseVsFault}; with the recheck reverted, a fault (or zap)
 * that read the PMD before the retract goes on in the unlinked table: the fault installs its PTE there
 * (a mapping nobody can reach: the census counts a mapcount and RSS no page table has, and the table is
 * freed with a present entry) or the table is freed while it still holds its lock.
 */
final class PteOffsetMapStalePmd extends CollapseVsFault {
    @Override
    public String name() {
        return "pte-offset-map-stale-pmd";
    }

    @Override
    public MmFix fix() {
        return MmFix.PMD_SAME_RECHECK;
    }

    @Override
    public String description() {
        return "faults and zaps on vCPU 1 reading a PMD that MADV_COLLAPSE on vCPU 0 retracts (collapse-vs-fault's workload)";
    }

    @Override
    public String invariants() {
        return "no-free-while-reachable (table freed with a PTE in it or under its lock), census, kernel-bug";
    }
}
