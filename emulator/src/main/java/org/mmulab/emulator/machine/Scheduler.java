package org.mmulab.emulator.machine;

import java.util.concurrent.locks.LockSupport;

/**
 * How the vCPU threads of a {@link Machine} share the host: the hooks the run loop, {@link Vcpu#idle},
 * {@link Machine#sendIpis} and {@link Machine#yieldPoint} call. {@link #PARALLEL} lets every thread
 * run freely (the host schedules them); {@link BatonScheduler} lets exactly one run at a time.
 */
abstract class Scheduler {
    /** Free-running threads: yield points are no-ops, idling and waiting park the thread. */
    static final Scheduler PARALLEL = new Scheduler() {
    };

    /** Instructions per interpreter call of {@code v}'s run loop. */
    long quantum(Vcpu v) {
        return Vcpu.QUANTUM;
    }

    /** A run of {@code vcpus} (runAll or a single run(id)) is about to start their loops. */
    void prepare(java.util.List<Vcpu> vcpus) {
    }

    /** {@code v}'s loop starts on its thread (already online for IPIs). */
    void started(Vcpu v) {
    }

    /** {@code v}'s loop is between two interpreter calls. */
    void endOfQuantum(Vcpu v) {
    }

    /** {@code v}'s loop ended (normally or by an exception). */
    void finished(Vcpu v) {
    }

    /** The calling thread reached a yield point (see {@link Machine#yieldPoint}). */
    void yieldPoint(Machine m, YieldKind kind) {
    }

    /** {@code v} (the caller's vCPU) reached a yield point. */
    void yieldPoint(Vcpu v, YieldKind kind) {
    }

    /** An IPI call was queued for {@code target}. */
    void posted(Vcpu target) {
    }

    /** {@code v} was kicked. */
    void kicked(Vcpu v) {
    }

    /**
     * One wait of {@link Vcpu#idle}: the condition was false and nothing is pending. PARALLEL: park until
     * kicked, sent an IPI, stopped or the deadline, counting the host time parked as idle cycles.
     */
    void idle(Vcpu v, GuestTime time) {
        long deadline = v.idleDeadlineNanos;
        long t0 = System.nanoTime();
        if (deadline == Long.MAX_VALUE) {
            LockSupport.park(v);
        } else {
            long wait = deadline - time.monotonicNanos(v);
            if (wait > 0) {
                LockSupport.parkNanos(v, wait);
            }
        }
        v.clock().idle(v.clock().model().nanosToCycles(System.nanoTime() - t0));
    }

    /**
     * The sender waits for {@code batch}'s acknowledgements, running its own mailbox meanwhile (two vCPUs
     * that IPI each other both make progress). {@code sender} is the calling thread's vCPU, or null.
     */
    void awaitAcks(Vcpu sender, IpiCall.Batch batch) {
        while (!batch.done()) {
            if (sender != null) {
                sender.serviceMailbox();
                if (batch.done()) {
                    return;
                }
            }
            LockSupport.park(batch);
        }
    }
}
