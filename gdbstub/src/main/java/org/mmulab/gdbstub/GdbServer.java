package org.mmulab.gdbstub;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import org.mmulab.gdbstub.codec.GdbPacketDecoder;
import org.mmulab.gdbstub.codec.GdbPacketEncoder;
import org.mmulab.gdbstub.protocol.ClientSeat;
import org.mmulab.gdbstub.protocol.GdbProtocolHandler;
import org.mmulab.gdbstub.protocol.StubLog;
import org.mmulab.gdbstub.target.GdbTarget;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * The GDB remote stub server: listens on a TCP address (loopback by default) until {@link #close()} (the composition
 * root closes it when the guest exits), and serves one gdb client at a time against one {@link GdbTarget}, with the
 * session rules of QEMU's {@code -s -S} (see {@link GdbProtocolHandler}): a connection attaches with its first
 * packet, so a port probe changes nothing; a client that goes away without {@code D}/{@code k} leaves the machine
 * as it was; {@code disconnect} and attach again works; a second simultaneous client is refused with
 * {@code E.}{@link #BUSY_MESSAGE} and the first is unaffected.
 *
 * <p>Diagnostics (connections, refusals, resets, oversized packets, Netty's own warnings) go to the {@link StubLog}
 * given, never to stderr.
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
    static {
        NettyLogBridge.routeTo(StubLog.SILENT);   // before any Netty class asks for a logger
    }

    /** Text of the refusal sent to a second client. */
    public static final String BUSY_MESSAGE = GdbProtocolHandler.BUSY_MESSAGE;

    private final GdbTarget target;
    private final InetSocketAddress address;
    private final int packetSize;
    private final StubLog log;
    private final ClientSeat seat = new ClientSeat();
    private EventLoopGroup group;
    private Channel serverChannel;
    private ChannelGroup connections;

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
        this(target, address, packetSize, StubLog.SILENT);
    }

    /** @param log where the stub's diagnostics go ({@link StubLog#SILENT} to drop them) */
    public GdbServer(GdbTarget target, InetSocketAddress address, int packetSize, StubLog log) {
        this.target = Objects.requireNonNull(target, "target");
        this.address = Objects.requireNonNull(address, "address");
        this.log = Objects.requireNonNull(log, "log");
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
            InetAddress lo = InetAddress.getLoopbackAddress();
            try {   // keeps the numeric form as the host string, for display()
                return new InetSocketAddress(InetAddress.getByAddress(lo.getHostAddress(), lo.getAddress()), p);
            } catch (UnknownHostException impossible) {
                return new InetSocketAddress(lo, p);
            }
        }
        InetSocketAddress a = new InetSocketAddress(host, p);
        if (a.isUnresolved()) {
            throw new IllegalArgumentException("unknown gdb host in '" + spec + "'");
        }
        return a;
    }

    /**
     * How to show {@code requested} (from {@link #parseAddress}) with the port actually bound: the host as the user
     * wrote it ({@code 0.0.0.0}, {@code localhost}, {@code [::1]}), never the wildcard the socket reports.
     */
    public static String display(InetSocketAddress requested, int boundPort) {
        String host = requested.getHostString();
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + boundPort;
    }

    /**
     * True if a stub on {@code address} can be reached from other machines (anything but a loopback address): the
     * protocol has no authentication, so whoever connects controls the guest.
     */
    public static boolean reachableFromNetwork(InetSocketAddress address) {
        InetAddress a = address.getAddress();
        return a == null || !a.isLoopbackAddress();
    }

    /** Binds and starts accepting; returns this. Fails with the bind error (e.g. port in use). */
    public synchronized GdbServer start() {
        if (group != null) {
            throw new IllegalStateException("already started");
        }
        NettyLogBridge.routeTo(log);
        group = new NioEventLoopGroup(1, new DefaultThreadFactory("gdbstub", true));
        connections = new DefaultChannelGroup("gdb-clients", group.next());
        ServerBootstrap b = new ServerBootstrap()
                .group(group)
                .channel(NioServerSocketChannel.class)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        connections.add(ch);
                        ch.pipeline().addLast("decoder", new GdbPacketDecoder(packetSize));
                        ch.pipeline().addLast("encoder", new GdbPacketEncoder());
                        ch.pipeline().addLast("gdb", new GdbProtocolHandler(target, packetSize, seat, log));
                    }
                });
        try {
            serverChannel = b.bind(address).syncUninterruptibly().channel();
        } catch (Exception e) {   // bind() rethrows the checked BindException unchecked-ly
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
            group = null;
            throw e;
        }
        log.log("gdb stub listening on " + serverChannel.localAddress());
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

    /** True while a gdb client is attached (a connection that has not sent a packet yet does not count). */
    public boolean hasClient() {
        return seat.occupied();
    }

    /**
     * Closes the listening socket and every connection, and stops the I/O thread. An attached client is detached
     * (the machine runs on): with the stub gone nobody could resume it.
     */
    @Override
    public synchronized void close() {
        if (group == null) {
            return;
        }
        if (serverChannel != null) {
            serverChannel.close().syncUninterruptibly();
        }
        for (Channel c : connections) {
            GdbProtocolHandler h = c.pipeline().get(GdbProtocolHandler.class);
            if (h != null) {
                h.detachOnClose();
            }
        }
        connections.close().syncUninterruptibly();
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        group = null;
        serverChannel = null;
    }
}
