package org.mmulab.gdbstub;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.mmulab.gdbstub.codec.Hex;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mmulab.gdbstub.codec.CodecTestUtil.frame;

/** The TCP server: loopback, ephemeral port, one client at a time, detach on disconnect. */
class GdbServerTest {
    private static final int TIMEOUT_MS = 20_000;

    private GdbServer server;

    @AfterEach
    void tearDown() {
        if (server != null) {
            server.close();
        }
    }

    private static final class Client implements AutoCloseable {
        final Socket socket;
        final InputStream in;

        Client(int port) throws IOException {
            socket = new Socket(InetAddress.getLoopbackAddress(), port);
            socket.setSoTimeout(TIMEOUT_MS);
            in = socket.getInputStream();
        }

        void send(String s) throws IOException {
            socket.getOutputStream().write(s.getBytes(StandardCharsets.ISO_8859_1));
            socket.getOutputStream().flush();
        }

        /** Reads until {@code want} has arrived (bounded by the socket timeout). */
        String readUntil(String want) throws IOException {
            StringBuilder sb = new StringBuilder();
            while (!sb.toString().endsWith(want)) {
                int b = in.read();
                if (b < 0) {
                    throw new IOException("EOF after '" + sb + "', wanted '" + want + "'");
                }
                sb.append((char) b);
            }
            return sb.toString();
        }

        /** Reads everything until the server closes its side. */
        String readToEof() throws IOException {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            in.transferTo(out);
            return out.toString(StandardCharsets.ISO_8859_1);
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    @Test
    void ephemeralPortOnLoopback() throws IOException {
        server = new GdbServer(new FakeTarget(), 0).start();
        assertTrue(server.boundPort() > 0);
        assertTrue(server.localAddress().getAddress().isLoopbackAddress());
        try (Client c = new Client(server.boundPort())) {
            c.send("+" + frame("qSupported:swbreak+"));
            String r = c.readUntil("QStartNoAckMode+#");
            assertTrue(r.startsWith("+$PacketSize=4000;"), r);
        }
    }

    @Test
    void secondClientIsRefusedAndFirstKeepsWorking() throws Exception {
        FakeTarget target = new FakeTarget();
        server = new GdbServer(target, 0).start();
        try (Client first = new Client(server.boundPort())) {
            first.send(frame("?"));
            assertEquals("+" + frame("T05thread:1;"), first.readUntil(frame("T05thread:1;")));
            try (Client second = new Client(server.boundPort())) {
                second.send("+" + frame("qSupported"));
                String refusal = second.readToEof();
                assertEquals("+" + frame("E." + GdbServer.BUSY_MESSAGE), refusal);
            }
            first.send(frame("m1000,4"));
            assertEquals("+" + frame("00010203"), first.readUntil(frame("00010203")));
            assertEquals(1, target.attaches());
            assertEquals(0, target.detaches());
        }
    }

    @Test
    void disconnectWhileStoppedStaysStoppedAndTheNextClientIsServed() throws Exception {
        FakeTarget target = new FakeTarget();
        server = new GdbServer(target, 0).start();
        try (Client c = new Client(server.boundPort())) {
            c.send(frame("Z0,1234,1"));
            c.readUntil(frame("OK"));
            assertEquals(1, target.breakpoints().size());
        }
        waitFor(() -> target.releases() == 1 && !server.hasClient());
        assertFalse(target.running(), "a client that vanished without D leaves the machine stopped");
        assertEquals(0, target.detaches());
        assertTrue(target.breakpoints().isEmpty());
        try (Client c = new Client(server.boundPort())) {
            c.send(frame("qC"));
            assertEquals("+" + frame("QC1"), c.readUntil(frame("QC1")));
            assertEquals(2, target.attaches());
        }
    }

    @Test
    void aPortProbeNeitherAttachesNorResumesNorBlocksTheRealClient() throws Exception {
        FakeTarget target = new FakeTarget();
        server = new GdbServer(target, 0).start();
        new Socket(InetAddress.getLoopbackAddress(), server.boundPort()).close();   // wait-for-port probe
        try (Client c = new Client(server.boundPort())) {
            c.send(frame("?"));
            assertEquals("+" + frame("T05thread:1;"), c.readUntil(frame("T05thread:1;")));
            assertEquals(1, target.attaches());
            assertEquals(0, target.detaches());
            assertEquals(0, target.releases());
            assertTrue(target.resumes().isEmpty());
            assertFalse(target.running());
        }
    }

    @Test
    void disconnectAndAttachAgainRepeatedly() throws Exception {
        FakeTarget target = new FakeTarget();
        server = new GdbServer(target, 0).start();
        for (int i = 1; i <= 5; i++) {
            try (Client c = new Client(server.boundPort())) {
                c.send(frame("?"));
                assertEquals("+" + frame("T05thread:1;"), c.readUntil(frame("T05thread:1;")));
            }
            int n = i;
            waitFor(() -> target.releases() == n && !server.hasClient());
        }
        assertEquals(5, target.attaches());
        assertEquals(0, target.detaches());
    }

    @Test
    void stopEventsFromAnotherThreadReachTheClient() throws Exception {
        FakeTarget target = new FakeTarget(org.mmulab.gdbstub.target.TargetArch.AMD64, 2, true);
        server = new GdbServer(target, 0).start();
        try (Client c = new Client(server.boundPort())) {
            c.send(frame("QStartNoAckMode"));
            c.readUntil(frame("OK"));
            c.send("+" + frame("vCont;s:2"));
            assertEquals(frame("T05thread:2;"), c.readUntil(frame("T05thread:2;")));
            c.send(frame("vCont;c"));
            waitFor(target::running);
            c.send("\u0003");
            assertEquals(frame("T02thread:1;"), c.readUntil(frame("T02thread:1;")));
        }
    }

    @Test
    void closeReleasesThePortAndDetaches() throws Exception {
        FakeTarget target = new FakeTarget();
        server = new GdbServer(target, 0).start();
        int port = server.boundPort();
        try (Client c = new Client(port)) {
            c.send(frame("?"));
            c.readUntil(frame("T05thread:1;"));
            server.close();
            assertEquals("", c.readToEof());
        }
        assertEquals(1, target.detaches());
        assertThrows(ConnectException.class, () -> new Socket(InetAddress.getLoopbackAddress(), port).close());
        assertFalse(server.hasClient());
    }

    @Test
    void parsesGdbAddressArguments() {
        assertEquals(new java.net.InetSocketAddress(InetAddress.getLoopbackAddress(), 1234), GdbServer.parseAddress("1234"));
        assertEquals(new java.net.InetSocketAddress(InetAddress.getLoopbackAddress(), 1234), GdbServer.parseAddress(":1234"));
        assertEquals(1234, GdbServer.parseAddress("127.0.0.1:1234").getPort());
        assertTrue(GdbServer.parseAddress("127.0.0.1:0").getAddress().isLoopbackAddress());
        assertTrue(GdbServer.parseAddress("[::1]:99").getAddress() instanceof java.net.Inet6Address);
        assertThrows(IllegalArgumentException.class, () -> GdbServer.parseAddress("localhost:port"));
        assertThrows(IllegalArgumentException.class, () -> GdbServer.parseAddress("127.0.0.1:70000"));
        assertThrows(IllegalArgumentException.class, () -> GdbServer.parseAddress("::1:99"));
        assertThrows(IllegalArgumentException.class, () -> GdbServer.parseAddress("[::1]99"));
    }

    @Test
    void bindFailureIsReportedAndLeavesNothingRunning() {
        server = new GdbServer(new FakeTarget(), 0).start();
        GdbServer second = new GdbServer(new FakeTarget(), server.boundPort());
        assertThrows(Exception.class, second::start);
        second.close();   // harmless after a failed start
    }

    /** Bounded wait for asynchronous effects (generous timeout, polls; never a timing assertion). */
    static void waitFor(java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TIMEOUT_MS * 1_000_000L;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("condition not reached within " + TIMEOUT_MS + " ms");
            }
            Thread.sleep(10);
        }
    }
}
