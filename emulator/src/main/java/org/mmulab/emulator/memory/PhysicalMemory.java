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
 * handlers.
 *
 * <p>Memory ordering: guest code on several vCPU threads sees x86-TSO (SDM Vol. 3A §8.2.2; Owens,
 * Sarkar, Sewell, "A better x86 memory model: x86-TSO"). Which Java access gives which guarantee:
 * <ul>
 * <li>Guest and kernel loads ({@code read8..read64}, {@link #readBytes}): a plain read followed by
 *     {@code VarHandle.acquireFence()} — acquire: a load is not reordered with any later load or store
 *     (TSO's load→load and load→store orders).</li>
 * <li>Guest and kernel stores ({@code write8..write64}, {@link #writeBytes}, {@link #zeroFrame},
 *     {@link #copyFrame}): {@code VarHandle.releaseFence()} then a plain write — release: a store is not
 *     reordered with any earlier load or store (TSO's store→store and load→store). Store→load
 *     reordering stays allowed, exactly TSO's store buffer. On an x86-64 host both fences are compiler
 *     barriers only (plain MOVs), so the host's own TSO is the guest's; on a weaker host they are real
 *     barriers and give TSO's orders (Java does not promise multi-copy atomicity for release/acquire,
 *     so IRIW is only as strong as the host there).</li>
 * <li>Single-copy atomicity: a naturally aligned 1/2/4/8-byte access is one plain VarHandle access of
 *     that width, which Java makes atomic on 64-bit JVMs (SDM §8.1.1's guaranteed atomic accesses). A
 *     misaligned access inside a frame is one unaligned host access: atomic on x86 hosts within a cache
 *     line as the SDM says, not promised by Java. Accesses crossing a page are split by the MMU, as on
 *     hardware they are not atomic either.</li>
 * <li>LOCKed read-modify-writes and XCHG with memory (always locked, SDM Vol. 2 XCHG):
 *     {@code compareAndExchange}/{@code getAndAdd}/{@code getAndSet} VarHandle operations, which are
 *     volatile (sequentially consistent, full fences both sides) as SDM §8.2.2 orders locked
 *     instructions. Byte and word operands go through a CAS loop on their containing aligned dword. A
 *     locked instruction that ends up writing nothing (a failed CMPXCHG) still calls {@link #fence}. A
 *     split lock (operand crossing a dword boundary for bytes/words, or misaligned dwords/qwords) is
 *     serialized only against other split locks, under a Java lock: it is not atomic against an
 *     aligned locked access to overlapping bytes (Linux's split-lock detection treats such code as a
 *     bug).</li>
 * <li>MFENCE: {@link #fence} ({@code VarHandle.fullFence()}). LFENCE and SFENCE are no-ops: the orders
 *     they give are already TSO's for ordinary memory (no non-temporal or WC memory here).</li>
 * <li>Page-table words for the walker and kernel: {@link #read64Acquire}, {@link #write64Release} and
 *     the CAS family on naturally aligned words ({@code MethodHandles.byteBufferViewVarHandle} gives
 *     exactly these on a direct buffer); the walker's A/D update is a CAS (SDM Vol. 3A §4.8).</li>
 * </ul>
 * Under DETERMINISTIC scheduling only one vCPU thread runs at a time and the baton hand-over is a
 * volatile write/read pair, so every access is sequentially consistent there.
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
 * <p>Every write path checks the per-frame "holds decoded code" bit (an opaque read after the store)
 * and tells the {@link CodeWriteListener}, so self-modifying code and kernel writes into code pages
 * (read(2) into .text, ELF loading) invalidate the decoded-instruction cache. A store racing with
 * another vCPU's first marking of the frame may miss the bit (the check is not ordered after the store
 * without a StoreLoad fence, which every guest store would pay for); the decoded-code cache closes
 * that window at serializing instructions instead (cross-modifying code, SDM Vol. 3A §8.1.3: see
 * {@code DecodedCodeCache#serialize}).
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
        int v = regionFor(pa).get(regionOffset(pa)) & 0xff;
        VarHandle.acquireFence(); // a guest load: acquire (TSO orders it before later loads and stores)
        return v;
    }

    public int read16(long pa) {
        if (!isRam(pa, 2)) {
            return (int) unbackedRead(pa, 2);
        }
        int v = (short) I16.get(regionFor(pa), regionOffset(pa)) & 0xffff;
        VarHandle.acquireFence(); // a guest load: acquire (TSO orders it before later loads and stores)
        return v;
    }

    public int read32(long pa) {
        if (!isRam(pa, 4)) {
            return (int) unbackedRead(pa, 4);
        }
        int v = (int) I32.get(regionFor(pa), regionOffset(pa));
        VarHandle.acquireFence(); // a guest load: acquire (TSO orders it before later loads and stores)
        return v;
    }

    public long read64(long pa) {
        if (!isRam(pa, 8)) {
            return unbackedRead(pa, 8);
        }
        long v = (long) I64.get(regionFor(pa), regionOffset(pa));
        VarHandle.acquireFence(); // a guest load: acquire (TSO orders it before later loads and stores)
        return v;
    }

    public void write8(long pa, int v) {
        if (!isRam(pa, 1)) {
            unbackedWrite(pa, 1, v);
            return;
        }
        VarHandle.releaseFence(); // a guest store: release (after every earlier load and store)
        regionFor(pa).put(regionOffset(pa), (byte) v);
        noteWrite(pa);
    }

    public void write16(long pa, int v) {
        if (!isRam(pa, 2)) {
            unbackedWrite(pa, 2, v);
            return;
        }
        VarHandle.releaseFence(); // a guest store: release (after every earlier load and store)
        I16.set(regionFor(pa), regionOffset(pa), (short) v);
        noteWrite(pa);
    }

    public void write32(long pa, int v) {
        if (!isRam(pa, 4)) {
            unbackedWrite(pa, 4, v);
            return;
        }
        VarHandle.releaseFence(); // a guest store: release (after every earlier load and store)
        I32.set(regionFor(pa), regionOffset(pa), v);
        noteWrite(pa);
    }

    public void write64(long pa, long v) {
        if (!isRam(pa, 8)) {
            unbackedWrite(pa, 8, v);
            return;
        }
        VarHandle.releaseFence(); // a guest store: release (after every earlier load and store)
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

    /** MFENCE, and a LOCKed instruction that wrote nothing (failed CMPXCHG): a full two-way fence. */
    public static void fence() {
        VarHandle.fullFence();
    }

    /**
     * True if the 4 KiB frame at {@code pa} holds exactly {@code snapshot} (4096 bytes). Allocates
     * nothing; for the decoded-code cache's check at serializing instructions.
     */
    public boolean frameEquals(long pa, byte[] snapshot) {
        checkAligned(pa, PAGE_SIZE);
        if (!isRam(pa, PAGE_SIZE)) {
            return false;
        }
        ByteBuffer c = regionFor(pa);
        int base = regionOffset(pa);
        for (int i = 0; i < PAGE_SIZE; i += 8) {
            if ((long) I64.get(c, base + i) != (long) SNAP.get(snapshot, i)) {
                return false;
            }
        }
        return true;
    }

    private static final VarHandle SNAP = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

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
        VarHandle.releaseFence();
        ByteBuffer c = regionFor(pa);
        // Store before the first read: a frame the guest never touched is not yet backed on the host, and a
        // read would map the host's zero page only for the guest's first store to take a second host fault
        // (fault_scale's fresh frames paid both; a recycled frame's first line is usually dirty anyway).
        I64.set(c, regionOffset(pa), 0L);
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
        VarHandle.releaseFence();
        regionFor(dstPa).put(regionOffset(dstPa), regionFor(srcPa), regionOffset(srcPa), PAGE_SIZE);
        noteWrite(dstPa);
    }

    /** Reads {@code len} bytes; the range may cross frames but must lie in RAM. */
    public void readBytes(long pa, byte[] dst, int off, int len) {
        readBytesPlain(pa, dst, off, len);
        VarHandle.acquireFence();
    }

    private void readBytesPlain(long pa, byte[] dst, int off, int len) {
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
        VarHandle.releaseFence();
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
        return ((long) CODE_BITS.getOpaque(codeBits, (int) (pfn >>> 6)) & (1L << pfn)) != 0;
    }

    private void noteWrite(long pa) {
        long pfn = pa >>> PAGE_SHIFT;
        // Opaque: never hoisted out of a store loop, so a frame marked meanwhile is seen by the next store.
        if (((long) CODE_BITS.getOpaque(codeBits, (int) (pfn >>> 6)) & (1L << pfn)) != 0) {
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
