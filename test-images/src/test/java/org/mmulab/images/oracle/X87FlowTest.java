package org.mmulab.images.oracle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mmulab.emulator.debug.RegisterTraceWriter.REG_FP_SE0;
import static org.mmulab.emulator.debug.RegisterTraceWriter.REG_FP_SIG0;
import static org.mmulab.emulator.debug.RegisterTraceWriter.REG_FSW;
import static org.mmulab.emulator.debug.RegisterTraceWriter.REG_FTW;
import static org.mmulab.emulator.debug.RegisterTraceWriter.REG_GPR0;
import static org.mmulab.emulator.debug.RegisterTraceWriter.REG_MXCSR;
import static org.mmulab.emulator.debug.RegisterTraceWriter.REG_RFLAGS;
import static org.mmulab.emulator.debug.RegisterTraceWriter.REG_RIP;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.function.Consumer;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The comparator's x87 and MXCSR rules against traces made here, without the host CPU (as
 * {@link UndefinedFlagFlowTest} does for RFLAGS): undefined condition codes and where FNSTSW AX and SAHF
 * carry them, a one-ulp FSIN result and what follows it, and the differences that must be reported
 * (a defined C1, a wrong ST(3), a wrong MXCSR flag, a two-ulp FSIN result, a difference after the
 * registers agree again).
 */
class X87FlowTest {
    private static final int C0 = X87Ops.C0, C1 = X87Ops.C1, C2 = X87Ops.C2, C3 = X87Ops.C3;
    private static final long ONE_SE = 0x3fff, ONE_SIG = 0x8000_0000_0000_0000L;
    private static final int RAX = 0, RBX = 3;

    @TempDir
    Path dir;

    /** Condition codes: FLD1 and FADDP leave C0 C2 C3 undefined; FNSTSW AX and SAHF carry them on. */
    private static final String CC_FLOW = String.join(" ",
            "d9 e8", //          0 fld1
            "d9 ee", //          1 fldz
            "de c1", //          2 faddp %st,%st(1)
            "df e0", //          3 fnstsw %ax
            "9e", //             4 sahf
            "b8 3c 00 00 00", // 5 mov $60,%eax
            "0f 05"); //         6 syscall (exit)

    private static List<long[]> ccFlow(long[] start, int nativeCc, int mmulabExtra) {
        List<long[]> s = new ArrayList<>();
        long[] r = start.clone();
        step(s, r, 0x401002, x -> {
            push(x, ONE_SE, ONE_SIG);
            x[REG_FSW] |= nativeCc ^ mmulabExtra;
        });
        step(s, r, 0x401004, x -> push(x, 0, 0));
        step(s, r, 0x401006, x -> {
            int top = top(x);
            x[REG_FP_SE0 + ((top + 1) & 7)] = ONE_SE;
            x[REG_FP_SIG0 + ((top + 1) & 7)] = ONE_SIG;
            pop(x);
        });
        step(s, r, 0x401008, x -> x[REG_GPR0 + RAX] = (x[REG_GPR0 + RAX] & ~0xffffL) | x[REG_FSW]);
        step(s, r, 0x401009, x -> x[REG_RFLAGS] = (x[REG_RFLAGS] & ~0xd5L) | ((x[REG_GPR0 + RAX] >>> 8) & 0xd5));
        step(s, r, 0x40100e, x -> x[REG_GPR0 + RAX] = 60);
        return s;
    }

    @Test
    void undefinedConditionCodesAndTheirCopiesInAxAndRflagsAreNotADivergence() throws Exception {
        SyntheticProgram p = SyntheticProgram.create(dir, CC_FLOW);
        // an Intel-like host leaves C0 C2 C3 set after FLD1; mmulab clears them
        TraceComparator.Result r = p.compare(ccFlow(p.start, C0 | C2 | C3, 0), ccFlow(p.start, 0, 0));
        assertFalse(r.diverged(), r.report());
        assertEquals(6, r.compared(), r.report());
    }

    @Test
    void aDefinedC1IsReported() throws Exception {
        SyntheticProgram p = SyntheticProgram.create(dir, CC_FLOW);
        TraceComparator.Result r = p.compare(ccFlow(p.start, 0, 0), ccFlow(p.start, 0, C1));
        assertTrue(r.diverged(), r.report());
        assertEquals(0, r.compared(), r.report());
        assertTrue(r.report().contains("differs in C1; not compared (undefined): C0 C2 C3"), r.report());
        assertTrue(r.report().contains("fsw"), r.report());
    }

    /** FNSTSW to the red zone and MOVZX back: the don't-care codes follow through memory. */
    private static final String CC_MEMORY = String.join(" ",
            "d9 e8", //          0 fld1
            "dd 7c 24 f8", //    1 fnstsw -8(%rsp)
            "0f b7 5c 24 f8", // 2 movzwl -8(%rsp),%ebx
            "b8 3c 00 00 00", // 3 mov $60,%eax
            "0f 05"); //         4 syscall

    private static List<long[]> ccMemory(long[] start, int cc, long rbxFlip) {
        List<long[]> s = new ArrayList<>();
        long[] r = start.clone();
        step(s, r, 0x401002, x -> {
            push(x, ONE_SE, ONE_SIG);
            x[REG_FSW] |= cc;
        });
        step(s, r, 0x401006, x -> { });
        step(s, r, 0x40100b, x -> x[REG_GPR0 + RBX] = x[REG_FSW] ^ rbxFlip);
        step(s, r, 0x401010, x -> x[REG_GPR0 + RAX] = 60);
        return s;
    }

    @Test
    void undefinedConditionCodesStoredByFnstswAndLoadedBackAreNotADivergence() throws Exception {
        SyntheticProgram p = SyntheticProgram.create(dir, CC_MEMORY);
        TraceComparator.Result r = p.compare(ccMemory(p.start, C3 | C0, 0), ccMemory(p.start, 0, 0));
        assertFalse(r.diverged(), r.report());
        assertEquals(4, r.compared(), r.report());
        // the defined C1 in the loaded copy is compared
        TraceComparator.Result bad = p.compare(ccMemory(p.start, 0, 0), ccMemory(p.start, 0, C1));
        assertTrue(bad.diverged(), bad.report());
        assertEquals(2, bad.compared(), bad.report());
        assertTrue(bad.report().contains("rbx"), bad.report());
    }

    /** FSIN, its result stored as a double, the register overwritten, then an integer instruction. */
    private static final String SIN = String.join(" ",
            "d9 eb", //    0 fldpi
            "d9 fe", //    1 fsin
            "dd 1c 24", // 2 fstpl (%rsp)
            "d9 e8", //    3 fld1            (the same physical register: both runs agree again)
            "48 31 db", // 4 xor %rbx,%rbx
            "0f 05"); //   5 syscall
    private static final long SIN_SE = 0xbfbd, SIN_SIG = 0xece675d1fc8f8cbbL;

    private static List<long[]> sin(long[] start, long ulps, Consumer<List<long[]>> edit) {
        List<long[]> s = new ArrayList<>();
        long[] r = start.clone();
        step(s, r, 0x401002, x -> push(x, 0x4000, 0xc90fdaa22168c235L));
        step(s, r, 0x401004, x -> {
            x[REG_FP_SE0 + top(x)] = SIN_SE;
            x[REG_FP_SIG0 + top(x)] = SIN_SIG + ulps;
            x[REG_FSW] = (x[REG_FSW] & ~C1) | (ulps != 0 ? C1 : 0) | 0x20; // PE; C1: rounded up
        });
        step(s, r, 0x401007, x -> {
            pop(x);
            x[REG_FSW] |= C1; // both round the double up
        });
        step(s, r, 0x401009, x -> push(x, ONE_SE, ONE_SIG));
        step(s, r, 0x40100c, x -> {
            x[REG_GPR0 + RBX] = 0;
            x[REG_RFLAGS] = 0x246;
        });
        if (edit != null) {
            edit.accept(s);
        }
        return s;
    }

    @Test
    void aOneUlpFsinResultAndItsC1AreAccepted() throws Exception {
        SyntheticProgram p = SyntheticProgram.create(dir, SIN);
        TraceComparator.Result r = p.compare(sin(p.start, 0, null), sin(p.start, 1, null));
        assertFalse(r.diverged(), r.report());
        assertEquals(5, r.compared(), r.report());
    }

    @Test
    void aSpuriousInexactFromTheHostsTranscendentalIsAcceptedButNotTheReverse() throws Exception {
        SyntheticProgram p = SyntheticProgram.create(dir, SIN);
        Consumer<List<long[]>> noPe = s -> {
            for (int i = 1; i < s.size(); i++) {
                s.get(i)[REG_FSW] &= ~0x20L;
            }
        };
        TraceComparator.Result r = p.compare(sin(p.start, 0, null), sin(p.start, 0, noPe));
        assertFalse(r.diverged(), r.report());
        assertEquals(5, r.compared(), r.report());
        TraceComparator.Result bad = p.compare(sin(p.start, 0, noPe), sin(p.start, 0, null));
        assertTrue(bad.diverged(), bad.report());
        assertEquals(1, bad.compared(), bad.report());
        assertTrue(bad.report().contains("differs in PE"), bad.report());
    }

    @Test
    void aTwoUlpFsinResultIsReported() throws Exception {
        SyntheticProgram p = SyntheticProgram.create(dir, SIN);
        TraceComparator.Result r = p.compare(sin(p.start, 0, null), sin(p.start, 2, null));
        assertTrue(r.diverged(), r.report());
        assertEquals(1, r.compared(), r.report());
        assertTrue(r.report().contains("r7.sig"), r.report());
    }

    @Test
    void aDifferenceWhileTheInexactValueIsLiveEndsTheComparisonWithoutADivergence() throws Exception {
        SyntheticProgram p = SyntheticProgram.create(dir, SIN);
        TraceComparator.Result r = p.compare(sin(p.start, 0, null), sin(p.start, 1, s -> {
            for (int i = 2; i < s.size(); i++) {
                s.get(i)[REG_GPR0 + RBX] ^= 1;
            }
        }));
        assertFalse(r.diverged(), r.report());
        assertEquals(2, r.compared(), r.report());
        assertTrue(r.report().contains("may follow from the result in st(0) of the transcendental at 0x401002"),
                r.report());
    }

    @Test
    void aDifferenceAfterTheRegistersAgreeAgainIsReported() throws Exception {
        SyntheticProgram p = SyntheticProgram.create(dir, SIN);
        TraceComparator.Result r = p.compare(sin(p.start, 0, null), sin(p.start, 1, s -> s.get(4)[REG_GPR0 + RBX] = 5));
        assertTrue(r.diverged(), r.report());
        assertEquals(4, r.compared(), r.report());
        assertTrue(r.report().contains("rbx"), r.report());
    }

    @Test
    void aWrongMxcsrFlagIsReported() throws Exception {
        SyntheticProgram p = SyntheticProgram.create(dir, SIN);
        TraceComparator.Result r = p.compare(sin(p.start, 0, null), sin(p.start, 0, s -> s.get(4)[REG_MXCSR] |= 0x20));
        assertTrue(r.diverged(), r.report());
        assertEquals(4, r.compared(), r.report());
        assertTrue(r.report().contains("mxcsr") && r.report().contains("differs in PE"), r.report());
    }

    @Test
    void aWrongSt3IsReportedByItsStackPosition() throws Exception {
        SyntheticProgram p = SyntheticProgram.create(dir, "d9 e8 d9 e8 d9 e8 d9 e8 d9 ee 0f 05");
        List<long[]> n = loads(p.start), e = loads(p.start);
        e.get(4)[REG_FP_SIG0 + 6] ^= 1L << 20; // after five pushes TOP is 3: ST(3) is R6
        TraceComparator.Result r = p.compare(n, e);
        assertTrue(r.diverged(), r.report());
        assertEquals(4, r.compared(), r.report());
        assertTrue(r.report().contains("r6.sig") && r.report().contains("st(3)"), r.report());
    }

    private static List<long[]> loads(long[] start) {
        List<long[]> s = new ArrayList<>();
        long[] r = start.clone();
        for (int i = 0; i < 5; i++) {
            boolean zero = i == 4;
            step(s, r, 0x401002 + 2L * i, x -> push(x, zero ? 0 : ONE_SE, zero ? 0 : ONE_SIG));
        }
        return s;
    }

    @Test
    void tablesFollowTheSdm() {
        assertCc("d8 c1", C1, C0 | C2 | C3); // fadd %st(1),%st
        assertCc("dd 04 24", C1, C0 | C2 | C3); // fldl (%rsp)
        assertCc("d8 d1", C0 | C1 | C2 | C3, 0); // fcom %st(1)
        assertCc("d9 e5", C0 | C1 | C2 | C3, 0); // fxam
        assertCc("d9 fe", C1 | C2, C0 | C3); // fsin
        assertCc("df e0", 0, C0 | C1 | C2 | C3); // fnstsw %ax
        assertCc("9b", 0, C0 | C1 | C2 | C3); // fwait
        assertCc("d9 2c 24", 0, C0 | C1 | C2 | C3); // fldcw (%rsp)
        assertCc("db f1", C1, 0); // fcomi: C0 C2 C3 not affected
        assertCc("0f ae 0c 24", C0 | C1 | C2 | C3, 0); // fxrstor (%rsp)
        assertCc("0f ae 04 24", 0, 0); // fxsave (%rsp)
        assertTrue(X87Ops.clearsExceptions(insn("db e2")), "fnclex");
        assertTrue(X87Ops.clearsExceptions(insn("dd 34 24")), "fnsave");
        assertFalse(X87Ops.clearsExceptions(insn("dd 3c 24")), "fnstsw m16");
        assertEquals(X86Insn.ARITH, insn("df e9").writtenFlags(0), "fucomip defines ZF PF CF, clears OF SF AF");
        assertEquals(X86Insn.FlagUse.FCMOVCC, insn("da d1").flagUse());
        assertEquals(X86Insn.CF | X86Insn.ZF, insn("db d1").flagsRead(), "fcmovnbe");
        assertEquals(X86Insn.PF, insn("da d9").flagsRead(), "fcmovu");
        assertEquals(3, X87Ops.transcendentalResult(insn("d9 fb")), "fsincos: ST(0) and ST(1)");
        assertEquals(2, X87Ops.transcendentalResult(insn("d9 f2")), "fptan: ST(1)");
        assertEquals(0, X87Ops.transcendentalResult(insn("d9 fa")), "fsqrt is exact on both");
        assertEquals(X87Ops.STORE_F64, X87Ops.store(insn("dd 1c 24")));
        assertEquals(X87Ops.STORE_ST0, X87Ops.store(insn("db 3c 24")), "fstpt");
        assertEquals(X87Ops.STORE_ALL, X87Ops.store(insn("0f ae 04 24")), "fxsave");
    }

    @Test
    void ulpAndRoundingHelpers() {
        assertTrue(X87Flow.oneUlpApart(0x3fff, ONE_SIG, 0x3ffe, -1L), "across a binade");
        assertTrue(X87Flow.oneUlpApart(0x3fff, ONE_SIG + 1, 0x3fff, ONE_SIG));
        assertFalse(X87Flow.oneUlpApart(0x3fff, ONE_SIG + 2, 0x3fff, ONE_SIG));
        assertFalse(X87Flow.oneUlpApart(0xbfff, ONE_SIG + 1, 0x3fff, ONE_SIG), "signs differ");
        // 1 + 2^-53 (a tie) and 1 + 2^-53 + 2^-63 round differently to nearest-even double, equally toward zero
        long tie = ONE_SIG | (1L << 10);
        assertFalse(X87Flow.sameRounded(0x3fff, tie, 0x3fff, tie + 1, 52, 1022, 0));
        assertTrue(X87Flow.sameRounded(0x3fff, tie, 0x3fff, tie + 1, 52, 1022, 3));
        assertTrue(X87Flow.sameRounded(0x3fff, ONE_SIG + 5, 0x3fff, ONE_SIG + 6, 23, 126, 0));
        assertFalse(X87Flow.sameRounded(0x0001, ONE_SIG, 0x0001, ONE_SIG, 52, 1022, 0), "outside the double range");
    }

    private static void assertCc(String hex, int definedWritten, int undefined) {
        X86Insn i = insn(hex);
        assertEquals(undefined, X87Ops.undefinedCc(i), hex + " undefined");
        assertEquals(definedWritten | undefined, X87Ops.writtenCc(i), hex + " written");
    }

    private static X86Insn insn(String hex) {
        return X86Insn.decode(HexFormat.ofDelimiter(" ").parseHex(hex), true);
    }

    private static int top(long[] x) {
        return (int) (x[REG_FSW] >>> 11) & 7;
    }

    private static void push(long[] x, long se, long sig) {
        int t = (top(x) - 1) & 7;
        x[REG_FSW] = (x[REG_FSW] & ~0x3800L) | (long) t << 11;
        x[REG_FP_SE0 + t] = se;
        x[REG_FP_SIG0 + t] = sig;
        x[REG_FTW] |= 1L << t;
    }

    private static void pop(long[] x) {
        int t = top(x);
        x[REG_FTW] &= ~(1L << t);
        x[REG_FSW] = (x[REG_FSW] & ~0x3800L) | (long) ((t + 1) & 7) << 11;
    }

    private static void step(List<long[]> s, long[] r, long ripAfter, Consumer<long[]> e) {
        r[REG_RIP] = ripAfter;
        e.accept(r);
        s.add(r.clone());
    }
}
