package org.mmulab.emulator.timing;

import java.util.concurrent.atomic.AtomicLong;

/**
 * One vCPU's cycle account for everything that is not a plain instruction or a TLB lookup: the Java
 * kernel's guest-memory accesses (through the same {@link CacheHierarchy} the page walker uses, so
 * kernel work and walks evict each other's lines), trap entry and exit, page-table locks, IPIs; plus
 * the per-vCPU kernel-side counters perf has names for (page-faults, minor-faults) and mmulab's own
 * (shootdowns, IPIs, ptlock contention) and the page-fault latency histogram.
 *
 * <p>Two modes. Cycle mode ({@code caches != null}) sends every kernel access through the cache
 * model. Fast mode ({@code caches == null}) charges each access as an L1D hit: the same events, fixed
 * prices, no cache model, so the kernel paths cost the host almost nothing. Instruction base costs and
 * walk costs are not here: the vCPU adds them (per instruction in cycle mode, from counters in fast
 * mode).
 *
 * <p>Written by the vCPU's own thread (the kernel runs on it), except {@link #ipiReceived}, which the
 * sender calls: that charge goes through an atomic and is folded in by {@link #cycles()}.
 */
public final class VcpuClock {
    /** log2 buckets of the fault-latency histogram: bucket i holds latencies in [2^i, 2^(i+1)). */
    public static final int HISTOGRAM_BUCKETS = 40;

    private final TimingModel model;
    private final CacheHierarchy caches;
    private final int l1Latency;
    private final int l1Bulk;
    /** Cycles charged by this clock (see the class comment for what is included). */
    private long cycles;
    private final AtomicLong remoteCycles = new AtomicLong();
    /** Cycles the vCPU was idle (a deterministic nanosleep): virtual time, not perf's cycles. */
    private long idleCycles;

    public long kernelLoads, kernelStores, kernelBulkLines;
    /**
     * Where the kernel-side cycles went (the {@code --stats} breakdown of a fault's cost): trap entry and
     * exit (exceptions and system calls), the fault path's own instructions ({@link TimingModel#faultKernelPath}),
     * page-table loads and stores, bulk zeroing/copying, locks and IPIs.
     */
    public long trapCycles, faultPathCycles, ptAccessCycles, bulkCycles, lockIpiCycles;
    /**
     * Of {@link #cycles}: what the virtualised-host layer ({@link TimingModel#hostLayer}) added to system calls
     * and exceptions; zero for a bare-metal model.
     */
    public long hypervisorCycles;
    private final int hvSyscall, hvException;
    public long exceptions, syscalls, pageFaults, minorFaults;
    public long lockAcquires, lockContended;
    public long ipisSent, shootdowns;
    private final AtomicLong ipisReceived = new AtomicLong();
    private final long[] faultHistogram = new long[HISTOGRAM_BUCKETS];
    private long faultsTimed, faultCyclesTotal, faultCyclesMax;

    /** @param caches the vCPU's cache hierarchy in cycle mode; null in fast mode */
    public VcpuClock(TimingModel model, CacheHierarchy caches) {
        this.model = model;
        this.caches = caches;
        this.l1Latency = model.l1d().latency();
        this.l1Bulk = model.bulkLine(CacheHierarchy.L1);
        this.hvSyscall = model.hostLayer().syscallCycles();
        this.hvException = model.hostLayer().exceptionCycles();
    }

    public TimingModel model() {
        return model;
    }

    public boolean cycleMode() {
        return caches != null;
    }

    /** The cache hierarchy of cycle mode, or null. */
    public CacheHierarchy caches() {
        return caches;
    }

    /** Cycles charged here so far (kernel, traps, locks, IPIs; in cycle mode also instruction costs). */
    public long cycles() {
        return cycles + remoteCycles.get();
    }

    public long idleCycles() {
        return idleCycles;
    }

    /** Adds {@code n} cycles of work. */
    public void charge(long n) {
        cycles += n;
    }

    /** The vCPU sleeps for {@code n} cycles: virtual time advances, perf's cycles do not. */
    public void idle(long n) {
        idleCycles += n;
    }

    // ---- kernel memory accesses ---------------------------------------------------------------

    /** One latency-bound kernel load of the word at {@code pa} (a page-table read). */
    public void kernelLoad(long pa) {
        kernelLoads++;
        int c = caches == null ? l1Latency : caches.load(pa);
        cycles += c;
        ptAccessCycles += c;
    }

    /** One kernel store to {@code pa} (a page-table write, or a locked cmpxchg on an entry). */
    public void kernelStore(long pa) {
        kernelStores++;
        int c; // write-allocate: the line is fetched (RFO); other vCPUs' copies are invalidated (a snoop if any)
        if (caches == null) {
            c = l1Latency;
        } else {
            int snoop = caches.store(pa);
            c = caches.latency(caches.lastLevel()) + snoop;
        }
        cycles += c;
        ptAccessCycles += c;
    }

    /**
     * Sequential kernel access to {@code bytes} bytes from {@code pa} (zeroing a frame, copy to/from
     * user): per 64-byte line, the bandwidth-bound cost of the level that holds it.
     */
    public void kernelBulk(long pa, long bytes) {
        if (bytes <= 0) {
            return;
        }
        long first = pa >>> CacheLevel.LINE_SHIFT;
        long last = (pa + bytes - 1) >>> CacheLevel.LINE_SHIFT;
        long lines = last - first + 1;
        kernelBulkLines += lines;
        long c = 0;
        if (caches == null) {
            c = lines * l1Bulk;
        } else {
            for (long l = first; l <= last; l++) {
                c += model.bulkLine(caches.access(l << CacheLevel.LINE_SHIFT)) + caches.lastExtra();
            }
        }
        cycles += c;
        bulkCycles += c;
    }

    /** copy_page: read every line of the source, write every line of the destination. */
    public void kernelCopy(long srcPa, long dstPa, long bytes) {
        kernelBulk(srcPa, bytes);
        kernelBulk(dstPa, bytes);
    }

    // ---- traps, locks, IPIs ---------------------------------------------------------------------

    public void exceptionEntry() {
        exceptions++;
        cycles += model.exceptionEntry() + hvException;
        trapCycles += model.exceptionEntry();
        hypervisorCycles += hvException;
    }

    public void exceptionExit() {
        cycles += model.exceptionExit();
        trapCycles += model.exceptionExit();
    }

    public void syscallEntry() {
        syscalls++;
        cycles += model.syscallEntry() + hvSyscall;
        trapCycles += model.syscallEntry();
        hypervisorCycles += hvSyscall;
    }

    public void syscallExit() {
        cycles += model.syscallExit();
        trapCycles += model.syscallExit();
    }

    /**
     * A page fault entered the kernel's fault handler (perf's page-faults software event): charges the
     * fault path's own instructions ({@link TimingModel#faultKernelPath}); the trap, the page-table
     * accesses and the zeroing are charged where they happen.
     */
    public void pageFault() {
        pageFaults++;
        cycles += model.faultKernelPath();
        faultPathCycles += model.faultKernelPath();
    }

    /** A fault was resolved without I/O (perf's minor-faults). */
    public void minorFault() {
        minorFaults++;
    }

    /** A lock was taken; {@code contended}: it was held, so the line came over from its owner. */
    public void lockAcquired(boolean contended) {
        lockAcquires++;
        long c = model.lockAcquire();
        if (contended) {
            lockContended++;
            c += model.lockHandoff();
        }
        cycles += c;
        lockIpiCycles += c;
    }

    public void lockReleased() {
        cycles += model.lockRelease();
        lockIpiCycles += model.lockRelease();
    }

    /** This vCPU sent an IPI and waited for its acknowledgement. */
    public void ipiSent() {
        ipisSent++;
        cycles += model.ipiSend() + model.ipiAckWait();
        lockIpiCycles += model.ipiSend() + model.ipiAckWait();
    }

    /** This vCPU took an IPI (interrupt entry, handler, EOI, IRET). Callable from the sender's thread. */
    public void ipiReceived() {
        ipisReceived.incrementAndGet();
        remoteCycles.addAndGet(model.ipiReceive());
    }

    public long ipisReceived() {
        return ipisReceived.get();
    }

    /** A TLB shootdown this vCPU initiated (one flush request to at least one other vCPU). */
    public void shootdown() {
        shootdowns++;
    }

    // ---- fault latency --------------------------------------------------------------------------

    /** Records one page fault's total cost (hardware part + kernel part) in cycles. */
    public void recordFault(long latency) {
        long l = Math.max(1, latency);
        int bucket = Math.min(HISTOGRAM_BUCKETS - 1, 63 - Long.numberOfLeadingZeros(l));
        faultHistogram[bucket]++;
        faultsTimed++;
        faultCyclesTotal += latency;
        faultCyclesMax = Math.max(faultCyclesMax, latency);
    }

    /** Count of faults whose latency lies in [2^i, 2^(i+1)) (the last bucket is open-ended). */
    public long faultHistogram(int i) {
        return faultHistogram[i];
    }

    public long faultsTimed() {
        return faultsTimed;
    }

    public long faultCyclesTotal() {
        return faultCyclesTotal;
    }

    public long faultCyclesMax() {
        return faultCyclesMax;
    }
}
