package org.mmulab.gdbstub.codec;

import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.mmulab.gdbstub.codec.CodecTestUtil.bytes;
import static org.mmulab.gdbstub.codec.CodecTestUtil.drainOutbound;

class GdbPacketEncoderTest {

    private static String encode(Object... msgs) {
        EmbeddedChannel ch = new EmbeddedChannel(new GdbPacketEncoder());
        for (Object m : msgs) {
            ch.writeOutbound(m);
        }
        return drainOutbound(ch);
    }

    @Test
    void framesWithLowercaseChecksum() {
        assertEquals("$OK#9a", encode(Packet.of("OK")));
        assertEquals("$#00", encode(Packet.empty()));
        assertEquals("$T05thread:1;#d7", encode(Packet.of("T05thread:1;")));
    }

    @Test
    void acksAreSingleBytes() {
        assertEquals("+-$OK#9a+", encode(Control.ACK, Control.NACK, Packet.of("OK"), Control.ACK));
    }

    @Test
    void escapesTheFourSpecialBytesAndChecksumsTheEscapedForm() {
        // '$'=0x24 -> }\x04, '#'=0x23 -> }\x03, '}'=0x7d -> }], '*'=0x2a -> }\x0a
        String wire = encode(Packet.of("a$#}*b"));
        assertEquals("$a}\u0004}\u0003}]}\nb#", wire.substring(0, wire.length() - 2));
        byte[] body = bytes(wire.substring(1, wire.length() - 3));
        assertEquals(String.format("%02x", Packet.checksum(body, 0, body.length)), wire.substring(wire.length() - 2));
    }

    @Test
    void unescapeInvertsEscapeAndRejectsTrailingEscape() {
        byte[] data = bytes("}}**##$$plain");
        byte[] esc = Binary.escape(data);
        assertArrayEquals(data, Binary.unescape(esc, 0, esc.length));
        assertNull(Binary.unescape(bytes("ab}"), 0, 3));
        assertArrayEquals(bytes("a]"), Binary.unescape(bytes("a}}"), 0, 3));
    }

    @Test
    void hexHelpers() {
        assertEquals("00ff7f", Hex.encode(new byte[] {0, -1, 0x7f}));
        assertArrayEquals(new byte[] {0, -1, 0x7f}, Hex.decode("00FF7f"));
        assertNull(Hex.decode("0"));
        assertNull(Hex.decode("zz"));
        assertEquals(0xffffffffffffffffL, Hex.parseUnsigned("ffffffffffffffff"));
        org.junit.jupiter.api.Assertions.assertThrows(NumberFormatException.class, () -> Hex.parseUnsigned(""));
        org.junit.jupiter.api.Assertions.assertThrows(NumberFormatException.class,
                () -> Hex.parseUnsigned("10000000000000000"));
        org.junit.jupiter.api.Assertions.assertThrows(NumberFormatException.class, () -> Hex.parseUnsigned("-1"));
    }
}
