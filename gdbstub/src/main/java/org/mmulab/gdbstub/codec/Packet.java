package org.mmulab.gdbstub.codec;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A {@code $payload#cs} packet.
 *
 * <p>Inbound (decoded) packets carry exactly the bytes between {@code $} and {@code #}, checksum verified; binary
 * data (the {@code X} packet) is still escaped, see {@link Binary#unescape}. Outbound packets carry the logical
 * payload: {@link GdbPacketEncoder} escapes {@code $ # } *} and adds the checksum.
 */
public final class Packet implements GdbMessage {
    private final byte[] payload;

    private Packet(byte[] payload) {
        this.payload = payload;
    }

    /** A packet holding a copy of {@code payload}. */
    public static Packet of(byte[] payload) {
        return new Packet(payload.clone());
    }

    /** A packet whose payload is {@code text} in ISO-8859-1 (the protocol is byte oriented). */
    public static Packet of(String text) {
        return new Packet(text.getBytes(StandardCharsets.ISO_8859_1));
    }

    /** Wraps without copying; the caller gives up the array. */
    static Packet wrap(byte[] payload) {
        return new Packet(payload);
    }

    /** The empty packet {@code $#00}: "unsupported" as a reply. */
    public static Packet empty() {
        return new Packet(new byte[0]);
    }

    public byte[] payload() {
        return payload.clone();
    }

    public int length() {
        return payload.length;
    }

    public byte byteAt(int index) {
        return payload[index];
    }

    /** The payload as ISO-8859-1 text (byte i is char i). */
    public String text() {
        return new String(payload, StandardCharsets.ISO_8859_1);
    }

    /** Modulo-256 sum of {@code bytes}, the RSP checksum. */
    public static int checksum(byte[] bytes, int from, int to) {
        int sum = 0;
        for (int i = from; i < to; i++) {
            sum += bytes[i] & 0xff;
        }
        return sum & 0xff;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Packet p && Arrays.equals(payload, p.payload);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(payload);
    }

    @Override
    public String toString() {
        return "Packet[" + Binary.printable(payload, 0, payload.length, 80) + "]";
    }
}
