package org.mmulab.gdbstub.protocol;

import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.SocketChannel;
import org.mmulab.gdbstub.codec.BadChecksum;
import org.mmulab.gdbstub.codec.Control;
import org.mmulab.gdbstub.codec.GdbMessage;
import org.mmulab.gdbstub.codec.OversizedPacket;
import org.mmulab.gdbstub.codec.Packet;
import org.mmulab.gdbstub.target.GdbTarget;

import java.io.IOException;
import java.util.concurrent.TimeUnit;

/**
 * Netty glue between the codec and a {@link GdbSession}: acknowledges packets while ack mode is on ({@code +} for
 * an intact packet, {@code -} for a bad checksum), retransmits the last packet on {@code -}, forwards the 0x03
 * interrupt, answers oversized frames with {@code E01}. Sits after {@link org.mmulab.gdbstub.codec.GdbPacketDecoder}
 * and {@link org.mmulab.gdbstub.codec.GdbPacketEncoder}. One instance per connection.
 *
 * <p>Session life (QEMU {@code -s -S} semantics): the connection attaches to the target (which stops it) with its
 * first packet or interrupt, after taking the {@link ClientSeat}; a connection that only connects and closes (a
 * port probe) never touches the machine. If the seat is taken, the first packet is acknowledged and answered with
 * {@code E.}{@link #BUSY_MESSAGE} (gdb prints it as a "Remote failure reply"), and the connection is closed once
 * the client hangs up (or after a few seconds). A connection that closes without {@code D}/{@code k} leaves the
 * machine as it was: see {@link GdbSession#close()}. Connection errors (a reset) end the connection quietly: they go
 * to the {@link StubLog}, never to stderr.
 */
public final class GdbProtocolHandler extends SimpleChannelInboundHandler<GdbMessage> {
    /** Text of the refusal sent to a client while another one is attached. */
    public static final String BUSY_MESSAGE =
            "mmulab: another gdb is already attached to this machine (one client at a time)";

    private final GdbTarget target;
    private final int packetSize;
    private final ClientSeat seat;
    private final StubLog log;
    private GdbSession session;
    private boolean refused;
    private volatile boolean detachOnClose;
    private ChannelHandlerContext ctx;
    private boolean ackMode = true;
    private Packet lastSent;
    private long pipelineErrors;

    /** A handler with a seat of its own and no diagnostics (tests, embedded channels). */
    public GdbProtocolHandler(GdbTarget target, int packetSize) {
        this(target, packetSize, new ClientSeat(), StubLog.SILENT);
    }

    /**
     * @param packetSize the largest payload the decoder accepts; advertised to gdb as {@code PacketSize}
     * @param seat       shared by every connection to the same target
     */
    public GdbProtocolHandler(GdbTarget target, int packetSize, ClientSeat seat, StubLog log) {
        super(true);
        this.target = target;
        this.packetSize = packetSize;
        this.seat = seat;
        this.log = log;
    }

    /** The session, once the client sent its first packet (for tests and diagnostics). */
    public GdbSession session() {
        return session;
    }

    public boolean ackMode() {
        return ackMode;
    }

    /** Exceptions that reached this handler from the pipeline (decoder bugs, I/O errors); each closed the channel. */
    public long pipelineErrors() {
        return pipelineErrors;
    }

    /**
     * When this connection closes, detach (the machine runs on) instead of leaving the machine as it is: for the
     * server shutting down, after which nobody could ever resume it.
     */
    public void detachOnClose() {
        detachOnClose = true;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        this.ctx = ctx;
        log.log("connection from " + ctx.channel().remoteAddress());
        super.channelActive(ctx);
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, GdbMessage msg) {
        if (refused) {
            return;
        }
        if (session == null && (msg instanceof Packet || msg == Control.INTERRUPT) && !attach(ctx)) {
            return;
        }
        if (msg instanceof Packet p) {
            if (session.isFinished()) {
                return;
            }
            if (ackMode) {
                ctx.writeAndFlush(Control.ACK);
            }
            session.onPacket(p);
        } else if (msg instanceof BadChecksum bad) {
            log.log("bad checksum " + bad);
            if (ackMode) {
                ctx.writeAndFlush(Control.NACK);
            }
        } else if (msg instanceof OversizedPacket big) {
            log.log("discarded a " + big.length() + "-byte packet (PacketSize is " + big.limit() + ")");
            if (ackMode) {
                ctx.writeAndFlush(Control.ACK);
            }
            send(Packet.of(GdbSession.E_MALFORMED));
        } else if (msg == Control.INTERRUPT) {
            if (!session.isFinished()) {
                session.onInterrupt();
            }
        } else if (msg == Control.NACK) {
            if (ackMode && lastSent != null) {
                ctx.writeAndFlush(lastSent);
            }
        }
        // Control.ACK: nothing to do (we never wait for acks; TCP delivers in order).
    }

    /** First packet: take the seat and attach, or refuse. False if the connection was refused. */
    private boolean attach(ChannelHandlerContext ctx) {
        if (!seat.take(this)) {
            refuse(ctx);
            return false;
        }
        session = new GdbSession(target, packetSize, new Output(), log);
        try {
            session.open();
        } catch (RuntimeException e) {
            log.log("could not attach to the target; closing " + ctx.channel(), e);
            session.abandon();
            ctx.writeAndFlush(Packet.of("E01")).addListener(ChannelFutureListener.CLOSE);
            refused = true;
            return false;
        }
        return true;
    }

    private void refuse(ChannelHandlerContext ctx) {
        refused = true;
        log.log("refused gdb connection from " + ctx.channel().remoteAddress() + ": a client is already attached");
        ctx.write(Control.ACK);
        ctx.writeAndFlush(Packet.of("E." + BUSY_MESSAGE)).addListener((ChannelFutureListener) f -> {
            if (f.channel() instanceof SocketChannel sc && sc.isActive()) {
                sc.shutdownOutput();   // orderly: what the client still sends is drained until it hangs up
            } else {
                f.channel().close();
            }
        });
        ctx.executor().schedule(() -> ctx.close(), 5, TimeUnit.SECONDS);
    }

    private void send(Packet p) {
        lastSent = p;
        ctx.writeAndFlush(p);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        if (session != null) {
            if (detachOnClose) {
                session.closeAndDetach();
            } else {
                session.close();
            }
        }
        seat.leave(this);
        log.log("connection from " + ctx.channel().remoteAddress() + " closed");
        super.channelInactive(ctx);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        pipelineErrors++;
        if (cause instanceof IOException) {
            log.log("connection error (" + cause.getMessage() + "); closing " + ctx.channel());
        } else {
            log.log("exception in the gdb pipeline; closing " + ctx.channel(), cause);
        }
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
