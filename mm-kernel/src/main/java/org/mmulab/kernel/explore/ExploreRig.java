package org.mmulab.kernel.explore;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;

import org.mmulab.emulator.machine.Machine;
import org.mmulab.emulator.machine.ScheduleRecorder;
import org.mmulab.emulator.machine.ScheduleSource;
import org.mmulab.emulator.machine.Vcpu;
import org.mmulab.emulator.machine.YieldKind;
import org.mmulab.kernel.mm.FrameTable;
import org.mmulab.kernel.mm.Memory;
import org.mmulab.kernel.mm.MmFix;
import org.mmulab.kernel.mm.MmStruct;
import org.mmulab.kernel.mm.Mmap;
import org.mmulab.kernel.mm.PfnMap;
import org.mmulab.kernel.mm.PgtableOps;
import org.mmulab.kernel.mm.PteBits;

/**
 * One run of a scenario: a {@link BodyRig} (2-3 vCPUs, 16 MiB, a Java body per vCPU faulting through
 * its own MMU) under DETERMINISTIC scheduling with the seed's schedule. What the run breaks is recorded
 * as {@link Violation}s instead of thrown: a kernel exception, a deadlock, a lock held at the return to
 * user space, a frame freed while a vCPU can reach it, and whatever the scenario's monitors and final
 * checks find.
 */
public final class ExploreRig {
    /** Guest RAM of a run: small, so building a machine per seed stays cheap. */
    static final long RAM = 16L << 20;
    /** Guest RAM of a {@link GuestScenario}'s run: a libc program and its threads. */
    static final long GUEST_RAM = 64L << 20;
    /** A Java-driven run that reaches this many yield points is stuck (a livelock the revert may cause). */
    static final long MAX_YIELDS = 200_000;

    final BodyRig body;
    /** The fixes this run turns off. */
    final Set<MmFix> reverted;
    final Machine machine;
    final Memory memory;
    final Mmap mmap;
    final boolean pae;
    private final List<Violation> violations = new ArrayList<>();
    private final List<Runnable> monitors = new ArrayList<>();
    private long yields;

    ExploreRig(int cpus, boolean pae, Set<MmFix> reverted, long seed, ScheduleSource schedule, ScheduleRecorder trace) {
        this(cpus, pae, reverted, seed, schedule, trace, false, 0, MAX_YIELDS);
    }

    /**
     * {@code bare}: a machine of {@link #GUEST_RAM} without the Java bodies' mm ({@link #memory} and
     * {@link #mmap} null): a {@link GuestScenario} boots the kernel on it and turns {@link #reverted} off
     * in the kernel's Memory. {@code quantum}: guest instructions between two QUANTUM yield points (0: default).
     */
    ExploreRig(int cpus, boolean pae, Set<MmFix> reverted, long seed, ScheduleSource schedule, ScheduleRecorder trace,
            boolean bare, int quantum, long maxYields) {
        this.pae = pae;
        this.reverted = Set.copyOf(reverted);
        body = bare ? null : new BodyRig(cpus, RAM, pae, reverted);
        machine = bare ? new Machine(GUEST_RAM, cpus) : body.machine;
        memory = bare ? null : body.memory;
        mmap = bare ? null : body.mmap;
        if (quantum > 0) {
            machine.setDeterministicQuantum(quantum);
        }
        machine.setDeterministic(seed);
        machine.setScheduleSource((k, vcpu, kind, eligible, count) -> {
            yields = k + 1;
            if (k >= maxYields && kind != YieldKind.EXIT) {
                // unwinds the holder (never at its exit hand-over, which must pass the baton on)
                throw new IllegalStateException("no progress after " + maxYields + " yield points (livelock)");
            }
            for (Runnable m : monitors) {
                try {
                    m.run();
                } catch (RuntimeException e) {
                    // never out of the schedule source: the baton must pass on
                    violate("monitor-bug", e.toString());
                }
            }
            return schedule.next(k, vcpu, kind, eligible, count);
        });
        if (trace != null) {
            machine.setScheduleRecorder(trace);
        }
    }

    /** Yield points reached so far (the index the next one gets). */
    long yields() {
        return yields;
    }

    /** Runs {@code m} at every yield point (on the baton holder's thread: exactly one runs at a time). */
    void monitor(Runnable m) {
        monitors.add(m);
    }

    /** Records a broken invariant. */
    void violate(String invariant, String detail) {
        synchronized (violations) {
            violations.add(new Violation(invariant, detail, yields));
        }
    }

    List<Violation> violations() {
        synchronized (violations) {
            return new ArrayList<>(violations);
        }
    }

    /** A new, empty mm (mm_alloc + pgd_alloc). */
    MmStruct newMm() {
        MmStruct mm = memory.mmAlloc();
        if (mm == null) {
            throw new IllegalStateException("no memory for an mm");
        }
        return mm;
    }

    /** mmap(addr, len, prot, flags | MAP_ANONYMOUS | MAP_FIXED) from the setup thread. */
    void mapAnon(MmStruct mm, long addr, long len, int prot, int flags) {
        long a = mmap.doMmap(mm, null, addr, len, prot, flags | Mmap.MAP_ANONYMOUS | Mmap.MAP_FIXED, 0, null);
        if (a != addr) {
            throw new IllegalStateException("mmap at 0x" + Long.toHexString(addr) + " gave " + a);
        }
    }

    /**
     * Runs {@code bodies.get(i)} on vCPU i's thread and returns when all are done. A kernel exception
     * on a vCPU (a Java exception out of the mm: double free, BUG_ON-like checks) is a violation
     * {@code kernel-bug}; a machine whose vCPUs all wait for each other is {@code deadlock}.
     */
    void run(List<Consumer<Vcpu>> bodies) {
        try {
            body.run(bodies, cpu -> {
                if (!memory.check.checkNoLocksHeld()) {
                    violate("no-lock-at-exit", "vCPU " + cpu.id() + " returns to user space holding a lock");
                }
            });
        } catch (RuntimeException | Error e) {
            violate("kernel-bug", e.toString());
        }
        if (machine.guestDeadlocked()) {
            violate("deadlock", "every vCPU waits for another");
        }
        for (String v : memory.check.violations()) {
            violate("no-free-while-reachable", v);
        }
    }

    /** The census of {@code mms} (MmCheck.checkMms): RSS, mapcounts, page-table counts, no PTE to a free frame. */
    void checkCensus(Collection<MmStruct> mms) {
        int before = memory.check.violations().size();
        List<String> found = memory.check.checkMms(mms);
        for (String v : found) {
            violate("census", v);
        }
        if (found.isEmpty() && memory.check.violations().size() != before) {
            violate("census", "MmCheck reported during the census");
        }
    }

    /**
     * A user access from {@code cpu} to {@code va} in {@code mm} (loaded on cpu): through the MMU, and on
     * #PF through the fault path as arch/x86/mm/fault.c does it (mmap read lock, find_vma, access
     * check, handle_mm_fault), then retried. Returns the physical address, -1 for SIGSEGV (no VMA or no
     * permission) and -2 for SIGBUS/OOM from the fault path.
     */
    long access(Vcpu cpu, MmStruct mm, long va, boolean write) {
        long pa = body.access(cpu, mm, va, write);
        if (pa == BodyRig.NO_PROGRESS) {
            violate("fault-progress", "fault at 0x" + Long.toHexString(va) + " never resolved");
            return BodyRig.SIGBUS;
        }
        return pa;
    }

    /**
     * A user store of a 64-bit value: false (and a {@code no-spurious-signal} violation) if an access
     * the VMA allows was refused.
     */
    boolean store(Vcpu cpu, MmStruct mm, long va, long v) {
        long pa = access(cpu, mm, va, true);
        if (pa < 0) {
            violate("no-spurious-signal", "vCPU " + cpu.id() + ": store to 0x" + Long.toHexString(va)
                    + (pa == -1 ? " got SIGSEGV" : " got SIGBUS") + " in a writable mapping");
            return false;
        }
        machine.memory().write64(pa, v);
        return true;
    }

    /** A user load of a 64-bit value; {@code Long.MIN_VALUE} (and a violation) if refused. */
    long load(Vcpu cpu, MmStruct mm, long va) {
        long pa = access(cpu, mm, va, false);
        if (pa < 0) {
            violate("no-spurious-signal", "vCPU " + cpu.id() + ": load from 0x" + Long.toHexString(va)
                    + (pa == -1 ? " got SIGSEGV" : " got SIGBUS") + " in a readable mapping");
            return Long.MIN_VALUE;
        }
        return machine.memory().read64(pa);
    }

    /**
     * A user-space spin-wait until {@code until} holds: IPIs taken at each turn, and a LOCK_SPIN yield
     * point, which PCT passes over while anyone else can run (a waiter is not an enabled thread).
     */
    void spinUntil(java.util.function.BooleanSupplier until) {
        while (!until.getAsBoolean()) {
            machine.serviceIpis();
            machine.yieldPoint(YieldKind.LOCK_SPIN);
        }
    }

    /**
     * One turn of a user-space busy loop (x86 PAUSE): IPIs taken and a LOCK_SPIN yield point, which PCT
     * passes over until another vCPU made progress.
     */
    void pause() {
        machine.serviceIpis();
        machine.yieldPoint(YieldKind.LOCK_SPIN);
    }

    /** User instructions run: an instruction boundary (IPIs taken) and a quantum's yield point. */
    void userWork() {
        machine.serviceIpis();
        machine.yieldPoint(YieldKind.QUANTUM);
    }

    /**
     * The PTE value mapping {@code va} (0 when none), read straight from guest RAM: no charge and no
     * yield point, so monitors and checks do not change the schedule they observe.
     */
    long pte(MmStruct mm, long va) {
        PgtableOps ops = memory.ops();
        long table = mm.pgdPhys();
        for (int level = ops.levels(); level >= 1; level--) {
            long e = machine.memory().read64Acquire(ops.entryAddr(table, va, level));
            if (level == 1) {
                return e;
            }
            if (!PteBits.present(e) || (e & PteBits.PSE) != 0) {
                return 0;
            }
            table = PteBits.pfn(e) << 12;
        }
        return 0;
    }

    /** A driver's one-page PFN map: the device frame, the data the driver put there and its refcount. */
    record DeviceMapping(long pfn, long pattern, int refcount) {
    }

    /**
     * A driver's mmap handler on a private writable one-page VMA at {@code va}: a device frame outside
     * the page allocator's use (reserved, as memory a driver hands out) filled with {@code pattern},
     * mapped with remap_pfn_range (VM_PFNMAP, special PTE, no counts).
     */
    DeviceMapping mapDevice(MmStruct mm, long va, long pattern) {
        FrameTable frames = memory.frames();
        long pfn = frames.allocZeroedPage();
        if (pfn < 0) {
            throw new IllegalStateException("no memory for a device frame");
        }
        frames.reserve(pfn);
        machine.memory().write64(pfn << 12, pattern);
        mapAnon(mm, va, Mmap.PAGE_SIZE, Mmap.PROT_READ | Mmap.PROT_WRITE, Mmap.MAP_PRIVATE);
        mm.mmapLock.downWrite();
        try {
            int r = new PfnMap(memory).remapPfnRange(mm.vmaLookup(va), va, pfn, Mmap.PAGE_SIZE);
            if (r != 0) {
                throw new IllegalStateException("remap_pfn_range: " + r);
            }
        } finally {
            mm.mmapLock.upWrite();
        }
        return new DeviceMapping(pfn, pattern, frames.refcount(pfn));
    }

    /**
     * A PFN map's frame has no struct page the mm may touch (mm/memory.c vm_normal_page): its data,
     * reference count and map count are what the driver set up, whatever the users of the mapping did.
     */
    void checkDevice(DeviceMapping d) {
        FrameTable frames = memory.frames();
        String f = "the device frame 0x" + Long.toHexString(d.pfn());
        if (frames.refcount(d.pfn()) != d.refcount() || frames.mapcount(d.pfn()) != 0) {
            violate("pfnmap-untouched", f + " has refcount " + frames.refcount(d.pfn()) + " (driver's " + d.refcount()
                    + ") and mapcount " + frames.mapcount(d.pfn()));
        }
        long now = machine.memory().read64(d.pfn() << 12);
        if (now != d.pattern()) {
            violate("pfnmap-untouched", f + " reads 0x" + Long.toHexString(now) + ", not the driver's 0x"
                    + Long.toHexString(d.pattern()));
        }
    }

    /** The pfn of the PTE table that maps {@code va} in {@code mm}, or -1 when there is none. */
    long pteTable(MmStruct mm, long va) {
        PgtableOps ops = memory.ops();
        long table = mm.pgdPhys();
        for (int level = ops.levels(); level >= 2; level--) {
            long e = machine.memory().read64Acquire(ops.entryAddr(table, va, level));
            if (!PteBits.present(e) || (e & PteBits.PSE) != 0) {
                return -1;
            }
            table = PteBits.pfn(e) << 12;
        }
        return table >>> 12;
    }
}
