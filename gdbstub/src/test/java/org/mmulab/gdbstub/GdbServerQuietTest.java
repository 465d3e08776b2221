package org.mmulab.gdbstub;

import io.netty.util.internal.logging.InternalLoggerFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.mmulab.gdbstub.protocol.StubLog;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mmulab.gdbstub.GdbServerTest.waitFor;
import static org.mmulab.gdbstub.codec.CodecTestUtil.frame;

/**
 * The stub never writes to stderr (the guest's stream) nor through java.util.logging: a client that resets its
 * connection, a refused second client, an oversized packet and Netty's own warnings all go to the {@link StubLog}.
 */
class GdbServerQuietTest {
    private final List<String> logged = Collections.synchronizedList(new ArrayList<>());
    private final StubLog log = (m, t) -> logged.add(m + (t == null ? "" : " / " + t));
    private final ByteArrayOutputStream stderr = new ByteArrayOutputStream();
    private final List<LogRecord> julRecords = Collections.synchronizedList(new ArrayList<>());
    private final Handler julHandler = new Handler() {
        @Override
        public void publish(LogRecord r) {
            julRecords.add(r);
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };
    private PrintStream savedErr;
    private GdbServer server;

    @BeforeEach
    void capture() {
        savedErr = System.err;
        System.setErr(new PrintStream(stderr, true, StandardCharsets.UTF_8));
        Logger.getLogger("").addHandler(julHandler);
    }

    @AfterEach
    void restore() {
        if (server != null) {
            server.close();
        }
        Logger.getLogger("").removeHandler(julHandler);
        System.setErr(savedErr);
    }

    private void assertSilent() {
        String err = stderr.toString(StandardCharsets.UTF_8);
        assertEquals("", err, "nothing on stderr");
        synchronized (julRecords) {
            assertTrue(julRecords.isEmpty(), () -> "java.util.logging records: " + julRecords.stream()
                    .map(r -> r.getLoggerName() + ": " + r.getMessage()).toList());
        }
    }

    @Test
    void aResetRefusalAndOversizedPacketGoToTheStubLogOnly() throws Exception {
        FakeTarget target = new FakeTarget();
        server = new GdbServer(target, new java.net.InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 256, log)
                .start();
        int port = server.boundPort();
        Socket first = new Socket(InetAddress.getLoopbackAddress(), port);
        first.setSoTimeout(20_000);
        first.getOutputStream().write(frame("?").getBytes(StandardCharsets.ISO_8859_1));
        readUntil(first.getInputStream(), frame("T05thread:1;"));
        // Oversized: a 300-byte payload against PacketSize 256.
        first.getOutputStream().write(frame("m" + "0".repeat(300)).getBytes(StandardCharsets.ISO_8859_1));
        readUntil(first.getInputStream(), frame("E01"));
        // A second client is refused.
        try (Socket second = new Socket(InetAddress.getLoopbackAddress(), port)) {
            second.setSoTimeout(20_000);
            second.getOutputStream().write(("+" + frame("qSupported")).getBytes(StandardCharsets.ISO_8859_1));
            assertTrue(second.getInputStream().readAllBytes().length > 0);
        }
        // The first resets its connection (RST, not FIN).
        first.setSoLinger(true, 0);
        first.close();
        waitFor(() -> !server.hasClient() && target.releases() == 1);
        server.close();
        server = null;
        assertSilent();
        synchronized (logged) {
            assertTrue(logged.stream().anyMatch(l -> l.contains("refused gdb connection")), logged::toString);
            assertTrue(logged.stream().anyMatch(l -> l.contains("discarded a")), logged::toString);
        }
    }

    @Test
    void nettysOwnWarningsGoToTheStubLog() throws Exception {
        server = new GdbServer(new FakeTarget(), new java.net.InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                4096, log).start();
        InternalLoggerFactory.getInstance("io.netty.test").warn("something {} happened", "odd",
                new IllegalStateException("boom"));
        assertSilent();
        synchronized (logged) {
            assertTrue(logged.contains("io.netty.test: something odd happened / java.lang.IllegalStateException: boom"),
                    logged::toString);
        }
    }

    private static void readUntil(InputStream in, String want) throws Exception {
        StringBuilder sb = new StringBuilder();
        while (!sb.toString().endsWith(want)) {
            int b = in.read();
            if (b < 0) {
                throw new AssertionError("EOF after '" + sb + "', wanted '" + want + "'");
            }
            sb.append((char) b);
        }
    }
}
