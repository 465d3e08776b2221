package org.mmulab.images.oracle;

import static org.mmulab.emulator.debug.RegisterTraceWriter.NREGS;
import static org.mmulab.emulator.debug.RegisterTraceWriter.REG_FSW;
import static org.mmulab.emulator.debug.RegisterTraceWriter.REG_GPR0;
import static org.mmulab.emulator.debug.RegisterTraceWriter.REG_NAMES;
import static org.mmulab.emulator.debug.RegisterTraceWriter.REG_RFLAGS;
import static org.mmulab.emulator.debug.RegisterTraceWriter.REG_RIP;
import static org.mmulab.emulator.debug.RegisterTraceWriter.REG_XMM0;
import static org.mmulab.emulator.debug.RegisterTraceWriter.STATUS_TRUNCATED;
import static org.mmulab.emulator.debug.RegisterTraceWriter.STATUS_UNKNOWN;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Compares a native register trace (the reference) with the emulator's, instruction by instruction,
 * and reports the first divergence.
 *
 * <p>What is normalised, and why (everything else must match bit for bit):
 * <ol>
 * <li><b>REP string instructions.</b> ptrace single-step stops after every iteration of a
 *     REP-prefixed string instruction. A record whose RIP is still the address of the REP string
 *     instruction that just executed is merged into the next one, in both traces.</li>
 * <li><b>Stack addresses.</b> The native and emulated initial stacks differ in position (the host's
 *     vDSO and auxv are different). A general-purpose register value that lies in
 *     [rsp0 - 8 MiB, first argv/envp string) of its own trace is compared as an offset from that
 *     trace's initial RSP. The area between the pointer vectors and the strings (AT_RANDOM bytes,
 *     platform string, padding) is laid out differently and is not normalised further.</li>
 * <li><b>argv/envp strings.</b> A value pointing into (or at the NUL of) the i-th argv or envp
 *     string is compared as (i, offset). Both traces must have been started with the same argv and
 *     envp (the header records them; a mismatch is reported before any instruction).</li>
 * <li><b>Undefined flags.</b> RFLAGS bits that the SDM leaves undefined for the instruction just
 *     retired are not compared (see {@link X86Insn}); the instruction bytes come from the ELF file.
 *     Such a bit stays "don't care" through the following instructions until one that writes it
 *     (ADD, CMP, TEST, ...) retires, because the hardware carries its arbitrary value along.</li>
 * <li><b>Undefined flags that flow elsewhere.</b> A don't-care flag that an instruction copies into a
 *     register makes those register bits don't-care too: SYSCALL (R11), LAHF (AH), PUSHF then POP
 *     (the popped register; POPF makes the flags don't-care again), SETcc and CMOVcc on a don't-care
 *     condition (the destination), ADC/SBB/RCL/RCR with a don't-care CF (the destination and the flags
 *     they write). Such a register stays don't-care in those bits until both traces agree on it again;
 *     a differing register whose difference is exactly that of a don't-care register is a copy of it
 *     (MOV) and inherits its don't-care bits. A Jcc on a don't-care condition that the two runs take
 *     differently ends the comparison without a divergence: the report says which branch and flag,
 *     since nothing after it is comparable. Memory is not traced: a flag that reaches memory and comes
 *     back other than by PUSHF/POP or POPF is reported.</li>
 * <li><b>CPU-model differences.</b> F3 0F BC is TZCNT on the host (BMI1) and BSF on mmulab's CPU
 *     model, which does not advertise BMI1; its flags are not compared (see
 *     {@link X86Insn#modelDependentFlags()}); its result is.</li>
 * <li><b>TF in copies of RFLAGS.</b> Natively RFLAGS.TF is set by ptrace's single-stepping, so the copy
 *     SYSCALL puts in R11 and the one PUSHF pushes has bit 8 set; that bit is don't-care in the copy as
 *     undefined flags are (above).</li>
 * <li><b>x87 condition codes and transcendentals.</b> C0-C3 that the SDM leaves undefined, and a
 *     one-ulp difference in the result of FSIN, FCOS, FSINCOS, FPTAN, FPATAN, F2XM1, FYL2X or FYL2XP1
 *     (correctly rounded on mmulab, within about 1 ulp on hardware), with what may follow from it: see
 *     {@link X87Flow}, which states exactly what is accepted and when the comparison ends instead.</li>
 * </ol>
 * RIP, RFLAGS (other bits), FS_BASE, XMM0-15, MXCSR, FCW, FSW (other bits), the abridged tag word,
 * the x87 registers and every other register value are compared exactly. The x87 and MXCSR state is
 * compared when both traces have it (format version 2; a version-1 trace has none).
 */
public final class TraceComparator {
    /** How far below the initial RSP a value still counts as a stack address (the default RLIMIT_STACK). */
    public static final long STACK_BELOW = 8L << 20;
    private static final int CONTEXT = 12;

    /** Outcome of a comparison: how many instructions matched, and the report when they diverge. */
    public record Result(long compared, boolean diverged, String report) {
    }

    private final ElfCode elf;
    private final long limit;

    /**
     * @param elf    the image both traces ran (instruction bytes, symbols, entry point)
     * @param limit  compare at most this many instructions
     */
    public TraceComparator(ElfCode elf, long limit) {
        this.elf = elf;
        this.limit = limit;
    }

    /** One side of the comparison: a trace plus the coalescing state. */
    private final class Side {
        final RegisterTrace t;
        final String name;
        long lastRip; // address of the instruction the next record retires
        long[] before = new long[NREGS];
        final long stackLow, stackHigh;

        Side(RegisterTrace t, String name) {
            this.t = t;
            this.name = name;
            this.lastRip = t.rip0 != 0 ? t.rip0 : elf.entry();
            long lowestString = Long.MAX_VALUE;
            for (long a : t.stringAddr) {
                lowestString = Math.min(lowestString, a);
            }
            this.stackLow = t.rsp0 - STACK_BELOW;
            this.stackHigh = lowestString != Long.MAX_VALUE && lowestString > t.rsp0 ? lowestString : t.rsp0 + (64 << 10);
        }

        /** Advances to the next instruction boundary; false at the end of the trace. */
        boolean next() throws IOException {
            long insnAddr = lastRip;
            X86Insn insn = null;
            before = t.snapshot();
            if (t.records() == 0) {
                // before the first instruction: what exec leaves (every GPR zero but RSP)
                before[REG_RIP] = insnAddr;
                before[RegisterTraceWriterSlots.RSP] = t.rsp0;
            }
            while (t.next()) {
                long rip = t.reg(REG_RIP);
                if (rip == insnAddr) {
                    if (insn == null) {
                        insn = X86Insn.decode(elf.bytesAt(insnAddr, 15), elf.is64());
                    }
                    if (insn.isRepString()) {
                        continue; // one more iteration of the same REP instruction
                    }
                }
                lastRip = rip;
                return true;
            }
            return false;
        }

        String describeEnd() {
            long s = t.endStatus();
            if (t.cutShort()) {
                return "its file ends without an end record (the producer died or was not closed)";
            }
            if (s == STATUS_TRUNCATED) {
                return "it was truncated at its record limit";
            }
            if (s == STATUS_UNKNOWN) {
                return "it ended with unknown status";
            }
            return "the program exited with status " + s;
        }
    }

    /** Register slot numbers used here, mirroring RegisterTraceWriter's layout. */
    private static final class RegisterTraceWriterSlots {
        static final int RSP = REG_GPR0 + 4;
        static final int RCX = REG_GPR0 + 1;
    }

    public Result compare(Path nativeTrace, Path emulatorTrace) throws IOException {
        try (RegisterTrace n = RegisterTrace.open(nativeTrace); RegisterTrace e = RegisterTrace.open(emulatorTrace)) {
            return compare(n, e);
        }
    }

    private Result compare(RegisterTrace nt, RegisterTrace et) throws IOException {
        String headerProblem = checkHeaders(nt, et);
        if (headerProblem != null) {
            return new Result(0, true, headerProblem);
        }
        Side n = new Side(nt, "native");
        Side e = new Side(et, "mmulab");
        Deque<Long> recent = new ArrayDeque<>();
        UndefinedFlagFlow undefinedFlow = new UndefinedFlagFlow();
        X87Flow x87 = new X87Flow();
        boolean fp = nt.nregs() > REG_FSW && et.nregs() > REG_FSW;
        long[] gprDiffs = new long[16];
        long index = 0;
        while (index < limit) {
            long insnAddr = n.lastRip;
            boolean hn = n.next();
            boolean he = e.next();
            if (!hn || !he) {
                Result end = endOfTrace(n, e, hn, he, index, insnAddr, recent);
                return end.diverged() ? end : new Result(end.compared(), false, end.report() + x87.summary());
            }
            byte[] bytes = elf.bytesAt(insnAddr, 15);
            X86Insn insn = X86Insn.decode(bytes, elf.is64());
            long[] na = nt.snapshot(), ea = et.snapshot();
            String notComparable = undefinedFlow.retire(insn, insnAddr, n.before[RegisterTraceWriterSlots.RCX],
                    n.before[RegisterTraceWriterSlots.RSP], nt.reg(RegisterTraceWriterSlots.RSP),
                    nt.reg(REG_RIP) != et.reg(REG_RIP), fp && X87Flow.registersDiffer(na, ea));
            if (notComparable != null) {
                return new Result(index, false, "identical for " + index + " instructions; then " + notComparable
                        + ", which only the undefined flag explains: not compared further\n" + recentText(recent));
            }
            if (fp) {
                x87.retire(insn, insnAddr, index, n.before, e.before, na, ea, undefinedFlow);
            }
            long dontCare = undefinedFlow.flags();
            for (int g = 0; g < 16; g++) {
                gprDiffs[g] = nt.reg(REG_GPR0 + g) ^ et.reg(REG_GPR0 + g);
            }
            List<String> diffs = new ArrayList<>();
            for (int i = 0; i < REG_FSW; i++) {
                long a = nt.reg(i), b = et.reg(i);
                if (i >= REG_GPR0 && i < REG_GPR0 + 16 && undefinedFlow.explains(i - REG_GPR0, a ^ b, gprDiffs)) {
                    continue;
                }
                if (a == b) {
                    continue;
                }
                if (i == REG_RFLAGS) {
                    if (((a ^ b) & ~dontCare) != 0) {
                        diffs.add(row(i, a, b, "differs in " + flagDiff((a ^ b) & ~dontCare)
                                + (dontCare != 0 ? "; not compared (undefined): " + X86Insn.flagNames(dontCare) : "")));
                    }
                    continue;
                }
                if (i >= REG_GPR0 && i < REG_GPR0 + 16) {
                    String ca = classify(n, a), cb = classify(e, b);
                    if (ca != null && ca.equals(cb)) {
                        continue;
                    }
                    long carried = undefinedFlow.gpr(i - REG_GPR0);
                    diffs.add(row(i, a, b, "native " + (ca == null ? "plain value" : ca) + ", mmulab "
                            + (cb == null ? "plain value" : cb)
                            + (carried != 0 ? String.format("; bits 0x%x carry undefined flags", carried) : "")));
                    continue;
                }
                diffs.add(row(i, a, b, ""));
            }
            if (fp) {
                x87.compare(na, ea, diffs);
            }
            String derived = diffs.isEmpty() || !fp ? null : x87.explainsDifferences();
            if (derived != null) {
                StringBuilder sb = new StringBuilder("identical for " + index + " instructions; then instruction #"
                        + index + " differs\n" + describeInsn(insnAddr, bytes));
                diffs.forEach(sb::append);
                sb.append("which may follow from ").append(derived).append(": not compared further\n")
                        .append(recentText(recent));
                return new Result(index, false, sb.toString());
            }
            if (!diffs.isEmpty()) {
                StringBuilder sb = new StringBuilder();
                sb.append("first divergence at instruction #").append(index)
                        .append(" (0-based; REP iterations coalesced)\n");
                sb.append(describeInsn(insnAddr, bytes));
                sb.append(String.format("  %-8s %-18s %-18s %s%n", "register", "native", "mmulab", "note"));
                diffs.forEach(sb::append);
                sb.append("registers before this instruction (native):\n").append(dump(n.before, fp));
                sb.append("registers before this instruction (mmulab):\n").append(dump(e.before, fp));
                sb.append(recentText(recent));
                return new Result(index, true, sb.toString());
            }
            recent.addLast(insnAddr);
            if (recent.size() > CONTEXT) {
                recent.removeFirst();
            }
            index++;
        }
        return new Result(index, false, "identical for the first " + index + " instructions (limit)" + x87.summary());
    }

    private String checkHeaders(RegisterTrace n, RegisterTrace e) {
        if (n.bits != e.bits) {
            return "address sizes differ: native " + n.bits + "-bit, mmulab " + e.bits + "-bit";
        }
        if (n.argc != e.argc || n.envc != e.envc) {
            return "the runs had different arguments: native argc=" + n.argc + " envc=" + n.envc + ", mmulab argc="
                    + e.argc + " envc=" + e.envc;
        }
        for (int i = 0; i < n.stringLen.length; i++) {
            if (n.stringLen[i] != e.stringLen[i]) {
                return "the runs had different " + (i < n.argc ? "argv[" + i + "]" : "envp[" + (i - n.argc) + "]")
                        + " (lengths " + n.stringLen[i] + " and " + e.stringLen[i] + ")";
            }
        }
        return null;
    }

    private Result endOfTrace(Side n, Side e, boolean hn, boolean he, long index, long insnAddr, Deque<Long> recent) {
        if (!hn && !he) {
            long sn = n.t.endStatus(), se = e.t.endStatus();
            boolean known = sn >= 0 && se >= 0;
            if (known && sn != se) {
                return new Result(index, true, "both traces end after " + index + " instructions, but native exit status "
                        + sn + " and mmulab " + se + "\n" + recentText(recent));
            }
            return new Result(index, false, "identical: " + index + " instructions; native: " + n.describeEnd()
                    + "; mmulab: " + e.describeEnd());
        }
        Side ended = hn ? e : n;
        Side going = hn ? n : e;
        if (ended.t.endStatus() == STATUS_TRUNCATED && !ended.t.cutShort()) {
            return new Result(index, false, "identical for " + index + " instructions, where the " + ended.name
                    + " trace was truncated at its record limit");
        }
        byte[] bytes = elf.bytesAt(insnAddr, 15);
        String sb = "the " + ended.name + " trace ends at instruction #" + index + " (" + ended.describeEnd() + "), but the "
                + going.name + " run retires it\n" + describeInsn(insnAddr, bytes)
                + "registers before this instruction (native):\n" + dump(n.before, false)
                + "registers before this instruction (mmulab):\n" + dump(e.before, false) + recentText(recent);
        return new Result(index, true, sb);
    }

    /** Normalised meaning of a register value, or null when it is a plain value. */
    private String classify(Side s, long v) {
        RegisterTrace t = s.t;
        for (int i = 0; i < t.stringAddr.length; i++) {
            long a = t.stringAddr[i];
            if (v >= a && v <= a + t.stringLen[i]) {
                String which = i < t.argc ? "argv[" + i + "]" : "envp[" + (i - t.argc) + "]";
                return "&" + which + "[" + (v - a) + "]";
            }
        }
        if (v >= s.stackLow && v < s.stackHigh) {
            long off = v - t.rsp0;
            return "rsp0" + (off < 0 ? "-" : "+") + "0x" + Long.toHexString(Math.abs(off));
        }
        return null;
    }

    private static String row(int reg, long a, long b, String note) {
        return String.format("  %-8s 0x%016x 0x%016x %s%n", REG_NAMES.get(reg), a, b, note);
    }

    private static String flagDiff(long bits) {
        String named = X86Insn.flagNames(bits & X86Insn.ARITH);
        long other = bits & ~X86Insn.ARITH;
        return (named.equals("none") ? "" : named) + (other != 0 ? (named.equals("none") ? "" : " ") + "bits 0x"
                + Long.toHexString(other) : "");
    }

    private String describeInsn(long addr, byte[] bytes) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format("  instruction at 0x%x <%s>: ", addr, elf.symbolize(addr)));
        sb.append(bytes.length == 0 ? "(not in the ELF file)" : HexFormat.ofDelimiter(" ").formatHex(bytes));
        sb.append("  (15 bytes from the address; the instruction is a prefix of them)\n");
        String dis = objdump(addr);
        if (dis != null) {
            sb.append("  objdump: ").append(dis).append('\n');
        }
        return sb.toString();
    }

    private String recentText(Deque<Long> recent) {
        if (recent.isEmpty()) {
            return "";
        }
        StringBuilder sb = new StringBuilder("the instructions before it (oldest first):\n");
        for (long a : recent) {
            sb.append(String.format("  0x%x <%s>%n", a, elf.symbolize(a)));
        }
        return sb.toString();
    }

    private static String dump(long[] r, boolean fp) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < REG_XMM0; i++) {
            sb.append(String.format("  %-7s=%016x", REG_NAMES.get(i), r[i]));
            if (i % 4 == 3 || i == REG_XMM0 - 1) {
                sb.append('\n');
            }
        }
        int shown = 0;
        for (int x = 0; x < 16; x++) {
            long lo = r[REG_XMM0 + 2 * x], hi = r[REG_XMM0 + 2 * x + 1];
            if (lo != 0 || hi != 0) {
                sb.append(String.format("  xmm%-4d=%016x:%016x", x, hi, lo));
                if (++shown % 2 == 0) {
                    sb.append('\n');
                }
            }
        }
        if (shown % 2 != 0) {
            sb.append('\n');
        }
        if (fp) {
            sb.append(X87Flow.dump(r));
        }
        return sb.toString();
    }

    /** One disassembled line from objdump when it is installed; null otherwise. Only used in reports. */
    private String objdump(long addr) {
        try {
            Process p = new ProcessBuilder("objdump", "-d", "-w",
                    "--start-address=0x" + Long.toHexString(addr), "--stop-address=0x" + Long.toHexString(addr + 16),
                    elf.path().toString()).redirectErrorStream(true).start();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
                p.destroyForcibly();
                return null;
            }
            String[] lines = new String(out, StandardCharsets.UTF_8).split("\n");
            String prefix = Long.toHexString(addr) + ":";
            for (String l : lines) {
                if (l.trim().startsWith(prefix)) {
                    return l.trim().substring(prefix.length()).trim().replaceAll("\t", "   ").replaceAll("  +", "   ");
                }
            }
            return null;
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }
}
