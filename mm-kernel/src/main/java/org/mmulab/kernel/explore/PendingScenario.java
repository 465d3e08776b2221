package org.mmulab.kernel.explore;

/**
 * A scenario of issue 18 whose kernel feature the port does not have yet: listed with the fix it is
 * about, why it cannot run, and the work it waits for. Never run, never reported as passing.
 */
public record PendingScenario(String name, String fix, String reason, String waitsFor) {
}
