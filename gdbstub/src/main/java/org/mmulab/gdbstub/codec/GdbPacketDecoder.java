package org.mmulab.gdbstub.codec;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;

import java.util.Arrays;
import java.util.List;

/**
 * Turns the byte stream from gdb into {@link GdbMessage}s. A state machine over single bytes, so input split at
 * any position decodes the same as input in one piece:
 *
 * <pre>
 *  IDLE     '$' -> PAYLOAD   '+' -> ACK   '-' -> NACK   0x03 -> INTERRUPT   anything else: skipped (garbage)
 *  PAYLOAD  '#' -> CS1       '$' -> restart a new packet (the old one was truncated)   else: payload byte
 *  CS1      hex -> CS2       '$' -> BadChecksum, new packet   else: BadChecksum, IDLE
 *  CS2      hex -> Packet | BadChecksum | OversizedPacket, IDLE   '$' -> BadChecksum, new packet   else: BadChecksum
 * </pre>
 *
 * 0x03 inside a payload is data (binary {@code X} packets may carry it). Payload bytes past {@code maxPayload} are
 * summed but not stored; such a frame ends as {@link OversizedPacket} (or {@link BadChecksum}). The decoder never
 * throws on any input.
 */
public final class GdbPacketDecoder extends ByteToMessageDecoder {
    /** Default largest payload accepted; the stub advertises it as {@code PacketSize}. */
    public static final int DEFAULT_MAX_PAYLOAD = 0x4000;

    private enum State { IDLE, PAYLOAD, CS1, CS2 }

    private final int maxPayload;
    private State state = State.IDLE;
    private byte[] buf = new byte[256];
    private int length;      // payload bytes seen in this frame (saturating), stored only up to maxPayload
    private int sum;         // running checksum of every payload byte seen
    private int received;    // checksum digits read so far
    private long skipped;    // garbage bytes skipped between packets
    private long truncated;  // frames abandoned because a new '$' arrived

    public GdbPacketDecoder() {
        this(DEFAULT_MAX_PAYLOAD);
    }

    public GdbPacketDecoder(int maxPayload) {
        if (maxPayload < 1) {
            throw new IllegalArgumentException("maxPayload: " + maxPayload);
        }
        this.maxPayload = maxPayload;
    }

    public int maxPayload() {
        return maxPayload;
    }

    /** Bytes skipped outside packets (not {@code $ + -} or 0x03). */
    public long skippedBytes() {
        return skipped;
    }

    /** Frames abandoned because a {@code $} started a new one before they were complete. */
    public long truncatedFrames() {
        return truncated;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        while (in.isReadable()) {
            int b = in.readByte() & 0xff;
            switch (state) {
                case IDLE -> idle(b, out);
                case PAYLOAD -> payload(b);
                case CS1 -> checksum1(b, out);
                case CS2 -> checksum2(b, out);
                default -> throw new AssertionError(state);
            }
        }
    }

    private void idle(int b, List<Object> out) {
        switch (b) {
            case '$' -> startFrame();
            case '+' -> out.add(Control.ACK);
            case '-' -> out.add(Control.NACK);
            case 0x03 -> out.add(Control.INTERRUPT);
            default -> skipped++;
        }
    }

    private void startFrame() {
        state = State.PAYLOAD;
        length = 0;
        sum = 0;
    }

    private void payload(int b) {
        if (b == '#') {
            state = State.CS1;
            return;
        }
        if (b == '$') {
            truncated++;
            startFrame();
            return;
        }
        if (length < maxPayload) {
            if (length == buf.length) {
                buf = Arrays.copyOf(buf, Math.min(maxPayload, buf.length * 2));
            }
            buf[length] = (byte) b;
        }
        if (length != Integer.MAX_VALUE) {
            length++;
        }
        sum = (sum + b) & 0xff;
    }

    private void checksum1(int b, List<Object> out) {
        int d = Hex.digit(b);
        if (d < 0) {
            badFrame(b, out);
            return;
        }
        received = d;
        state = State.CS2;
    }

    private void checksum2(int b, List<Object> out) {
        int d = Hex.digit(b);
        if (d < 0) {
            badFrame(b, out);
            return;
        }
        received = received << 4 | d;
        state = State.IDLE;
        if (received != sum) {
            out.add(new BadChecksum(received, sum, length));
        } else if (length > maxPayload) {
            out.add(new OversizedPacket(length, maxPayload));
        } else {
            out.add(Packet.wrap(Arrays.copyOf(buf, length)));
        }
        shrinkBuffer();
    }

    /** A non-hex byte where a checksum digit belongs: the frame is corrupt; a '$' starts the next one. */
    private void badFrame(int b, List<Object> out) {
        out.add(new BadChecksum(-1, sum, length));
        shrinkBuffer();
        if (b == '$') {
            startFrame();
        } else {
            state = State.IDLE;
            if (b == '+' || b == '-' || b == 0x03) {
                idle(b, out);
            } else {
                skipped++;
            }
        }
    }

    private void shrinkBuffer() {
        if (buf.length > 4096) {
            buf = new byte[256];
        }
    }
}
