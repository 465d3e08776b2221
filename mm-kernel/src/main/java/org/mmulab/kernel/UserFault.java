package org.mmulab.kernel;

import static org.mmulab.kernel.Kernel.FAULT_OK;
import static org.mmulab.kernel.Kernel.FAULT_OOM;
import static org.mmulab.kernel.Kernel.FAULT_SIGBUS;
import static org.mmulab.kernel.Kernel.FAULT_SIGSEGV;

import org.mmulab.emulator.machine.Vcpu;
import org.mmulab.emulator.mmu.PfErr;
import org.mmulab.kernel.mm.Memory;
import org.mmulab.kernel.mm.MmStruct;
import org.mmulab.kernel.mm.VmArea;

/**
 * User page faults (Linux 6.x arch/x86/mm/fault.c): do_user_addr_fault (find the VMA, expand a stack
 * under the upgraded mmap lock, access_error, handle_mm_fault) and the kernel-mode fault on a user address
 * taken by copy_to/from_user. Results are {@link Kernel#FAULT_OK} and the other FAULT_* codes.
 */
final class UserFault {
    private final Kernel k;

    UserFault(Kernel k) {
        this.k = k;
    }

    /** access_error(): may this access touch this VMA at all? */
    static boolean accessError(long err, VmArea vma) {
        if ((err & PfErr.PK) != 0) {
            return true;
        }
        if ((err & PfErr.W) != 0) {
            return (vma.flags() & VmArea.VM_WRITE) == 0;
        }
        if ((err & PfErr.P) != 0) {
            return true; // read, present: a protection fault (NX fetch, no U bit)
        }
        return !vma.accessible();
    }

    /**
     * do_user_addr_fault: find the VMA (expanding a stack), check access, handle_mm_fault. Returns
     * FAULT_OK when the access should be retried.
     */
    int doUserAddrFault(Vcpu cpu, long address, long err) {
        cpu.clock().pageFault(); // perf_sw_event(PERF_COUNT_SW_PAGE_FAULTS) at the top of do_user_addr_fault
        Task t = k.cpuContext(cpu).curr;
        MmStruct mm = t == null ? null : t.mm;
        if (mm == null || (err & PfErr.RSVD) != 0 || address < 0 || address >= mm.taskSize) {
            k.memory().stats.faultSigsegv.incrementAndGet();
            return FAULT_SIGSEGV;
        }
        int flags = 0;
        if ((err & PfErr.U) != 0) {
            flags |= Memory.FAULT_FLAG_USER;
        }
        if ((err & PfErr.W) != 0) {
            flags |= Memory.FAULT_FLAG_WRITE;
        }
        if ((err & PfErr.I) != 0) {
            flags |= Memory.FAULT_FLAG_INSTRUCTION;
        }
        // lock_mm_and_find_vma: read lock, upgraded to write only to expand a stack.
        mm.mmapLock.downRead();
        boolean write = false;
        try {
            VmArea vma = t != null && mm.vmacacheValid(t.vmacache, address) ? t.vmacache : mm.findVma(address);
            if (vma == null) {
                k.memory().stats.faultSigsegv.incrementAndGet();
                return FAULT_SIGSEGV;
            }
            if (vma.start() > address) {
                if ((vma.flags() & VmArea.VM_GROWSDOWN) == 0) {
                    k.memory().stats.faultSigsegv.incrementAndGet();
                    return FAULT_SIGSEGV;
                }
                mm.mmapLock.upRead();
                mm.mmapLock.downWrite();
                write = true;
                vma = mm.findVma(address);
                if (vma == null || (vma.start() > address
                        && ((vma.flags() & VmArea.VM_GROWSDOWN) == 0 || k.mmap().expandStack(mm, vma, address) != 0))) {
                    k.memory().stats.faultSigsegv.incrementAndGet();
                    return FAULT_SIGSEGV;
                }
            }
            if (accessError(err, vma)) {
                k.memory().stats.faultSigsegv.incrementAndGet();
                return FAULT_SIGSEGV;
            }
            if (t != null) {
                t.vmacache = vma; // vmacache_update
            }
            int r = k.memory().handleMmFault(vmFault(cpu), vma, address, flags);
            if (r == Memory.VM_FAULT_OK) {
                cpu.clock().minorFault(); // mm_account_fault: no I/O was needed
                return FAULT_OK;
            }
            if (r == Memory.VM_FAULT_OOM) {
                return FAULT_OOM;
            }
            if (r == Memory.VM_FAULT_SIGBUS) {
                return FAULT_SIGBUS;
            }
            k.memory().stats.faultSigsegv.incrementAndGet();
            return FAULT_SIGSEGV;
        } finally {
            if (write) {
                mm.mmapLock.upWrite();
            } else {
                mm.mmapLock.upRead();
            }
        }
    }

    /** The vCPU's struct vm_fault, reused by every fault it takes (the fault path allocates nothing). */
    private Memory.VmFault vmFault(Vcpu cpu) {
        return k.cpuContext(cpu).vmFault;
    }

    /**
     * A #PF taken by the kernel itself on a user address (copy_to/from_user). True when resolved; on
     * VM_FAULT_OOM the OOM killer's SIGKILL is left pending for the task, and the copy fails.
     */
    boolean kernelModeFault(Vcpu cpu, long address, long err) {
        int r = doUserAddrFault(cpu, address, err);
        Task task = k.cpuContext(cpu).curr;
        if (r == FAULT_OOM && task != null) {
            task.oomKillPending = true;
        }
        return r == FAULT_OK;
    }
}
