package org.mmulab.kernel;

import org.mmulab.emulator.machine.Vcpu;
import org.mmulab.kernel.mm.Memory;

/**
 * The kernel's per-CPU data for one vCPU (DEFINE_PER_CPU in Linux 6.x: {@code current_task} and the rq's
 * curr, the user-copy path bound to this CPU's MMU, the struct vm_fault the fault path reuses, and
 * the need-resched flag). Only the vCPU's own thread reads or writes it, except {@link #curr}, which
 * the scheduler also reads under its lock.
 */
final class CpuContext {
    final Vcpu cpu;
    /** copy_{to,from}_user through this vCPU's MMU. */
    final UserAccess ua;
    /** This vCPU's struct vm_fault, reused by every fault it takes (the fault path allocates nothing). */
    final Memory.VmFault vmFault = new Memory.VmFault();
    /** The task on this vCPU, or null while it idles (guarded by Sched's lock for writes). */
    volatile Task curr;
    /** TIF_NEED_RESCHED: switch at the next return to user mode (sched_yield, a preemption). */
    boolean needResched;
    /** {@code instructions} of the vCPU when {@link #curr} was switched in: the start of its time slice. */
    long sliceStart;

    CpuContext(Kernel k, Vcpu cpu) {
        this.cpu = cpu;
        this.ua = new UserAccess(k, cpu);
    }
}
