package org.mmulab.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;

/**
 * The console's stdin as a pipe whose writer is the host (ConsoleFile, SysPipe.consoleRead): an empty
 * stdin is EAGAIN for O_NONBLOCK and not readable to poll; a blocking read waits as a scheduler
 * continuation until the host delivers (whenever its thread gets to run: only the bytes are asserted),
 * returns what is there, and 0 once the host stream is closed (POLLHUP to poll).
 */
class ConsoleStdinTest {
    static final int RW = 3, ANON = 0x22, F_SETFL = 4, O_NONBLOCK = 04000, POLLIN = 1, POLLHUP = 16;

    @Test
    void stdinIsAPipeFedByTheHost() throws Exception {
        PipedOutputStream host = new PipedOutputStream();
        PipedInputStream in = new PipedInputStream(host, 1 << 16);
        Fixture f = new Fixture(64L << 20, in, KernelConfig.PagingMode.FOUR_LEVEL);
        f.exec(TestElf.standard(Fixture.CODE, new byte[16], 0).build());
        long buf = f.mmap(0, 4096, RW, ANON);
        f.write64(buf + 2048, 0); // struct pollfd {fd 0, events POLLIN}
        f.writeBytes(buf + 2052, new byte[] {POLLIN, 0, 0, 0});
        assertEquals(0, f.sys(7, buf + 2048, 1, 0), "nothing from the host yet");
        assertEquals(0, f.sys(72, 0, F_SETFL, O_NONBLOCK));
        assertEquals(-Errno.EAGAIN, f.sys(Syscalls.NR_READ, 0, buf, 64), "O_NONBLOCK on an empty stdin");
        assertEquals(0, f.sys(72, 0, F_SETFL, 0));
        Thread writer = new Thread(() -> {
            try {
                host.write("typed\n".getBytes(StandardCharsets.US_ASCII));
                host.flush();
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        writer.start();
        f.write64(buf + 2048, 0);
        f.writeBytes(buf + 2052, new byte[] {POLLIN, 0, 0, 0});
        assertEquals(1, f.sys(7, buf + 2048, 1, -1), "poll without a timeout waits for the host (not a deadlock)");
        StringBuilder got = new StringBuilder();
        while (got.length() < 6) {
            long n = f.sys(Syscalls.NR_READ, 0, buf, 64); // blocks (continuation) until the host delivers
            assertTrue(n > 0, "read: " + n);
            got.append(new String(f.readBytes(buf, (int) n), StandardCharsets.US_ASCII));
        }
        writer.join();
        assertEquals("typed\n", got.toString());
        host.close();
        assertEquals(0, f.sys(Syscalls.NR_READ, 0, buf, 64), "end of the host stream");
        assertEquals(1, f.sys(7, buf + 2048, 1, 0));
        assertEquals(POLLHUP, f.readBytes(buf + 2054, 1)[0], "POLLHUP at the end, as a pipe without writers");
    }
}
