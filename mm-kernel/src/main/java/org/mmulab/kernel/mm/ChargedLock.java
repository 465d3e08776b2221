package org.mmulab.kernel.mm;

import java.util.concurrent.locks.ReentrantLock;

import org.mmulab.emulator.timing.VcpuClock;

/**
 * A page-table lock ({@code pte_lockptr}'s split lock, {@code mm->page_table_lock}) that charges the
 * current vCPU what a spinlock costs (include/linux/spinlock.h; x86's queued spinlock,
 * kernel/locking/qspinlock.c): one locked compare-and-exchange to acquire, a plain store to release,
 * and, when the lock was held by someone else, the hand-off of its cache line from the owner. The
 * contention is counted (ptlock contention in {@code --stats}).
 */
public final class ChargedLock extends ReentrantLock {
    private static final long serialVersionUID = 1L;
    private final transient CycleCharge charge;

    public ChargedLock(CycleCharge charge) {
        this.charge = charge;
    }

    @Override
    public void lock() {
        boolean contended = !tryLock();
        if (contended) {
            super.lock();
        }
        VcpuClock c = charge.clock();
        if (c != null) {
            c.lockAcquired(contended);
        }
    }

    @Override
    public void unlock() {
        super.unlock();
        VcpuClock c = charge.clock();
        if (c != null) {
            c.lockReleased();
        }
    }
}
