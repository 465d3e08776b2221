package org.mmulab.gdbstub;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.DefaultThreadFactory;
import org.mmulab.gdbstub.codec.Control;
import org.mmulab.gdbstub.codec.GdbPacketDecoder;
import org.mmulab.gdbstub.codec.GdbPacketEncoder;
import org.mmulab.gdbstub.codec.Hex;
import org.mmulab.gdbstub.codec.Packet;
import org.mmulab.gdbstub.protocol.GdbProtocolHandler;
import org.mmulab.gdbstub.target.GdbTarget;

import java.lang.System.Logger.Level;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The GDB remote stub server: listens on a TCP address (loopback by default), serves one gdb client at a time
 * against one {@link GdbTarget}. A second client while one is attached gets an {@code O} packet saying so and, to
 * its first packet, the reply {@code E.}{@link #BUSY_MESSAGE} (gdb prints it as a "Remote failure reply"), then
 * the connection is closed; the first client is unaffected. When the client detaches or
 * its connection drops, the target is detached and keeps running, and the next client may connect.
 *
 * <pre>
 *   try (GdbServer server = new GdbServer(target, 0).start()) {
 *       int port = server.boundPort();
 *       ...
 *   }
 * </pre>
 *
 * All connections share one I/O thread, so the target is only ever called from that thread (stop events may
 * arrive from anywhere).
 */
public final class GdbServer implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(GdbServer.class.getName());

    /** Text of the refusal sent to a second client. */
    public static final String BUSY_MESSAGE =
            "mmulab: another gdb is already attached to this machine (one client at a time)";

    private final GdbTarget target;
    private final InetSocketAddress address;
    private final int packetSize;
    private final AtomicReference<Channel> client = new AtomicReference<>();
    private EventLoopGroup group;
    private Channel serverChannel;

    /** A server on 127.0.0.1:{@code port} (0 = ephemeral). */
    public GdbServer(GdbTarget target, int port) {
        this(target, new InetSocketAddress(InetAddress.getLoopbackAddress(), port),
                GdbPacketDecoder.DEFAULT_MAX_PAYLOAD);
    }

    /**
     * @param address    where to listen; use a loopback address unless the network is trusted (the protocol
     *                   has no authentication and gives full control of the guest)
     * @param packetSize largest packet payload accepted (advertised as {@code PacketSize})
     */
    public GdbServer(GdbTarget target, InetSocketAddress address, int packetSize) {
        this.target = Objects.requireNonNull(target, "target");
        this.address = Objects.requireNonNull(address, "address");
        if (packetSize < 256) {
            throw new IllegalArgumentException("packetSize too small: " + packetSize);
        }
        this.packetSize = packetSize;
    }

    /**
     * Parses the {@code --gdb} argument: {@code HOST:PORT}, {@code :PORT} or {@code PORT} (host defaults to
     * 127.0.0.1), IPv6 as {@code [::1]:PORT}. The host is resolved now.
     *
     * @throws IllegalArgumentException with a message fit for a usage error
     */
    public static InetSocketAddress parseAddress(String spec) {
        String s = spec.trim();
        String host = null;
        String port = s;
        if (s.startsWith("[")) {
            int close = s.indexOf(']');
            if (close < 0 || close + 1 >= s.length() || s.charAt(close + 1) != ':') {
                throw new IllegalArgumentException("bad gdb address '" + spec + "': want [IPv6]:PORT");
            }
            host = s.substring(1, close);
            port = s.substring(close + 2);
        } else if (s.indexOf(':') >= 0) {
            int colon = s.lastIndexOf(':');
            if (s.indexOf(':') != colon) {
                throw new IllegalArgumentException("bad gdb address '" + spec + "': write IPv6 hosts as [addr]:PORT");
            }
            host = s.substring(0, colon);
            port = s.substring(colon + 1);
        }
        int p;
        try {
            p = Integer.parseInt(port);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("bad gdb port in '" + spec + "': want HOST:PORT", e);
        }
        if (p < 0 || p > 65535) {
            throw new IllegalArgumentException("gdb port out of range in '" + spec + "'");
        }
        if (host == null || host.isEmpty()) {
            return new InetSocketAddress(InetAddress.getLoopbackAddress(), p);
        }
        InetSocketAddress a = new InetSocketAddress(host, p);
        if (a.isUnresolved()) {
            throw new IllegalArgumentException("unknown gdb host in '" + spec + "'");
        }
        return a;
    }

    /** Binds and starts accepting; returns this. Fails with the bind error (e.g. port in use). */
    public synchronized GdbServer start() {
        if (group != null) {
            throw new IllegalStateException("already started");
        }
        group = new NioEventLoopGroup(1, new DefaultThreadFactory("gdbstub", true));
        ServerBootstrap b = new ServerBootstrap()
                .group(group)
                .channel(NioServerSocketChannel.class)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        if (client.compareAndSet(null, ch)) {
                            ch.closeFuture().addListener(f -> client.compareAndSet(ch, null));
                            ch.pipeline().addLast("decoder", new GdbPacketDecoder(packetSize));
                            ch.pipeline().addLast("encoder", new GdbPacketEncoder());
                            ch.pipeline().addLast("gdb", new GdbProtocolHandler(target, packetSize));
                        } else {
                            ch.pipeline().addLast("decoder", new GdbPacketDecoder(packetSize));
                            ch.pipeline().addLast("encoder", new GdbPacketEncoder());
                            ch.pipeline().addLast("refuse", new Refusal());
                        }
                    }
                });
        try {
            serverChannel = b.bind(address).syncUninterruptibly().channel();
        } catch (Exception e) {   // bind() rethrows the checked BindException unchecked-ly
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
            group = null;
            throw e;
        }
        LOG.log(Level.DEBUG, "gdb stub listening on " + serverChannel.localAddress());
        return this;
    }

    /** The address actually bound (useful with port 0). */
    public synchronized InetSocketAddress localAddress() {
        if (serverChannel == null) {
            throw new IllegalStateException("not started");
        }
        return (InetSocketAddress) serverChannel.localAddress();
    }

    /** The TCP port actually bound. */
    public int boundPort() {
        return localAddress().getPort();
    }

    /** True while a gdb client is connected. */
    public boolean hasClient() {
        return client.get() != null;
    }

    /** Closes the listening socket and the client connection (which detaches the target), and stops the I/O thread. */
    @Override
    public synchronized void close() {
        if (group == null) {
            return;
        }
        if (serverChannel != null) {
            serverChannel.close().syncUninterruptibly();
        }
        Channel c = client.get();
        if (c != null) {
            c.close().syncUninterruptibly();
        }
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        group = null;
        serverChannel = null;
    }

    /**
     * For a second client: an {@code O} packet saying why (for raw clients), then, when its first packet arrives
     * (gdb's {@code qSupported}), an ack and the error reply {@code E.<reason>}, which gdb 13 prints as
     * "Remote failure reply: E.mmulab: ..."; then half-close, drain what the client still sends so the close is
     * orderly, and close fully when it hangs up (or after a few seconds).
     */
    private static final class Refusal extends ChannelInboundHandlerAdapter {
        private boolean answered;

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            LOG.log(Level.WARNING, "refused gdb connection from " + ctx.channel().remoteAddress()
                    + ": a client is already attached");
            ctx.writeAndFlush(Packet.of("O" + Hex.encode((BUSY_MESSAGE + "\n").getBytes(StandardCharsets.US_ASCII))));
            ctx.executor().schedule(() -> ctx.close(), 5, TimeUnit.SECONDS);
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ReferenceCountUtil.release(msg);
            if (msg instanceof Packet && !answered) {
                answered = true;
                ctx.write(Control.ACK);
                ctx.writeAndFlush(Packet.of("E." + BUSY_MESSAGE)).addListener((ChannelFutureListener) f -> {
                    if (f.channel() instanceof SocketChannel sc && sc.isActive()) {
                        sc.shutdownOutput();
                    }
                });
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            ctx.close();
        }
    }
}
