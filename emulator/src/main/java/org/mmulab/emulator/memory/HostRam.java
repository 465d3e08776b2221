package org.mmulab.emulator.memory;

import java.io.IOException;
import java.lang.ref.Cleaner;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The host memory behind {@link PhysicalMemory}: private mappings of a sparse, already deleted temporary
 * file, in regions of at most 1 GiB ({@code FileChannel.map} takes an int-sized length).
 *
 * <p>Why this and not the alternatives Java 17 offers. {@code ByteBuffer.allocateDirect} is capped by
 * {@code -XX:MaxDirectMemorySize} (which defaults to the heap maximum, the very dependency to remove),
 * zeroes - and so touches - everything it allocates, and is freed only by a GC. {@code MemorySegment} is an
 * incubator module in 17. An anonymous mapping cannot be made from Java ({@code /dev/zero} cannot be
 * mapped through {@code FileChannel}: it tries to ftruncate the device). A {@code MAP_PRIVATE} mapping of
 * a file is what is left, and it behaves like anonymous memory where it matters (mmap(2), mm/mmap.c):
 * written pages are private anonymous pages, swap-backed and never written back to the file; the
 * mapping is charged to the commit limit when it is made ({@code VM_ACCOUNT}), so a host in strict
 * overcommit mode, or one whose {@code ulimit -v} is too small, refuses here, once, rather than mid-run;
 * and the file has its full size from the start (a hole), so no access can raise SIGBUS. The file is
 * unlinked right after mapping: nothing is left behind, whatever way the JVM ends, and nothing else can
 * open or truncate it. The cost is the page cache: a first touch reads the file's hole (a clean, zero
 * page-cache page the host can drop at any time) before the private copy is made.
 *
 * <p>Mappings are released when their buffers become unreachable (the JDK's unmapper); nothing unmaps
 * them explicitly, because a vCPU thread still holding a region would then crash the JVM. As
 * {@code java.nio.Bits.reserveMemory} does for direct buffers, creating RAM while more than the host's
 * RAM + swap is still mapped by unreachable machines first asks for a GC, so a test suite that makes
 * hundreds of machines does not pile up their touched pages.
 */
final class HostRam {
    /** Bytes mapped by PhysicalMemory objects not yet collected. */
    private static final AtomicLong LIVE = new AtomicLong();
    private static final Cleaner CLEANER = Cleaner.create();

    private HostRam() {
    }

    /** Maps {@code size} bytes in regions of {@code regionSize}; released when {@code owner} is collected. */
    static ByteBuffer[] map(long size, long regionSize, Object owner) {
        relievePressure(size);
        Path dir = Path.of(System.getProperty("java.io.tmpdir"));
        ByteBuffer[] regions = new ByteBuffer[(int) ((size + regionSize - 1) / regionSize)];
        Path file;
        try {
            file = Files.createTempFile(dir, "mmulab-ram-", ".tmp");
        } catch (IOException | RuntimeException e) {
            throw new HostMemoryException("cannot create the file that backs guest RAM in " + dir + ": " + reason(e), e);
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            for (int i = 0; i < regions.length; i++) {
                long off = i * regionSize;
                long len = Math.min(regionSize, size - off);
                MappedByteBuffer b = ch.map(FileChannel.MapMode.PRIVATE, off, len);
                regions[i] = b;
            }
        } catch (IOException | RuntimeException | OutOfMemoryError e) {
            // FileChannel.map reports mmap's ENOMEM as an IOException whose cause is an OutOfMemoryError.
            throw new HostMemoryException("cannot map " + HostMemory.formatSize(size)
                    + " of guest RAM: the host refused the address space (" + reason(e) + ")", e);
        } finally {
            try {
                Files.deleteIfExists(file);
            } catch (IOException e) {
                // nothing was written to it; a leftover empty sparse file is harmless
            }
        }
        LIVE.addAndGet(size);
        CLEANER.register(owner, () -> LIVE.addAndGet(-size));
        return regions;
    }

    /** Bytes of guest RAM mapped by memories not yet collected (tests). */
    static long liveBytes() {
        return LIVE.get();
    }

    private static void relievePressure(long size) {
        long limit = Math.max(8L << 30, HostMemory.system().ramAndSwap());
        if (LIVE.get() + size <= limit) {
            return;
        }
        System.gc();
        for (int i = 0; i < 20 && LIVE.get() + size > limit; i++) {
            try {
                Thread.sleep(5L << Math.min(i, 6));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private static String reason(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        String m = t.getMessage() != null ? t.getMessage() : e.getMessage();
        return m != null ? m : t.getClass().getSimpleName();
    }
}
