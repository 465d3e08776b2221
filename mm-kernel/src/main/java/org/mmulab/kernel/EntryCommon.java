package org.mmulab.kernel;

import org.mmulab.emulator.cpu.CpuState;
import org.mmulab.emulator.machine.Vcpu;

/**
 * Entry and exit of the kernel for system calls and the timer tick (Linux 6.x arch/x86/entry/common.c
 * do_syscall_64 / do_int80_syscall_32, kernel/entry/common.c exit_to_user_mode_loop, kernel/sched/core.c
 * scheduler_tick): dispatch through {@link Syscalls}, then a pending kill, the OOM kill, pending signals
 * and a reschedule on the way back to user mode.
 */
final class EntryCommon {
    private final Kernel k;

    EntryCommon(Kernel k) {
        this.k = k;
    }

    void syscall(Vcpu cpu, boolean int80) {
        CpuContext ctx = k.enter(cpu);
        Task t = ctx.curr;
        if (t == null || t.exited || t.killPending) {
            if (t == null || !returnToUser(ctx)) {
                k.sched().schedule(ctx);
            }
            return;
        }
        t.lastFaultAddr = -1;
        long nr = cpu.state.gpr[CpuState.RAX];
        t.origAx = nr & 0xffff_ffffL;
        long ret = k.syscalls().dispatch(cpu, int80);
        if (ret == Sched.BLOCK || t.exited) {
            k.sched().schedule(ctx); // the continuation sets RAX when the task is woken
            return;
        }
        cpu.state.gpr[CpuState.RAX] = ret;
        if (!returnToUser(ctx)) {
            k.sched().schedule(ctx);
        }
    }
    void tick(Vcpu cpu) {
        CpuContext ctx = k.enter(cpu);
        Task t = ctx.curr;
        if (t == null) {
            k.sched().schedule(ctx);
            return;
        }
        if (k.sched().hasTimed()) {
            k.sched().expireTimeouts(cpu);
        }
        if (k.sched().sliceExpired(ctx)) {
            ctx.needResched = true;
        }
        if (t.mm != null) {
            k.memory().khugepaged.tick(t.mm); // khugepaged's pass for MADV_HUGEPAGE VMAs, every few ticks
        }
        if (!ctx.needResched && !t.killPending && !t.oomKillPending && !SignalQueue.hasDeliverable(t)) {
            return;
        }
        if (!returnToUser(ctx)) {
            k.sched().schedule(ctx);
        }
    }

    /**
     * exit_to_user_mode_loop for the vCPU's current task: a pending kill exits it, the OOM kill, pending
     * signals are delivered. True when the task goes back to user mode; false when the vCPU must
     * schedule (the task exited, blocked, or must yield).
     */
    boolean returnToUser(CpuContext ctx) {
        Task t = ctx.curr;
        if (t == null) {
            return false;
        }
        for (int i = 0; i < 4 && !t.exited && t.state == Task.RUNNING; i++) {
            if (t.killPending) {
                k.exits().exitThread(t, 128 + k.SIGKILL, k.SIGKILL);
            } else if (t.oomKillPending) {
                k.oomKill();
            } else if (SignalQueue.hasDeliverable(t)) {
                SignalQueue.deliverPending(k, ctx.cpu, t);
            } else {
                break;
            }
        }
        if (org.mmulab.kernel.mm.MmCheck.enabled) {
            k.memory().check.checkNoLocksHeld();
        }
        boolean toUser = !t.exited && t.state == Task.RUNNING && !ctx.needResched;
        if (!t.exited && t.state == Task.RUNNING) {
            SyscallRestart.noHandler(t, ctx.cpu.state); // an interrupted call with no handler run: again
        }
        return toUser;
    }
}
