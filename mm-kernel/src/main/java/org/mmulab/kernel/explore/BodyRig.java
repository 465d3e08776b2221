package org.mmulab.kernel.explore;

import java.util.List;
import java.util.Set;
import java.util.function.Consumer;

import org.mmulab.emulator.cpu.CpuState;
import org.mmulab.emulator.cpu.GuestFault;
import org.mmulab.emulator.machine.Machine;
import org.mmulab.emulator.machine.TrapHandler;
import org.mmulab.emulator.machine.Vcpu;
import org.mmulab.emulator.mmu.PfErr;
import org.mmulab.kernel.mm.CycleCharge;
import org.mmulab.kernel.mm.FrameTable;
import org.mmulab.kernel.mm.Memory;
import org.mmulab.kernel.mm.MmFix;
import org.mmulab.kernel.mm.MmStruct;
import org.mmulab.kernel.mm.Mmap;
import org.mmulab.kernel.mm.PaePgtable;
import org.mmulab.kernel.mm.VmArea;
import org.mmulab.kernel.mm.X86_64Pgtable;

/**
 * A machine of N vCPUs running the mm port without a guest image, each vCPU driven by a Java body: every
 * vCPU starts paging on init_mm's empty tables at CPL 3, so its first instruction fetch raises #PF and
 * the trap handler runs that vCPU's body on the vCPU's own thread — where the kernel's fault and
 * syscall code runs. A body drives the mm as the kernel does (switch_mm, handle_mm_fault under the mmap
 * lock, munmap, fork) and touches user memory through its own vCPU's MMU, so its TLB and
 * paging-structure caches fill as a guest's would, with the walker's yield points. The frame table's
 * free observer watches for frames freed while a vCPU can reach them ({@code MmCheck.watchFrees}).
 *
 * <p>Shared by the race explorer ({@link ExploreRig}: deterministic schedules, violations recorded) and
 * the mm's SMP tests (free-running threads, failures thrown).
 */
public final class BodyRig {
    /** {@link #access}: no VMA or no permission (the fault path would send SIGSEGV). */
    public static final long SIGSEGV = -1;
    /** {@link #access}: the fault path gave up (SIGBUS, OOM). */
    public static final long SIGBUS = -2;
    /** {@link #access}: the fault was handled 64 times and the access still faults. */
    public static final long NO_PROGRESS = -3;

    public final Machine machine;
    public final Memory memory;
    public final Mmap mmap;
    public final boolean pae;

    /** A machine of {@code cpus} vCPUs and {@code ramBytes} of RAM; {@code reverted}: fixes turned off. */
    public BodyRig(int cpus, long ramBytes, boolean pae, Set<MmFix> reverted) {
        this.pae = pae;
        machine = new Machine(ramBytes, cpus);
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

    /**
     * Runs {@code bodies.get(i)} on vCPU i's thread and returns when all are done; {@code atExit} (may
     * be null) runs on the vCPU's thread after its body returned normally, as the return to user space.
     * A body's exception ends its vCPU and propagates out of {@link Machine#runAll}.
     */
    public void run(List<Consumer<Vcpu>> bodies, Consumer<Vcpu> atExit) {
        machine.setTrapHandler(new TrapHandler() {
            @Override
            public void syscall(Vcpu cpu, boolean int80) {
                throw new IllegalStateException("no guest code here");
            }

            @Override
            public void exception(Vcpu cpu, int vector, long errorCode) {
                try {
                    bodies.get(cpu.id()).accept(cpu);
                    if (atExit != null) {
                        atExit.accept(cpu);
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
     * #PF through the fault path as arch/x86/mm/fault.c does it (mmap read lock, find_vma, access
     * check, handle_mm_fault), then retried. Returns the physical address, {@link #SIGSEGV},
     * {@link #SIGBUS} or {@link #NO_PROGRESS}.
     */
    public long access(Vcpu cpu, MmStruct mm, long va, boolean write) {
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
                    return SIGSEGV;
                }
                r = memory.handleMmFault(vma, va, Memory.FAULT_FLAG_USER | (write ? Memory.FAULT_FLAG_WRITE : 0));
            } finally {
                mm.mmapLock.upRead();
            }
            if (r != Memory.VM_FAULT_OK) {
                return SIGBUS;
            }
        }
        return NO_PROGRESS;
    }
}
