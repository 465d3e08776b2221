package org.mmulab.kernel.mm;

import java.util.concurrent.locks.AbstractQueuedSynchronizer;

import org.mmulab.emulator.machine.YieldKind;

/**
 * {@code struct rw_semaphore} (include/linux/rwsem.h, kernel/locking/rwsem.c) for {@code mmap_lock}:
 * many readers or one writer, not reentrant — a thread that takes it again (even for read, which a
 * queued writer would block) deadlocks in Linux; with {@link LockDep#CHECKS} on, that, a lock-order
 * violation and releasing it without holding it are reported. New readers queue behind a waiting writer
 * (no writer starvation), as rwsem's handoff does. A waiter keeps answering IPIs ({@link LockWait}).
 */
public final class RwSemaphore {
    private static final class Sync extends AbstractQueuedSynchronizer {
        private static final long serialVersionUID = 1L;

        /** state: -1 write-locked, 0 free, n > 0 readers. */
        @Override
        protected boolean tryAcquire(int ignored) {
            if (compareAndSetState(0, -1)) {
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

        @Override
        protected int tryAcquireShared(int ignored) {
            for (;;) {
                int s = getState();
                if (s < 0 || hasQueuedPredecessors()) {
                    return -1;
                }
                if (compareAndSetState(s, s + 1)) {
                    return 1;
                }
            }
        }

        /** The barging-free variant used by trylock: only fails when a writer holds it. */
        boolean tryReadNow() {
            for (;;) {
                int s = getState();
                if (s < 0) {
                    return false;
                }
                if (compareAndSetState(s, s + 1)) {
                    return true;
                }
            }
        }

        @Override
        protected boolean tryReleaseShared(int ignored) {
            for (;;) {
                int s = getState();
                if (s <= 0) {
                    throw new IllegalMonitorStateException("up_read of an rwsem with no reader");
                }
                if (compareAndSetState(s, s - 1)) {
                    return s == 1;
                }
            }
        }

        int readers() {
            return Math.max(0, getState());
        }

        Thread writer() {
            return getExclusiveOwnerThread();
        }
    }

    private final Sync sync = new Sync();
    private final int lockClass;
    private final CycleCharge charge;

    public RwSemaphore(int lockClass) {
        this(lockClass, CycleCharge.NONE);
    }

    /** @param charge the machine whose IPIs a waiter answers and whose yield points the steps are */
    public RwSemaphore(int lockClass, CycleCharge charge) {
        this.lockClass = lockClass;
        this.charge = charge;
    }

    /** down_read. */
    public void downRead() {
        if (LockDep.on()) {
            LockDep.checkAcquire(this, lockClass);
        }
        charge.yieldPoint(YieldKind.LOCK_ACQUIRE);
        if (sync.tryAcquireShared(1) < 0) {
            LockWait.await(charge.machine(), x -> sync.tryReadNow(), sync::tryAcquireSharedNanos, () -> sync.acquireShared(1));
        }
        if (LockDep.on()) {
            LockDep.acquired(this, lockClass);
        }
    }

    /** down_read_trylock. */
    public boolean tryDownRead() {
        if (!sync.tryReadNow()) {
            return false;
        }
        if (LockDep.on()) {
            LockDep.acquired(this, lockClass);
        }
        return true;
    }

    /** up_read. */
    public void upRead() {
        if (LockDep.on()) {
            LockDep.release(this, lockClass);
        }
        sync.releaseShared(1);
        charge.yieldPoint(YieldKind.LOCK_RELEASE);
    }

    /** down_write. */
    public void downWrite() {
        if (LockDep.on()) {
            LockDep.checkAcquire(this, lockClass);
        }
        acquireWrite();
        if (LockDep.on()) {
            LockDep.acquired(this, lockClass);
        }
    }

    /** mmap_write_lock_nested(mm, SINGLE_DEPTH_NESTING): dup_mmap's lock of the new mm under the old one's. */
    public void downWriteNested() {
        if (LockDep.on()) {
            LockDep.checkAcquireNested(this, lockClass);
        }
        acquireWrite();
        if (LockDep.on()) {
            LockDep.acquired(this, lockClass);
        }
    }

    private void acquireWrite() {
        charge.yieldPoint(YieldKind.LOCK_ACQUIRE);
        if (!sync.tryAcquire(1)) {
            LockWait.await(charge.machine(), sync::tryAcquire, sync::tryAcquireNanos, () -> sync.acquire(1));
        }
    }

    /** down_write_trylock. */
    public boolean tryDownWrite() {
        if (!sync.tryAcquire(1)) {
            return false;
        }
        if (LockDep.on()) {
            LockDep.acquired(this, lockClass);
        }
        return true;
    }

    /** up_write. */
    public void upWrite() {
        if (LockDep.on()) {
            if (sync.writer() != Thread.currentThread()) {
                throw new IllegalStateException("up_write of " + this + " by " + Thread.currentThread().getName()
                        + ", writer " + sync.writer());
            }
            LockDep.release(this, lockClass);
        }
        sync.release(1);
        charge.yieldPoint(YieldKind.LOCK_RELEASE);
    }

    /** mmap_assert_write_locked: with checks on, throws unless the current thread holds it for write. */
    public void assertWriteLocked() {
        if (LockDep.on() && sync.writer() != Thread.currentThread()) {
            throw new IllegalStateException(LockDep.name(lockClass) + " not write-locked by " + Thread.currentThread().getName());
        }
    }

    /** mmap_assert_locked: with checks on, throws unless the current thread holds it (read or write). */
    public void assertLocked() {
        if (LockDep.on() && !LockDep.holds(this)) {
            throw new IllegalStateException(LockDep.name(lockClass) + " not held by " + Thread.currentThread().getName());
        }
    }

    public boolean isWriteLocked() {
        return sync.writer() != null;
    }

    public int readers() {
        return sync.readers();
    }

    @Override
    public String toString() {
        return LockDep.name(lockClass) + "@" + Integer.toHexString(System.identityHashCode(this));
    }
}
