package org.mmulab.emulator.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * End-to-end check of 32-bit mode on the checked-in i386 test images (gcc -m32 -O2, built by
 * test-images/build.sh --arch i386, expected outputs recorded natively), without the kernel: a
 * minimal harness maps the ELF32 PT_LOAD segments itself, builds the i386 initial stack (argc, argv,
 * envp, an empty auxv), runs the CPU in compatibility mode ({@code longMode64 = false} under the test
 * machine's 4-level tables) and serves the only int 0x80 calls these images make on their success
 * path (write, exit, exit_group; anything else is -ENOSYS, which makes the image fail loudly).
 */
class I386ImagesTest {
    private static final Path BIN = Path.of("../test-images/bin/i386");
    private static final Path EXPECTED = Path.of("../test-images/expected/i386");

    private static final class Run {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        int status = -1;
        long instructions;
    }

    private static int u16(ByteBuffer b, int off) {
        return b.getShort(off) & 0xffff;
    }

    private static long u32(ByteBuffer b, int off) {
        return b.getInt(off) & 0xffff_ffffL;
    }

    private static Run boot(String image, List<String> args, List<String> env) throws IOException {
        byte[] elf = Files.readAllBytes(BIN.resolve(image));
        ByteBuffer b = ByteBuffer.wrap(elf).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(0x464c457f, b.getInt(0), "ELF magic");
        assertEquals(1, elf[4], "ELFCLASS32");
        assertEquals(3, u16(b, 18), "EM_386");
        TestMachine m = new TestMachine();
        long phoff = u32(b, 28);
        int phentsize = u16(b, 42);
        int phnum = u16(b, 44);
        for (int i = 0; i < phnum; i++) {
            int ph = (int) phoff + i * phentsize;
            if (b.getInt(ph) != 1) { // PT_LOAD
                continue;
            }
            long off = u32(b, ph + 4);
            long va = u32(b, ph + 8);
            long filesz = u32(b, ph + 16);
            long memsz = u32(b, ph + 20);
            int flags = b.getInt(ph + 24);
            long f = TestMachine.P | TestMachine.US | ((flags & 2) != 0 ? TestMachine.RW : 0)
                    | ((flags & 1) != 0 ? 0 : TestMachine.NX);
            for (long p = va & ~0xfffL; p < va + memsz; p += 4096) {
                m.mapNew(p, f);
            }
            for (long k = 0; k < filesz; k++) {
                m.mem.write8(m.pa(va + k), elf[(int) (off + k)]);
            }
        }
        // Stack: 64 KiB below 0xc0000000 (the i386 TASK_SIZE).
        long top = 0xc000_0000L;
        for (long p = top - 0x10000; p < top; p += 4096) {
            m.mapNew(p, TestMachine.P | TestMachine.RW | TestMachine.US | TestMachine.NX);
        }
        long sp = top - 16;
        List<String> argv = new java.util.ArrayList<>();
        argv.add("/bin/" + image);
        argv.addAll(args);
        long[] argp = new long[argv.size()];
        long[] envp = new long[env.size()];
        for (int i = 0; i < argv.size(); i++) {
            argp[i] = sp = pushString(m, sp, argv.get(i));
        }
        for (int i = 0; i < env.size(); i++) {
            envp[i] = sp = pushString(m, sp, env.get(i));
        }
        sp &= ~15L;
        int words = 1 + argp.length + 1 + envp.length + 1 + 2;
        sp -= 4L * words;
        sp &= ~15L;
        long w = sp;
        w = put32(m, w, argp.length);
        for (long a : argp) {
            w = put32(m, w, a);
        }
        w = put32(m, w, 0);
        for (long e : envp) {
            w = put32(m, w, e);
        }
        w = put32(m, w, 0);
        w = put32(m, w, 0); // AT_NULL
        put32(m, w, 0);
        m.s.gpr[CpuState.RSP] = sp;
        m.s.rip = u32(b, 24);
        m.s.longMode64 = false;

        Run run = new Run();
        for (int guard = 0; guard < 100_000; guard++) {
            int x = m.cpu.run(10_000_000);
            if (x == Exit.BUDGET) {
                continue;
            }
            assertEquals(Exit.INT80, x, () -> "unexpected exit " + x + ": " + m.cpu.lastFaultDescription());
            long[] r = m.s.gpr;
            int nr = (int) r[CpuState.RAX];
            switch (nr) {
                case 4 -> { // write(fd, buf, count)
                    long buf = r[CpuState.RCX] & 0xffff_ffffL;
                    int n = (int) r[CpuState.RDX];
                    for (int i = 0; i < n; i++) {
                        run.out.write(m.mem.read8(m.pa(buf + i)));
                    }
                    r[CpuState.RAX] = n;
                }
                case 1, 252 -> { // exit, exit_group
                    run.status = (int) r[CpuState.RBX] & 0xff;
                    run.instructions = m.s.instructions;
                    return run;
                }
                default -> r[CpuState.RAX] = -38 & 0xffff_ffffL; // -ENOSYS in EAX
            }
        }
        throw new AssertionError("image did not exit");
    }

    private static long pushString(TestMachine m, long sp, String s) {
        byte[] bytes = (s + "\0").getBytes(StandardCharsets.UTF_8);
        sp -= bytes.length;
        for (int i = 0; i < bytes.length; i++) {
            m.mem.write8(m.pa(sp + i), bytes[i]);
        }
        return sp;
    }

    private static long put32(TestMachine m, long va, long v) {
        m.mem.write32(m.pa(va), (int) v);
        return va + 4;
    }

    private static void check(String name, String image, List<String> args, List<String> env) throws IOException {
        Run r = boot(image, args, env);
        String expected = Files.readString(EXPECTED.resolve(name + ".stdout"));
        assertEquals(expected, r.out.toString(StandardCharsets.UTF_8), name + " stdout");
        assertEquals(Integer.parseInt(Files.readString(EXPECTED.resolve(name + ".status")).trim()), r.status,
                name + " status");
        assertTrue(r.instructions > 1000, "ran " + r.instructions + " instructions");
    }

    @Test
    void helloPrintsArgvAndEnvironmentLikeNative() throws IOException {
        check("hello", "hello", List.of("a", "b", "--not-an-option", "-t", "2"), List.of("MMULAB_GREETING=hi"));
    }

    @Test
    void computeScale1MatchesNativeHashes() throws IOException {
        check("compute@scale1", "compute", List.of("1"), List.of());
    }
}
