package org.mmulab.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * {@code --cpus}, {@code --quantum} and {@code --check} as a user meets them: bad values and combinations
 * get one line on stderr and status 2, before any image is opened.
 */
class SmpOptionsCliTest {
    private static void refused(String expected, String... args) {
        CliRun r = CliRun.run(args);
        assertEquals(Mmulab.EXIT_USAGE, r.status(), r.err());
        assertTrue(r.err().contains(expected), r.err());
        assertEquals(1, r.err().strip().lines().count(), "one line: " + r.err());
    }

    @Test
    void cpusMustBeAPositiveCountTheMachineSupports() {
        refused("--cpus must be 1..256, got 0", "boot", "--cpus", "0", "/nonexistent");
        refused("--cpus must be 1..256, got 257", "boot", "--cpus", "257", "/nonexistent");
        refused("--cpus must be 1..256, got -3", "boot", "--cpus", "-3", "/nonexistent");
        CliRun notANumber = CliRun.run("boot", "--cpus", "four", "/nonexistent");
        assertEquals(Mmulab.EXIT_USAGE, notANumber.status());
        assertTrue(notANumber.err().contains("four"), notANumber.err());
    }

    @Test
    void quantumBelongsToDeterministicMode() {
        refused("--quantum needs --deterministic", "boot", "--quantum", "100", "/nonexistent");
        refused("--quantum must be at least 1 instruction, got 0", "boot", "--deterministic", "--quantum", "0", "/nonexistent");
    }

    @Test
    void debuggingAndTracingNeedOneVcpu() {
        refused("--gdb works with one vCPU only", "boot", "--cpus", "2", "--gdb", "127.0.0.1:0", "/nonexistent");
        refused("--trace-regs works with one vCPU only", "boot", "--cpus", "2", "--trace-regs", "/tmp/x", "/nonexistent");
    }

    @Test
    void theOptionsAreDocumented() {
        CliRun r = CliRun.run("boot", "--help");
        assertTrue(r.out().contains("--cpus") && r.out().contains("--quantum") && r.out().contains("--check"), r.out());
    }
}
