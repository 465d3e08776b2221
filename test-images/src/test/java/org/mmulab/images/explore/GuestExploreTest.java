package org.mmulab.images.explore;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.mmulab.images.Images;
import org.mmulab.kernel.explore.Explorer;
import org.mmulab.kernel.explore.GuestScenario;
import org.mmulab.kernel.mm.FileBytes;
import org.mmulab.kernel.mm.MmFix;

/**
 * The explorer is not limited to Java-driven bodies: munmap_race (a static musl program, self-checking:
 * a reader thread must never see a generation of a mapping that munmap/mmap MAP_FIXED already removed)
 * on 2 vCPUs, the seed's schedule deciding at every kernel, walker and quantum yield point. With
 * mmu_gather's flush-before-free reverted a seed breaks it within the budget (the kernel's free watch
 * or the program's own check); with the fix the same seeds are clean.
 */
class GuestExploreTest {
    static final int BUDGET = 8;

    static GuestScenario munmapRace() throws IOException {
        byte[] elf = Files.readAllBytes(Images.image("x86_64", "munmap_race-musl"));
        return new GuestScenario("munmap-race-guest", MmFix.GATHER_FLUSH_BEFORE_FREE, "/munmap_race",
                FileBytes.of(elf), List.of("munmap_race", "3"), 2, 1024, BUDGET, 200_000);
    }

    @Test
    void revertedFlushBeforeFreeIsCaughtInAGuestProgram() throws IOException {
        GuestScenario g = munmapRace();
        Explorer.Sweep r = Explorer.sweep(g, 0, BUDGET, Explorer.Options.of(true), null);
        System.out.println("munmap_race guest, fix reverted: " + (r.failed() ? "seed " + r.firstFailingSeed() + " breaks "
                + r.violation() : "nothing in " + BUDGET) + String.format(" (%.2f seeds/s)", r.seedsPerSecond()));
        assertTrue(r.failed(), "not caught within " + BUDGET + " seeds");
    }

    @Test
    void fixedKernelRunsTheGuestCleanUnderEverySeed() throws IOException {
        GuestScenario g = munmapRace();
        Explorer.Sweep r = Explorer.sweep(g, 0, BUDGET, Explorer.Options.of(false), null);
        assertFalse(r.failed(), () -> "seed " + r.firstFailingSeed() + " breaks " + r.violation());
        System.out.printf("munmap_race guest, fix on: %d seeds clean (%.2f seeds/s)%n", r.seedsRun(), r.seedsPerSecond());
    }
}
