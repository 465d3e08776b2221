package org.mmulab.kernel;

import org.mmulab.kernel.mm.MmStruct;
import org.mmulab.kernel.mm.ProcessVmAccess;

/**
 * The task-table side of process_vm_readv/writev (mm/process_vm_access.c process_vm_rw_core, Linux
 * 6.x): find_get_task_by_vpid under the scheduler's lock, then mm_access's mmget_not_zero (a task
 * that is exiting or a zombie has no mm: ESRCH); the copy runs with that reference held, so the target
 * exiting meanwhile cannot tear the mm down under it; the mmput after may be the last one.
 */
final class SysProcessVm implements ProcessVmAccess.Target {
    private final Kernel k;
    /** The task found by the last mmget (teardown needs it only for its process's exit statistics). */
    private Task found;

    SysProcessVm(Kernel k) {
        this.k = k;
    }

    /** process_vm_readv (write false) / process_vm_writev of the current task. */
    static long rw(Kernel k, MmStruct mm, long pid, long lvec, long liovcnt, long rvec, long riovcnt, long flags,
            boolean write, boolean compat) {
        return ProcessVmAccess.processVmRw(k.mmap().gup(), mm, lvec, liovcnt, new SysProcessVm(k), pid, rvec, riovcnt,
                flags, write, compat);
    }

    @Override
    public MmStruct mmget(int pid) {
        Sched s = k.sched();
        synchronized (s.lock) {
            Task t = pid > 0 ? s.findTaskLocked(pid) : null;
            if (t == null || t.mm == null || s.mmUsers(t.mm) == 0) {
                return null;
            }
            s.mmget(t.mm);
            found = t;
            return t.mm;
        }
    }

    @Override
    public void mmput(MmStruct mm) {
        if (k.sched().mmput(mm)) {
            k.teardownMm(found, mm); // the target exited while its memory was being copied
        }
    }
}
