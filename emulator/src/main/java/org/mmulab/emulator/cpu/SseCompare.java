package org.mmulab.emulator.cpu;

import static org.mmulab.emulator.cpu.SoftFloat.IE;

/**
 * SSE floating-point compares under the vCPU's {@link SoftFloat} environment (SDM Vol. 2 MINPS/MAXPS,
 * CMPPS, COMISS/UCOMISS): MIN/MAX return the second operand when unordered or equal (so -0.0/+0.0
 * gives the second) and signal IE on any NaN; CMPcc signals IE on an SNaN, and on a QNaN too for the
 * signaling predicates (LT, LE, NLT, NLE); COMIS* signal on any NaN, UCOMIS* on an SNaN only. Denormal
 * operands raise DE, or read as zero under DAZ.
 */
final class SseCompare {
    private SseCompare() {
    }

    /** MINSS/MINSD/MINPS/MINPD (max=false) and MAX*: the second operand if unordered or equal; IE on any NaN. */
    static long minMax(SoftFloat sf, int fmt, long a, long b, boolean max) {
        if (sf.daz) { // DAZ applies to the sources first: even the NaN case returns a flushed second operand
            a = sf.operand(fmt, a);
            b = sf.operand(fmt, b);
        }
        if (SoftFloat.isNaN(fmt, a) || SoftFloat.isNaN(fmt, b)) {
            sf.flags |= IE;
            return b;
        }
        int c = compareOrdered(fmt, sf.operand(fmt, a), sf.operand(fmt, b));
        return (max ? c > 0 : c < 0) ? a : b;
    }

    /** -1, 0, 1 for ordered non-NaN operands (zeros equal). */
    private static int compareOrdered(int fmt, long a, long b) {
        if (fmt == SoftFloat.F64) {
            return Double.compare(Double.longBitsToDouble(a) + 0.0, Double.longBitsToDouble(b) + 0.0);
        }
        return Float.compare(Float.intBitsToFloat((int) a) + 0.0f, Float.intBitsToFloat((int) b) + 0.0f);
    }

    /** CMPccPS/PD/SS/SD predicate (imm8 bits 2:0): 0 EQ, 1 LT, 2 LE, 3 UNORD, 4 NEQ, 5 NLT, 6 NLE, 7 ORD. */
    static boolean cmp(SoftFloat sf, int fmt, long a, long b, int pred) {
        pred &= 7;
        boolean un = SoftFloat.isNaN(fmt, a) || SoftFloat.isNaN(fmt, b);
        if (un) {
            boolean signaling = pred == 1 || pred == 2 || pred == 5 || pred == 6;
            if (signaling || SoftFloat.isSNaN(fmt, a) || SoftFloat.isSNaN(fmt, b)) {
                sf.flags |= IE;
            }
            return pred >= 3 && pred <= 6;
        }
        int c = compareOrdered(fmt, sf.operand(fmt, a), sf.operand(fmt, b));
        switch (pred) {
            case 0:
                return c == 0;
            case 1:
                return c < 0;
            case 2:
                return c <= 0;
            case 3:
                return false;
            case 4:
                return c != 0;
            case 5:
                return c >= 0;
            case 6:
                return c > 0;
            default:
                return true;
        }
    }

    /** (U)COMISS/SD: RFLAGS ZF/PF/CF; COMIS* (signaling) raises IE on any NaN, UCOMIS* on an SNaN only. */
    static long comi(SoftFloat sf, int fmt, long a, long b, boolean signaling) {
        if (SoftFloat.isNaN(fmt, a) || SoftFloat.isNaN(fmt, b)) {
            if (signaling || SoftFloat.isSNaN(fmt, a) || SoftFloat.isSNaN(fmt, b)) {
                sf.flags |= IE;
            }
            return CpuState.ZF | CpuState.PF | CpuState.CF;
        }
        int c = compareOrdered(fmt, sf.operand(fmt, a), sf.operand(fmt, b));
        return c > 0 ? 0 : c < 0 ? CpuState.CF : CpuState.ZF;
    }
}
