package org.mmulab.images.oracle;

import java.util.TreeMap;

/**
 * Where the values of undefined flags went, for {@link TraceComparator}: the RFLAGS bits that are
 * "don't care" (left undefined by an instruction, SDM Vol. 2 "Flags Affected", and not written since),
 * the general-purpose register bits that received a copy of one, and the RFLAGS images PUSHF left on the
 * stack. Hardware leaves some value in an undefined flag and later instructions carry it along, so
 * Intel and AMD hosts (and mmulab, which follows one documented behaviour) legitimately differ there and
 * wherever it flows.
 *
 * <p>Flows followed: SYSCALL (RFLAGS into R11), LAHF (into AH), PUSHF then POP or POPF (through the
 * pushed slot, by its native stack address), SETcc and CMOVcc on a don't-care condition (their
 * destination), ADC/SBB/RCL/RCR with a don't-care CF (their destination and every flag they write), and
 * a MOV-like copy (a register differing by exactly a don't-care register's difference). A Jcc on a
 * don't-care condition is reported by {@link #retire} when the two runs branch differently, and so is an
 * FCMOVcc on one after which the x87 registers differ. SAHF moves don't-care bits of AH (for instance the
 * x87 condition codes FNSTSW AX copied there, see {@link X87Flow}) into SF ZF AF PF CF.
 */
final class UndefinedFlagFlow {
    /** TF: set natively by ptrace single-stepping, so it is don't-care in every copy of RFLAGS. */
    static final long TF = 1L << 8;

    private long flags;
    private final long[] gpr = new long[16];
    /** Native stack address of a PUSHF image -> its don't-care bits. */
    private final TreeMap<Long, Long> pushed = new TreeMap<>();
    /** For reports: the address of the instruction that last left each flag bit undefined. */
    private final long[] origin = new long[12];

    /** RFLAGS bits not compared now. */
    long flags() {
        return flags;
    }

    /** Bits of general-purpose register {@code i} not compared now. */
    long gpr(int i) {
        return gpr[i];
    }

    /** Makes {@code bits} of general-purpose register {@code i} don't-care: a copy of don't-care x87 condition codes. */
    void taintGpr(int i, long bits) {
        gpr[i] |= bits;
    }

    /**
     * Accounts for the instruction at {@code insnAddr} that both runs just retired. {@code rspBefore} and
     * {@code rspAfter} are the native stack pointer around it; {@code branchesDiffer} is true when the two
     * runs' RIP after it differ, {@code fpDiffers} when their x87 registers do. Returns null, or an
     * explanation when it is a Jcc that the two runs took differently, or an FCMOVcc that moved in one run
     * only, because its condition reads a don't-care flag (nothing after it is comparable).
     */
    String retire(X86Insn insn, long insnAddr, long rcxBefore, long rspBefore, long rspAfter, boolean branchesDiffer,
            boolean fpDiffers) {
        long readDontCare = insn.flagsRead() & flags;
        long carried = 0; // flags that stay don't-care because they were computed from one
        int dest = insn.destGpr();
        switch (insn.flagUse()) {
            case BRANCH:
                if (readDontCare != 0 && branchesDiffer) {
                    return explainBranch(insnAddr, readDontCare);
                }
                break;
            case FCMOVCC:
                if (readDontCare != 0 && fpDiffers) {
                    return explainBranch(insnAddr, readDontCare).replace("conditional branch", "FCMOVcc")
                            .replace("went different ways", "moved differently");
                }
                break;
            case SAHF:
                carried = (gpr[0] >>> 8) & (X86Insn.CF | X86Insn.PF | X86Insn.AF | X86Insn.ZF | X86Insn.SF);
                break;
            case SETCC, CMOVCC:
                if (readDontCare != 0 && dest >= 0) {
                    gpr[dest] |= insn.destMask();
                }
                break;
            case CARRY_IN:
                if (readDontCare != 0) {
                    if (dest >= 0) {
                        gpr[dest] |= insn.destMask();
                    }
                    carried = insn.writtenFlags(rcxBefore);
                }
                break;
            case LAHF:
                gpr[0] |= (flags & insn.flagsRead()) << 8;
                break;
            case PUSHF:
                pushed.put(rspAfter, (flags | TF) & widthMask(insn.stackOperandBytes()));
                break;
            case POPF: {
                Long m = pushed.remove(rspBefore);
                if (m != null) {
                    carried = m & X86Insn.ARITH;
                }
                break;
            }
            case POP: {
                Long m = pushed.remove(rspBefore);
                if (m != null && dest >= 0) {
                    gpr[dest] |= m & widthMask(insn.stackOperandBytes());
                }
                break;
            }
            case SYSCALL:
                gpr[11] = flags | TF;
                break;
            default:
                break;
        }
        // Slots below the stack pointer were popped or discarded; a later push may reuse them.
        pushed.headMap(rspAfter).clear();
        long undefined = insn.undefinedFlags(rcxBefore) | insn.modelDependentFlags();
        for (int bit = 0; bit < origin.length; bit++) {
            if ((undefined & (1L << bit)) != 0) {
                origin[bit] = insnAddr;
            }
        }
        flags = (flags & ~insn.writtenFlags(rcxBefore)) | undefined | carried;
        return null;
    }

    /**
     * True when general-purpose register {@code i}, whose values differ by {@code diff}, differs only where it
     * holds don't-care bits, or is a copy of a register that does (it then inherits that register's bits).
     * {@code diffs} are the current differences of all sixteen registers. A register both runs agree on
     * is clean again.
     */
    boolean explains(int i, long diff, long[] diffs) {
        if (diff == 0) {
            gpr[i] = 0;
            return true;
        }
        if ((diff & ~gpr[i]) == 0) {
            return true;
        }
        for (int j = 0; j < gpr.length; j++) {
            if (j != i && gpr[j] != 0 && diffs[j] == diff && (diff & ~gpr[j]) == 0) {
                gpr[i] = gpr[j];
                return true;
            }
        }
        return false;
    }

    private String explainBranch(long insnAddr, long readDontCare) {
        StringBuilder sb = new StringBuilder();
        for (int bit = 0; bit < origin.length; bit++) {
            if ((readDontCare & (1L << bit)) != 0) {
                sb.append(sb.length() == 0 ? "" : ", ").append(X86Insn.flagNames(1L << bit))
                        .append(String.format(" (left undefined by the instruction at 0x%x)", origin[bit]));
            }
        }
        return String.format("the conditional branch at 0x%x tests %s, and the two runs went different ways", insnAddr,
                sb);
    }

    private static long widthMask(int bytes) {
        return bytes >= 8 ? -1L : (1L << (bytes * 8)) - 1;
    }
}
