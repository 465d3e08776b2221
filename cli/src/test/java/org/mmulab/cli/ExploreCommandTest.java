package org.mmulab.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mmulab.kernel.explore.PendingScenario;
import org.mmulab.kernel.explore.Scenario;
import org.mmulab.kernel.explore.Scenarios;

/** {@code mmulab explore}: listing, sweeps both ways, replay with trace, JSON, and one-line usage errors. */
class ExploreCommandTest {
    @Test
    void listNamesEveryScenarioWithItsFix() {
        CliRun r = CliRun.run("explore", "--list");
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().contains("pte-alloc-no-ptlock") && r.out().contains("pte-alloc-ptlock"), r.out());
        assertTrue(r.out().contains("mremap-vs-truncate") && r.out().contains("mremap-rmap-locks"), r.out());
        assertEquals(19, r.out().lines().count(), "a header and 18 scenarios");
    }

    @Test
    void revertedFixExitsOneWithTheSeedTheInvariantAndAReplayCommand() {
        CliRun r = CliRun.run("explore", "mmu-gather-free-before-flush", "--seeds", "3", "--revert-fix", "--no-progress");
        assertEquals(1, r.status(), r.out() + r.err());
        assertTrue(r.out().contains("seed 0 breaks no-free-while-reachable"), r.out());
        assertTrue(r.out().contains("replay: mmulab explore mmu-gather-free-before-flush --replay 0 --trace --revert-fix"),
                r.out());
    }

    @Test
    void fixedVersionExitsZeroWithNoViolations(@TempDir Path dir) throws Exception {
        Path json = dir.resolve("r.json");
        CliRun r = CliRun.run("explore", "hiwater-race", "--seeds", "3", "--from", "5", "--json", json.toString());
        assertEquals(0, r.status(), r.out() + r.err());
        assertTrue(r.out().contains("violations: 0/3"), r.out());
        assertTrue(r.err().contains("hiwater-race"), "the progress bar goes to stderr: " + r.err());
        String j = Files.readString(json);
        assertTrue(j.contains("\"scenario\": \"hiwater-race\"") && j.contains("\"from\": 5") && j.contains("\"seedsRun\": 3")
                && j.contains("\"firstFailingSeed\": null"), j);
    }

    @Test
    void replayTracePrintsTheInterleavingWithKernelFunctions() {
        CliRun r = CliRun.run("explore", "parallel-dontneed-stale-tlb", "--replay", "1", "--trace", "--revert-fix");
        assertEquals(1, r.status(), r.out() + r.err());
        assertTrue(r.out().contains("interleaving before yield"), r.out());
        assertTrue(r.out().contains("zap_pte_range") || r.out().contains("unmap_single_vma"), r.out());
        assertTrue(r.out().contains("vCPU 2") && r.out().contains("-> vCPU"), r.out());
        assertTrue(r.out().contains("breaks dontneed-unreachable"), r.out());
    }

    @Test
    void badInputIsOneLineAndStatusTwo() {
        for (String[] args : new String[][] {{"explore", "no-such-race"}, {"explore", "pte-alloc-no-ptlock", "--seeds", "0"},
                {"explore", "pte-alloc-no-ptlock", "--seeds", "many"}, {"explore", "pte-alloc-no-ptlock", "--from", "-1"},
                {"explore", "pte-alloc-no-ptlock", "--depth", "0"}, {"explore", "pte-alloc-no-ptlock", "--strategy", "dfs"},
                {"explore"}}) {
            CliRun r = CliRun.run(args);
            assertEquals(Mmulab.EXIT_USAGE, r.status(), String.join(" ", args) + ": " + r.out() + r.err());
            assertEquals(1, r.err().lines().count(), String.join(" ", args) + ": " + r.err());
            assertTrue(r.err().startsWith("mmulab: "), r.err());
        }
    }

    @Test
    void allPrintsOneRowPerScenarioAndTheirSeedsPerSecond() {
        // one seed each: the table's shape (seed 0 catches some reverted fixes, not all: exit 1)
        CliRun r = CliRun.run("explore", "--all", "--seeds", "1", "--no-progress");
        assertEquals(1, r.status(), r.out() + r.err());
        assertTrue(r.out().lines().findFirst().orElse("").matches("scenario +fix +strategy +seeds-to-violation +clean-with-fix +seeds/s.*"),
                r.out());
        for (Scenario s : Scenarios.real()) {
            assertTrue(r.out().lines().anyMatch(l -> l.startsWith(s.name() + " ") && l.contains(s.fix().cliName())), s.name());
        }
        for (PendingScenario p : Scenarios.pending()) {
            assertTrue(r.out().lines().anyMatch(l -> l.startsWith(p.name() + " ") && l.contains("pending")), p.name());
        }
        assertTrue(r.out().contains("FAILED"), r.out());
    }

    /**
     * Issue 18's done-when: with each scenario's full budget every reverted fix is caught and every fixed
     * version is clean (the slow profile, {@code mvn -B verify -Pslow}); the table is printed.
     */
    @Tag("slow")
    @Test
    void allCatchesEveryRevertedFixAndFindsEveryFixedVersionClean() {
        CliRun r = CliRun.run("explore", "--all", "--no-progress");
        System.out.println(r.out());
        assertEquals(0, r.status(), r.out() + r.err());
        assertTrue(r.out().contains("every reverted fix caught, every fixed version clean"), r.out());
        for (Scenario s : Scenarios.real()) {
            assertTrue(r.out().lines().anyMatch(l -> l.startsWith(s.name() + " ") && l.endsWith("ok")), s.name());
        }
    }
}
