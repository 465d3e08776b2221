package org.mmulab.kernel.mm;

import java.util.concurrent.locks.AbstractQueuedSynchronizer;

import org.mmulab.emulator.machine.YieldKind;
import org.mmulab.emulator.timing.VcpuClock;

/**
 * {@code spinlock_t} (include/linux/spinlock.h): a non-reentrant mutual-exclusion lock, used for the
 * split PTE locks ({@code pte_lockptr}), {@code mm->page_table_lock} and a mapping's {@code i_pages}.
 * Taking it twice on one thread deadlocks, as in Linux; with {@link LockDep#CHECKS} on that, a lock-order
 * violation and an unlock by a thread that does not hold it are reported instead.
 *
 * <p>It charges the current vCPU what x86's queued spinlock costs (kernel/locking/qspinlock.c): one
 * locked compare-and-exchange to acquire, a plain store to release, and, when another holder had it, the
 * hand-off of its cache line; the contention is counted ({@code ptlock.contended} in {@code --stats}).
 * A waiter parks rather than spins (the host may have fewer cores than vCPUs), but like a CPU spinning
 * with interrupts on it keeps answering IPIs meanwhile ({@link LockWait}): a holder that shoots down
 * the waiter's TLB while holding the lock would otherwise wait for it forever. Acquire, release and
 * each spin are yield points of the machine's scheduler.
 */
public final class SpinLock {
    private static final class Sync extends AbstractQueuedSynchronizer {
        private static final long serialVersionUID = 1L;

        @Override
        protected boolean tryAcquire(int ignored) {
            if (compareAndSetState(0, 1)) {
                setExclusiveOwnerThread(Thread.currentThread());
                return true;
            }
            return false;
        }

        @Override
        protected boolean tryRelease(int ignored) {
            setExclusiveOwnerThread(null);
            setState(0);
            return true;
        }

        Thread owner() {
            return getExclusiveOwnerThread();
        }

        boolean locked() {
            return getState() != 0;
        }
    }

    private final Sync sync = new Sync();
    private final int lockClass;
    private final CycleCharge charge;

    /** @param lockClass a {@link LockDep} class; @param charge where acquire and release are charged */
    public SpinLock(int lockClass, CycleCharge charge) {
        this.lockClass = lockClass;
        this.charge = charge;
    }

    /** spin_lock. */
    public void lock() {
        if (LockDep.on()) {
            LockDep.checkAcquire(this, lockClass);
        }
        acquire();
    }

    /** spin_lock_nested(lock, SINGLE_DEPTH_NESTING): one other lock of this class may be held. */
    public void lockNested() {
        if (LockDep.on()) {
            LockDep.checkAcquireNested(this, lockClass);
        }
        acquire();
    }

    private void acquire() {
        charge.yieldPoint(YieldKind.LOCK_ACQUIRE);
        boolean contended = !sync.tryAcquire(1);
        if (contended) {
            LockWait.await(charge.machine(), sync::tryAcquire, sync::tryAcquireNanos, () -> sync.acquire(1));
        }
        if (LockDep.on()) {
            LockDep.acquired(this, lockClass);
        }
        VcpuClock c = charge.clock();
        if (c != null) {
            c.lockAcquired(contended);
        }
    }

    /** spin_trylock: never waits, so it is exempt from the order check. */
    public boolean tryLock() {
        if (!sync.tryAcquire(1)) {
            return false;
        }
        if (LockDep.on()) {
            LockDep.acquired(this, lockClass);
        }
        VcpuClock c = charge.clock();
        if (c != null) {
            c.lockAcquired(false);
        }
        return true;
    }

    /** spin_unlock. */
    public void unlock() {
        if (LockDep.on()) {
            if (sync.owner() != Thread.currentThread()) {
                throw new IllegalStateException("spin_unlock of " + this + " by " + Thread.currentThread().getName()
                        + ", owner " + sync.owner());
            }
            LockDep.release(this, lockClass);
        }
        sync.release(1);
        VcpuClock c = charge.clock();
        if (c != null) {
            c.lockReleased();
        }
        charge.yieldPoint(YieldKind.LOCK_RELEASE);
    }

    /** Does the calling thread hold it (lockdep_is_held; works with checks off too)? */
    public boolean heldByCurrentThread() {
        return sync.owner() == Thread.currentThread();
    }

    /** spin_is_locked (by anyone). */
    public boolean isLocked() {
        return sync.locked();
    }

    /** lockdep_assert_held: with checks on, throws unless the current thread holds the lock. */
    public void assertHeld() {
        if (LockDep.on() && sync.owner() != Thread.currentThread()) {
            throw new IllegalStateException(LockDep.name(lockClass) + " not held by " + Thread.currentThread().getName());
        }
    }

    /** Is {@code t} waiting for this lock (for tests that stage an interleaving)? */
    public boolean hasQueuedThread(Thread t) {
        return sync.isQueued(t);
    }

    @Override
    public String toString() {
        return LockDep.name(lockClass) + "@" + Integer.toHexString(System.identityHashCode(this));
    }
}
