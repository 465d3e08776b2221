package org.mmulab.kernel.mm;

import java.util.function.Supplier;

import org.mmulab.emulator.machine.Machine;
import org.mmulab.emulator.machine.YieldKind;
import org.mmulab.emulator.timing.VcpuClock;

/**
 * Where the Java kernel's work is charged: the clock of the vCPU it runs on (DESIGN.md §2 timing; a
 * fault's cost is the hardware part plus this kernel part). The narrow places where the kernel
 * touches guest RAM call it: the {@link PgtableOps} implementations (every page-table read, write and
 * atomic), {@link FrameTable} (zeroing and copying frames, per cache line), the page cache fill in
 * {@link AddressSpace}, and copy to/from user in {@code UserAccess}; {@link SpinLock} charges lock
 * acquire, release and contention hand-off. Without a machine (unit tests of the mm alone) it charges
 * nothing. Built with a {@link Machine}, the same places are the kernel's yield points (DESIGN.md §2,
 * deterministic scheduling): each page-table word read or written — each 32-bit half separately under
 * PAE — each lock acquire, release and spin, and the shootdown steps.
 */
public final class CycleCharge {
    /** Charges nothing. */
    public static final CycleCharge NONE = new CycleCharge(() -> null);

    private final Supplier<VcpuClock> source;
    /** The machine whose yield points the kernel's steps are (null: none, unit tests of the mm alone). */
    private final Machine machine;

    /** @param source the current vCPU's clock (e.g. {@code machine::currentClock}); may supply null */
    public CycleCharge(Supplier<VcpuClock> source) {
        this.source = source;
        this.machine = null;
    }

    /**
     * Charges the current vCPU of {@code machine} and makes every page-table word access, lock step and
     * shootdown a yield point of its scheduler ({@link Machine#yieldPoint}): under DETERMINISTIC
     * scheduling another vCPU may run between any two of them; under PARALLEL it costs a field read.
     */
    public CycleCharge(Machine machine) {
        this.source = machine::currentClock;
        this.machine = machine;
    }

    /** The clock work is charged to now, or null. */
    public VcpuClock clock() {
        return source.get();
    }

    /** The machine (IPIs, yield points), or null. */
    public Machine machine() {
        return machine;
    }

    /** A yield point of kind {@code k} (nothing without a machine). */
    public void yieldPoint(YieldKind k) {
        Machine m = machine;
        if (m != null) {
            m.yieldPoint(k);
        }
    }

    /** A latency-bound load of one page-table word; {@code k}: PTE_READ, or PTE_READ_LO/HI for a PAE half. */
    void load(long pa, YieldKind k) {
        yieldPoint(k);
        VcpuClock c = source.get();
        if (c != null) {
            c.kernelLoad(pa);
        }
    }

    /** A store to one page-table word; {@code k}: PTE_WRITE, or PTE_WRITE_LO/HI for a PAE half. */
    void store(long pa, YieldKind k) {
        yieldPoint(k);
        VcpuClock c = source.get();
        if (c != null) {
            c.kernelStore(pa);
        }
    }

    /** A locked read-modify-write (xchg, cmpxchg) of one page-table word. */
    void atomic(long pa) {
        yieldPoint(YieldKind.PTE_WRITE);
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
