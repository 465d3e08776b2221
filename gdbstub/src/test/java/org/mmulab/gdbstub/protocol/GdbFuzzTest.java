package org.mmulab.gdbstub.protocol;

import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;
import org.mmulab.gdbstub.FakeTarget;
import org.mmulab.gdbstub.codec.Binary;
import org.mmulab.gdbstub.codec.Control;
import org.mmulab.gdbstub.codec.GdbPacketDecoder;
import org.mmulab.gdbstub.codec.GdbPacketEncoder;
import org.mmulab.gdbstub.codec.Hex;
import org.mmulab.gdbstub.codec.Packet;
import org.mmulab.gdbstub.target.TargetArch;

import java.io.ByteArrayOutputStream;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mmulab.gdbstub.codec.CodecTestUtil.buf;
import static org.mmulab.gdbstub.codec.CodecTestUtil.bytes;
import static org.mmulab.gdbstub.codec.CodecTestUtil.drainInbound;
import static org.mmulab.gdbstub.codec.CodecTestUtil.drainOutbound;
import static org.mmulab.gdbstub.codec.CodecTestUtil.frame;

/**
 * Random input never raises an exception in the pipeline and leaves the stub answering. The seed is printed;
 * re-run one case with {@code -Dmmulab.seed=N}. {@code -Dmmulab.fuzz.count=N} changes the number of inputs.
 */
class GdbFuzzTest {
    private static final int COUNT = Integer.getInteger("mmulab.fuzz.count", 100_000);
    private static final int PACKET_SIZE = 0x400;

    private static long seed(String test) {
        long seed = Long.getLong("mmulab.seed", System.nanoTime());
        System.out.println(test + " seed=" + seed + " (re-run with -Dmmulab.seed=" + seed + ")");
        return seed;
    }

    /** Bytes biased towards the framing characters, so every decoder state and transition is exercised. */
    private static byte[] randomBytes(Random r, int max) {
        byte[] b = new byte[r.nextInt(max + 1)];
        for (int i = 0; i < b.length; i++) {
            int k = r.nextInt(10);
            b[i] = switch (k) {
                case 0 -> (byte) '$';
                case 1 -> (byte) '#';
                case 2 -> (byte) "+-\u0003}*".charAt(r.nextInt(5));
                case 3, 4 -> (byte) "0123456789abcdefABCDEF".charAt(r.nextInt(22));
                default -> (byte) r.nextInt(256);
            };
        }
        return b;
    }

    /**
     * Writes {@code data} split at random positions; false when the channel closed before all of it was
     * written (the rest is dropped).
     */
    private static boolean feed(EmbeddedChannel ch, Random r, byte[] data) {
        int from = 0;
        while (from < data.length) {
            if (!ch.isOpen()) {
                return false;
            }
            int n = 1 + r.nextInt(Math.max(1, Math.min(64, data.length - from)));
            ch.writeInbound(buf(Arrays.copyOfRange(data, from, from + n)));
            from += n;
        }
        return ch.isOpen();
    }

    @Test
    void decoderSurvivesRandomBytes() {
        Random r = new Random(seed("decoderSurvivesRandomBytes"));
        GdbPacketDecoder decoder = new GdbPacketDecoder(64);
        EmbeddedChannel ch = new EmbeddedChannel(decoder);
        long messages = 0;
        for (int i = 0; i < COUNT; i++) {
            byte[] in = randomBytes(r, 200);
            assertTrue(feed(ch, r, in), () -> "the decoder closed the channel on " + Binary.printable(in, 0, in.length, 4000));
            // EmbeddedChannel rethrows any exception from the pipeline
            messages += drainInbound(ch).size();
        }
        ch.writeInbound(buf(bytes(frame("qC"))));
        List<Object> tail = drainInbound(ch);
        assertEquals(Packet.of("qC"), tail.get(tail.size() - 1), "decoder still frames a valid packet");
        assertTrue(messages > COUNT, "the fuzz produced messages: " + messages);
        ch.finishAndReleaseAll();
    }

    @Test
    void stubSurvivesRandomPacketsAndStillAnswers() {
        quietly(() -> fuzzPipeline(COUNT));
    }

    /** Ten times the default, in the slow profile ({@code mvn verify -Pslow}). */
    @Test
    @org.junit.jupiter.api.Tag("slow")
    void stubSurvivesAMillionRandomPackets() {
        quietly(() -> fuzzPipeline(10 * COUNT));
    }

    private static void quietly(Runnable fuzz) {
        // Oversized-packet warnings would print thousands of lines; failures are asserted through the counters.
        java.util.logging.Logger log = java.util.logging.Logger.getLogger("org.mmulab.gdbstub");
        java.util.logging.Level level = log.getLevel();
        log.setLevel(java.util.logging.Level.SEVERE);
        try {
            fuzz.run();
        } finally {
            log.setLevel(level);
        }
    }

    private static void fuzzPipeline(int count) {
        Random r = new Random(seed("stubSurvivesRandomPackets(" + count + ")"));
        FakeTarget target = new FakeTarget(TargetArch.AMD64, 3, false);
        Connection c = new Connection(target);
        ByteArrayOutputStream batch = new ByteArrayOutputStream();
        long replies = 0, packets = 0, sessionsEnded = 0;
        for (int i = 0; i < count; i++) {
            batch.writeBytes(randomItem(r));
            if (batch.size() > 512 || i == count - 1) {
                byte[] in = batch.toByteArray();
                boolean open = feed(c.ch, r, in);
                batch.reset();
                c.ch.runPendingTasks();
                String out = drainOutbound(c.ch);
                replies += GdbProtocolHandlerTest.payloads(out).size();   // checksums of every reply verified
                assertEquals(0, c.handler.pipelineErrors(), "exception in the pipeline at item " + i);
                assertEquals(0, c.internalErrors(), "stub error (see log) at item " + i);
                if (!open || !c.ch.isOpen()) {
                    // Only the client's own D or k (a well-framed one the random bytes can form) ends a session.
                    assertTrue(c.handler.session() != null && c.handler.session().isFinished(),
                            "channel closed at item " + i + " by input " + Binary.printable(in, 0, in.length, 4000));
                    packets += c.handler.session().packetsHandled();
                    sessionsEnded++;
                    c.ch.finishAndReleaseAll();
                    c = new Connection(target);   // gdb attaches again
                }
            }
        }
        // Stop a target a random vCont may have left running, then a plain query must be answered.
        c.ch.writeInbound(buf(bytes("\u0003")));
        c.ch.runPendingTasks();
        drainOutbound(c.ch);
        c.ch.writeInbound(buf(bytes(frame("qfThreadInfo"))));
        String out = drainOutbound(c.ch);
        assertTrue(out.endsWith(frame("m1,2,3")), out);
        assertTrue(replies > count / 2, "the fuzz was answered: " + replies + " replies");
        packets += c.handler.session().packetsHandled();
        assertTrue(packets > count / 2, "packets reached the sessions (" + (sessionsEnded + 1) + " of them)");
        c.ch.finishAndReleaseAll();
    }

    /** One client connection to the target, as a pipeline on an embedded channel. */
    private static final class Connection {
        final GdbProtocolHandler handler;
        final EmbeddedChannel ch;

        Connection(FakeTarget target) {
            handler = new GdbProtocolHandler(target, PACKET_SIZE);
            ch = new EmbeddedChannel(new GdbPacketDecoder(PACKET_SIZE), new GdbPacketEncoder(), handler);
        }

        /** The session attaches with the first packet; before that there is nothing to count. */
        long internalErrors() {
            return handler.session() == null ? 0 : handler.session().internalErrors();
        }
    }

    /** One item: mostly well-framed packets from the stub's grammar, some corrupt, some raw noise. */
    private static byte[] randomItem(Random r) {
        int k = r.nextInt(100);
        if (k < 65) {
            return bytes(frame(randomCommand(r)));
        }
        if (k < 72) {
            String f = frame(randomCommand(r));
            return bytes(f.substring(0, f.length() - 2) + "zz".substring(r.nextInt(2)) + "0");   // bad checksum
        }
        if (k < 80) {
            byte[] bin = randomBytes(r, 40);
            byte[] esc = Binary.escape(bin);
            String head = "X" + Long.toHexString(r.nextInt(0x5000)) + "," + Integer.toHexString(bin.length) + ":";
            byte[] payload = new byte[head.length() + esc.length];
            System.arraycopy(bytes(head), 0, payload, 0, head.length());
            System.arraycopy(esc, 0, payload, head.length(), esc.length);
            io.netty.buffer.ByteBuf wire = io.netty.buffer.Unpooled.buffer();
            GdbPacketEncoder.encodePacket(Packet.of(payload), wire);   // re-escapes the escapes: garbles some
            byte[] out = new byte[wire.readableBytes()];
            wire.readBytes(out);
            return out;
        }
        if (k < 88) {
            return randomBytes(r, 120);
        }
        if (k < 92) {
            return new byte[] {Control.INTERRUPT.wireByte()};
        }
        if (k < 96) {
            return bytes(r.nextBoolean() ? "+" : "-");
        }
        // oversized frame
        return bytes(frame("M0," + Integer.toHexString(PACKET_SIZE) + ":" + "00".repeat(PACKET_SIZE)));
    }

    private static final String[] QUERIES = {"?", "g", "qfThreadInfo", "qsThreadInfo", "qC", "qAttached",
        "qOffsets", "qTStatus", "qSymbol::", "vMustReplyEmpty", "vCont?", "QStartNoAckMode", "vCtrlC", "c", "s",
        "qSupported:multiprocess+;swbreak+;hwbreak+;xmlRegisters=i386", "!", "", "qXfer:auxv:read::0,10",
        "QNonStop:1", "vFile:open:6a7573742070726f62696e67,0,1c0", "i", "bc", "qL1200000000000000000"};

    private static String randomCommand(Random r) {
        switch (r.nextInt(20)) {
            case 0: return QUERIES[r.nextInt(QUERIES.length)];
            case 1: return "G" + hexBytes(r, r.nextBoolean() ? TargetArch.AMD64.gPacketBytes() : r.nextInt(20));
            case 2: return "p" + num(r);
            case 3: return "P" + num(r) + "=" + hexBytes(r, r.nextBoolean() ? 8 : r.nextInt(20));
            case 4: return "m" + num(r) + "," + num(r);
            case 5: {
                int n = r.nextInt(40);
                return "M" + num(r) + "," + (r.nextInt(4) == 0 ? num(r) : Integer.toHexString(n)) + ":" + hexBytes(r, n);
            }
            case 6: return (r.nextBoolean() ? "Z" : "z") + r.nextInt(7) + "," + num(r) + "," + num(r)
                    + (r.nextInt(5) == 0 ? ";X1,0" : "");
            case 7: return "vCont" + vContActions(r);
            case 8: return "H" + "gcm".charAt(r.nextInt(3)) + thread(r);
            case 9: return "T" + thread(r);
            case 10: return "qXfer:features:read:" + (r.nextInt(5) == 0 ? "x.xml" : "target.xml") + ":" + num(r) + "," + num(r);
            case 11: {
                String[] cmds = {"help", "echo fuzz", "big " + r.nextInt(3000), "nonsense", ""};
                String c = cmds[r.nextInt(cmds.length)];
                return "qRcmd," + (r.nextInt(6) == 0 ? "zz" : Hex.encode(bytes(c)));
            }
            case 12: return "qThreadExtraInfo," + thread(r);
            case 13: return "CS".charAt(r.nextInt(2)) + hexBytes(r, r.nextInt(3)) + (r.nextBoolean() ? ";" + num(r) : "");
            case 14: return "cs".charAt(r.nextInt(2)) + num(r);
            default: {
                // structurally random: a command letter and junk
                StringBuilder sb = new StringBuilder();
                sb.append("?gGpPmMXZzHTcCsSqQv".charAt(r.nextInt(19)));
                int n = r.nextInt(30);
                for (int i = 0; i < n; i++) {
                    sb.append("0123456789abcdef,:;=.-xpPqZ".charAt(r.nextInt(27)));
                }
                return sb.toString();
            }
        }
    }

    private static String vContActions(Random r) {
        if (r.nextInt(10) == 0) {
            return "?";
        }
        StringBuilder sb = new StringBuilder();
        int n = 1 + r.nextInt(3);
        for (int i = 0; i < n; i++) {
            String[] acts = {"c", "s", "C05", "S0b", "t", "r1000,2000", "x", "C", ""};
            sb.append(';').append(acts[r.nextInt(acts.length)]);
            if (r.nextBoolean()) {
                sb.append(':').append(thread(r));
            }
        }
        return sb.toString();
    }

    private static String thread(Random r) {
        String[] t = {"0", "-1", "1", "2", "3", "4", "p1.2", "p1.-1", "p1", "ffffffffff", "zz", ""};
        return t[r.nextInt(t.length)];
    }

    private static String num(Random r) {
        return switch (r.nextInt(8)) {
            case 0 -> "";
            case 1 -> "ffffffffffffffff";
            case 2 -> "1ffffffffffffffff";
            case 3 -> "g1";
            case 4 -> Long.toHexString(r.nextLong());
            default -> Integer.toHexString(r.nextInt(0x5000));
        };
    }

    private static String hexBytes(Random r, int n) {
        byte[] b = new byte[n];
        r.nextBytes(b);
        String h = Hex.encode(b);
        return r.nextInt(10) == 0 && n > 0 ? h.substring(1) : h;
    }
}
