package org.mmulab.gdbstub.codec;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.MessageToByteEncoder;

/**
 * Frames outbound {@link Packet}s as {@code $payload#cs}, escaping {@code $ # } *} (0x7d, byte XOR 0x20) so any
 * payload, binary or text, keeps the framing intact; writes {@link Control#ACK}/{@link Control#NACK} as single
 * bytes. No run-length encoding. Stateless, so one instance may be shared.
 *
 * <p>gdb undoes the escape only in replies it knows to be binary (e.g. {@code qXfer}); text replies (hex, stop
 * replies, {@code OK}) must not contain those four bytes in the first place. The escape is applied to them too
 * so that a mistake can never break the framing.
 */
@ChannelHandler.Sharable
public final class GdbPacketEncoder extends MessageToByteEncoder<GdbMessage> {
    public GdbPacketEncoder() {
        super(GdbMessage.class);
    }

    @Override
    public boolean acceptOutboundMessage(Object msg) {
        return msg instanceof Packet || msg == Control.ACK || msg == Control.NACK;
    }

    @Override
    protected void encode(ChannelHandlerContext ctx, GdbMessage msg, ByteBuf out) {
        if (msg instanceof Packet p) {
            encodePacket(p, out);
        } else {
            out.writeByte(((Control) msg).wireByte());
        }
    }

    /** Appends the framed, escaped form of {@code p} to {@code out}. */
    public static void encodePacket(Packet p, ByteBuf out) {
        out.writeByte('$');
        int sum = 0;
        for (int i = 0, n = p.length(); i < n; i++) {
            int b = p.byteAt(i) & 0xff;
            if (Binary.needsEscape(b)) {
                out.writeByte(Binary.ESCAPE);
                b ^= 0x20;
                sum += Binary.ESCAPE;
            }
            out.writeByte(b);
            sum += b;
        }
        out.writeByte('#');
        StringBuilder cs = new StringBuilder(2);
        Hex.appendByte(cs, sum & 0xff);
        out.writeByte(cs.charAt(0));
        out.writeByte(cs.charAt(1));
    }
}
