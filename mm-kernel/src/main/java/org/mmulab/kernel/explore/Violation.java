package org.mmulab.kernel.explore;

/**
 * An invariant a run broke: its name (as {@code mmulab explore --list} and the reports spell it), what
 * was seen, and the yield point index at which it was found (the end of the run for invariants checked
 * once everything stopped).
 */
public record Violation(String invariant, String detail, long atYield) {
    @Override
    public String toString() {
        return invariant + ": " + detail;
    }
}
