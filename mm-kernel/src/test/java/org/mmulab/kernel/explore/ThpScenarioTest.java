package org.mmulab.kernel.explore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The two THP scenarios of issue 18 (seeds 001 and 002), reduced budget: with the fix reverted a
 * violation within the first {@code budget} seeds, with it none over the same seeds, and the same
 * seed gives the same run. {@link ScenarioFixTest} runs both with the fix over its clean budget, and
 * both ways over the scenario's full budget in the slow profile. Measured (2026-12-05): with either
 * fix reverted 9 of seeds 0-39 are caught (first at seed 0); with both fixes 200 of 200 seeds are clean.
 */
class ThpScenarioTest {
    @ParameterizedTest
    @CsvSource({"pte-offset-map-stale-pmd, 4", "collapse-vs-fault, 4"})
    void revertedFixIsCaughtAndTheFixedVersionIsClean(String name, int budget) {
        Scenario s = Scenarios.find(name).orElseThrow();
        Explorer.Sweep broken = Explorer.sweep(s, 0, budget, Explorer.Options.of(true), null);
        assertTrue(broken.failed(), name + ": no violation in seeds 0.." + (budget - 1) + " with " + s.fix().cliName()
                + " reverted");
        System.out.println(name + ": fix reverted, seed " + broken.firstFailingSeed() + " breaks " + broken.violation());
        Explorer.Sweep fixed = Explorer.sweep(s, 0, budget, Explorer.Options.of(false), null);
        assertFalse(fixed.failed(), () -> name + ": seed " + fixed.firstFailingSeed() + " breaks " + fixed.violation());
    }

    @ParameterizedTest
    @CsvSource({"pte-offset-map-stale-pmd", "collapse-vs-fault"})
    void aSeedIsARun(String name) {
        Scenario s = Scenarios.find(name).orElseThrow();
        Explorer.RunResult a = Explorer.runSeed(s, 1, Explorer.Options.of(true), null);
        Explorer.RunResult b = Explorer.runSeed(s, 1, Explorer.Options.of(true), null);
        assertEquals(a.yields(), b.yields());
        assertEquals(a.violations().toString(), b.violations().toString());
    }
}
