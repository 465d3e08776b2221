package org.mmulab.emulator.cpu;

/** Exception vectors (SDM Vol. 3A §6.3.1, table 6-1). */
public final class Vectors {
    public static final int DE = 0, DB = 1, BP = 3, OF = 4, BR = 5, UD = 6, NM = 7, DF = 8, TS = 10, NP = 11,
            SS = 12, GP = 13, PF = 14, MF = 16, AC = 17, XM = 19;

    private Vectors() {
    }

    public static String name(int v) {
        return switch (v) {
            case DE -> "#DE";
            case DB -> "#DB";
            case BP -> "#BP";
            case OF -> "#OF";
            case BR -> "#BR";
            case UD -> "#UD";
            case NM -> "#NM";
            case DF -> "#DF";
            case TS -> "#TS";
            case NP -> "#NP";
            case SS -> "#SS";
            case GP -> "#GP";
            case PF -> "#PF";
            case MF -> "#MF";
            case AC -> "#AC";
            case XM -> "#XM";
            default -> "vector " + v;
        };
    }
}
