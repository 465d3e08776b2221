package org.mmulab.gdbstub.protocol;

import org.mmulab.gdbstub.codec.Hex;
import org.mmulab.gdbstub.target.ResumePlan;

/**
 * The argument syntax of RSP packets, apart from their meaning: hex pairs, thread ids, register numbers, signal
 * numbers, {@code vCont} action lists. Throws {@link MalformedPacketException} ({@code E01}) for what does not
 * parse and {@link InvalidArgumentException} ({@code E22}) for a well-formed name of nothing.
 */
final class PacketArgs {
    private PacketArgs() {
    }

    /** Thread id: hex, "-1" (all) or "0" (any); "pPID.TID" accepted too. Returns -1, 0 or 1..(big). */
    static int parseThread(String s) {
        if (s.startsWith("p")) {
            int dot = s.indexOf('.');
            if (dot < 0) {
                return -1;   // pPID: all threads of the process
            }
            s = s.substring(dot + 1);
        }
        if (s.equals("-1")) {
            return -1;
        }
        long t = Hex.parseUnsigned(s);
        return t > Integer.MAX_VALUE ? Integer.MAX_VALUE : (int) t;
    }

    /** A register number (hex); -1 when it does not fit an int. */
    static int parseRegnum(String s) {
        long n = Hex.parseUnsigned(s);
        return n > Integer.MAX_VALUE ? -1 : (int) n;
    }

    /**
     * The actions of a {@code vCont;} packet as a plan for {@code threads} threads; thread 0 ("any") means
     * {@code continueThread}. The first action naming a thread wins, as the protocol says.
     */
    static ResumePlan vCont(String actions, int threads, int continueThread) {
        ResumePlan.Builder plan = ResumePlan.builder(threads);
        boolean[] assigned = new boolean[threads + 1];
        for (String a : actions.split(";", -1)) {
            if (a.isEmpty()) {
                throw new MalformedPacketException("vCont: empty action");
            }
            int colon = a.indexOf(':');
            String act = colon < 0 ? a : a.substring(0, colon);
            if (act.isEmpty()) {
                throw new MalformedPacketException("vCont: action without a letter");
            }
            int tid = colon < 0 ? -1 : parseThread(a.substring(colon + 1));
            if (tid == 0) {
                tid = continueThread;
            }
            if (tid != -1 && (tid < 1 || tid > threads)) {
                throw new InvalidArgumentException();
            }
            ResumePlan.Action action;
            int sig = 0;
            switch (act.charAt(0)) {
                case 'c' -> action = ResumePlan.Action.CONTINUE;
                case 's' -> action = ResumePlan.Action.STEP;
                case 't' -> action = ResumePlan.Action.STAY;
                case 'C', 'S' -> {
                    action = act.charAt(0) == 'C' ? ResumePlan.Action.CONTINUE : ResumePlan.Action.STEP;
                    sig = signalNumber(act.substring(1));
                }
                default -> throw new MalformedPacketException("vCont: unknown action " + act);
            }
            if ((act.charAt(0) == 'c' || act.charAt(0) == 's' || act.charAt(0) == 't') && act.length() != 1) {
                throw new MalformedPacketException("vCont: junk after action " + act);
            }
            for (int t = tid == -1 ? 1 : tid; t <= (tid == -1 ? threads : tid); t++) {
                if (!assigned[t]) {
                    assigned[t] = true;
                    plan.set(t, action, sig);
                }
            }
        }
        return plan.build();
    }

    /** A signal number as {@code C}/{@code S} carry it: exactly two hex digits. */
    static int signalNumber(String s) {
        if (s.length() != 2) {
            throw new MalformedPacketException("signal wants two hex digits");
        }
        return (int) Hex.parseUnsigned(s);
    }

    /** {@code v} read as unsigned, capped at {@code max}. */
    static int clamp(long v, int max) {
        return v < 0 || v > max ? max : (int) v;
    }

    /** "a,b" (or with another separator): two unsigned hex numbers. */
    static long[] pair(String s, char sep) {
        int i = s.indexOf(sep);
        if (i < 0) {
            throw new MalformedPacketException("want two numbers separated by '" + sep + "'");
        }
        return new long[] {Hex.parseUnsigned(s.substring(0, i)), Hex.parseUnsigned(s.substring(i + 1))};
    }
}
