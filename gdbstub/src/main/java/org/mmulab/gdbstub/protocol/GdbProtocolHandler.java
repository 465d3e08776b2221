package org.mmulab.gdbstub.protocol;

import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import org.mmulab.gdbstub.codec.BadChecksum;
import org.mmulab.gdbstub.codec.Control;
import org.mmulab.gdbstub.codec.GdbMessage;
import org.mmulab.gdbstub.codec.OversizedPacket;
import org.mmulab.gdbstub.codec.Packet;
import org.mmulab.gdbstub.target.GdbTarget;

import java.lang.System.Logger.Level;

/**
 * Netty glue between the codec and a {@link GdbSession}: acknowledges packets while ack mode is on ({@code +} for
 * an intact packet, {@code -} for a bad checksum), retransmits the last packet on {@code -}, forwards the 0x03
 * interrupt, answers oversized frames with {@code E01}, and detaches the target when the connection closes. Sits
 * after {@link org.mmulab.gdbstub.codec.GdbPacketDecoder} and {@link org.mmulab.gdbstub.codec.GdbPacketEncoder}.
 * One instance per connection.
 */
public final class GdbProtocolHandler extends SimpleChannelInboundHandler<GdbMessage> {
    private static final System.Logger LOG = System.getLogger(GdbProtocolHandler.class.getName());

    private final GdbTarget target;
    private final int packetSize;
    private GdbSession session;
    private ChannelHandlerContext ctx;
    private boolean ackMode = true;
    private Packet lastSent;
    private long pipelineErrors;

    /**
     * @param packetSize the largest payload the decoder accepts; advertised to gdb as {@code PacketSize}
     */
    public GdbProtocolHandler(GdbTarget target, int packetSize) {
        this.target = target;
        this.packetSize = packetSize;
    }

    /** The session, once the channel is active (for tests and diagnostics). */
    public GdbSession session() {
        return session;
    }

    public boolean ackMode() {
        return ackMode;
    }

    /** Exceptions that reached this handler from the pipeline (decoder bugs); each also closed the channel. */
    public long pipelineErrors() {
        return pipelineErrors;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        this.ctx = ctx;
        session = new GdbSession(target, packetSize, new Output());
        try {
            session.open();
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "could not attach to the target; closing " + ctx.channel(), e);
            ctx.writeAndFlush(Packet.of("E01")).addListener(ChannelFutureListener.CLOSE);
            session = null;
            return;
        }
        super.channelActive(ctx);
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, GdbMessage msg) {
        if (session == null || session.isFinished()) {
            return;
        }
        if (msg instanceof Packet p) {
            if (ackMode) {
                ctx.writeAndFlush(Control.ACK);
            }
            session.onPacket(p);
        } else if (msg instanceof BadChecksum bad) {
            LOG.log(Level.DEBUG, () -> "bad checksum " + bad);
            if (ackMode) {
                ctx.writeAndFlush(Control.NACK);
            }
        } else if (msg instanceof OversizedPacket big) {
            LOG.log(Level.WARNING, () -> "discarded a " + big.length() + "-byte packet (PacketSize is "
                    + big.limit() + ")");
            if (ackMode) {
                ctx.writeAndFlush(Control.ACK);
            }
            send(Packet.of(GdbSession.E_MALFORMED));
        } else if (msg == Control.INTERRUPT) {
            session.onInterrupt();
        } else if (msg == Control.NACK) {
            if (ackMode && lastSent != null) {
                ctx.writeAndFlush(lastSent);
            }
        }
        // Control.ACK: nothing to do (we never wait for acks; TCP delivers in order).
    }

    private void send(Packet p) {
        lastSent = p;
        ctx.writeAndFlush(p);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        if (session != null) {
            session.close();
        }
        super.channelInactive(ctx);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        pipelineErrors++;
        LOG.log(Level.ERROR, "exception in the gdb pipeline; closing " + ctx.channel(), cause);
        ctx.close();
    }

    private final class Output implements GdbSession.Output {
        @Override
        public void send(Packet packet) {
            GdbProtocolHandler.this.send(packet);
        }

        @Override
        public void disableAcks() {
            ackMode = false;
            lastSent = null;
        }

        @Override
        public void close() {
            ctx.writeAndFlush(io.netty.buffer.Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
        }

        @Override
        public void execute(Runnable task) {
            ctx.executor().execute(task);
        }
    }
}
