package org.mmulab.images.oracle;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.mmulab.emulator.cpu.CpuState;
import org.mmulab.emulator.debug.RegisterTraceWriter;
import org.mmulab.emulator.machine.Machine;
import org.mmulab.emulator.machine.Vcpu;
import org.mmulab.emulator.mmu.DebugWalk;
import org.mmulab.kernel.Kernel;
import org.mmulab.kernel.KernelConfig;

/**
 * Boots an image on the emulator the way {@code mmulab boot} does (Machine + Kernel), with argv[0]
 * = the image path as given, so that a trace can be compared with the native tracer's. The kernel
 * reserves no vDSO area (the vdso=0 layout), matching a native run under regtrace --no-vdso.
 */
public final class EmulatedRun {
    public static final long RAM = 256L << 20;

    public final Machine machine;
    public final Kernel kernel;
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    /** The process after exec, before its first instruction. */
    public EmulatedRun(Path image, List<String> args, List<String> env) throws Exception {
        this(image, image.toString(), args, env);
    }

    /**
     * As above, with {@code execPath} as the path execve was given (AT_EXECFN, the string at the top of
     * the stack) while argv[0] stays the image's path.
     */
    public EmulatedRun(Path image, String execPath, List<String> args, List<String> env) throws Exception {
        // No vDSO reservation: the native side runs with regtrace --no-vdso, so both address spaces
        // have nothing below mmap_base whatever the host kernel's vDSO size is.
        this(image, execPath, args, env, 0);
    }

    /** As above with the kernel's vDSO reservation given (KernelConfig.vdsoPages; the CLI uses the default). */
    public EmulatedRun(Path image, String execPath, List<String> args, List<String> env, int vdsoPages) throws Exception {
        machine = new Machine(RAM, 1);
        kernel = new Kernel(machine,
                new KernelConfig(new ByteArrayInputStream(new byte[0]), out, err).withVdsoPages(vdsoPages));
        List<String> argv = new ArrayList<>();
        argv.add(image.toString());
        argv.addAll(args);
        kernel.exec(Files.readAllBytes(image), execPath, argv, env);
    }

    /**
     * Writes the process's initial stack as a regtrace {@code --stack} image ("MMSTACK1", u64 base,
     * u64 rsp0, u64 length, bytes): from four pages below the initial RSP's page (zeroes where
     * nothing is mapped yet) up to the first unmapped page above it (the top of the stack).
     */
    public void dumpInitialStack(Path file) throws IOException {
        Vcpu cpu = machine.vcpu(0);
        long rsp0 = cpu.state.gpr[CpuState.RSP];
        long base = (rsp0 & ~0xfffL) - 4 * 4096L;
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        byte[] page = new byte[4096];
        for (long va = base;; va += 4096) {
            DebugWalk w = cpu.mmu().debugWalk(va);
            if (!w.translated()) {
                if (va > rsp0) {
                    break;
                }
                java.util.Arrays.fill(page, (byte) 0);
            } else {
                machine.memory().readBytes(w.physical(), page, 0, 4096);
            }
            bytes.write(page, 0, 4096);
        }
        java.nio.ByteBuffer hdr = java.nio.ByteBuffer.allocate(32).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        hdr.put("MMSTACK1".getBytes(java.nio.charset.StandardCharsets.US_ASCII)).putLong(base).putLong(rsp0)
                .putLong(bytes.size());
        try (java.io.OutputStream o = Files.newOutputStream(file)) {
            o.write(hdr.array());
            bytes.writeTo(o);
        }
    }

    /** What a run produced; {@code crash} is a Java exception that escaped the emulator (a bug), or null. */
    public record Outcome(int status, byte[] stdout, String stderr, String crash, long records) {
    }

    /** Runs to exit (or {@code maxRecords} instructions) writing the register trace to {@code trace}. */
    public Outcome runTraced(Path trace, long maxRecords) throws IOException {
        int status = -1;
        String crash = null;
        long records;
        try (RegisterTraceWriter w = new RegisterTraceWriter(trace)) {
            w.begin(machine.vcpu(0));
            w.setMaxRecords(maxRecords);
            machine.vcpu(0).setTrace(w);
            try {
                status = kernel.run();
                w.finish(status);
            } catch (RuntimeException | StackOverflowError e) {
                StringWriter sw = new StringWriter();
                e.printStackTrace(new PrintWriter(sw));
                crash = sw.toString();
            }
            records = w.records();
        }
        return new Outcome(status, out.toByteArray(), err.toString(java.nio.charset.StandardCharsets.UTF_8), crash, records);
    }
}
