package org.mmulab.gdbstub.protocol;

import java.util.concurrent.atomic.AtomicReference;

/**
 * The one place a debugger can occupy on a machine. A connection takes the seat with its first packet (not when it
 * connects: a port probe that connects and closes never takes it, so it never stops or resumes the guest) and
 * leaves it when it closes; while the seat is taken every other connection is refused.
 */
public final class ClientSeat {
    private final AtomicReference<Object> holder = new AtomicReference<>();

    /** Takes the seat for {@code who}; true if it was free (or already {@code who}'s). */
    public boolean take(Object who) {
        return holder.compareAndSet(null, who) || holder.get() == who;
    }

    /** {@code who} leaves the seat (no-op if it does not hold it). */
    public void leave(Object who) {
        holder.compareAndSet(who, null);
    }

    public boolean occupied() {
        return holder.get() != null;
    }
}
