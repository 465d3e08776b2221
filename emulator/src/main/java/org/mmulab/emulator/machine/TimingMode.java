package org.mmulab.emulator.machine;

import java.util.Locale;

/** {@code --timing}: FAST (counters only, fixed prices, maximum host speed; the default) or CYCLE. */
public enum TimingMode {
    FAST, CYCLE;

    /** Parses the CLI spelling {@code fast} or {@code cycle} (case-insensitive). */
    public static TimingMode parse(String s) {
        return switch (s.toLowerCase(Locale.ROOT)) {
            case "fast" -> FAST;
            case "cycle" -> CYCLE;
            default -> throw new IllegalArgumentException("unknown timing mode '" + s + "' (expected fast or cycle)");
        };
    }

    public String cliName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
