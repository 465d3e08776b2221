package org.mmulab.gdbstub.codec;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Helpers shared by codec and protocol tests. */
public final class CodecTestUtil {
    private CodecTestUtil() {
    }

    public static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    public static String str(byte[] b) {
        return new String(b, StandardCharsets.ISO_8859_1);
    }

    /** {@code $payload#cs} with the payload sent as is (no escaping): what gdb puts on the wire. */
    public static String frame(String payload) {
        return String.format("$%s#%02x", payload, Packet.checksum(bytes(payload), 0, payload.length()));
    }

    public static ByteBuf buf(byte[] b) {
        return Unpooled.wrappedBuffer(b);
    }

    /** Every decoded inbound message. */
    public static List<Object> drainInbound(EmbeddedChannel ch) {
        List<Object> out = new ArrayList<>();
        for (Object o; (o = ch.readInbound()) != null; ) {
            out.add(o);
        }
        return out;
    }

    /** Everything written outbound, concatenated, as ISO-8859-1 text. */
    public static String drainOutbound(EmbeddedChannel ch) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (Object o; (o = ch.readOutbound()) != null; ) {
            ByteBuf b = (ByteBuf) o;
            byte[] a = new byte[b.readableBytes()];
            b.readBytes(a);
            b.release();
            out.writeBytes(a);
        }
        return str(out.toByteArray());
    }
}
