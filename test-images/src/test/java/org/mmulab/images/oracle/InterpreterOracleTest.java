package org.mmulab.images.oracle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.mmulab.emulator.debug.RegisterTraceWriter;
import org.mmulab.images.Images;

/**
 * The instruction-level oracle: runs an image natively under ptrace single-step (bin/host/regtrace)
 * and on mmulab's interpreter with the same argv and environment, and compares the registers after
 * every instruction (see {@link TraceComparator} for what is normalised). Fails on the first
 * divergence with its instruction index, address, bytes, disassembly and differing registers.
 * The native process is started from a copy of mmulab's initial stack (regtrace --stack) and without
 * its vDSO (--no-vdso), so stack, argv/envp, brk and mmap addresses are the same in both runs; the
 * comparator's stack normalisation is then the identity and only matters for traces made without.
 * Skipped only when ptrace is not permitted on the machine.
 *
 * <p>Traces are kept in target/oracle/ for inspection.
 */
class InterpreterOracleTest {
    /** Safety net for both runs; compute at scale 1 retires about 0.92 million instructions. */
    static final long LIMIT = 3_000_000;
    static final List<String> ENV = List.of("MMULAB_GREETING=oracle", "LANG=C");

    private static void oracle(String name, List<String> args, long limit) throws Exception {
        oracle(Images.image("x86_64", name), name, args, limit);
    }

    private static void oracle(Path image, String name, List<String> args, long limit) throws Exception {
        Path dir = Images.moduleDir().resolve("target/oracle");
        Files.createDirectories(dir);
        String tag = (name + (args.isEmpty() ? "" : "-" + String.join("-", args))).replaceAll("[^A-Za-z0-9_.-]", "_");
        Path nativeTrace = dir.resolve(tag + ".native.trace");
        Path nativeStdout = dir.resolve(tag + ".native.stdout");
        Path emuTrace = dir.resolve(tag + ".mmulab.trace");

        // The native run starts from mmulab's initial stack (same bytes, same addresses) and without
        // a vDSO (mmulab has none, and the vDSO shifts where mmap places memory): pointer values,
        // and the flags computed from them (PF, AF), are then identical by construction.
        EmulatedRun run = new EmulatedRun(image, args, ENV);
        Path stack = dir.resolve(tag + ".stack");
        run.dumpInitialStack(stack);
        NativeTracer.trace(image, args, ENV, nativeTrace, nativeStdout, limit, stack);
        EmulatedRun.Outcome emu = run.runTraced(emuTrace, limit);

        TraceComparator.Result r = new TraceComparator(ElfCode.load(image), limit).compare(nativeTrace, emuTrace);
        String context = "\n(traces: " + nativeTrace + " and " + emuTrace + ")"
                + (emu.crash() != null ? "\nthe emulator threw:\n" + emu.crash() : "")
                + (emu.stderr().isEmpty() ? "" : "\nguest stderr under mmulab:\n" + emu.stderr());
        assertFalse(r.diverged(), () -> name + " " + args + ": " + r.report() + context);
        assertNull(emu.crash(), () -> "the emulator threw after " + r.compared() + " matching instructions" + context);

        try (RegisterTrace n = RegisterTrace.open(nativeTrace)) {
            while (n.next()) {
                // read to the end record
            }
            if (n.endStatus() != RegisterTraceWriter.STATUS_TRUNCATED) {
                // a complete run: same exit status and the same output as natively
                assertEquals(n.endStatus(), emu.status(), "exit status" + context);
                assertEquals(Files.readString(nativeStdout), new String(emu.stdout(), java.nio.charset.StandardCharsets.UTF_8),
                        "stdout" + context);
            }
        }
        assertTrue(r.compared() > 0, "nothing was compared" + context);
        System.out.println("oracle " + name + " " + args + ": " + r.report());
    }

    @Test
    void computeMatchesTheHostCpuInstructionByInstruction() throws Exception {
        oracle("compute", List.of("1"), LIMIT);
    }

    @Test
    void helloMatchesTheHostCpuIncludingArgvAndEnvPointers() throws Exception {
        oracle("hello", List.of("first", "second argument"), LIMIT);
    }

    @Test
    void memoryImagesMatchIncludingMmapAndBrkResults() throws Exception {
        oracle("brk_grow", List.of(), LIMIT);
        oracle("fault_touch", List.of("1"), LIMIT);
    }

    @Test
    void mprotectSegvDiesAtTheSameInstructionWithTheSameStatus() throws Exception {
        oracle("mprotect_segv", List.of(), LIMIT);
    }

    /**
     * SSE/SSE2 floating point under every MXCSR mode, SSE3, SSSE3, SSE4.1, SSE4.2 (PCMPxSTRx in every
     * imm8 mode), CRC32, POPCNT, LZCNT, MOVBE, CMPXCHG16B: XMM registers and RFLAGS after each of about
     * 2.3 million instructions, and MXCSR (exception flags included) after each of them.
     */
    @Tag("slow")
    @Test
    void sse42MatchesTheHostCpuInstructionByInstruction() throws Exception {
        oracle("sse42", List.of(), 6_000_000);
        oracle("sse42", List.of("cvt64"), 6_000_000);
    }

    /**
     * x87 state after every instruction: ST0-7 (as R0-R7 and TOP), FSW (C0-C3 where the SDM defines
     * them), FCW, the tag word and MXCSR, with the 1-ulp transcendental rule of {@link X87Flow}. The
     * x87 image runs the sections named by its arguments: here loads of every format, FXAM/FTST,
     * FPREM/FPREM1/FXTRACT/FSCALE/FRNDINT under every rounding control, the stack, tags and
     * FNSTENV/FLDENV/FNSAVE/FRSTOR, and the transcendentals (about 0.2 million instructions).
     */
    @Test
    void x87MatchesTheHostCpuInstructionByInstruction() throws Exception {
        oracle("x87", List.of("loads", "misc", "stack_and_env", "transcendental"), LIMIT);
    }

    /**
     * The rest of the x87 image: stores to every format with their exceptions, compares (FCOM, FUCOMI,
     * FCOMIP, FTST...) and the arithmetic table and random digests under every precision and rounding
     * control (about 45 million instructions in all; the random digests are cut at 3 million).
     */
    @Tag("slow")
    @Test
    void x87StoresComparesAndArithmeticMatchTheHostCpu() throws Exception {
        oracle("x87", List.of("stores", "compares"), LIMIT);
        oracle("x87", List.of("random_digests"), 3_000_000);
        oracle("x87", List.of("arithmetic_table"), 3_000_000);
    }

    /**
     * MMX (the mmx image): every MMX instruction and the MMX forms of SSE/SSE2/SSSE3, shifts by every
     * count, the CVTPI2PS family, EMMS and the x87 view of MMX state; R0-R7 (the MMX registers are their
     * significands, with exponent FFFF after a write), TOP and the tag word compared after each instruction.
     */
    @Test
    void mmxMatchesTheHostCpuInstructionByInstruction() throws Exception {
        oracle("mmx", List.of(), LIMIT);
    }

    /**
     * Any static image by hand: {@code -Dtest=InterpreterOracleTest -Doracle.image=PATH
     * [-Doracle.args="a b"] [-Doracle.limit=N]}.
     */
    @Test
    @EnabledIfSystemProperty(named = "oracle.image", matches = ".+")
    void imageGivenOnTheCommandLine() throws Exception {
        Path image = Path.of(System.getProperty("oracle.image")).toAbsolutePath();
        String a = System.getProperty("oracle.args", "").trim();
        List<String> args = a.isEmpty() ? List.of() : List.of(a.split(" +"));
        long limit = Long.parseLong(System.getProperty("oracle.limit", "10000000"));
        oracle(image, image.getFileName().toString(), args, limit);
    }

    @Tag("slow")
    @Test
    void computeAtItsDefaultScale() throws Exception {
        oracle("compute", List.of(), 10_000_000);
    }
}
