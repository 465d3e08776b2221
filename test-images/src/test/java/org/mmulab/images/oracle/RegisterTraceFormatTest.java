package org.mmulab.images.oracle;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mmulab.emulator.debug.RegisterTraceWriter.NREGS;
import static org.mmulab.emulator.debug.RegisterTraceWriter.REG_FCW;
import static org.mmulab.emulator.debug.RegisterTraceWriter.REG_FP_SE0;
import static org.mmulab.emulator.debug.RegisterTraceWriter.REG_FP_SIG0;
import static org.mmulab.emulator.debug.RegisterTraceWriter.REG_FSW;
import static org.mmulab.emulator.debug.RegisterTraceWriter.REG_FTW;
import static org.mmulab.emulator.debug.RegisterTraceWriter.REG_GPR0;
import static org.mmulab.emulator.debug.RegisterTraceWriter.REG_MXCSR;
import static org.mmulab.emulator.debug.RegisterTraceWriter.REG_RIP;
import static org.mmulab.emulator.debug.RegisterTraceWriter.REG_XMM0;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mmulab.emulator.cpu.CpuState;
import org.mmulab.emulator.cpu.fpu.X87State;
import org.mmulab.emulator.debug.RegisterTraceWriter;
import org.mmulab.emulator.machine.Vcpu;
import org.mmulab.images.Images;

/**
 * The MMRT format, version 2 (x87 registers, FSW/FTW/FCW, MXCSR, the 128-bit record mask) written by
 * {@link RegisterTraceWriter} and read back by {@link RegisterTrace}, and version 1 still read.
 */
class RegisterTraceFormatTest {
    @TempDir
    Path dir;

    @Test
    void everyX87AndMxcsrSlotRoundTripsAndPushesStayCompact() throws Exception {
        EmulatedRun run = new EmulatedRun(Images.image("x86_64", "compute"), List.of(), List.of());
        Vcpu cpu = run.machine.vcpu(0);
        CpuState s = cpu.state;
        Path t = dir.resolve("fp.trace");
        long seed = 87;
        System.out.println("seed " + seed);
        Random rnd = new Random(seed);
        long[][] states = new long[400][];
        try (RegisterTraceWriter w = new RegisterTraceWriter(t)) {
            w.begin(cpu);
            for (int k = 0; k < states.length; k++) {
                s.rip += 1 + rnd.nextInt(7);
                X87State f = s.fpu;
                switch (rnd.nextInt(6)) {
                    case 0 -> f.push(rnd.nextInt(1 << 16), rnd.nextLong()); // FLD: one register, FSW, FTW
                    case 1 -> f.pop();
                    case 2 -> f.fcw = rnd.nextInt(1 << 16);
                    case 3 -> s.mxcsr = rnd.nextInt();
                    case 4 -> f.setStatusWord(rnd.nextInt(1 << 16));
                    default -> s.gpr[rnd.nextInt(16)] = rnd.nextLong();
                }
                states[k] = expected(s);
                w.retired(cpu);
            }
            w.finish(7);
        }
        try (RegisterTrace r = RegisterTrace.open(t)) {
            assertEquals(2, r.version);
            assertEquals(NREGS, r.nregs());
            for (long[] e : states) {
                assertTrue(r.next());
                assertArrayEquals(e, r.snapshot());
            }
            assertFalse(r.next());
            assertEquals(7, r.endStatus());
            assertFalse(r.cutShort());
        }

        // a push: mask 11 bytes (slot 70), RIP, FSW, FTW, significand, sign/exponent
        Path push = dir.resolve("push.trace");
        try (RegisterTraceWriter w = new RegisterTraceWriter(push)) {
            w.begin(cpu);
            long header = Files.size(push);
            for (int k = 0; k < 100; k++) {
                s.rip += 2;
                s.fpu.push(0x3fff, 0x8000_0000_0000_0000L);
                w.retired(cpu);
                s.rip += 2;
                s.fpu.pop();
                w.retired(cpu);
            }
            w.close();
            long perRecord = (Files.size(push) - header) / 200;
            assertTrue(perRecord <= 24, "bytes per x87 push/pop record " + perRecord);
        }
    }

    private static long[] expected(CpuState s) {
        long[] r = new long[NREGS];
        r[REG_RIP] = s.rip;
        r[1] = s.getRflags();
        for (int i = 0; i < 16; i++) {
            r[REG_GPR0 + i] = s.gpr[i];
        }
        r[18] = s.fsBase;
        for (int i = 0; i < 32; i++) {
            r[REG_XMM0 + i] = s.xmm[i];
        }
        r[REG_FSW] = s.fpu.statusWord();
        r[REG_FTW] = s.fpu.abridgedTag();
        r[REG_FCW] = s.fpu.fcw;
        r[REG_MXCSR] = s.mxcsr & 0xffff_ffffL;
        for (int p = 0; p < 8; p++) {
            r[REG_FP_SIG0 + p] = s.fpu.sig[p];
            r[REG_FP_SE0 + p] = s.fpu.se[p];
        }
        return r;
    }

    @Test
    void versionOneTracesAreStillRead() throws Exception {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.writeBytes(RegisterTraceWriter.MAGIC);
        b.writeBytes(new byte[] { 1, 1, 64, 0 });
        le(b, 0x7fffffffe000L, 8);
        le(b, 0x401000, 8);
        le(b, 0, 4);
        le(b, 0, 4);
        // record 1: RIP (bit 0) +2, XMM15.hi (bit 50) +1: mask 1 | 1 << 50 = 8 bytes of uleb128
        uleb(b, 1L | 1L << 50);
        uleb(b, 0x401002L << 1);
        uleb(b, 2);
        // record 2: RIP only
        uleb(b, 1);
        uleb(b, 4);
        // end: 1 << 51, status 3
        uleb(b, 1L << 51);
        uleb(b, 6);
        Path t = dir.resolve("v1.trace");
        Files.write(t, b.toByteArray());
        try (RegisterTrace r = RegisterTrace.open(t)) {
            assertEquals(1, r.version);
            assertEquals(51, r.nregs());
            assertTrue(r.next());
            assertEquals(0x401002, r.reg(REG_RIP));
            assertEquals(1, r.reg(REG_XMM0 + 31));
            assertTrue(r.next());
            assertEquals(0x401004, r.reg(REG_RIP));
            assertEquals(0, r.reg(REG_FCW), "no x87 state in version 1");
            assertFalse(r.next());
            assertEquals(3, r.endStatus());
        }
        // a version-1 mask with a bit above XMM15 that is not the end record is corrupt
        byte[] bad = b.toByteArray().clone();
        ByteArrayOutputStream c = new ByteArrayOutputStream();
        c.write(bad, 0, 8 + 4 + 24);
        uleb(c, 1L << 52);
        uleb(c, 2);
        Files.write(t, c.toByteArray());
        try (RegisterTrace r = RegisterTrace.open(t)) {
            assertThrows(IOException.class, r::next);
        }
    }

    private static void le(ByteArrayOutputStream b, long v, int n) {
        for (int i = 0; i < n; i++) {
            b.write((int) (v >>> (8 * i)));
        }
    }

    private static void uleb(ByteArrayOutputStream b, long v) {
        do {
            int x = (int) (v & 0x7f);
            v >>>= 7;
            b.write(v != 0 ? x | 0x80 : x);
        } while (v != 0);
    }
}
