package org.mmulab.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.mmulab.kernel.mm.VmArea;

/**
 * Exec of a real gcc-built static binary (src/test/resources/elf/probe, source and build command in
 * probe.c): the mappings load_elf_binary would create, and -
 * the program's output compared with a native run under setarch -R.
 */
class ProbeImageTest {
    static byte[] resource(String name) throws IOException {
        try (InputStream in = ProbeImageTest.class.getResourceAsStream("/elf/" + name)) {
            if (in == null) {
                throw new IOException("missing test resource " + name);
            }
            return in.readAllBytes();
        }
    }

    @Test
    void loadsSegmentsBssAndBrkLikeLinux() throws Exception {
        Fixture f = new Fixture(64L << 20);
        f.kernel.exec(resource("probe"), "./probe", List.of("./probe", "x", "yy"), List.of("A=1"));
        String maps = f.mm().maps();
        List<VmArea> v = f.mm().vmaList();
        assertEquals(0x400000, v.get(0).start(), maps);
        assertEquals("000000400000-000000401000 r--p 00000000 ./probe", v.get(0).toString());
        assertEquals("000000401000-000000402000 r-xp 00001000 ./probe", v.get(1).toString());
        assertEquals("000000402000-000000403000 r--p 00002000 ./probe", v.get(2).toString());
        assertEquals("000000403000-000000404000 rw-p 00002000 ./probe", v.get(3).toString());
        assertEquals("000000404000-000000504000 rw-p 00000000", v.get(4).toString(), "bss: anonymous");
        assertEquals("7ffff7ff7000-7ffff7fff000 ---p 00000000 [vvar+vdso reserved]", v.get(5).toString());
        assertEquals("7ffffffde000-7ffffffff000 rw-p 00000000 [stack]", v.get(6).toString());
        assertEquals(7, v.size(), maps);
        assertEquals(0x504000, f.mm().startBrk);
        assertEquals(0x1234, f.read64(0x40317c) & 0xffffffffL, "data_word from the file");
        assertEquals(0, f.read64(0x403180), "padzero cleared the rest of the page");
        assertEquals(0x401000, f.cpu.state.rip);
    }

    @Test
    void runsAndMatchesTheNativeOutput() throws Exception {
        Fixture f = new Fixture(64L << 20);
        f.kernel.exec(resource("probe"), "./probe", List.of("./probe", "x", "yy"), List.of("A=1"));
        int status = f.kernel.run();
        String expected = new String(resource("probe.expected"), StandardCharsets.UTF_8);
        assertEquals(expected, f.stdout(), f.stderr());
        assertEquals(42, status);
        assertTrue(f.stderr().isEmpty(), f.stderr());
    }
}
