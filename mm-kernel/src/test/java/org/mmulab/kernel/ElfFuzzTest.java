package org.mmulab.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

/**
 * Mutants of the committed test-images binaries (ELF64 and ELF32): truncations, flipped header and
 * program-header bytes, and header/phdr fields set to absurd values. Parsing and loading each one may
 * only succeed or throw the loader's {@link ExecFormatException}; nothing else may escape (issue 11 §2:
 * e_phoff = 2^63-1 used to end in IndexOutOfBoundsException). Seeded: the seed is printed, and
 * {@code -Delf.fuzz.seed=S} re-runs the same mutants.
 */
class ElfFuzzTest {
    private static final int MUTANTS_PER_CLASS = 2000;
    private static final long[] ABSURD = {0, 1, -1, Long.MAX_VALUE, Long.MIN_VALUE, 0xffff_ffffL, 0x8000_0000L,
        0x7fff_ffffL, 1L << 47, (1L << 47) - 4096, 0xffff_e000L, 0xc000_0000L, 56, 64, 4096, -4096};

    private static List<byte[]> images(String arch) throws IOException {
        Path dir = Path.of("..", "test-images", "bin", arch);
        List<byte[]> l = new ArrayList<>();
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.sorted().toList()) {
                l.add(Files.readAllBytes(p));
            }
        }
        assertTrue(l.size() >= 3, "committed images in " + dir);
        return l;
    }

    @Test
    void phoffNearLongMaxIsAFormatError() throws Exception {
        byte[] elf = images("x86_64").get(0).clone();
        ByteBuffer.wrap(elf).order(ByteOrder.LITTLE_ENDIAN).putLong(32, Long.MAX_VALUE);
        ExecFormatException e = assertThrows(ExecFormatException.class, () -> ElfImage.parse(elf));
        assertTrue(e.getMessage().startsWith("truncated ELF file: program headers at offset 9223372036854775807"), e.getMessage());
    }

    @Test
    void elf64Mutants() throws Exception {
        fuzz("x86_64", false);
    }

    @Test
    void elf32Mutants() throws Exception {
        fuzz("i386", true);
    }

    private static void fuzz(String arch, boolean e32) throws Exception {
        long seed = Long.getLong("elf.fuzz.seed", System.nanoTime());
        System.out.println("ElfFuzzTest " + arch + " seed " + seed + " (re-run: -Delf.fuzz.seed=" + seed + ")");
        SplittableRandom rnd = new SplittableRandom(seed);
        List<byte[]> base = images(arch);
        int parsed = 0;
        int refused = 0;
        Fixture f = null;
        for (int i = 0; i < MUTANTS_PER_CLASS; i++) {
            byte[] m = mutate(base.get(rnd.nextInt(base.size())), e32, rnd);
            String what = arch + " mutant " + i + " of seed " + seed;
            try {
                ElfImage.parse(m);
                parsed++;
                if (f == null || i % 200 == 0) {
                    f = new Fixture(16L << 20, e32 ? KernelConfig.PagingMode.PAE : KernelConfig.PagingMode.FOUR_LEVEL);
                }
                f.kernel.exec(m, "./mutant", List.of("./mutant"), List.of());
            } catch (ExecFormatException e) {
                refused++;
                assertEquals(1, e.getMessage().lines().count(), what);
            } catch (RuntimeException | Error e) {
                throw new AssertionError(what + ": " + e, e);
            }
        }
        System.out.println("ElfFuzzTest " + arch + ": " + parsed + " parsed, " + refused + " refused");
        if (refused == 0 || parsed == 0) {
            fail("mutants should both pass and fail the checks: " + parsed + " parsed, " + refused + " refused");
        }
    }

    private static byte[] mutate(byte[] img, boolean e32, SplittableRandom rnd) {
        byte[] m = img.clone();
        ByteBuffer b = ByteBuffer.wrap(m).order(ByteOrder.LITTLE_ENDIAN);
        long phoff = e32 ? b.getInt(28) & 0xffff_ffffL : b.getLong(32);
        int phnum = b.getShort(e32 ? 44 : 56) & 0xffff;
        int phsz = e32 ? 32 : 56;
        int kinds = 1 + rnd.nextInt(3);
        for (int k = 0; k < kinds; k++) {
            switch (rnd.nextInt(5)) {
                case 0 -> { // truncate
                    return java.util.Arrays.copyOf(m, rnd.nextInt(Math.min(m.length, (int) phoff + phnum * phsz + 64) + 1));
                }
                case 1 -> { // flip bits in the ELF header
                    int o = rnd.nextInt(e32 ? 52 : 64);
                    m[o] ^= (byte) (1 << rnd.nextInt(8));
                }
                case 2 -> { // flip bits in the program headers
                    int o = (int) phoff + rnd.nextInt(phnum * phsz);
                    m[o] ^= (byte) (1 << rnd.nextInt(8));
                }
                case 3 -> { // an absurd header field: e_entry, e_phoff, e_phentsize/e_phnum
                    long v = absurd(rnd, m.length);
                    switch (rnd.nextInt(3)) {
                        case 0 -> putWord(b, 24, v, e32);
                        case 1 -> putWord(b, e32 ? 28 : 32, v, e32);
                        default -> b.putShort(e32 ? 44 : 56, (short) v);
                    }
                }
                default -> { // an absurd phdr field: p_offset, p_vaddr, p_filesz, p_memsz, p_align
                    int p = (int) phoff + rnd.nextInt(phnum) * phsz;
                    int[] fields = e32 ? new int[] {4, 8, 16, 20, 28} : new int[] {8, 16, 32, 40, 48};
                    putWord(b, p + fields[rnd.nextInt(fields.length)], absurd(rnd, m.length), e32);
                    if (rnd.nextInt(4) == 0) {
                        b.putInt(p, ElfImage.PT_LOAD);
                    }
                }
            }
        }
        return m;
    }

    private static long absurd(SplittableRandom rnd, int fileSize) {
        return switch (rnd.nextInt(4)) {
            case 0 -> ABSURD[rnd.nextInt(ABSURD.length)];
            case 1 -> fileSize + rnd.nextInt(-4, 5);
            case 2 -> rnd.nextLong();
            default -> rnd.nextLong(0, 1L << 24);
        };
    }

    private static void putWord(ByteBuffer b, int off, long v, boolean e32) {
        if (e32) {
            b.putInt(off, (int) v);
        } else {
            b.putLong(off, v);
        }
    }
}
