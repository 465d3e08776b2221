package org.mmulab.kernel.mm;

import java.util.function.Supplier;

import org.mmulab.emulator.timing.VcpuClock;

/**
 * Where the Java kernel's work is charged: the clock of the vCPU it runs on (DESIGN.md §2 timing; a
 * fault's cost is the hardware part plus this kernel part). The narrow places where the kernel
 * touches guest RAM call it: the {@link PgtableOps} implementations (every page-table read, write and
 * atomic), {@link FrameTable} (zeroing and copying frames, per cache line), the page cache fill in
 * {@link AddressSpace}, and copy to/from user in {@code UserAccess}; {@link SpinLock} charges lock
 * acquire, release and contention hand-off. Without a machine (unit tests of the mm alone) it charges
 * nothing.
 */
public final class CycleCharge {
    /** Charges nothing. */
    public static final CycleCharge NONE = new CycleCharge(() -> null);

    private final Supplier<VcpuClock> source;

    /** @param source the current vCPU's clock (e.g. {@code machine::currentClock}); may supply null */
    public CycleCharge(Supplier<VcpuClock> source) {
        this.source = source;
    }

    /** The clock work is charged to now, or null. */
    public VcpuClock clock() {
        return source.get();
    }

    /** A latency-bound load of one page-table word. */
    void load(long pa) {
        VcpuClock c = source.get();
        if (c != null) {
            c.kernelLoad(pa);
        }
    }

    /** A store to one page-table word. */
    void store(long pa) {
        VcpuClock c = source.get();
        if (c != null) {
            c.kernelStore(pa);
        }
    }

    /** A locked read-modify-write (xchg, cmpxchg) of one page-table word. */
    void atomic(long pa) {
        VcpuClock c = source.get();
        if (c != null) {
            c.kernelStore(pa);
            c.charge(c.model().cycles(org.mmulab.emulator.timing.InstrClass.LOCKED_RMW));
        }
    }

    /**
     * {@link PgtableOps#nextNonNone} for formats whose none entry is a zero 64-bit word: one scan of the
     * table from entry {@code from}, charged as a sequential read of every entry up to the hit.
     */
    int scanNone(org.mmulab.emulator.memory.PhysicalMemory mem, long tablePa, int from, int to) {
        if (from >= to) {
            return to;
        }
        int hit = from + mem.firstNonZero64(tablePa + 8L * from, to - from);
        bulk(tablePa + 8L * from, 8L * (Math.min(hit + 1, to) - from));
        return hit;
    }

    /** Sequential access to {@code bytes} bytes at {@code pa}, per cache line. */
    public void bulk(long pa, long bytes) {
        VcpuClock c = source.get();
        if (c != null) {
            c.kernelBulk(pa, bytes);
        }
    }

    /** copy_page and friends: every source line read, every destination line written. */
    void copy(long srcPa, long dstPa, long bytes) {
        VcpuClock c = source.get();
        if (c != null) {
            c.kernelCopy(srcPa, dstPa, bytes);
        }
    }
}
