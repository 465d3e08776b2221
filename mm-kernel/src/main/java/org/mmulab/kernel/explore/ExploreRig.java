package org.mmulab.kernel.explore;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;

import org.mmulab.emulator.cpu.CpuState;
import org.mmulab.emulator.cpu.GuestFault;
import org.mmulab.emulator.machine.Machine;
import org.mmulab.emulator.machine.ScheduleRecorder;
import org.mmulab.emulator.machine.ScheduleSource;
import org.mmulab.emulator.machine.TrapHandler;
import org.mmulab.emulator.machine.Vcpu;
import org.mmulab.emulator.machine.YieldKind;
import org.mmulab.emulator.mmu.PfErr;
import org.mmulab.kernel.mm.CycleCharge;
import org.mmulab.kernel.mm.FrameTable;
import org.mmulab.kernel.mm.Memory;
import org.mmulab.kernel.mm.MmFix;
import org.mmulab.kernel.mm.MmStruct;
import org.mmulab.kernel.mm.Mmap;
import org.mmulab.kernel.mm.PaePgtable;
import org.mmulab.kernel.mm.PgtableOps;
import org.mmulab.kernel.mm.PteBits;
import org.mmulab.kernel.mm.VmArea;
import org.mmulab.kernel.mm.X86_64Pgtable;

/**
 * One run of a scenario: a small machine (2-3 vCPUs, 16 MiB) under DETERMINISTIC scheduling with the
 * mm port on it, no guest image. Every vCPU starts paging on init_mm's empty tables at CPL 3, so its
 * first fetch raises #PF and the trap handler runs that vCPU's Java body on the vCPU's own thread —
 * where the kernel's fault and syscall code runs. Bodies touch user memory through their own vCPU's
 * MMU (TLB, paging-structure caches, walker A/D updates, all with their yield points) and enter the
 * fault path as arch/x86/mm/fault.c does. The frame table's free observer reports a frame freed while
 * a vCPU can still reach it ({@code MmCheck.watchFrees}).
 */
public final class ExploreRig {
    /** Guest RAM of a run: small, so building a machine per seed stays cheap. */
    static final long RAM = 16L << 20;
    /** A run that reaches this many yield points is stuck (a livelock the revert may cause). */
    static final long MAX_YIELDS = 200_000;

    final Machine machine;
    final Memory memory;
    final Mmap mmap;
    final boolean pae;
    private final List<Violation> violations = new ArrayList<>();
    private final List<Runnable> monitors = new ArrayList<>();
    private long yields;

    ExploreRig(int cpus, boolean pae, Set<MmFix> reverted, long seed, ScheduleSource schedule, ScheduleRecorder trace) {
        this.pae = pae;
        machine = new Machine(RAM, cpus);
        machine.setDeterministic(seed);
        CycleCharge charge = new CycleCharge(machine);
        FrameTable frames = new FrameTable(machine.memory());
        frames.setCharge(charge);
        memory = new Memory(machine.memory(), frames,
                pae ? new PaePgtable(machine.memory(), charge) : new X86_64Pgtable(machine.memory(), charge));
        for (MmFix f : reverted) {
            memory.fixes.revert(f);
        }
        memory.check.watchFrees(machine);
        mmap = new Mmap(memory);
        machine.setScheduleSource((k, vcpu, kind, eligible, count) -> {
            yields = k + 1;
            if (k >= MAX_YIELDS && kind != YieldKind.EXIT) {
                // unwinds the holder (never at its exit hand-over, which must pass the baton on)
                throw new IllegalStateException("no progress after " + MAX_YIELDS + " yield points (livelock)");
            }
            for (Runnable m : monitors) {
                m.run();
            }
            return schedule.next(k, vcpu, kind, eligible, count);
        });
        if (trace != null) {
            machine.setScheduleRecorder(trace);
        }
        for (Vcpu v : machine.vcpus()) {
            CpuState s = v.state;
            long cr0 = s.cr0, cr4 = s.cr4, efer = s.efer;
            s.cr0 |= CpuState.CR0_PE | CpuState.CR0_PG | CpuState.CR0_WP;
            if (pae) {
                s.efer = (s.efer & ~(CpuState.EFER_LME | CpuState.EFER_LMA | CpuState.EFER_SCE)) | CpuState.EFER_NXE;
                s.cr4 = (s.cr4 & ~CpuState.CR4_PCIDE) | CpuState.CR4_PAE | CpuState.CR4_PGE;
                s.longMode64 = false;
            } else {
                s.efer |= CpuState.EFER_LME | CpuState.EFER_LMA | CpuState.EFER_NXE;
                s.cr4 |= CpuState.CR4_PAE | CpuState.CR4_PGE | CpuState.CR4_PCIDE;
                s.longMode64 = true;
            }
            s.cpl = 3;
            s.cr3 = memory.swapperPgdPhys();
            s.rip = 0x10_0000; // mapped by nothing: the first fetch traps into the body
            v.mmu().controlRegistersChanged(cr0, cr4, efer);
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
        machine.setTrapHandler(new TrapHandler() {
            @Override
            public void syscall(Vcpu cpu, boolean int80) {
                throw new IllegalStateException("no guest code here");
            }

            @Override
            public void exception(Vcpu cpu, int vector, long errorCode) {
                try {
                    bodies.get(cpu.id()).accept(cpu);
                    if (!memory.check.checkNoLocksHeld()) {
                        violate("no-lock-at-exit", "vCPU " + cpu.id() + " returns to user space holding a lock");
                    }
                } finally {
                    cpu.stop();
                }
            }
        });
        try {
            machine.runAll();
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
        int pf = PfErr.U | (write ? PfErr.W : 0);
        for (int tries = 0; tries < 64; tries++) {
            try {
                return cpu.mmu().translate(va, pf);
            } catch (GuestFault f) {
                cpu.state.exceptionVector = -1;
            }
            mm.mmapLock.downRead();
            int r;
            try {
                VmArea vma = mm.findVma(va);
                if (vma == null || va < vma.start()
                        || (write ? (vma.flags() & VmArea.VM_WRITE) == 0 : !vma.accessible())) {
                    return -1;
                }
                r = memory.handleMmFault(vma, va, Memory.FAULT_FLAG_USER | (write ? Memory.FAULT_FLAG_WRITE : 0));
            } finally {
                mm.mmapLock.upRead();
            }
            if (r != Memory.VM_FAULT_OK) {
                return -2;
            }
        }
        violate("fault-progress", "fault at 0x" + Long.toHexString(va) + " never resolved");
        return -2;
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
}
