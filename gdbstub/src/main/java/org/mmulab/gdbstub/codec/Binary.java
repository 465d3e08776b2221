package org.mmulab.gdbstub.codec;

import java.io.ByteArrayOutputStream;

/**
 * The RSP binary escape: {@code 0x7d} ('}') followed by the original byte XOR 0x20. {@code $ # }} must always be
 * escaped; replies must also escape {@code *} so it is not read as run-length encoding.
 */
public final class Binary {
    public static final int ESCAPE = 0x7d;

    private Binary() {
    }

    /** True for the bytes that the encoder escapes in every outbound payload. */
    public static boolean needsEscape(int b) {
        return b == '$' || b == '#' || b == '}' || b == '*';
    }

    /** {@code data} with {@code $ # } *} escaped. */
    public static byte[] escape(byte[] data) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(data.length + 8);
        for (byte b : data) {
            if (needsEscape(b & 0xff)) {
                out.write(ESCAPE);
                out.write((b & 0xff) ^ 0x20);
            } else {
                out.write(b);
            }
        }
        return out.toByteArray();
    }

    /**
     * Unescapes {@code data[from, to)}. A trailing lone escape byte is malformed.
     *
     * @return the unescaped bytes, or {@code null} if the input ends in the middle of an escape
     */
    public static byte[] unescape(byte[] data, int from, int to) {
        byte[] out = new byte[to - from];
        int n = 0;
        for (int i = from; i < to; i++) {
            int b = data[i] & 0xff;
            if (b == ESCAPE) {
                if (++i == to) {
                    return null;
                }
                b = (data[i] & 0xff) ^ 0x20;
            }
            out[n++] = (byte) b;
        }
        return n == out.length ? out : java.util.Arrays.copyOf(out, n);
    }

    /** For logs and toString: printable ASCII as is, everything else as \xNN, cut at {@code max} chars. */
    public static String printable(byte[] data, int from, int to, int max) {
        StringBuilder sb = new StringBuilder();
        for (int i = from; i < to; i++) {
            if (sb.length() >= max) {
                sb.append("...(").append(to - from).append(" bytes)");
                break;
            }
            int b = data[i] & 0xff;
            if (b >= 0x20 && b < 0x7f && b != '\\') {
                sb.append((char) b);
            } else {
                sb.append(String.format("\\x%02x", b));
            }
        }
        return sb.toString();
    }
}
