package org.mmulab.emulator.machine;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.function.Consumer;

/**
 * One function call requested from one target vCPU by {@link Machine#sendIpis} (an entry of the
 * per-CPU {@code call_single_queue} of kernel/smp.c). Exactly one thread runs it: the target at an
 * instruction boundary or while it waits, or, when the target's loop is not running, the sender
 * ({@link #claim} decides which). The batch counts the acknowledgements the sender waits for
 * ({@code csd_lock_wait} of smp_call_function_many_cond).
 */
final class IpiCall {
    private static final VarHandle TAKEN;

    static {
        try {
            TAKEN = MethodHandles.lookup().findVarHandle(IpiCall.class, "taken", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    final Consumer<Vcpu> fn;
    final Batch batch;
    @SuppressWarnings("unused") // TAKEN
    private volatile int taken;

    IpiCall(Consumer<Vcpu> fn, Batch batch) {
        this.fn = fn;
        this.batch = batch;
    }

    /** True for the one thread that gets to run this call. */
    boolean claim() {
        return TAKEN.compareAndSet(this, 0, 1);
    }

    /** Runs the call for {@code target} and acknowledges it, even when the function throws. */
    void run(Vcpu target) {
        try {
            target.clock().ipiReceived();
            fn.accept(target);
        } finally {
            batch.ack();
        }
    }

    /** The acknowledgements one sendIpis call waits for. */
    static final class Batch {
        private static final VarHandle REMAINING;

        static {
            try {
                REMAINING = MethodHandles.lookup().findVarHandle(Batch.class, "remaining", int.class);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }

        private final Thread waiter;
        private volatile int remaining;

        Batch(Thread waiter, int count) {
            this.waiter = waiter;
            this.remaining = count;
        }

        boolean done() {
            return remaining == 0;
        }

        void ack() {
            if ((int) REMAINING.getAndAdd(this, -1) == 1) {
                java.util.concurrent.locks.LockSupport.unpark(waiter);
            }
        }
    }
}
