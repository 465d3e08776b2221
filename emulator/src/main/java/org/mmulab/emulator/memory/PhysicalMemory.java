package org.mmulab.emulator.memory;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Guest physical RAM: off-heap regions addressed by {@code long}, little-endian, as on a PC.
 *
 * <p>Rules (DESIGN §2 memory): unbacked physical addresses read as all-ones and ignore writes, like
 * a PC bus with nothing decoding the address; MMIO regions above RAM are routed to {@link Mmio}
 * handlers. Naturally aligned 32/64-bit words support acquire/release and compare-and-exchange,
 * which is what the page walker's locked A/D update (SDM Vol. 3A §4.8) and the kernel's
 * {@code cmpxchg64} need ({@code MethodHandles.byteBufferViewVarHandle} gives exactly these on a direct
 * buffer: plain, opaque, acquire/release and CAS on aligned words).
 *
 * <p>Where the bytes live: not on the Java heap, so guest RAM never depends on {@code -Xmx}. RAM is
 * {@link HostRam}: 1 GiB regions mapped from a deleted sparse file, made when the memory is created
 * (so a host that cannot give the address space refuses here, once, instead of failing mid-run) and
 * backed by host pages only where the guest touches them. {@code ByteBuffer.allocateDirect} was not
 * used: it is capped by {@code -XX:MaxDirectMemorySize} (the heap maximum by default), pre-zeroes
 * (touches) all it allocates, and cannot be released before a GC; see {@link HostRam} for the mapping
 * choice. A region is at most 1 GiB so that offsets stay {@code int} (the VarHandle index) and a 1 GiB
 * page never straddles two regions.
 *
 * <p>Every write path checks the per-frame "holds decoded code" bit and tells the
 * {@link CodeWriteListener}, so self-modifying code and kernel writes into code pages (read(2) into
 * .text, ELF loading) invalidate the decoded-instruction cache.
 */
public final class PhysicalMemory {
    /** log2 of a RAM region: 1 GiB, so a large page never straddles two regions and offsets fit an int. */
    public static final int REGION_SHIFT = 30;
    public static final long REGION_SIZE = 1L << REGION_SHIFT;
    private static final long REGION_MASK = REGION_SIZE - 1;
    public static final int PAGE_SHIFT = 12;
    public static final int PAGE_SIZE = 1 << PAGE_SHIFT;
    /** The largest guest RAM: 1 TiB (the frame table indexes frames with an int). */
    public static final long MAX_SIZE = 1L << 40;

    private static final VarHandle I16 = MethodHandles.byteBufferViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle I32 = MethodHandles.byteBufferViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle I64 = MethodHandles.byteBufferViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle CODE_BITS = MethodHandles.arrayElementVarHandle(long[].class);

    private final long size;
    private final ByteBuffer[] regions;
    private final long[] codeBits;
    private final CopyOnWriteArrayList<MmioRegion> mmio = new CopyOnWriteArrayList<>();
    private volatile CodeWriteListener codeWriteListener = CodeWriteListener.NONE;

    /**
     * RAM of {@code size} bytes, off the heap. Throws {@link HostMemoryException} when the host cannot map
     * it (address space, ulimit -v, commit limit), {@link IllegalArgumentException} for a bad size.
     */
    public PhysicalMemory(long size) {
        if (size <= 0 || (size & (PAGE_SIZE - 1)) != 0) {
            throw new IllegalArgumentException("RAM size must be a positive multiple of 4 KiB: " + size);
        }
        if (size > MAX_SIZE) {
            throw new IllegalArgumentException("RAM size above 1 TiB is not supported: " + size);
        }
        this.size = size;
        this.regions = HostRam.map(size, REGION_SIZE, this);
        this.codeBits = new long[(int) (((size >>> PAGE_SHIFT) + 63) >>> 6)];
    }

    /** Bytes of RAM; addresses at or above this are unbacked (or MMIO). */
    public long size() {
        return size;
    }

    public long frameCount() {
        return size >>> PAGE_SHIFT;
    }

    public boolean isRam(long pa, int len) {
        return pa >= 0 && pa + len <= size && pa + len >= pa;
    }

    /** The region holding {@code pa}; only for RAM addresses. */
    private ByteBuffer regionFor(long pa) {
        return regions[(int) (pa >>> REGION_SHIFT)];
    }

    private static int regionOffset(long pa) {
        return (int) (pa & REGION_MASK);
    }

    // ---- plain little-endian access. Multi-byte accesses must not cross a 4 KiB frame boundary
    // ---- (the MMU splits virtual accesses at page boundaries before they get here).

    public int read8(long pa) {
        if (!isRam(pa, 1)) {
            return (int) unbackedRead(pa, 1);
        }
        return regionFor(pa).get(regionOffset(pa)) & 0xff;
    }

    public int read16(long pa) {
        if (!isRam(pa, 2)) {
            return (int) unbackedRead(pa, 2);
        }
        return (short) I16.get(regionFor(pa), regionOffset(pa)) & 0xffff;
    }

    public int read32(long pa) {
        if (!isRam(pa, 4)) {
            return (int) unbackedRead(pa, 4);
        }
        return (int) I32.get(regionFor(pa), regionOffset(pa));
    }

    public long read64(long pa) {
        if (!isRam(pa, 8)) {
            return unbackedRead(pa, 8);
        }
        return (long) I64.get(regionFor(pa), regionOffset(pa));
    }

    public void write8(long pa, int v) {
        if (!isRam(pa, 1)) {
            unbackedWrite(pa, 1, v);
            return;
        }
        regionFor(pa).put(regionOffset(pa), (byte) v);
        noteWrite(pa);
    }

    public void write16(long pa, int v) {
        if (!isRam(pa, 2)) {
            unbackedWrite(pa, 2, v);
            return;
        }
        I16.set(regionFor(pa), regionOffset(pa), (short) v);
        noteWrite(pa);
    }

    public void write32(long pa, int v) {
        if (!isRam(pa, 4)) {
            unbackedWrite(pa, 4, v);
            return;
        }
        I32.set(regionFor(pa), regionOffset(pa), v);
        noteWrite(pa);
    }

    public void write64(long pa, long v) {
        if (!isRam(pa, 8)) {
            unbackedWrite(pa, 8, v);
            return;
        }
        I64.set(regionFor(pa), regionOffset(pa), v);
        noteWrite(pa);
    }

    // ---- ordered and atomic access on naturally aligned words (page tables, futexes, locks).

    public long read64Acquire(long pa) {
        checkAligned(pa, 8);
        if (!isRam(pa, 8)) {
            return unbackedRead(pa, 8);
        }
        return (long) I64.getAcquire(regionFor(pa), regionOffset(pa));
    }

    /**
     * Index of the first non-zero 64-bit word among the {@code count} words at {@code pa} (8-byte
     * aligned, inside one frame), or {@code count}. Plain reads, for a kernel scanning a page table for
     * present entries: the caller re-reads a hit with the ordering it needs. Unbacked memory reads as
     * all-ones, so its first word is reported.
     */
    public int firstNonZero64(long pa, int count) {
        checkAligned(pa, 8);
        if (count <= 0) {
            return 0;
        }
        if (!isRam(pa, count * 8) || regionOffset(pa) + (long) count * 8 > REGION_SIZE) {
            return 0;
        }
        ByteBuffer c = regionFor(pa);
        int off = regionOffset(pa);
        for (int i = 0; i < count; i++, off += 8) {
            if ((long) I64.get(c, off) != 0) {
                return i;
            }
        }
        return count;
    }

    public long read64Opaque(long pa) {
        checkAligned(pa, 8);
        if (!isRam(pa, 8)) {
            return unbackedRead(pa, 8);
        }
        return (long) I64.getOpaque(regionFor(pa), regionOffset(pa));
    }

    public void write64Release(long pa, long v) {
        checkAligned(pa, 8);
        if (!isRam(pa, 8)) {
            return;
        }
        I64.setRelease(regionFor(pa), regionOffset(pa), v);
        noteWrite(pa);
    }

    public int read32Acquire(long pa) {
        checkAligned(pa, 4);
        if (!isRam(pa, 4)) {
            return (int) unbackedRead(pa, 4);
        }
        return (int) I32.getAcquire(regionFor(pa), regionOffset(pa));
    }

    public void write32Release(long pa, int v) {
        checkAligned(pa, 4);
        if (!isRam(pa, 4)) {
            return;
        }
        I32.setRelease(regionFor(pa), regionOffset(pa), v);
        noteWrite(pa);
    }

    /** Locked CMPXCHG on a 64-bit word; returns the witness value (equal to expected on success). */
    public long compareAndExchange64(long pa, long expected, long update) {
        checkAligned(pa, 8);
        if (!isRam(pa, 8)) {
            return unbackedRead(pa, 8);
        }
        long w = (long) I64.compareAndExchange(regionFor(pa), regionOffset(pa), expected, update);
        if (w == expected) {
            noteWrite(pa);
        }
        return w;
    }

    /** Locked CMPXCHG on a 32-bit word; returns the witness value. */
    public int compareAndExchange32(long pa, int expected, int update) {
        checkAligned(pa, 4);
        if (!isRam(pa, 4)) {
            return (int) unbackedRead(pa, 4);
        }
        int w = (int) I32.compareAndExchange(regionFor(pa), regionOffset(pa), expected, update);
        if (w == expected) {
            noteWrite(pa);
        }
        return w;
    }

    public long getAndAdd64(long pa, long delta) {
        checkAligned(pa, 8);
        if (!isRam(pa, 8)) {
            return unbackedRead(pa, 8);
        }
        long old = (long) I64.getAndAdd(regionFor(pa), regionOffset(pa), delta);
        noteWrite(pa);
        return old;
    }

    public int getAndAdd32(long pa, int delta) {
        checkAligned(pa, 4);
        if (!isRam(pa, 4)) {
            return (int) unbackedRead(pa, 4);
        }
        int old = (int) I32.getAndAdd(regionFor(pa), regionOffset(pa), delta);
        noteWrite(pa);
        return old;
    }

    public long getAndSet64(long pa, long v) {
        checkAligned(pa, 8);
        if (!isRam(pa, 8)) {
            return unbackedRead(pa, 8);
        }
        long old = (long) I64.getAndSet(regionFor(pa), regionOffset(pa), v);
        noteWrite(pa);
        return old;
    }

    public int getAndSet32(long pa, int v) {
        checkAligned(pa, 4);
        if (!isRam(pa, 4)) {
            return (int) unbackedRead(pa, 4);
        }
        int old = (int) I32.getAndSet(regionFor(pa), regionOffset(pa), v);
        noteWrite(pa);
        return old;
    }

    // ---- bulk access for the kernel (zeroing, copying frames, loading images).

    /**
     * clear_page: the frame at {@code pa} reads as zero afterwards. A line that already is zero is only
     * read, not written: a recycled anonymous frame usually has a few dirty lines, and when the frame is
     * no longer in the host's caches a read costs one memory transfer where a store costs two (the line
     * is fetched for ownership, then written back). Same result, same guest-visible timing charges.
     */
    public void zeroFrame(long pa) {
        checkAligned(pa, PAGE_SIZE);
        if (!isRam(pa, PAGE_SIZE)) {
            return;
        }
        ByteBuffer c = regionFor(pa);
        for (int off = regionOffset(pa), end = off + PAGE_SIZE; off < end; off += ZERO_LINE) {
            if (((long) I64.get(c, off) | (long) I64.get(c, off + 8) | (long) I64.get(c, off + 16)
                    | (long) I64.get(c, off + 24) | (long) I64.get(c, off + 32) | (long) I64.get(c, off + 40)
                    | (long) I64.get(c, off + 48) | (long) I64.get(c, off + 56)) != 0) {
                I64.set(c, off, 0L);
                I64.set(c, off + 8, 0L);
                I64.set(c, off + 16, 0L);
                I64.set(c, off + 24, 0L);
                I64.set(c, off + 32, 0L);
                I64.set(c, off + 40, 0L);
                I64.set(c, off + 48, 0L);
                I64.set(c, off + 56, 0L);
            }
        }
        noteWrite(pa);
    }

    /** zeroFrame's unit: one host cache line, read first and written only when it is not already zero. */
    private static final int ZERO_LINE = 64;

    public void copyFrame(long srcPa, long dstPa) {
        checkAligned(srcPa, PAGE_SIZE);
        checkAligned(dstPa, PAGE_SIZE);
        if (!isRam(srcPa, PAGE_SIZE) || !isRam(dstPa, PAGE_SIZE)) {
            throw new IllegalArgumentException("copyFrame outside RAM");
        }
        regionFor(dstPa).put(regionOffset(dstPa), regionFor(srcPa), regionOffset(srcPa), PAGE_SIZE);
        noteWrite(dstPa);
    }

    /** Reads {@code len} bytes; the range may cross frames but must lie in RAM. */
    public void readBytes(long pa, byte[] dst, int off, int len) {
        while (len > 0) {
            int n = (int) Math.min(len, PAGE_SIZE - (pa & (PAGE_SIZE - 1)));
            if (isRam(pa, n)) {
                regionFor(pa).get(regionOffset(pa), dst, off, n);
            } else {
                Arrays.fill(dst, off, off + n, (byte) 0xff);
            }
            pa += n;
            off += n;
            len -= n;
        }
    }

    /** Writes {@code len} bytes; the range may cross frames. Unbacked parts are dropped. */
    public void writeBytes(long pa, byte[] src, int off, int len) {
        while (len > 0) {
            int n = (int) Math.min(len, PAGE_SIZE - (pa & (PAGE_SIZE - 1)));
            if (isRam(pa, n)) {
                regionFor(pa).put(regionOffset(pa), src, off, n);
                noteWrite(pa);
            }
            pa += n;
            off += n;
            len -= n;
        }
    }

    // ---- decoded-code tracking (self-modifying code, DESIGN §2 cpu).

    public void setCodeWriteListener(CodeWriteListener l) {
        this.codeWriteListener = l == null ? CodeWriteListener.NONE : l;
    }

    /** The installed listener (lets the CPU's decoded-code cache be shared by every vCPU on this memory). */
    public CodeWriteListener codeWriteListener() {
        return codeWriteListener;
    }

    /** Marks a frame as holding decoded instructions; later writes to it notify the listener. */
    public void markCodeFrame(long pfn) {
        if (pfn < 0 || pfn >= frameCount()) {
            return;
        }
        CODE_BITS.getAndBitwiseOr(codeBits, (int) (pfn >>> 6), 1L << pfn);
    }

    public boolean isCodeFrame(long pfn) {
        if (pfn < 0 || pfn >= frameCount()) {
            return false;
        }
        return (codeBits[(int) (pfn >>> 6)] & (1L << pfn)) != 0;
    }

    private void noteWrite(long pa) {
        long pfn = pa >>> PAGE_SHIFT;
        if ((codeBits[(int) (pfn >>> 6)] & (1L << pfn)) != 0) {
            codeWritten(pfn);
        }
    }

    private void codeWritten(long pfn) {
        CODE_BITS.getAndBitwiseAnd(codeBits, (int) (pfn >>> 6), ~(1L << pfn));
        codeWriteListener.codeFrameWritten(pfn);
    }

    // ---- unbacked space and MMIO.

    public void addMmio(long base, long length, Mmio handler) {
        if (base < size) {
            throw new IllegalArgumentException("MMIO region overlaps RAM at 0x" + Long.toHexString(base));
        }
        mmio.add(new MmioRegion(base, length, handler));
    }

    private long unbackedRead(long pa, int len) {
        for (MmioRegion r : mmio) {
            if (pa >= r.base && pa + len <= r.base + r.length) {
                return r.handler.read(pa - r.base, len);
            }
        }
        return len == 8 ? -1L : (1L << (len * 8)) - 1;
    }

    private void unbackedWrite(long pa, int len, long v) {
        for (MmioRegion r : mmio) {
            if (pa >= r.base && pa + len <= r.base + r.length) {
                r.handler.write(pa - r.base, len, v);
                return;
            }
        }
    }

    private static void checkAligned(long pa, int n) {
        if ((pa & (n - 1)) != 0) {
            throw new IllegalArgumentException("unaligned " + n + "-byte atomic access at 0x" + Long.toHexString(pa));
        }
    }

    private record MmioRegion(long base, long length, Mmio handler) {
    }

    /** A device register window above RAM. */
    public interface Mmio {
        long read(long offset, int len);

        void write(long offset, int len, long value);
    }

    /** Told when a frame marked by {@link #markCodeFrame} is written; the mark is cleared first. */
    @FunctionalInterface
    public interface CodeWriteListener {
        CodeWriteListener NONE = pfn -> { };

        void codeFrameWritten(long pfn);
    }
}
