package org.mmulab.images.oracle;

import static org.mmulab.emulator.debug.RegisterTraceWriter.REG_FCW;
import static org.mmulab.emulator.debug.RegisterTraceWriter.REG_FP_SE0;
import static org.mmulab.emulator.debug.RegisterTraceWriter.REG_FP_SIG0;
import static org.mmulab.emulator.debug.RegisterTraceWriter.REG_FSW;
import static org.mmulab.emulator.debug.RegisterTraceWriter.REG_FTW;
import static org.mmulab.emulator.debug.RegisterTraceWriter.REG_GPR0;
import static org.mmulab.emulator.debug.RegisterTraceWriter.REG_MXCSR;
import static org.mmulab.emulator.debug.RegisterTraceWriter.REG_NAMES;
import static org.mmulab.emulator.debug.RegisterTraceWriter.REG_RIP;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The x87 and MXCSR part of {@link TraceComparator}, the sibling of {@link UndefinedFlagFlow}: which
 * x87 state is compared after each instruction, and what is not, and why.
 *
 * <p>FCW, the abridged tag word, MXCSR (exception flags included: SSE instructions define them) and
 * the eight physical registers R0-R7 (significand and sign/exponent, empty ones too: FXSAVE stores
 * them) are compared exactly, and so is the status word except:
 * <ol>
 * <li><b>Undefined condition codes.</b> C0-C3 that the instruction just retired leaves undefined (SDM
 *     Vol. 2 "FPU Flags Affected", tabulated in {@link X87Ops}: FADD leaves C0 C2 C3 undefined, FLDCW
 *     all four ...) stay "don't care" until an instruction writes them (FCOM, FXAM, FPREM, FNINIT,
 *     FRSTOR ...), as undefined RFLAGS bits do. FNSTSW AX copies don't-care bits into AX (bits 8-10,
 *     14), where {@link UndefinedFlagFlow} follows them (a MOV copy, SAHF into RFLAGS and a Jcc on
 *     them). FNSTSW m16, FNSTENV and FNSAVE store them to memory: the address (computed from the
 *     native registers, {@link MemOperand}) is remembered with its don't-care bits, and a MOV, MOVZX
 *     or MOVSX that loads those bytes into a register makes the same bits of it don't-care. Memory
 *     itself is not traced: a remembered status word is forgotten only when another status word is
 *     stored there or, on the stack, when it lies more than the red zone below RSP; one that comes
 *     back by any other instruction (TEST with a memory operand...) and differs there is reported.
 *     FCOMI/FUCOMI define ZF PF CF, which are compared (see {@link X86Insn#writtenFlags}).</li>
 * <li><b>Transcendentals: one ulp.</b> mmulab's FSIN, FCOS, FSINCOS, FPTAN, FPATAN, F2XM1, FYL2X and
 *     FYL2XP1 are correctly rounded; Intel and AMD hardware are documented to be within about 1 ulp
 *     (SDM Vol. 1 §8.3.10) and are not correctly rounded. A result register of exactly these
 *     instructions (ST(0), and ST(1) for FPTAN and FSINCOS) that differs by one unit in the last
 *     place of the 64-bit significand (the same sign; across a binade boundary too) is accepted.
 *     FSINCOS is included because it computes the same two functions as FSIN and FCOS. Two ulps, or
 *     any other register, are a divergence. C1 after exactly these instructions is not compared
 *     (until an instruction writes it again): it is the round-up indicator, and the host computes
 *     it against its own approximation, so it differs even where both results are identical (FSINCOS
 *     of 2.0 on an Intel host).</li>
 * <li><b>Transcendentals: a spurious inexact.</b> The host's transcendental microcode reports
 *     inexact (FSW.PE) for results that are exact (FYL2X of 0.5 and -3.0 gives exactly 3.0 with PE set
 *     on an Intel host); mmulab sets PE only for inexact results, as the SDM's #P describes. After
 *     exactly the instructions above, PE set natively and clear on mmulab is accepted, and PE (a
 *     sticky flag) stays "don't care" until an instruction clears the exception flags (FNCLEX,
 *     FNINIT, FNSAVE, FLDENV, FRSTOR, FXRSTOR, XRSTOR); FNSTSW carries it as it does the condition
 *     codes. The opposite difference (PE on mmulab only) is reported.</li>
 * <li><b>What follows an accepted ulp.</b> The accepted value stays accepted in its register and in
 *     any register holding the very same pair of values (FLD ST(i), FXCH). A store of it to memory
 *     (FST/FSTP m32/m64) that rounds both runs' values to the same float or double under FCW.RC loses
 *     the difference; any other store (m80, integer, BCD, FNSAVE/FXSAVE) puts it where the oracle
 *     cannot see. While an accepted value is still in a register, or after it reached memory, a new
 *     difference anywhere may be derived from it (FMUL with it, a load of the stored double into
 *     XMM0): the comparison then ends without a divergence, and the report names both the new
 *     difference and the accepted one, as a branch on an undefined flag ends it. This is the most
 *     useful behaviour of those possible: ending at the accepted ulp itself would leave everything
 *     after a libm call uncompared, while treating derived values as divergences would report the
 *     host's rounding as mmulab's bug. Once every register agrees again and nothing reached memory,
 *     comparison is exact again.</li>
 * </ol>
 */
final class X87Flow {
    /** FSW.PE, the precision (inexact) exception flag. */
    static final int PE = 1 << 5;

    /** FSW condition codes not compared now. */
    private int cc;
    /** FSW.PE when it is not compared now (a transcendental's spurious inexact, see the class comment). */
    private int pe;
    /** Accepted (native se, native sig, mmulab se, mmulab sig) register values. */
    private final List<long[]> accepted = new ArrayList<>();
    private String acceptedWhat;
    private String memoryTaint;
    /** Address of a status word FNSTSW/FNSTENV/FNSAVE stored -> its don't-care condition codes. */
    private final TreeMap<Long, Integer> storedStatus = new TreeMap<>();

    private long acceptedUlps, acceptedInexact;

    /** What was accepted so far, for the report of a comparison without divergence; empty when nothing was. */
    String summary() {
        return acceptedUlps + acceptedInexact == 0 ? "" : String.format(
                "; x87: %d transcendental results one ulp apart and %d spurious inexact flags accepted (X87Flow)",
                acceptedUlps, acceptedInexact);
    }

    /** FSW bits not compared now: condition codes, and PE after a spurious inexact. */
    int dontCare() {
        return cc | pe;
    }

    /**
     * Accounts for {@code insn}, which both runs just retired; {@code nb}/{@code eb} are the registers
     * before it, {@code na}/{@code ea} after it (native, mmulab).
     */
    void retire(X86Insn insn, long insnAddr, long index, long[] nb, long[] eb, long[] na, long[] ea,
            UndefinedFlagFlow flow) {
        if (X87Ops.isFnstswAx(insn)) {
            flow.taintGpr(0, dontCare());
        }
        followStatusWordInMemory(insn, nb, na[REG_RIP], na[REG_GPR0 + 4], flow);
        int store = X87Ops.store(insn);
        if (store != X87Ops.STORE_NONE && !accepted.isEmpty() && memoryTaint == null) {
            followStore(store, insnAddr, nb, eb);
        }
        cc = (cc & ~X87Ops.writtenCc(insn)) | X87Ops.undefinedCc(insn);
        if (X87Ops.clearsExceptions(insn)) {
            pe = 0;
        }
        int results = X87Ops.transcendentalResult(insn);
        if (results != 0) {
            cc |= X87Ops.C1; // the round-up indicator of an approximation: see the class comment
            if ((na[REG_FSW] & ~ea[REG_FSW] & PE) != 0 && pe == 0) {
                pe = PE;
                acceptedInexact++;
            }
        }
        int top = (int) (na[REG_FSW] >>> 11) & 7;
        for (int k = 0; k < 2; k++) {
            if ((results & (1 << k)) == 0) {
                continue;
            }
            int p = (top + k) & 7;
            long nse = na[REG_FP_SE0 + p], nsig = na[REG_FP_SIG0 + p];
            long ese = ea[REG_FP_SE0 + p], esig = ea[REG_FP_SIG0 + p];
            if ((nse != ese || nsig != esig) && oneUlpApart(nse, nsig, ese, esig)) {
                accepted.add(new long[] { nse, nsig, ese, esig });
                acceptedUlps++;
                acceptedWhat = String.format("the result in st(%d) of the transcendental at 0x%x (instruction #%d), "
                        + "native %04x:%016x, mmulab %04x:%016x, one ulp apart (accepted: see X87Flow)", k, insnAddr,
                        index, nse, nsig, ese, esig);
            }
        }
    }

    /** FNSTSW m16/FNSTENV/FNSAVE remember where don't-care codes went; a load from there carries them on. */
    private void followStatusWordInMemory(X86Insn insn, long[] nb, long nextRip, long rspAfter, UndefinedFlagFlow flow) {
        int off = X87Ops.statusWordStoreOffset(insn);
        if (off >= 0) {
            Long a = MemOperand.address(insn, nb, nextRip);
            if (a != null && dontCare() != 0) {
                storedStatus.put(a + off, dontCare());
            } else if (a != null) {
                storedStatus.remove(a + off);
            }
        }
        int[] load = storedStatus.isEmpty() ? null : MemOperand.load(insn);
        Long a = load == null ? null : MemOperand.address(insn, nb, nextRip);
        if (a != null) {
            long bits = 0;
            for (Map.Entry<Long, Integer> en : storedStatus.subMap(a - 1, true, a + load[1], false).entrySet()) {
                for (int k = 0; k < 2; k++) {
                    long pos = en.getKey() + k - a;
                    if (pos >= 0 && pos < load[1]) {
                        bits |= (long) ((en.getValue() >>> (8 * k)) & 0xff) << (8 * pos + load[2]);
                    }
                }
            }
            if (bits != 0) {
                flow.taintGpr(load[0], bits);
            }
        }
        storedStatus.subMap(rspAfter - TraceComparator.STACK_BELOW, rspAfter - 128).clear();
    }

    private void followStore(int store, long insnAddr, long[] nb, long[] eb) {
        int top = (int) (nb[REG_FSW] >>> 11) & 7;
        for (int p = 0; p < 8; p++) {
            if (store != X87Ops.STORE_ALL && p != top) {
                continue;
            }
            long nse = nb[REG_FP_SE0 + p], nsig = nb[REG_FP_SIG0 + p];
            long ese = eb[REG_FP_SE0 + p], esig = eb[REG_FP_SIG0 + p];
            if (nse == ese && nsig == esig) {
                continue;
            }
            int rc = (int) (nb[REG_FCW] >>> 10) & 3;
            boolean lost = (store == X87Ops.STORE_F32 && sameRounded(nse, nsig, ese, esig, 23, 126, rc))
                    || (store == X87Ops.STORE_F64 && sameRounded(nse, nsig, ese, esig, 52, 1022, rc));
            if (!lost) {
                memoryTaint = String.format("the store at 0x%x wrote it to memory", insnAddr);
            }
        }
    }

    /** Compares the x87 and MXCSR slots of the current records; adds a report row per difference. */
    void compare(long[] n, long[] e, List<String> diffs) {
        for (int i : new int[] { REG_FCW, REG_FTW, REG_MXCSR }) {
            if (n[i] != e[i]) {
                diffs.add(row(i, n[i], e[i], i == REG_MXCSR ? mxcsrDiff(n[i] ^ e[i]) : ""));
            }
        }
        long fswDiff = (n[REG_FSW] ^ e[REG_FSW]) & ~dontCare();
        if (fswDiff != 0) {
            diffs.add(row(REG_FSW, n[REG_FSW], e[REG_FSW], "differs in " + fswNames(fswDiff)
                    + (dontCare() != 0 ? "; not compared (undefined): " + fswNames(dontCare()) : "")));
        }
        int top = (int) (n[REG_FSW] >>> 11) & 7;
        boolean live = false;
        for (int p = 0; p < 8; p++) {
            long nse = n[REG_FP_SE0 + p], nsig = n[REG_FP_SIG0 + p];
            long ese = e[REG_FP_SE0 + p], esig = e[REG_FP_SIG0 + p];
            if (nse == ese && nsig == esig) {
                continue;
            }
            if (isAccepted(nse, nsig, ese, esig)) {
                live = true;
                continue;
            }
            String note = "st(" + ((p - top) & 7) + ")" + ((n[REG_FTW] & (1 << p)) == 0 ? ", empty" : "");
            if (nsig != esig) {
                diffs.add(row(REG_FP_SIG0 + p, nsig, esig, note));
            }
            if (nse != ese) {
                diffs.add(row(REG_FP_SE0 + p, nse, ese, note));
            }
        }
        if (!live && memoryTaint == null) {
            accepted.clear();
        }
    }

    /** True when the x87 registers (R0-R7) of the two records differ. */
    static boolean registersDiffer(long[] n, long[] e) {
        for (int p = 0; p < 8; p++) {
            if (n[REG_FP_SE0 + p] != e[REG_FP_SE0 + p] || n[REG_FP_SIG0 + p] != e[REG_FP_SIG0 + p]) {
                return true;
            }
        }
        return false;
    }

    /**
     * Why differences found now may follow from an accepted transcendental result (it is still in a
     * register, or reached memory), or null when they cannot.
     */
    String explainsDifferences() {
        if (accepted.isEmpty()) {
            return null;
        }
        return acceptedWhat + (memoryTaint != null ? ", and " + memoryTaint : ", is still in a register");
    }

    private boolean isAccepted(long nse, long nsig, long ese, long esig) {
        for (long[] a : accepted) {
            if (a[0] == nse && a[1] == nsig && a[2] == ese && a[3] == esig) {
                return true;
            }
        }
        return false;
    }

    /** True when two 80-bit values of the same sign are adjacent (one ulp of the 64-bit significand apart). */
    static boolean oneUlpApart(long seA, long sigA, long seB, long sigB) {
        if (((seA ^ seB) & 0x8000) != 0) {
            return false;
        }
        long ea = seA & 0x7fff, eb = seB & 0x7fff;
        if (ea == eb) {
            return sigA - sigB == 1 || sigB - sigA == 1;
        }
        if (ea == eb + 1) {
            return sigA == Long.MIN_VALUE && sigB == -1L;
        }
        if (eb == ea + 1) {
            return sigB == Long.MIN_VALUE && sigA == -1L;
        }
        return false;
    }

    /**
     * True when two normal 80-bit values round to the same float ({@code frac} 23, {@code emax} 127)
     * or double (52, 1023) under rounding control {@code rc} (0 nearest-even, 1 down, 2 up, 3 toward
     * zero); false when they do not or when either is outside the target's normal range (not judged).
     */
    static boolean sameRounded(long seA, long sigA, long seB, long sigB, int frac, int emaxMinus1, int rc) {
        long[] a = rounded(seA, sigA, frac, emaxMinus1, rc), b = rounded(seB, sigB, frac, emaxMinus1, rc);
        return a != null && b != null && a[0] == b[0] && a[1] == b[1];
    }

    /** The rounded value as {sign and exponent, significand}, or null when not judged. */
    private static long[] rounded(long se, long sig, int frac, int emaxMinus1, int rc) {
        long e = (se & 0x7fff) - 16383;
        if (sig >= 0 || e < -emaxMinus1 || e > emaxMinus1 + 1) {
            return null; // unnormal, zero, denormal, or outside the normal range of the target
        }
        boolean negative = (se & 0x8000) != 0;
        int shift = 63 - frac;
        long kept = sig >>> shift;
        long rest = sig & ((1L << shift) - 1), half = 1L << (shift - 1);
        boolean up = switch (rc) {
            case 0 -> rest > half || (rest == half && (kept & 1) != 0);
            case 1 -> rest != 0 && negative;
            case 2 -> rest != 0 && !negative;
            default -> false;
        };
        if (up && ++kept == 1L << (frac + 1)) {
            kept >>>= 1;
            e++;
        }
        if (e > emaxMinus1 + 1) {
            return null;
        }
        return new long[] { (negative ? 1L << 32 : 0) | (e & 0xffff_ffffL), kept };
    }

    static String row(int reg, long a, long b, String note) {
        return String.format("  %-8s 0x%016x 0x%016x %s%n", REG_NAMES.get(reg), a, b, note);
    }

    private static final String[] FSW_BITS = { "IE", "DE", "ZE", "OE", "UE", "PE", "SF", "ES", "C0", "C1", "C2",
        "TOP", "TOP", "TOP", "C3", "B" };
    private static final String[] MXCSR_BITS = { "IE", "DE", "ZE", "OE", "UE", "PE", "DAZ", "IM", "DM", "ZM", "OM",
        "UM", "PM", "RC", "RC", "FZ" };

    static String fswNames(long bits) {
        return names(bits, FSW_BITS);
    }

    private static String mxcsrDiff(long bits) {
        return "differs in " + names(bits, MXCSR_BITS);
    }

    private static String names(long bits, String[] table) {
        StringBuilder sb = new StringBuilder();
        String last = "";
        for (int b = 0; b < 16; b++) {
            if ((bits & (1L << b)) != 0 && !table[b].equals(last)) {
                sb.append(sb.length() == 0 ? "" : " ").append(table[b]);
                last = table[b];
            }
        }
        return sb.length() == 0 ? "none" : sb.toString();
    }

    /** The x87 and MXCSR state of a record, for reports. */
    static String dump(long[] r) {
        StringBuilder sb = new StringBuilder(String.format("  fcw=%04x fsw=%04x ftw=%02x mxcsr=%08x%n", r[REG_FCW],
                r[REG_FSW], r[REG_FTW], r[REG_MXCSR]));
        int top = (int) (r[REG_FSW] >>> 11) & 7;
        for (int i = 0; i < 8; i++) {
            int p = (top + i) & 7;
            sb.append(String.format("  st(%d)=r%d=%04x:%016x%s", i, p, r[REG_FP_SE0 + p], r[REG_FP_SIG0 + p],
                    (r[REG_FTW] & (1 << p)) == 0 ? " empty" : "")).append(i % 2 == 1 ? "\n" : "");
        }
        return sb.toString();
    }
}
