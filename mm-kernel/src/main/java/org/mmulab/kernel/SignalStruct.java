package org.mmulab.kernel;

import java.util.ArrayList;
import java.util.List;

/**
 * struct signal_struct (include/linux/sched/signal.h, Linux 6.x): what the threads of one process share
 * and what its parent waits for. The thread-group id, the live threads, the group-exit state
 * (SIGNAL_GROUP_EXIT and group_exit_code), the resource limits, and the process-tree links a real
 * kernel keeps in task_struct (real_parent, children, exit_signal) and in signal_struct's
 * wait_chldexit: kept per process here, since only whole processes are waited for (no __WCLONE
 * children: a thread's exit_signal is -1, it is never a child).
 *
 * <p>Every field is guarded by {@link Sched}'s lock.
 */
final class SignalStruct {
    final int tgid;
    /** The thread-group leader (its Task object outlives it while the process is a zombie). */
    Task leader;
    /** The live threads (nr_threads); empty once the process is a zombie. */
    final List<Task> threads = new ArrayList<>();
    /** real_parent's process, or null for init. */
    SignalStruct parent;
    /** Child processes not yet reaped (live or zombie). */
    final List<SignalStruct> children = new ArrayList<>();
    /** Tasks blocked in wait4/waitid on this process's children (wait_chldexit). */
    final List<Task> waiters = new ArrayList<>();
    /** The signal sent to the parent when the process dies (SIGCHLD for fork; CSIGNAL of clone). */
    int exitSignal = SignalQueue.SIGCHLD;
    /** SIGNAL_GROUP_EXIT: exit_group or a fatal signal; every thread is being killed. */
    boolean groupExit;
    /** Every thread has exited; the parent has not reaped it yet (EXIT_ZOMBIE). */
    boolean zombie;
    /** Status a shell reports (code, or 128 + signal) and the killing signal (0 for an exit). */
    int exitStatus, termSignal;
    /** signal->sum_sched_runtime: the CPU time (ns) of the threads that have exited. */
    long exitedCpuNanos;
    /** signal->rlim, created from INIT_RLIMITS for the first process and copied by fork. */
    long[][] rlimits;

    /** shared_pending: process-directed signals (kill, SIGCHLD) any thread not blocking them may take. */
    final SigPending sharedPending = new SigPending();
    /** curr_target: where complete_signal's round-robin search for a thread to wake starts. */
    Task currTarget;

    /** The process group and session (task_pgrp, task_session); a new process inherits its parent's. */
    int pgid, sid;
    /** The process has called execve (setpgid on it from its parent is then EACCES). */
    boolean execed;

    SignalStruct(int tgid) {
        this.tgid = tgid;
        this.pgid = tgid;
        this.sid = tgid;
    }

    /** The wait status wait4 stores: (code &lt;&lt; 8) for an exit, the signal number for a kill. */
    int waitStatus() {
        return termSignal != 0 ? termSignal & 0x7f : (exitStatus & 0xff) << 8;
    }

    @Override
    public String toString() {
        return "process " + tgid;
    }
}
