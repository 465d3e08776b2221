package org.mmulab.kernel.mm;

import java.util.List;
import java.util.Set;
import java.util.function.Consumer;

import org.mmulab.emulator.machine.Machine;
import org.mmulab.emulator.machine.Vcpu;
import org.mmulab.kernel.explore.BodyRig;

/**
 * The mm's SMP tests on a {@link BodyRig} (the race explorer's machine of Java-driven vCPUs), free
 * running unless a test makes it deterministic: failures are thrown, not recorded. Checks: PTE-lock
 * assertions, no lock at the return to user space, and the free observer against every vCPU's
 * reachability.
 */
final class SmpRig {
    static final int RW = Mmap.PROT_READ | Mmap.PROT_WRITE;
    final BodyRig rig;
    final Machine machine;
    final Memory memory;
    final Mmap mmap;
    final boolean pae;

    SmpRig(int cpus, long ramBytes, boolean pae) {
        this.pae = pae;
        rig = new BodyRig(cpus, ramBytes, pae, Set.of());
        machine = rig.machine;
        memory = rig.memory;
        mmap = rig.mmap;
        memory.check.assertPteLocks();
    }

    /** Runs {@code bodies.get(i)} on vCPU i's thread; returns when all are done (rethrows the first failure). */
    void run(List<Consumer<Vcpu>> bodies) {
        rig.run(bodies, cpu -> {
            if (!memory.check.checkNoLocksHeld()) {
                throw new IllegalStateException("lock held at trap exit: " + memory.check.violations());
            }
        });
    }

    /**
     * A user access from {@code cpu} to {@code va} in {@code mm} (loaded on cpu), faulting as
     * arch/x86/mm/fault.c does ({@link BodyRig#access}). Returns the physical address, or -1 for
     * SIGSEGV / SIGBUS / OOM.
     */
    long access(Vcpu cpu, MmStruct mm, long va, boolean write) {
        long pa = rig.access(cpu, mm, va, write);
        if (pa == BodyRig.NO_PROGRESS) {
            throw new IllegalStateException("fault at 0x" + Long.toHexString(va) + " never resolved");
        }
        return pa < 0 ? -1 : pa;
    }

    /** A user store of a 64-bit value (an aligned MOV): true if it happened, false on SIGSEGV. */
    boolean store(Vcpu cpu, MmStruct mm, long va, long v) {
        long pa = access(cpu, mm, va, true);
        if (pa < 0) {
            return false;
        }
        machine.memory().write64(pa, v);
        return true;
    }

    /** A user load of a 64-bit value; {@code Long.MIN_VALUE} on SIGSEGV. */
    long load(Vcpu cpu, MmStruct mm, long va) {
        long pa = access(cpu, mm, va, false);
        return pa < 0 ? Long.MIN_VALUE : machine.memory().read64(pa);
    }

    /** Interrupts enabled: the vCPU takes the IPIs sent to it meanwhile (what an instruction boundary does). */
    void irqWindow() {
        machine.serviceIpis();
    }

    /**
     * The vCPU idles (answering IPIs, no host CPU) until {@code until} holds; whoever makes it hold
     * calls {@link #signal}.
     */
    void await(Vcpu cpu, java.util.function.BooleanSupplier until) {
        cpu.idle(until);
        if (!until.getAsBoolean()) {
            throw new IllegalStateException("vCPU " + cpu.id() + " stopped while waiting");
        }
    }

    /** Wakes the idle vCPUs to re-check what they wait for. */
    void signal() {
        machine.kickAll();
    }
}
