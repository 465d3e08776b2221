package org.mmulab.images.oracle;

import static org.mmulab.emulator.debug.RegisterTraceWriter.NREGS;
import static org.mmulab.emulator.debug.RegisterTraceWriter.REG_FS_BASE;
import static org.mmulab.emulator.debug.RegisterTraceWriter.REG_GPR0;
import static org.mmulab.emulator.debug.RegisterTraceWriter.REG_RFLAGS;
import static org.mmulab.emulator.debug.RegisterTraceWriter.REG_RIP;
import static org.mmulab.emulator.debug.RegisterTraceWriter.REG_XMM0;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;

import org.mmulab.emulator.cpu.CpuState;
import org.mmulab.emulator.debug.RegisterTraceWriter;
import org.mmulab.emulator.machine.Vcpu;

/**
 * A static ELF64 whose code is given as hex at 0x401000, exec'ed by mmulab's kernel for a real initial
 * state, and traces of it written from hand-made register states (every slot of the MMRT format), so
 * that the comparator can be tested against "native" and "mmulab" runs made up without the host CPU.
 */
final class SyntheticProgram {
    static final long BASE = 0x401000;

    final Path elf;
    final EmulatedRun run;
    /** The register slots before the first instruction (the x87 and MXCSR state as exec leaves it). */
    final long[] start = new long[NREGS];
    private final Path dir;

    private SyntheticProgram(Path dir, Path elf) throws Exception {
        this.dir = dir;
        this.elf = elf;
        this.run = new EmulatedRun(elf, List.of(), List.of());
        CpuState s = run.machine.vcpu(0).state;
        start[REG_RIP] = s.rip;
        start[REG_RFLAGS] = s.getRflags();
        for (int i = 0; i < 16; i++) {
            start[REG_GPR0 + i] = s.gpr[i];
        }
        start[RegisterTraceWriter.REG_FCW] = s.fpu.fcw;
        start[RegisterTraceWriter.REG_FSW] = s.fpu.statusWord();
        start[RegisterTraceWriter.REG_MXCSR] = s.mxcsr;
    }

    static SyntheticProgram create(Path dir, String hex) throws Exception {
        byte[] code = HexFormat.ofDelimiter(" ").parseHex(hex);
        ByteBuffer b = ByteBuffer.allocate(0x1000 + code.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(0x464c457f).put((byte) 2).put((byte) 1).put((byte) 1);
        b.position(16);
        b.putShort((short) 2).putShort((short) 62).putInt(1).putLong(BASE).putLong(64).putLong(0);
        b.putInt(0).putShort((short) 64).putShort((short) 56).putShort((short) 1).putShort((short) 64)
                .putShort((short) 0).putShort((short) 0);
        b.putInt(1).putInt(5).putLong(0).putLong(BASE - 0x1000).putLong(BASE - 0x1000)
                .putLong(0x1000 + code.length).putLong(0x1000 + code.length).putLong(0x1000);
        b.position(0x1000);
        b.put(code);
        Path elf = Files.createTempFile(dir, "synthetic", ".elf");
        Files.write(elf, b.array());
        elf.toFile().setExecutable(true);
        return new SyntheticProgram(dir, elf);
    }

    TraceComparator.Result compare(List<long[]> nativeStates, List<long[]> mmulabStates) throws Exception {
        Path n = write("native", nativeStates);
        Path e = write("mmulab", mmulabStates);
        return new TraceComparator(ElfCode.load(elf), Long.MAX_VALUE).compare(n, e);
    }

    private Path write(String name, List<long[]> states) throws Exception {
        Vcpu cpu = run.machine.vcpu(0);
        CpuState s = cpu.state;
        Path out = Files.createTempFile(dir, name, ".trace");
        try (RegisterTraceWriter w = new RegisterTraceWriter(out)) {
            setState(s, start);
            w.begin(cpu);
            for (long[] r : states) {
                setState(s, r);
                w.retired(cpu);
            }
            w.finish(0);
        }
        setState(s, start);
        return out;
    }

    private static void setState(CpuState s, long[] r) {
        s.rip = r[REG_RIP];
        s.setRflags(r[REG_RFLAGS]);
        for (int i = 0; i < 16; i++) {
            s.gpr[i] = r[REG_GPR0 + i];
        }
        s.fsBase = r[REG_FS_BASE];
        for (int i = 0; i < 32; i++) {
            s.xmm[i] = r[REG_XMM0 + i];
        }
        TraceComparatorTest.setFpState(s, r);
    }
}
