package org.mmulab.images.oracle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mmulab.emulator.debug.RegisterTraceWriter.REG_GPR0;
import static org.mmulab.emulator.debug.RegisterTraceWriter.REG_RFLAGS;
import static org.mmulab.emulator.debug.RegisterTraceWriter.REG_RIP;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.function.BiConsumer;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The comparator against traces made here, without the host CPU: a "native" trace as an Intel part
 * leaves undefined flags and an "mmulab" trace as mmulab does (AF set by shifts, OF computed), for a
 * small program in which those flags flow into registers (SYSCALL's R11, LAHF, PUSHF/POP, a MOV copy,
 * SETcc, CMOVcc, ADC) and into a branch. Differences that only the undefined flags explain are
 * accepted; the same differences in defined flags, or in values no undefined flag reached, are reported.
 */
class UndefinedFlagFlowTest {
    private static final int RAX = 0, RCX = 1, RDX = 2, RBX = 3, RBP = 5, RSI = 6, RDI = 7, R11 = 11;
    private static final long PF = X86Insn.PF, AF = X86Insn.AF, ZF = X86Insn.ZF, OF = X86Insn.OF, CF = X86Insn.CF;
    private static final long IF = 0x202; // IF and the always-one bit 1
    private static final long TF = UndefinedFlagFlow.TF;

    @TempDir
    Path dir;

    /** fault_touch's case and the flows after it; one instruction a line. */
    private static final String FLOWS = String.join(" ",
            "48 c1 e6 0c", //  0 shl $12,%rsi      AF undefined (Intel 0, mmulab 1)
            "0f 05", //        1 syscall           R11 = RFLAGS: 0x306 natively (TF from ptrace), 0x216 on mmulab
            "9f", //           2 lahf              AH = SF ZF AF PF CF
            "9c", //           3 pushfq
            "5b", //           4 pop %rbx          the pushed RFLAGS
            "4c 89 d9", //     5 mov %r11,%rcx     a copy of R11
            "49 c1 e0 02", //  6 shl $2,%r8        OF undefined (count 2)
            "0f 90 c2", //     7 seto %dl
            "48 0f 40 fe", //  8 cmovo %rsi,%rdi
            "c0 e0 09", //     9 shl $9,%al        CF undefined (count >= 8 bits)
            "48 83 d5 00", // 10 adc $0,%rbp       CF flows into RBP and every flag
            "48 83 c6 01", // 11 add $1,%rsi       every flag defined again
            "b8 3c 00 00 00", // 12 mov $60,%eax
            "0f 05"); //      13 syscall (exit)

    /** A branch on an undefined flag, and on a defined one. */
    private static final String BRANCH_ON_OF = "48 c1 e0 02 70 02 90 90 b8 3c 00 00 00 0f 05";
    private static final String BRANCH_ON_DEFINED_OF = "48 83 c0 00 70 02 90 90 b8 3c 00 00 00 0f 05";

    /** Register states after each instruction of {@link #FLOWS}, as an Intel host leaves them. */
    private static List<long[]> flowsNative(long[] start) {
        List<long[]> s = new ArrayList<>();
        long[] r = start.clone();
        r[REG_GPR0 + RSI] = 1;
        r[REG_GPR0 + RAX] = 39;
        r[REG_GPR0 + RBP] = 0x100;
        r[REG_GPR0 + 8] = 3;
        step(s, r, 0x401004, x -> {
            x[REG_GPR0 + RSI] = 0x1000;
            x[REG_RFLAGS] = IF | PF; // AF = 0 on this part
        });
        step(s, r, 0x401006, x -> {
            x[REG_GPR0 + RAX] = 1234; // getpid
            x[REG_GPR0 + RCX] = 0x401006;
            x[REG_GPR0 + R11] = x[REG_RFLAGS] | TF;
        });
        step(s, r, 0x401007, x -> x[REG_GPR0 + RAX] = (x[REG_GPR0 + RAX] & ~0xff00L) | ((x[REG_RFLAGS] & 0xd7) << 8));
        step(s, r, 0x401008, x -> x[REG_GPR0 + 4] -= 8);
        step(s, r, 0x401009, x -> {
            x[REG_GPR0 + RBX] = x[REG_RFLAGS] | TF;
            x[REG_GPR0 + 4] += 8;
        });
        step(s, r, 0x40100c, x -> x[REG_GPR0 + RCX] = x[REG_GPR0 + R11]);
        step(s, r, 0x401010, x -> {
            x[REG_GPR0 + 8] <<= 2;
            x[REG_RFLAGS] = IF | OF; // OF = 1 on this part
        });
        step(s, r, 0x401013, x -> x[REG_GPR0 + RDX] = (x[REG_GPR0 + RDX] & ~0xffL) | 1);
        step(s, r, 0x401017, x -> x[REG_GPR0 + RDI] = x[REG_GPR0 + RSI]);
        step(s, r, 0x40101a, x -> {
            x[REG_GPR0 + RAX] &= ~0xffL;
            x[REG_RFLAGS] = IF | PF | ZF | CF; // CF = 1 on this part
        });
        step(s, r, 0x40101e, x -> {
            x[REG_GPR0 + RBP] += 1;
            x[REG_RFLAGS] = IF | PF;
        });
        step(s, r, 0x401022, x -> {
            x[REG_GPR0 + RSI] += 1;
            x[REG_RFLAGS] = IF | PF;
        });
        step(s, r, 0x401027, x -> x[REG_GPR0 + RAX] = 60);
        return s;
    }

    /** The same run as mmulab's documented choices leave it (see Flags): AF = 1 after shifts, OF = 0, CF = 0. */
    private static List<long[]> flowsMmulab(long[] start) {
        List<long[]> s = new ArrayList<>();
        for (long[] n : flowsNative(start)) {
            s.add(n.clone());
        }
        // 0-5: AF set by the shift; R11, AH, RBX and RCX carry it; no TF in mmulab's copies
        for (int i = 0; i <= 5; i++) {
            s.get(i)[REG_RFLAGS] |= AF;
        }
        s.get(1)[REG_GPR0 + R11] = IF | PF | AF;
        for (int i = 1; i <= 5; i++) {
            s.get(i)[REG_GPR0 + R11] = IF | PF | AF;
        }
        for (int i = 2; i <= 11; i++) {
            s.get(i)[REG_GPR0 + RAX] |= AF << 8; // until mov $60,%eax
        }
        for (int i = 4; i <= 5; i++) {
            s.get(i)[REG_GPR0 + RBX] = IF | PF | AF;
        }
        s.get(5)[REG_GPR0 + RCX] = IF | PF | AF;
        for (int i = 6; i < s.size(); i++) {
            s.get(i)[REG_GPR0 + R11] = IF | PF | AF;
            s.get(i)[REG_GPR0 + RBX] = IF | PF | AF;
            s.get(i)[REG_GPR0 + RCX] = IF | PF | AF;
        }
        // 6-8: OF = 0 and AF = 1 after shl $2; SETO gives 0, CMOVO does not move
        for (int i = 6; i <= 8; i++) {
            s.get(i)[REG_RFLAGS] = IF | AF;
        }
        for (int i = 7; i < s.size(); i++) {
            s.get(i)[REG_GPR0 + RDX] &= ~0xffL;
        }
        for (int i = 8; i < s.size(); i++) {
            s.get(i)[REG_GPR0 + RDI] = start[REG_GPR0 + RDI];
        }
        // 9-10: CF = 0 after shl $9,%al; ADC adds nothing and its flags follow
        s.get(9)[REG_RFLAGS] = IF | PF | ZF | AF;
        for (int i = 10; i < s.size(); i++) {
            s.get(i)[REG_GPR0 + RBP] -= 1;
        }
        s.get(10)[REG_RFLAGS] = IF;
        return s;
    }

    private interface Edit {
        void apply(long[] regs);
    }

    private static void step(List<long[]> s, long[] r, long ripAfter, Edit e) {
        r[REG_RIP] = ripAfter;
        e.apply(r);
        s.add(r.clone());
    }

    @Test
    void undefinedFlagsAndWhereTheyFlowAreNotADivergence() throws Exception {
        SyntheticProgram p = program(FLOWS);
        TraceComparator.Result r = p.compare(flowsNative(p.start), flowsMmulab(p.start));
        assertFalse(r.diverged(), r.report());
        assertEquals(13, r.compared(), r.report());
    }

    @Test
    void theSameDifferencesInDefinedFlagsAreReported() throws Exception {
        SyntheticProgram p = program(FLOWS);
        // ZF in R11 after the SYSCALL: ZF was defined by the shift
        assertDivergesAt(p, 1, "r11", (i, regs) -> {
            if (i >= 1) {
                regs[REG_GPR0 + R11] ^= ZF;
            }
        });
        // CF after the ADD, which defines every flag
        assertDivergesAt(p, 11, "differs in CF", (i, regs) -> {
            if (i == 11) {
                regs[REG_RFLAGS] ^= CF;
            }
        });
        // the popped RFLAGS image differs in ZF
        assertDivergesAt(p, 4, "rbx", (i, regs) -> {
            if (i >= 4) {
                regs[REG_GPR0 + RBX] ^= ZF;
            }
        });
        // LAHF: CF (bit 8 of RAX) was defined
        assertDivergesAt(p, 2, "rax", (i, regs) -> {
            if (i == 2) {
                regs[REG_GPR0 + RAX] ^= CF << 8;
            }
        });
        // a MOV that copies something other than R11's difference
        assertDivergesAt(p, 5, "rcx", (i, regs) -> {
            if (i == 5) {
                regs[REG_GPR0 + RCX] ^= 0x40;
            }
        });
        // SETO's byte is don't-care, the rest of RDX is not
        assertDivergesAt(p, 7, "rdx", (i, regs) -> {
            if (i == 7) {
                regs[REG_GPR0 + RDX] ^= 0x100;
            }
        });
    }

    private void assertDivergesAt(SyntheticProgram p, int index, String expected, BiConsumer<Integer, long[]> change)
            throws Exception {
        List<long[]> emu = flowsMmulab(p.start);
        for (int i = 0; i < emu.size(); i++) {
            change.accept(i, emu.get(i));
        }
        TraceComparator.Result r = p.compare(flowsNative(p.start), emu);
        assertTrue(r.diverged(), "expected a divergence at #" + index + " (" + expected + ")\n" + r.report());
        assertEquals(index, r.compared(), r.report());
        assertTrue(r.report().contains(expected), r.report());
    }

    @Test
    void aBranchOnAnUndefinedFlagEndsTheComparisonWithoutADivergence() throws Exception {
        SyntheticProgram p = program(BRANCH_ON_OF);
        TraceComparator.Result r = p.compare(branch(p.start, 0x401008, IF | OF), branch(p.start, 0x401006, IF | AF));
        assertFalse(r.diverged(), r.report());
        assertEquals(1, r.compared(), r.report());
        assertTrue(r.report().contains("conditional branch at 0x401004 tests OF (left undefined by the instruction at 0x401000)"),
                r.report());
    }

    @Test
    void aBranchOnADefinedFlagThatGoesTheOtherWayIsADivergence() throws Exception {
        SyntheticProgram p = program(BRANCH_ON_DEFINED_OF);
        TraceComparator.Result r = p.compare(branch(p.start, 0x401008, IF | OF), branch(p.start, 0x401006, IF | OF));
        assertTrue(r.diverged(), r.report());
        assertEquals(1, r.compared(), r.report());
        assertTrue(r.report().contains("rip"), r.report());
    }

    private static List<long[]> branch(long[] start, long target, long flags) {
        List<long[]> s = new ArrayList<>();
        long[] r = start.clone();
        step(s, r, 0x401004, x -> x[REG_RFLAGS] = flags);
        step(s, r, target, x -> { });
        return s;
    }

    @Test
    void flowDecodingNamesTheRightDestinations() {
        X86Insn seto = X86Insn.decode(HexFormat.of().parseHex("0f90c2"), true);
        assertEquals(X86Insn.FlagUse.SETCC, seto.flagUse());
        assertEquals(RDX, seto.destGpr());
        assertEquals(0xff, seto.destMask());
        X86Insn setoAh = X86Insn.decode(HexFormat.of().parseHex("0f90c4"), true);
        assertEquals(RAX, setoAh.destGpr(), "seto %ah");
        assertEquals(0xff00, setoAh.destMask());
        X86Insn setoSpl = X86Insn.decode(HexFormat.of().parseHex("400f90c4"), true);
        assertEquals(4, setoSpl.destGpr(), "seto %spl (REX)");
        assertEquals(0xff, setoSpl.destMask());
        X86Insn cmov = X86Insn.decode(HexFormat.of().parseHex("4c0f40fe"), true);
        assertEquals(X86Insn.FlagUse.CMOVCC, cmov.flagUse());
        assertEquals(15, cmov.destGpr(), "cmovo %rsi,%r15");
        assertEquals(OF, cmov.flagsRead());
        X86Insn popR11 = X86Insn.decode(HexFormat.of().parseHex("415b"), true);
        assertEquals(X86Insn.FlagUse.POP, popR11.flagUse());
        assertEquals(R11, popR11.destGpr());
        assertEquals(8, popR11.stackOperandBytes());
        X86Insn pop32 = X86Insn.decode(HexFormat.of().parseHex("5b"), false);
        assertEquals(4, pop32.stackOperandBytes());
        X86Insn adc = X86Insn.decode(HexFormat.of().parseHex("4883d500"), true);
        assertEquals(X86Insn.FlagUse.CARRY_IN, adc.flagUse());
        assertEquals(RBP, adc.destGpr());
        X86Insn sbbReg = X86Insn.decode(HexFormat.of().parseHex("19c0"), true);
        assertEquals(RAX, sbbReg.destGpr(), "sbb %eax,%eax");
        X86Insn rcr = X86Insn.decode(HexFormat.of().parseHex("d0df"), false);
        assertEquals(X86Insn.FlagUse.CARRY_IN, rcr.flagUse(), "rcr %bh,1");
        assertEquals(RBX, rcr.destGpr());
        assertEquals(0xff00, rcr.destMask());
        assertEquals(ZF | OF | X86Insn.SF, X86Insn.decode(HexFormat.of().parseHex("7e00"), true).flagsRead(), "jle");
        assertEquals(X86Insn.FlagUse.NONE, X86Insn.decode(HexFormat.of().parseHex("4801d8"), true).flagUse());
        for (String bytes : Set.of("9c", "9d", "9f", "0f05")) {
            assertTrue(X86Insn.decode(HexFormat.of().parseHex(bytes), true).flagUse() != X86Insn.FlagUse.NONE, bytes);
        }
    }

    private SyntheticProgram program(String hex) throws Exception {
        return SyntheticProgram.create(dir, hex);
    }
}
