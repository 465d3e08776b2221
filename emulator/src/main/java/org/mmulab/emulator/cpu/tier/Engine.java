package org.mmulab.emulator.cpu.tier;

/**
 * How a vCPU executes guest code ({@code --engine}): the interpreter alone, or the interpreter with the
 * translation tier for hot blocks ({@link Tier}). Both are exact; the tier is the default because it is
 * the faster one. Under {@code --timing cycle} compiled blocks charge what the interpreter charges
 * (see {@link Tier}).
 */
public enum Engine {
    INTERP, TIER;

    /**
     * The default engine: the fastest exact one, {@link #TIER}; the system property {@code mmulab.engine}
     * (interp|tier) overrides it, so the whole suite can run on either ({@code mvn -B verify
     * -Dmmulab.engine=interp}).
     */
    public static final Engine DEFAULT = parse(System.getProperty("mmulab.engine", "tier"));

    /** The CLI spelling. */
    public String cliName() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }

    /** Parses a CLI spelling ("interp" or "tier"); IllegalArgumentException otherwise. */
    public static Engine parse(String s) {
        for (Engine e : values()) {
            if (e.cliName().equals(s)) {
                return e;
            }
        }
        throw new IllegalArgumentException("expected interp or tier, got '" + s + "'");
    }
}
