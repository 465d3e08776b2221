package org.mmulab.kernel.mm;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;

/**
 * The bytes of an executable image, read-only: a small file held in a heap array, a large one mapped
 * from the host file in windows of at most 1 GiB ({@code FileChannel.map} takes an int length), so an
 * image of any size costs address space rather than heap (what kernel_read and the page cache do for
 * fs/exec.c and fs/binfmt_elf.c: pages are read when a fault or the loader needs them). Offsets are
 * {@code long}; every accessor checks its range and throws {@link IndexOutOfBoundsException} outside it,
 * so callers check bounds first (as ElfImage does, with overflow-safe arithmetic).
 *
 * <p>A mapped image shares the host file: if another process truncates the file while the guest runs,
 * Java raises an InternalError on the next access to a page past the new end (Linux would SIGBUS the
 * guest; execve's deny_write_access has no host equivalent).
 */
public final class FileBytes {
    /** Files up to this size are read into the heap; larger ones are mapped. */
    public static final long READ_LIMIT = 16L << 20;
    static final int WINDOW_SHIFT = 30;
    private static final long WINDOW_MASK = (1L << WINDOW_SHIFT) - 1;

    private final ByteBuffer[] windows;
    private final long size;

    private FileBytes(ByteBuffer[] windows, long size) {
        this.windows = windows;
        this.size = size;
    }

    public static FileBytes of(byte[] b) {
        return new FileBytes(new ByteBuffer[] {ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN)}, b.length);
    }

    /** Reads (small files) or maps (large ones) the first {@code size} bytes of {@code ch}. */
    public static FileBytes load(FileChannel ch, long size, long readLimit) throws IOException {
        if (size <= readLimit && size <= Integer.MAX_VALUE - 8) {
            ByteBuffer b = ByteBuffer.allocate((int) size);
            while (b.hasRemaining() && ch.read(b, b.position()) > 0) {
                // FileChannel.read with a position reads at most what is left; the loop ends at EOF
            }
            return of(java.util.Arrays.copyOf(b.array(), b.position()));
        }
        int n = (int) ((size + WINDOW_MASK) >>> WINDOW_SHIFT);
        ByteBuffer[] w = new ByteBuffer[n];
        for (int i = 0; i < n; i++) {
            long off = (long) i << WINDOW_SHIFT;
            w[i] = ch.map(FileChannel.MapMode.READ_ONLY, off, Math.min(1L << WINDOW_SHIFT, size - off))
                    .order(ByteOrder.LITTLE_ENDIAN);
        }
        return new FileBytes(w, size);
    }

    public long size() {
        return size;
    }

    /** Whether [off, off + len) lies inside the file (false on overflow or negative values). */
    public boolean contains(long off, long len) {
        return off >= 0 && len >= 0 && off <= size && len <= size - off;
    }

    public int u8(long off) {
        check(off, 1);
        return windows[(int) (off >>> WINDOW_SHIFT)].get((int) (off & WINDOW_MASK)) & 0xff;
    }

    public int u16(long off) {
        return (int) le(off, 2);
    }

    public int i32(long off) {
        return (int) le(off, 4);
    }

    public long u32(long off) {
        return le(off, 4);
    }

    public long i64(long off) {
        return le(off, 8);
    }

    private long le(long off, int n) {
        check(off, n);
        int w = (int) (off >>> WINDOW_SHIFT);
        int o = (int) (off & WINDOW_MASK);
        ByteBuffer b = windows[w];
        if (o + n <= b.limit()) {
            return switch (n) {
                case 2 -> b.getShort(o) & 0xffffL;
                case 4 -> b.getInt(o) & 0xffff_ffffL;
                default -> b.getLong(o);
            };
        }
        long v = 0;
        for (int i = n - 1; i >= 0; i--) {
            v = (v << 8) | u8(off + i);
        }
        return v;
    }

    /** Copies {@code len} bytes at {@code off} into {@code dst}. */
    public void read(long off, byte[] dst, int dstOff, int len) {
        check(off, len);
        while (len > 0) {
            int w = (int) (off >>> WINDOW_SHIFT);
            int o = (int) (off & WINDOW_MASK);
            int n = Math.min(len, windows[w].limit() - o);
            windows[w].get(o, dst, dstOff, n);
            off += n;
            dstOff += n;
            len -= n;
        }
    }

    private void check(long off, long len) {
        if (!contains(off, len)) {
            throw new IndexOutOfBoundsException("bytes [" + off + ", +" + len + ") outside a " + size + "-byte file");
        }
    }
}
