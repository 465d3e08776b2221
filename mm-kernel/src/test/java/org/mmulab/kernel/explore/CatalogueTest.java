package org.mmulab.kernel.explore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.mmulab.kernel.mm.MmFix;

/** Issue 18's 18 scenarios are all catalogued, real or pending, once each; every real one has its own fix. */
class CatalogueTest {
    static final Set<String> ISSUE_18 = Set.of("pte-alloc-no-ptlock", "pte-offset-map-stale-pmd", "collapse-vs-fault",
            "pae-torn-pte", "zap-vs-fault", "parallel-dontneed-stale-tlb", "mremap-flush-after-unlock",
            "mremap-vs-truncate", "dirty-cow", "gup-pin-cow-leak", "mmu-gather-free-before-flush", "text-fault-rewrite",
            "rss-counter-race", "hiwater-race", "follow-page-no-lock", "gup-follows-pfnmap", "cow-on-pfnmap",
            "mprotect-lost-dirty");

    @Test
    void everyScenarioOfTheIssueIsRealOrPendingOnce() {
        Set<String> seen = new HashSet<>();
        for (Scenario s : Scenarios.real()) {
            assertTrue(seen.add(s.name()), s.name());
        }
        for (PendingScenario p : Scenarios.pending()) {
            assertTrue(seen.add(p.name()), p.name());
            assertFalse(p.reason().isBlank());
            assertFalse(p.waitsFor().isBlank());
            assertTrue(Scenarios.find(p.name()).isEmpty(), "a pending scenario never runs");
        }
        assertEquals(ISSUE_18, seen);
    }

    @Test
    void eachRealScenarioRevertsADifferentFixAndHasABudget() {
        Set<MmFix> fixes = new HashSet<>();
        for (Scenario s : Scenarios.real()) {
            assertTrue(fixes.add(s.fix()), s.name() + " shares its fix");
            assertTrue(s.budget() > 0 && s.cpus() >= 2 && s.cpus() <= 3, s.name());
        }
        assertEquals(MmFix.values().length, fixes.size(), "every switch has a scenario that shows it matters");
    }

    @Test
    void fixesAreOnByDefault() {
        MmFix.Fixes f = new MmFix.Fixes();
        for (MmFix x : MmFix.values()) {
            assertFalse(f.reverted(x));
        }
        f.revert(MmFix.RSS_ATOMIC);
        assertTrue(f.reverted(MmFix.RSS_ATOMIC));
        assertFalse(f.reverted(MmFix.HIWATER_EXACT));
    }
}
