package org.mmulab.gdbstub.codec;

import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.mmulab.gdbstub.codec.CodecTestUtil.buf;
import static org.mmulab.gdbstub.codec.CodecTestUtil.bytes;
import static org.mmulab.gdbstub.codec.CodecTestUtil.drainInbound;
import static org.mmulab.gdbstub.codec.CodecTestUtil.frame;

class GdbPacketDecoderTest {

    /** What gdb sends on connect and in use, plus acks and interrupts between frames. */
    private static final String CONVERSATION = "+" + frame("qSupported:multiprocess+;swbreak+;hwbreak+;xmlRegisters=i386")
            + "+" + frame("vMustReplyEmpty") + frame("QStartNoAckMode") + "-" + frame("Hg0")
            + frame("qXfer:features:read:target.xml:0,ffb") + frame("?") + "\u0003" + frame("g")
            + frame("m1000,40") + frame("vCont;s:1;c") + "\u0003\u0003" + frame("Z0,1000,1") + frame("")
            + frame("qRcmd,68656c70") + "+";

    private static List<Object> expectedConversation() {
        return List.of(Control.ACK, packet("qSupported:multiprocess+;swbreak+;hwbreak+;xmlRegisters=i386"),
                Control.ACK, packet("vMustReplyEmpty"), packet("QStartNoAckMode"), Control.NACK, packet("Hg0"),
                packet("qXfer:features:read:target.xml:0,ffb"), packet("?"), Control.INTERRUPT, packet("g"),
                packet("m1000,40"), packet("vCont;s:1;c"), Control.INTERRUPT, Control.INTERRUPT,
                packet("Z0,1000,1"), packet(""), packet("qRcmd,68656c70"), Control.ACK);
    }

    private static Packet packet(String s) {
        return Packet.of(s);
    }

    private static List<Object> decode(byte[] input, int... cuts) {
        EmbeddedChannel ch = new EmbeddedChannel(new GdbPacketDecoder());
        int from = 0;
        for (int cut : cuts) {
            ch.writeInbound(buf(Arrays.copyOfRange(input, from, cut)));
            from = cut;
        }
        ch.writeInbound(buf(Arrays.copyOfRange(input, from, input.length)));
        List<Object> out = drainInbound(ch);
        assertFalse(ch.finish());
        return out;
    }

    @Test
    void decodesConversationInOnePiece() {
        assertEquals(expectedConversation(), decode(bytes(CONVERSATION)));
    }

    @Test
    void splitAtEveryBytePosition() {
        byte[] in = bytes(CONVERSATION);
        List<Object> expected = expectedConversation();
        for (int cut = 0; cut <= in.length; cut++) {
            assertEquals(expected, decode(in, cut), "split at " + cut);
        }
    }

    @Test
    void splitAtEveryPairOfPositionsOfOnePacket() {
        byte[] in = bytes(frame("X1000,4:ab\u0003}]") + "+");
        List<Object> expected = List.of(Packet.of(bytes("X1000,4:ab\u0003}]")), Control.ACK);
        for (int a = 0; a <= in.length; a++) {
            for (int b = a; b <= in.length; b++) {
                assertEquals(expected, decode(in, a, b), "split at " + a + "," + b);
            }
        }
    }

    @Test
    void byteByByte() {
        byte[] in = bytes(CONVERSATION);
        int[] cuts = new int[in.length];
        for (int i = 0; i < in.length; i++) {
            cuts[i] = i;
        }
        assertEquals(expectedConversation(), decode(in, cuts));
    }

    @Test
    void interruptInsidePayloadIsData() {
        assertEquals(List.of(Packet.of("X0,1:\u0003")), decode(bytes(frame("X0,1:\u0003"))));
    }

    @Test
    void badChecksumIsADistinctMessage() {
        List<Object> out = decode(bytes("$qC#00" + frame("qC")));
        assertEquals(2, out.size());
        BadChecksum bad = assertInstanceOf(BadChecksum.class, out.get(0));
        assertEquals(0, bad.received());
        assertEquals(0xb4, bad.computed());
        assertEquals(2, bad.length());
        assertEquals(Packet.of("qC"), out.get(1));
    }

    @Test
    void checksumDigitsAcceptEitherCase() {
        assertEquals(List.of(Packet.of("qC")), decode(bytes("$qC#B4")));
    }

    @Test
    void nonHexChecksumIsBadAndFollowingControlBytesSurvive() {
        assertEquals(List.of(new BadChecksum(-1, 0xb4, 2), Control.ACK), decode(bytes("$qC#+")));
        assertEquals(List.of(new BadChecksum(-1, 0xb4, 2), Control.INTERRUPT), decode(bytes("$qC#b\u0003")));
        // '$' where a checksum digit belongs: the broken frame is reported and the new one decoded
        assertEquals(List.of(new BadChecksum(-1, 0xb4, 2), Packet.of("?")), decode(bytes("$qC#b" + frame("?"))));
    }

    @Test
    void garbageBetweenPacketsIsSkipped() {
        EmbeddedChannel ch = new EmbeddedChannel(new GdbPacketDecoder());
        ch.writeInbound(buf(bytes("hello#00 world\r\n" + frame("qC") + "\u00ff\u0000zz" + frame("?"))));
        assertEquals(List.of(Packet.of("qC"), Packet.of("?")), drainInbound(ch));
        assertEquals(16 + 4, ((GdbPacketDecoder) ch.pipeline().first()).skippedBytes());
        assertFalse(ch.finish());
    }

    @Test
    void dollarInsidePayloadRestartsThePacket() {
        EmbeddedChannel ch = new EmbeddedChannel(new GdbPacketDecoder());
        ch.writeInbound(buf(bytes("$m1000,4" + frame("qC"))));
        assertEquals(List.of(Packet.of("qC")), drainInbound(ch));
        assertEquals(1, ((GdbPacketDecoder) ch.pipeline().first()).truncatedFrames());
        assertFalse(ch.finish());
    }

    @Test
    void oversizedPacketIsDiscardedWithASignalAndTheNextOneDecodes() {
        String big = "M0,20:" + "ab".repeat(20);   // 46 bytes
        for (int cut = 0; cut <= frame(big).length(); cut++) {
            EmbeddedChannel ch = new EmbeddedChannel(new GdbPacketDecoder(16));
            byte[] in = bytes(frame(big) + frame("qC"));
            ch.writeInbound(buf(Arrays.copyOfRange(in, 0, cut)));
            ch.writeInbound(buf(Arrays.copyOfRange(in, cut, in.length)));
            assertEquals(List.of(new OversizedPacket(46, 16), Packet.of("qC")), drainInbound(ch), "cut " + cut);
            assertFalse(ch.finish());
        }
    }

    @Test
    void oversizedWithBadChecksumIsABadChecksum() {
        String big = "x".repeat(17);
        List<Object> out = decode(bytes("$" + big + "#00"), 0);
        assertEquals(List.of(new BadChecksum(0, (17 * 'x') & 0xff, 17)), out);
    }

    @Test
    void packetExactlyAtTheLimitIsAccepted() {
        EmbeddedChannel ch = new EmbeddedChannel(new GdbPacketDecoder(16));
        ch.writeInbound(buf(bytes(frame("y".repeat(16)))));
        assertEquals(List.of(Packet.of("y".repeat(16))), drainInbound(ch));
        assertFalse(ch.finish());
    }

    @Test
    void largePacketsGrowTheBufferAndStayIntact() {
        StringBuilder sb = new StringBuilder("M0,1000:");
        for (int i = 0; i < 0x1000; i++) {
            sb.append(String.format("%02x", i & 0xff));
        }
        String payload = sb.toString();
        List<Object> out = decode(bytes(frame(payload) + frame(payload)), 3000, 7000);
        assertEquals(List.of(Packet.of(payload), Packet.of(payload)), out);
    }

    @Test
    void escapedBinaryRoundTripsThroughEncoderDecoderAndUnescape() {
        byte[] all = new byte[256];
        for (int i = 0; i < 256; i++) {
            all[i] = (byte) i;
        }
        EmbeddedChannel enc = new EmbeddedChannel(new GdbPacketEncoder());
        enc.writeOutbound(Packet.of(all));
        byte[] wire = bytes(CodecTestUtil.drainOutbound(enc));
        // exactly the four special bytes are escaped
        assertEquals(1 + 256 + 4 + 3, wire.length);
        List<Object> out = decode(wire, 100);
        assertEquals(1, out.size());
        byte[] raw = ((Packet) out.get(0)).payload();
        assertArrayEquals(all, Binary.unescape(raw, 0, raw.length));
    }

    @Test
    void partialFrameAtChannelCloseProducesNothing() {
        EmbeddedChannel ch = new EmbeddedChannel(new GdbPacketDecoder());
        ch.writeInbound(buf(bytes("$qSupp")));
        assertFalse(ch.finish());
        assertEquals(new ArrayList<>(), drainInbound(ch));
    }
}
