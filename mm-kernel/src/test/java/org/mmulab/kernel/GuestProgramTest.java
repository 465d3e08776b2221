package org.mmulab.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

/**
 * Runs the gcc-built mmtest program (src/test/resources/elf/mmtest.c) on the interpreter, one mode at a
 * time, and compares stdout and exit status with the native run recorded in mmtest.expected; signal
 * modes also check the shell message on stderr. OOM runs in a machine smaller than its appetite.
 */
class GuestProgramTest {
    private static Map<String, String> expected() throws Exception {
        String all = new String(ProbeImageTest.resource("mmtest.expected"), StandardCharsets.UTF_8);
        Map<String, String> m = new LinkedHashMap<>();
        for (String block : all.split("(?m)^== ")) {
            if (block.isEmpty()) {
                continue;
            }
            int nl = block.indexOf('\n');
            m.put(block.substring(0, nl), block.substring(nl + 1));
        }
        return m;
    }

    private static Fixture run(String mode, long ram) throws Exception {
        Fixture f = new Fixture(ram);
        f.kernel.exec(ProbeImageTest.resource("mmtest"), "./mmtest", List.of("./mmtest", mode), List.of());
        int status = f.kernel.run();
        f.out.write(("status " + status + "\n").getBytes(StandardCharsets.UTF_8));
        return f;
    }

    @Test
    void everyModeMatchesTheNativeRun() throws Exception {
        Map<String, String> shell = Map.of("segv", "Segmentation fault", "unmapped", "Segmentation fault", "handler", "Segmentation fault",
                "ill", "Illegal instruction", "fpe", "Floating point exception");
        for (Map.Entry<String, String> e : expected().entrySet()) {
            Fixture f = run(e.getKey(), 64L << 20);
            assertEquals(e.getValue(), f.stdout(), "mode " + e.getKey() + ", stderr: " + f.stderr());
            String msg = shell.get(e.getKey());
            if (msg == null) {
                assertEquals("", f.stderr(), e.getKey());
            } else {
                assertTrue(f.stderr().endsWith(msg + "\n"), e.getKey() + ": " + f.stderr());
            }
            assertEquals(f.memory().frames().frameCount() - 2, f.memory().frames().freePages(),
                    e.getKey() + ": every frame but frame 0 and the zero page is free after exit");
        }
    }

    @Test
    void illegalInstructionNamesTheOpcode() throws Exception {
        Fixture f = run("ill", 64L << 20);
        String[] lines = f.stderr().split("\n");
        assertEquals(2, lines.length, f.stderr());
        assertTrue(lines[0].contains("0f 0b"), "the interpreter's description names the opcode: " + lines[0]);
        assertTrue(lines[0].contains("buffered") && lines[0].contains("lost"),
                "the report says the guest's unflushed stdio output is gone: " + lines[0]);
        assertEquals("Illegal instruction", lines[1]);
    }

    @Test
    void oomKillsTheGuestWithStatus137() throws Exception {
        Fixture f = run("oom", 16L << 20);
        assertEquals("status 137\n", f.stdout());
        assertTrue(f.stderr().startsWith("Out of memory: Killed process 1 (mmtest)"), f.stderr());
        assertTrue(f.stderr().endsWith("Killed\n"), f.stderr());
        assertEquals(f.memory().frames().frameCount() - 2, f.memory().frames().freePages());
    }
}
