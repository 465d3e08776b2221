package org.mmulab.kernel.mm;

import org.mmulab.emulator.machine.Machine;
import org.mmulab.emulator.machine.YieldKind;

/**
 * How a vCPU waits for a contended {@link SpinLock} or {@link RwSemaphore}: as an x86 CPU spinning in
 * {@code queued_spin_lock_slowpath} with interrupts enabled, it keeps answering IPIs. That matters because
 * the holder may be shooting down this very vCPU's TLB while it holds the lock (zap_pte_range flushes
 * under the PTE lock when its batch fills; exit_mmap holds mmap_lock across the exit shootdown): a
 * waiter that only parked would never acknowledge, and the two would wait for each other forever.
 *
 * <ul>
 * <li>PARALLEL: the waiter parks in slices of {@link #SLICE_NANOS} (no host CPU burnt: the host may have
 *     fewer cores than vCPUs), answering its mailbox between slices; the sender's IPI also unparks it.</li>
 * <li>DETERMINISTIC: exactly one vCPU thread runs, so the waiter must not park holding the baton: it
 *     tries, answers its mailbox and passes the baton at a LOCK_SPIN yield point until the lock is free.</li>
 * <li>A thread that runs no vCPU (setup code, plain-thread unit tests) simply blocks.</li>
 * </ul>
 */
final class LockWait {
    /** Longest a parked waiter goes without looking at its mailbox. */
    static final long SLICE_NANOS = 50_000;

    /** A non-blocking attempt (AQS tryAcquire / tryAcquireShared as a boolean). */
    interface Attempt {
        boolean attempt(int arg);
    }

    /** A bounded blocking attempt (AQS tryAcquireNanos / tryAcquireSharedNanos). */
    interface TimedAttempt {
        boolean attempt(int arg, long nanos) throws InterruptedException;
    }

    private LockWait() {
    }

    /**
     * Waits until the lock is acquired. {@code now}: one try; {@code timed}: a try that parks at most
     * the given time; {@code blocking}: the plain blocking acquire for threads that run no vCPU.
     */
    static void await(Machine m, Attempt now, TimedAttempt timed, Runnable blocking) {
        if (m == null || m.currentVcpu() == null) {
            blocking.run();
            return;
        }
        if (m.scheduling() == Machine.Scheduling.DETERMINISTIC) {
            while (!now.attempt(1)) {
                m.serviceIpis();
                m.yieldPoint(YieldKind.LOCK_SPIN);
            }
            return;
        }
        boolean interrupted = false;
        try {
            for (;;) {
                m.serviceIpis();
                try {
                    if (timed.attempt(1, SLICE_NANOS)) {
                        return;
                    }
                } catch (InterruptedException e) {
                    interrupted = true; // not ours to consume: restored once the lock is held
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
