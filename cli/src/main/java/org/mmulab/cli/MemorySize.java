package org.mmulab.cli;

import java.util.Locale;

import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** Parses sizes like {@code 512M}, {@code 2G}, {@code 65536K} or a byte count, as QEMU's {@code -m} does. */
final class MemorySize implements ITypeConverter<Long> {
    static final long MIN = 4L << 20;
    static final long MAX = 64L << 30;

    @Override
    public Long convert(String value) {
        return parse(value);
    }

    static long parse(String value) {
        String v = value.trim().toUpperCase(Locale.ROOT);
        if (v.endsWith("B") && v.length() > 1 && !Character.isDigit(v.charAt(v.length() - 2))) {
            v = v.substring(0, v.length() - 1);
        }
        long unit = 1;
        if (!v.isEmpty()) {
            switch (v.charAt(v.length() - 1)) {
                case 'K' -> unit = 1L << 10;
                case 'M' -> unit = 1L << 20;
                case 'G' -> unit = 1L << 30;
                default -> unit = 1;
            }
        }
        String digits = unit == 1 ? v : v.substring(0, v.length() - 1);
        long n;
        try {
            n = Long.parseLong(digits);
        } catch (NumberFormatException e) {
            throw new TypeConversionException("'" + value + "' is not a size (examples: 512M, 2G)");
        }
        if (n <= 0 || n > MAX / unit) {
            throw new TypeConversionException("'" + value + "' is out of range (4M..64G)");
        }
        long bytes = n * unit;
        if (bytes < MIN) {
            throw new TypeConversionException("'" + value + "' is too small: the kernel needs at least 4M");
        }
        return bytes & ~0xfffL;
    }
}
