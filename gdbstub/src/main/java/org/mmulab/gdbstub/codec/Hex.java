package org.mmulab.gdbstub.codec;

/** Hex helpers for RSP payloads: lowercase output, either case accepted on input, no exceptions for bad input. */
public final class Hex {
    private static final char[] DIGITS = "0123456789abcdef".toCharArray();

    private Hex() {
    }

    /** Value of one hex digit, or -1. */
    public static int digit(int c) {
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        if (c >= 'a' && c <= 'f') {
            return c - 'a' + 10;
        }
        if (c >= 'A' && c <= 'F') {
            return c - 'A' + 10;
        }
        return -1;
    }

    /** Two lowercase hex digits per byte. */
    public static String encode(byte[] data) {
        return encode(data, 0, data.length);
    }

    public static String encode(byte[] data, int from, int to) {
        StringBuilder sb = new StringBuilder((to - from) * 2);
        for (int i = from; i < to; i++) {
            appendByte(sb, data[i]);
        }
        return sb.toString();
    }

    public static void appendByte(StringBuilder sb, int b) {
        sb.append(DIGITS[(b >> 4) & 0xf]).append(DIGITS[b & 0xf]);
    }

    /**
     * Decodes an even-length hex string.
     *
     * @return the bytes, or {@code null} if the length is odd or a character is not a hex digit
     */
    public static byte[] decode(CharSequence s) {
        if ((s.length() & 1) != 0) {
            return null;
        }
        byte[] out = new byte[s.length() / 2];
        for (int i = 0; i < out.length; i++) {
            int hi = digit(s.charAt(2 * i));
            int lo = digit(s.charAt(2 * i + 1));
            if (hi < 0 || lo < 0) {
                return null;
            }
            out[i] = (byte) (hi << 4 | lo);
        }
        return out;
    }

    /**
     * Parses an unsigned hex number of 1..16 digits (no sign, no prefix).
     *
     * @throws NumberFormatException if empty, too long or not hex (callers turn it into an error reply)
     */
    public static long parseUnsigned(CharSequence s) {
        int n = s.length();
        if (n == 0 || n > 16) {
            throw new NumberFormatException("bad hex number: '" + s + "'");
        }
        long v = 0;
        for (int i = 0; i < n; i++) {
            int d = digit(s.charAt(i));
            if (d < 0) {
                throw new NumberFormatException("bad hex number: '" + s + "'");
            }
            v = v << 4 | d;
        }
        return v;
    }

    /** {@code value} in lowercase hex, no leading zeros ("0" for zero). */
    public static String number(long value) {
        return Long.toHexString(value);
    }
}
