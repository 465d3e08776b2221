package org.mmulab.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * PT_INTERP (ElfInterp, BinfmtElf): a dynamically linked ET_DYN program is mapped at ELF_ET_DYN_BASE
 * (0x555555554000 with a 4 KiB p_align), its interpreter — read through the VFS from the guest's root —
 * below mmap_base; the task starts at the interpreter's entry, and the auxv carries AT_BASE (the
 * interpreter's load address), AT_ENTRY and AT_PHDR of the program. A missing interpreter is ENOENT, a
 * directory or one without execute permission EACCES, a non-ELF or other-class one ELIBBAD, a
 * PT_INTERP without its NUL ENOEXEC — from execve as errnos (nothing changed), from boot as one-line
 * messages. (The old code refused every PT_INTERP.)
 */
class ElfInterpTest {
    static final long DYN_BASE = 0x555555554000L;

    @TempDir
    Path root;
    private Fixture f;

    /** A position-independent image: headers+rodata at 0, code (ud2) at 0x1000, entry there. */
    private static TestElf dyn() {
        return new TestElf().type(ElfImage.ET_DYN).entry(0x1000).load(0, ElfImage.PF_R, new byte[0], 0);
    }

    private static byte[] program(String interp) {
        return dyn().interp(interp).load(0x1000, ElfImage.PF_R | ElfImage.PF_X, Fixture.CODE, 2)
                .load(0x2010, ElfImage.PF_R | ElfImage.PF_W, new byte[8], 64).build();
    }

    private void put(String name, byte[] b, String perms) throws Exception {
        Path p = root.resolve(name);
        Files.createDirectories(p.getParent());
        Files.write(p, b);
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(perms));
    }

    @BeforeEach
    void tree() throws Exception {
        put("lib/ld.so", dyn().load(0x1000, ElfImage.PF_R | ElfImage.PF_X, Fixture.CODE, 2).build(), "rwxr-xr-x");
        put("lib/text.so", "#!/bin/sh\nnot an ELF file\n".getBytes(StandardCharsets.US_ASCII), "rwxr-xr-x");
        put("lib/noexec.so", dyn().load(0x1000, 5, Fixture.CODE, 2).build(), "rw-r--r--");
        put("lib/ld32.so", TestElf.standard32(Fixture.CODE, new byte[4], 0).build(), "rwxr-xr-x");
        byte[] noNul = program("/lib/ld.so");
        String s = new String(noNul, StandardCharsets.ISO_8859_1);
        noNul[s.indexOf("/lib/ld.so") + "/lib/ld.so".length()] = 'x';
        put("bin/nonul", noNul, "rwxr-xr-x");
        for (String i : List.of("ld.so", "text.so", "noexec.so", "ld32.so", "missing.so")) {
            put("bin/" + i.replace(".so", ""), program("/lib/" + i), "rwxr-xr-x");
        }
        put("bin/dirinterp", program("/lib"), "rwxr-xr-x");
        f = new Fixture(64L << 20);
        f.kernel.filesystems().configure(root, List.of());
    }

    private static long aux(BinfmtElf.Loaded l, int type) {
        return l.auxv().stream().filter(a -> a[0] == type).findFirst().orElseThrow()[1];
    }

    @Test
    void bootMapsTheProgramAtElfEtDynBaseAndStartsInTheInterpreter() throws Exception {
        f.kernel.exec(Files.readAllBytes(root.resolve("bin/ld")), "/bin/ld", List.of("/bin/ld"), List.of());
        BinfmtElf.Loaded l = f.kernel.lastLoaded;
        long base = aux(l, BinfmtElf.AT_BASE);
        assertEquals(DYN_BASE + 0x1000, aux(l, BinfmtElf.AT_ENTRY), "AT_ENTRY: the program's entry");
        assertEquals(DYN_BASE + 64, aux(l, BinfmtElf.AT_PHDR), "AT_PHDR: the program's headers");
        assertTrue(base != 0 && base > DYN_BASE && (base & 4095) == 0, "AT_BASE below mmap_base: 0x" + Long.toHexString(base));
        assertEquals(base + 0x1000, l.entry(), "the task starts at the interpreter's entry");
        assertEquals(base + 0x1000, f.cpu.state.rip);
        assertEquals(0x0b0f, f.read64(base + 0x1000) & 0xffff, "the interpreter's code, read through the VFS");
        assertEquals(0x0b0f, f.read64(DYN_BASE + 0x1000) & 0xffff, "the program's code");
        assertEquals(DYN_BASE + 0x3000, f.mm().brk, "brk after the program's bss");
    }

    private void bootFails(String prog, String part) throws Exception {
        byte[] img = Files.readAllBytes(root.resolve(prog));
        ExecFormatException e = assertThrows(ExecFormatException.class, () -> f.kernel.exec(img, "/" + prog, List.of(prog), List.of()));
        assertTrue(e.getMessage().contains(part), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        assertEquals(null, f.kernel.task(), "nothing was loaded");
    }

    @Test
    void bootRefusesBadInterpretersWithOneLineMessages() throws Exception {
        bootFails("bin/missing", "ENOENT");
        bootFails("bin/text", "ELIBBAD");
        bootFails("bin/ld32", "ELIBBAD");
        bootFails("bin/noexec", "EACCES");
        bootFails("bin/dirinterp", "EACCES");
        bootFails("bin/nonul", "NUL-terminated");
    }

    private long str(long buf, String s) {
        f.writeBytes(buf, (s + "\0").getBytes(StandardCharsets.UTF_8));
        return buf;
    }

    @Test
    void execveGivesLinuxErrnosAndThenRunsTheDynamicProgram() throws Exception {
        f.exec(TestElf.standard(Fixture.CODE, new byte[8], 0).build());
        long buf = f.mmap(0, 4096, 3, 0x22);
        long argv = buf + 2048;
        f.write64(argv, str(buf + 1024, "prog"));
        f.write64(argv + 8, 0);
        String[][] cases = {{"/bin/missing", "" + Errno.ENOENT}, {"/bin/text", "" + Errno.ELIBBAD},
            {"/bin/ld32", "" + Errno.ELIBBAD}, {"/bin/noexec", "" + Errno.EACCES}, {"/bin/dirinterp", "" + Errno.EACCES},
            {"/bin/nonul", "" + Errno.ENOEXEC}};
        for (String[] c : cases) {
            assertEquals(-Integer.parseInt(c[1]), f.sys(59, str(buf, c[0]), argv, argv + 8), c[0]);
        }
        assertEquals(0x0b0f, f.read64(0x401000) & 0xffff, "the failed calls left the old program mapped");
        f.sys(59, str(buf, "/bin/ld"), argv, argv + 8);
        long base = f.cpu.state.rip - 0x1000;
        assertTrue(base > DYN_BASE && (base & 4095) == 0, "started in the interpreter: 0x" + Long.toHexString(f.cpu.state.rip));
        assertEquals(0x0b0f, f.read64(DYN_BASE + 0x1000) & 0xffff, "the program at ELF_ET_DYN_BASE");
    }
}
