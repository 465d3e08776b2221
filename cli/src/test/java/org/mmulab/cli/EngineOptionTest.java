package org.mmulab.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** {@code --engine interp|tier} on boot and bench: anything else is a one-line usage error, exit 2. */
class EngineOptionTest {
    @Test
    void unknownEngineIsAOneLineUsageError() {
        for (String cmd : new String[] {"boot", "bench"}) {
            CliRun r = cmd.equals("boot") ? CliRun.run("boot", "--engine", "jit", "/nonexistent")
                    : CliRun.run("bench", "--engine", "jit", "--out", System.getProperty("java.io.tmpdir"));
            assertEquals(2, r.status(), cmd + ": " + r.err());
            assertTrue(r.err().contains("--engine") && r.err().contains("jit"), cmd + ": " + r.err());
            assertEquals(1, r.err().strip().lines().count(), cmd + ": " + r.err());
        }
    }
}
