package org.mmulab.kernel.mm;

import java.util.List;
import java.util.function.Consumer;

import org.mmulab.emulator.cpu.CpuState;
import org.mmulab.emulator.cpu.GuestFault;
import org.mmulab.emulator.machine.Machine;
import org.mmulab.emulator.machine.TrapHandler;
import org.mmulab.emulator.machine.Vcpu;
import org.mmulab.emulator.mmu.PfErr;

/**
 * A machine of N vCPUs running the mm without guest images: every vCPU starts paging on init_mm's empty
 * tables, so its first instruction fetch raises #PF, and the trap handler runs that vCPU's Java body on
 * the vCPU's own thread — exactly where the kernel's fault and syscall code runs. A body drives the mm
 * the way the kernel does (switch_mm, handle_mm_fault under the mmap lock, munmap, fork) and touches
 * user memory through its own vCPU's MMU, so its TLB and paging-structure caches fill as a guest's
 * would. Checks: PTE-lock assertions, and the free observer against every vCPU's reachability.
 */
final class SmpRig {
    static final int RW = Mmap.PROT_READ | Mmap.PROT_WRITE;
    final Machine machine;
    final Memory memory;
    final Mmap mmap;
    final boolean pae;

    SmpRig(int cpus, long ramBytes, boolean pae) {
        this.pae = pae;
        machine = new Machine(ramBytes, cpus);
        CycleCharge charge = new CycleCharge(machine);
        FrameTable frames = new FrameTable(machine.memory());
        frames.setCharge(charge);
        memory = new Memory(machine.memory(), frames,
                pae ? new PaePgtable(machine.memory(), charge) : new X86_64Pgtable(machine.memory(), charge));
        memory.check.assertPteLocks();
        memory.check.watchFrees(machine);
        mmap = new Mmap(memory);
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

    /** Runs {@code bodies.get(i)} on vCPU i's thread; returns when all are done (rethrows the first failure). */
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
                        throw new IllegalStateException("lock held at trap exit: " + memory.check.violations());
                    }
                } finally {
                    cpu.stop();
                }
            }
        });
        machine.runAll();
    }

    /**
     * A user access from {@code cpu} to {@code va} in {@code mm} (loaded on cpu): through the MMU, and on
     * #PF through the fault path as arch/x86/mm/fault.c does it (mmap read lock, find_vma, access check,
     * handle_mm_fault), then retried. Returns the physical address, or -1 for SIGSEGV / OOM.
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
                if (vma == null || va < vma.start || (write ? (vma.flags & VmArea.VM_WRITE) == 0 : !vma.accessible())) {
                    return -1;
                }
                r = memory.handleMmFault(vma, va, Memory.FAULT_FLAG_USER | (write ? Memory.FAULT_FLAG_WRITE : 0));
            } finally {
                mm.mmapLock.upRead();
            }
            if (r != Memory.VM_FAULT_OK) {
                return -1;
            }
        }
        throw new IllegalStateException("fault at 0x" + Long.toHexString(va) + " never resolved");
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
