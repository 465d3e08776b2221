package org.mmulab.images.oracle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mmulab.emulator.debug.RegisterTraceWriter.NREGS;
import static org.mmulab.emulator.debug.RegisterTraceWriter.REG_FS_BASE;
import static org.mmulab.emulator.debug.RegisterTraceWriter.REG_GPR0;
import static org.mmulab.emulator.debug.RegisterTraceWriter.REG_RFLAGS;
import static org.mmulab.emulator.debug.RegisterTraceWriter.REG_RIP;
import static org.mmulab.emulator.debug.RegisterTraceWriter.REG_XMM0;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mmulab.emulator.cpu.CpuState;
import org.mmulab.emulator.debug.RegisterTraceWriter;
import org.mmulab.emulator.machine.Vcpu;
import org.mmulab.images.Images;

/**
 * Tests the writer, the reader and the comparator without the interpreter: a native trace of a real
 * image is replayed through {@link RegisterTraceWriter} on a process the Java kernel exec'ed (so the
 * stack is where mmulab puts it, and the argv/envp strings are mmulab's), optionally with a fault
 * injected, and compared with the native trace.
 */
class TraceComparatorTest {
    static final List<String> ARGS = List.of("alpha", "beta");
    static final List<String> ENV = List.of("MMULAB_GREETING=replayed");
    static Path image;
    static Path nativeTrace;
    static ElfCode elf;

    @TempDir
    static Path dir;

    @BeforeAll
    static void traceNatively() throws Exception {
        image = Images.image("x86_64", "compute");
        elf = ElfCode.load(image);
        nativeTrace = dir.resolve("compute.native.trace");
        // the first 60k instructions: sorting, hashing, REP string instructions come later, so also hello
        NativeTracer.trace(image, List.of("1"), ENV, nativeTrace, dir.resolve("compute.stdout"), 60_000);
    }

    /** A hook that may change the replayed registers of (coalesced) instruction {@code index}. */
    interface Mutation {
        void apply(long index, long insnAddr, long[] regs);
    }

    /**
     * Replays {@code nativeTrace} as if mmulab had run it: stack and string addresses are moved to
     * where mmulab's kernel put them, REP iterations are coalesced, and {@code m} may inject faults.
     * Stops after {@code stopAfter} instructions, ending with {@code endStatus}.
     */
    static Path replay(Path nat, Path elfImage, List<String> args, List<String> env, Mutation m, long stopAfter,
            long endStatus) throws Exception {
        // mmulab lays the stack out exactly as Linux does; a longer AT_EXECFN alias of the same file
        // moves it on purpose, so every replay exercises stack and string relocation.
        String alias = elfImage.getParent().resolve("./".repeat(40) + ".").resolve(elfImage.getFileName()).toString();
        EmulatedRun run = new EmulatedRun(elfImage, alias, args, env);
        Vcpu cpu = run.machine.vcpu(0);
        // learn where mmulab's stack and strings are from the header the writer produces
        Path probe = Files.createTempFile(dir, "probe", ".trace");
        try (RegisterTraceWriter w = new RegisterTraceWriter(probe)) {
            w.begin(cpu);
        }
        RegisterTrace emuHeader = RegisterTrace.open(probe);
        emuHeader.close();
        Path out = Files.createTempFile(dir, "replay", ".trace");
        try (RegisterTrace n = RegisterTrace.open(nat); RegisterTraceWriter w = new RegisterTraceWriter(out)) {
            assertEquals(n.stringAddr.length, emuHeader.stringAddr.length, "same argv/envp shape");
            w.begin(cpu);
            long lowestString = Long.MAX_VALUE;
            for (long a : n.stringAddr) {
                lowestString = Math.min(lowestString, a);
            }
            long insnAddr = elf.entry();
            long index = 0;
            while (index < stopAfter && n.next()) {
                long rip = n.reg(REG_RIP);
                if (rip == insnAddr && X86Insn.decode(elf.bytesAt(insnAddr, 15), true).isRepString()) {
                    continue; // mmulab retires a REP instruction once
                }
                long[] r = n.snapshot();
                for (int i = REG_GPR0; i < REG_GPR0 + 16; i++) {
                    r[i] = relocate(r[i], n, emuHeader, lowestString);
                }
                if (m != null) {
                    m.apply(index, insnAddr, r);
                }
                CpuState s = cpu.state;
                s.rip = r[REG_RIP];
                s.setRflags(r[REG_RFLAGS]);
                for (int i = 0; i < 16; i++) {
                    s.gpr[i] = r[REG_GPR0 + i];
                }
                s.fsBase = r[REG_FS_BASE];
                for (int i = 0; i < 32; i++) {
                    s.xmm[i] = r[REG_XMM0 + i];
                }
                setFpState(s, r);
                w.retired(cpu);
                insnAddr = rip;
                index++;
            }
            if (endStatus != RegisterTraceWriter.STATUS_UNKNOWN) {
                w.finish((int) endStatus);
            }
        }
        return out;
    }

    /** The x87 and MXCSR slots of a record into {@code s}, as the writer reads them back. */
    static void setFpState(CpuState s, long[] r) {
        s.mxcsr = (int) r[RegisterTraceWriter.REG_MXCSR];
        s.fpu.fcw = (int) r[RegisterTraceWriter.REG_FCW];
        s.fpu.setStatusWord((int) r[RegisterTraceWriter.REG_FSW]);
        s.fpu.valid = (int) r[RegisterTraceWriter.REG_FTW];
        for (int p = 0; p < 8; p++) {
            s.fpu.sig[p] = r[RegisterTraceWriter.REG_FP_SIG0 + p];
            s.fpu.se[p] = (int) r[RegisterTraceWriter.REG_FP_SE0 + p];
        }
    }

    private static long relocate(long v, RegisterTrace n, RegisterTrace e, long lowestString) {
        for (int i = 0; i < n.stringAddr.length; i++) {
            if (v >= n.stringAddr[i] && v <= n.stringAddr[i] + n.stringLen[i]) {
                return e.stringAddr[i] + (v - n.stringAddr[i]);
            }
        }
        if (v >= n.rsp0 - TraceComparator.STACK_BELOW && v < lowestString) {
            return v - n.rsp0 + e.rsp0;
        }
        return v;
    }

    private static TraceComparator.Result compare(Path emu) throws IOException {
        return new TraceComparator(elf, Long.MAX_VALUE).compare(nativeTrace, emu);
    }

    @Test
    void faithfulReplayAtAnotherStackAddressIsIdentical() throws Exception {
        Path emu = replay(nativeTrace, image, List.of("1"), ENV, null, Long.MAX_VALUE, RegisterTraceWriter.STATUS_TRUNCATED);
        try (RegisterTrace n = RegisterTrace.open(nativeTrace); RegisterTrace e = RegisterTrace.open(emu)) {
            assertNotEquals(n.rsp0, e.rsp0, "the test must exercise stack normalisation (both stacks at the same address)");
            assertNotEquals(n.stringAddr[0], e.stringAddr[0], "... and string normalisation");
            assertEquals(RegisterTraceWriter.PRODUCER_MMULAB, e.producer);
            assertEquals(0, e.flags & RegisterTraceWriter.FLAG_RSP0_INFERRED, "begin() records rsp0 exactly");
        }
        TraceComparator.Result r = compare(emu);
        assertFalse(r.diverged(), r.report());
        assertTrue(r.compared() > 50_000, "compared " + r.compared());
    }

    @Test
    void aWrongRegisterIsReportedAtItsInstruction() throws Exception {
        Path emu = replay(nativeTrace, image, List.of("1"), ENV, (i, addr, r) -> {
            if (i == 1234) {
                r[REG_GPR0 + 2] ^= 0x10; // rdx
            }
        }, Long.MAX_VALUE, RegisterTraceWriter.STATUS_TRUNCATED);
        TraceComparator.Result r = compare(emu);
        assertTrue(r.diverged());
        assertEquals(1234, r.compared(), r.report());
        assertTrue(r.report().contains("rdx"), r.report());
        assertTrue(r.report().contains("instruction #1234"), r.report());
    }

    @Test
    void aWrongStackOffsetIsADivergence() throws Exception {
        Path emu = replay(nativeTrace, image, List.of("1"), ENV, (i, addr, r) -> {
            if (i >= 3000) {
                r[REG_GPR0 + 4] -= 8; // rsp off by one slot
            }
        }, Long.MAX_VALUE, RegisterTraceWriter.STATUS_TRUNCATED);
        TraceComparator.Result r = compare(emu);
        assertTrue(r.diverged());
        assertEquals(3000, r.compared(), r.report());
        assertTrue(r.report().contains("rsp0-0x"), r.report());
    }

    @Test
    void undefinedFlagsAreNotComparedButDefinedOnesAre() throws Exception {
        // find the first instruction with undefined SF (MUL/IMUL) and the first that defines CF
        long[] targets = { -1, -1 };
        replay(nativeTrace, image, List.of("1"), ENV, (i, addr, r) -> {
            X86Insn insn = X86Insn.decode(elf.bytesAt(addr, 15), true);
            if (targets[0] < 0 && (insn.undefinedFlags(0) & X86Insn.SF) != 0 && insn.writtenFlags(0) == X86Insn.ARITH) {
                targets[0] = i;
            }
            if (targets[1] < 0 && insn.writtenFlags(0) == X86Insn.ARITH && insn.undefinedFlags(0) == 0) {
                targets[1] = i;
            }
        }, Long.MAX_VALUE, RegisterTraceWriter.STATUS_TRUNCATED);
        assertTrue(targets[0] >= 0 && targets[1] >= 0, "compute has multiplies and additions");

        Path undefinedFlipped = replay(nativeTrace, image, List.of("1"), ENV, (i, addr, r) -> {
            if (i == targets[0]) {
                r[REG_RFLAGS] ^= X86Insn.SF;
            }
        }, Long.MAX_VALUE, RegisterTraceWriter.STATUS_TRUNCATED);
        TraceComparator.Result ok = compare(undefinedFlipped);
        assertFalse(ok.diverged(), ok.report());

        Path definedFlipped = replay(nativeTrace, image, List.of("1"), ENV, (i, addr, r) -> {
            if (i == targets[1]) {
                r[REG_RFLAGS] ^= X86Insn.CF;
            }
        }, Long.MAX_VALUE, RegisterTraceWriter.STATUS_TRUNCATED);
        TraceComparator.Result bad = compare(definedFlipped);
        assertTrue(bad.diverged());
        assertEquals(targets[1], bad.compared(), bad.report());
        assertTrue(bad.report().contains("differs in CF"), bad.report());
    }

    @Test
    void aWrongXmmHalfIsADivergence() throws Exception {
        Path emu = replay(nativeTrace, image, List.of("1"), ENV, (i, addr, r) -> {
            if (i >= 2000) {
                r[REG_XMM0 + 2 * 7 + 1] ^= 1L << 40; // xmm7 bits 127:64
            }
        }, Long.MAX_VALUE, RegisterTraceWriter.STATUS_TRUNCATED);
        TraceComparator.Result r = compare(emu);
        assertTrue(r.diverged());
        assertEquals(2000, r.compared(), r.report());
        assertTrue(r.report().contains("xmm7.hi"), r.report());
    }

    @Test
    void anEarlyEndIsReportedWithTheNextInstruction() throws Exception {
        Path emu = replay(nativeTrace, image, List.of("1"), ENV, null, 777, 132);
        TraceComparator.Result r = compare(emu);
        assertTrue(r.diverged());
        assertEquals(777, r.compared(), r.report());
        assertTrue(r.report().contains("the mmulab trace ends at instruction #777"), r.report());
        assertTrue(r.report().contains("status 132"), r.report());
        assertTrue(r.report().contains("instruction at 0x"), r.report());
    }

    @Test
    void aTruncatedEmulatorTraceComparesItsPrefix() throws Exception {
        Path emu = replay(nativeTrace, image, List.of("1"), ENV, null, 5000, RegisterTraceWriter.STATUS_TRUNCATED);
        TraceComparator.Result r = compare(emu);
        assertFalse(r.diverged(), r.report());
        assertEquals(5000, r.compared());
    }

    @Test
    void differentArgumentsAreReportedBeforeAnyInstruction() throws Exception {
        Path emu = replay(nativeTrace, image, List.of("1"), List.of("MMULAB_GREETING=replayed!"), null, 10,
                RegisterTraceWriter.STATUS_TRUNCATED);
        TraceComparator.Result r = compare(emu);
        assertTrue(r.diverged());
        assertEquals(0, r.compared());
        assertTrue(r.report().contains("envp[0]"), r.report());
    }

    @Test
    void writerInfersTheInitialStackWhenBeginIsNotCalled() throws Exception {
        EmulatedRun run = new EmulatedRun(image, List.of("1"), ENV);
        Vcpu cpu = run.machine.vcpu(0);
        long rsp0 = cpu.state.gpr[CpuState.RSP];
        Path exact = dir.resolve("exact.trace");
        try (RegisterTraceWriter w = new RegisterTraceWriter(exact)) {
            w.begin(cpu);
        }
        // as after `push rbp` as a first instruction: RSP moved, nothing above it changed
        cpu.state.gpr[CpuState.RSP] = rsp0 - 8;
        cpu.state.rip += 1;
        Path inferred = dir.resolve("inferred.trace");
        try (RegisterTraceWriter w = new RegisterTraceWriter(inferred)) {
            w.retired(cpu);
        }
        try (RegisterTrace a = RegisterTrace.open(exact); RegisterTrace b = RegisterTrace.open(inferred)) {
            assertEquals(rsp0, a.rsp0);
            assertEquals(rsp0, b.rsp0);
            assertEquals(RegisterTraceWriter.FLAG_RSP0_INFERRED, b.flags);
            assertEquals(2, a.argc);
            assertEquals(1, a.envc);
            assertEquals(image.toString().length(), a.stringLen[0]);
            assertEquals("MMULAB_GREETING=replayed".length(), a.stringLen[2]);
            assertEquals(List.of(a.stringAddr[0], a.stringAddr[1], a.stringAddr[2]),
                    List.of(b.stringAddr[0], b.stringAddr[1], b.stringAddr[2]));
            assertTrue(b.next());
            assertEquals(rsp0 - 8, b.reg(REG_GPR0 + 4));
            assertFalse(b.next());
            assertEquals(RegisterTraceWriter.STATUS_UNKNOWN, b.endStatus());
            assertFalse(b.cutShort());
        }
    }

    @Test
    void recordsAreCompactAndRoundTripEveryRegister() throws Exception {
        EmulatedRun run = new EmulatedRun(image, List.of(), List.of());
        Vcpu cpu = run.machine.vcpu(0);
        Path t = dir.resolve("roundtrip.trace");
        long[][] states = new long[500][NREGS];
        java.util.Random rnd = new java.util.Random(42);
        try (RegisterTraceWriter w = new RegisterTraceWriter(t)) {
            w.begin(cpu);
            for (int k = 0; k < states.length; k++) {
                CpuState s = cpu.state;
                s.rip += 1 + rnd.nextInt(15);
                if (rnd.nextInt(4) == 0) {
                    s.gpr[rnd.nextInt(16)] = rnd.nextLong();
                }
                if (rnd.nextInt(8) == 0) {
                    s.setRflags(0x202 | (rnd.nextLong() & 0x8d5));
                }
                if (k == 400) {
                    s.fsBase = 0x7ffff7ff8740L;
                    s.gpr[15] = Long.MIN_VALUE;
                }
                if (rnd.nextInt(16) == 0) {
                    s.xmm[rnd.nextInt(32)] = rnd.nextLong();
                }
                states[k][REG_RIP] = s.rip;
                states[k][REG_RFLAGS] = s.getRflags();
                for (int i = 0; i < 16; i++) {
                    states[k][REG_GPR0 + i] = s.gpr[i];
                }
                states[k][REG_FS_BASE] = s.fsBase;
                for (int i = 0; i < 32; i++) {
                    states[k][REG_XMM0 + i] = s.xmm[i];
                }
                states[k][RegisterTraceWriter.REG_FCW] = s.fpu.fcw;
                states[k][RegisterTraceWriter.REG_FSW] = s.fpu.statusWord();
                states[k][RegisterTraceWriter.REG_MXCSR] = s.mxcsr;
                w.retired(cpu);
            }
            w.finish(0);
        }
        try (RegisterTrace r = RegisterTrace.open(t)) {
            for (long[] expected : states) {
                assertTrue(r.next());
                assertEquals(java.util.Arrays.toString(expected), java.util.Arrays.toString(r.snapshot()));
            }
            assertFalse(r.next());
            assertEquals(0, r.endStatus());
        }
        // RIP-only records dominate: a few bytes each
        assertTrue(Files.size(t) < 500 * 8, "trace size " + Files.size(t));
    }
}
