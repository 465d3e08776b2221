package org.mmulab.kernel;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;

import org.mmulab.emulator.machine.Vcpu;
import org.mmulab.kernel.mm.MmStruct;
import org.mmulab.kernel.mm.VmArea;

/**
 * Fast user-space mutexes after kernel/futex/{syscalls,core,waitwake,requeue}.c (Linux 6.x): FUTEX_WAIT,
 * WAKE, WAIT_BITSET, WAKE_BITSET, REQUEUE and CMP_REQUEUE, private and shared, with timeouts, and the
 * exit-time work (clear_child_tid's wake, the robust list walk of exit_robust_list).
 *
 * <p>Keys (get_futex_key): a private futex, or a shared one in a private (anonymous or private file)
 * mapping, is keyed by (mm, address); a shared futex in a VM_SHARED mapping by the physical address of
 * the word, so the processes mapping that page meet on one key. A misaligned address is -EINVAL; one
 * that cannot be faulted in is -EFAULT.
 *
 * <p>No lost wake-up: a waiter compares the futex word with the expected value while holding the
 * scheduler's lock (reading guest physical memory directly: no MMU access, so no yield point inside
 * the lock) and queues itself before dropping it; a waker stores the new value in user space first and
 * takes the same lock to wake, so it either sees the queued waiter or the waiter sees the new value.
 * The physical address comes from a translation made before the lock (faulting the page in); a
 * concurrent munmap of the futex page can leave the waiter on the old frame's key, where Linux's
 * page reference would keep it: it then waits until a timeout, a signal or the group's exit.
 */
final class Futex {
    static final int FUTEX_WAIT = 0, FUTEX_WAKE = 1, FUTEX_REQUEUE = 3, FUTEX_CMP_REQUEUE = 4, FUTEX_WAIT_BITSET = 9,
            FUTEX_WAKE_BITSET = 10, FUTEX_PRIVATE_FLAG = 128, FUTEX_CLOCK_REALTIME = 256;
    static final int FUTEX_BITSET_MATCH_ANY = 0xffff_ffff;
    static final int NR_FUTEX = 202, NR32_FUTEX = 240, NR32_FUTEX_TIME64 = 422;
    /** Robust futex word bits (include/uapi/linux/futex.h). */
    static final int FUTEX_WAITERS = 0x8000_0000, FUTEX_OWNER_DIED = 0x4000_0000, FUTEX_TID_MASK = 0x3fff_ffff;
    /** ROBUST_LIST_LIMIT: at most this many entries are walked (a circular list cannot hang the exit). */
    static final int ROBUST_LIST_LIMIT = 2048;

    /** A futex key: (mm, user address) for a private one, (null, physical address) for a shared one. */
    record Key(MmStruct mm, long addr) {
    }

    /** struct futex_q: one waiter, queued on its key's bucket; its own continuation. */
    static final class Wait implements Task.Resume {
        final Task task;
        Key key;
        final int bitset;
        /** futex_wait_restart for a wait with a timeout (the same absolute expiry), else null. */
        final Task.Resume restart;

        Wait(Task task, Key key, int bitset, Task.Resume restart) {
            this.task = task;
            this.key = key;
            this.bitset = bitset;
            this.restart = restart;
        }

        /**
         * 0 after a wake, -ETIMEDOUT, -EINTR when killed; a signal gives futex_wait's -ERESTARTSYS (no
         * timeout) or -ERESTART_RESTARTBLOCK with futex_wait_restart (a timeout).
         */
        @Override
        public long resume(Kernel k, Vcpu cpu, Task t) {
            if (t.wakeResult != -Errno.EINTR || t.killPending) {
                return t.wakeResult;
            }
            return restart == null ? -Errno.ERESTARTSYS : SyscallRestart.setRestartFn(t, restart);
        }
    }

    private final Kernel k;
    private final Sched sched;
    /** The hash buckets (futex_hash_bucket), guarded by the scheduler's lock. */
    private final Map<Key, ArrayDeque<Wait>> buckets = new HashMap<>();

    Futex(Kernel k, Sched sched) {
        this.k = k;
        this.sched = sched;
    }

    /**
     * sys_futex / do_futex. {@code utime} is the timeout pointer (WAIT, WAIT_BITSET) or val2 (REQUEUE);
     * {@code ts64}: the timeout is a __kernel_timespec (else old_timespec32).
     */
    long futex(Vcpu cpu, long uaddr, int op, int val, long utime, long uaddr2, int val3, boolean ts64) {
        int cmd = op & ~(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);
        boolean priv = (op & FUTEX_PRIVATE_FLAG) != 0;
        if ((op & FUTEX_CLOCK_REALTIME) != 0 && cmd != FUTEX_WAIT_BITSET) {
            return -Errno.ENOSYS;
        }
        switch (cmd) {
            case FUTEX_WAIT, FUTEX_WAIT_BITSET: {
                int bitset = cmd == FUTEX_WAIT ? FUTEX_BITSET_MATCH_ANY : val3;
                if (bitset == 0) {
                    return -Errno.EINVAL;
                }
                long deadline = Long.MAX_VALUE;
                if (utime != 0) {
                    long[] ts = readTimespec(utime, ts64);
                    if (ts == null) {
                        return -Errno.EFAULT;
                    }
                    if (ts[0] < 0 || ts[1] < 0 || ts[1] >= 1_000_000_000L) {
                        return -Errno.EINVAL;
                    }
                    long ns = ts[0] > Long.MAX_VALUE / 1_000_000_000L - 1 ? Long.MAX_VALUE / 2 : ts[0] * 1_000_000_000L + ts[1];
                    org.mmulab.emulator.machine.GuestTime time = k.machine().guestTime();
                    long mono = time.monotonicNanos(cpu);
                    if (cmd == FUTEX_WAIT) {
                        deadline = mono + ns;
                    } else if ((op & FUTEX_CLOCK_REALTIME) != 0) {
                        deadline = ns - (time.realtimeNanos(cpu) - mono);
                    } else {
                        deadline = ns;
                    }
                    deadline = Math.max(0, deadline);
                }
                return wait(cpu, uaddr, priv, val, bitset, deadline);
            }
            case FUTEX_WAKE, FUTEX_WAKE_BITSET: {
                int bitset = cmd == FUTEX_WAKE ? FUTEX_BITSET_MATCH_ANY : val3;
                if (bitset == 0) {
                    return -Errno.EINVAL;
                }
                return wake(uaddr, priv, val, bitset);
            }
            case FUTEX_REQUEUE, FUTEX_CMP_REQUEUE:
                return requeue(uaddr, priv, val, (int) utime, uaddr2, cmd == FUTEX_CMP_REQUEUE, val3);
            default:
                return -Errno.ENOSYS;
        }
    }

    private long[] readTimespec(long p, boolean ts64) {
        UserAccess ua = k.userAccess();
        if (ts64) {
            byte[] b = new byte[16];
            if (ua.copyFromUser(b, 0, p, 16) != 0) {
                return null;
            }
            long nsec = Le.le64(b, 8);
            if (k.compat32()) {
                nsec = (int) nsec; // a compat task's tv_nsec is the low 32 bits (get_timespec64)
            }
            return new long[] {Le.le64(b, 0), nsec};
        }
        byte[] b = new byte[8];
        if (ua.copyFromUser(b, 0, p, 8) != 0) {
            return null;
        }
        return new long[] {(int) Le.le32(b, 0), (int) Le.le32(b, 4)};
    }

    /** get_futex_key: the key of {@code uaddr} and (for a waiter) the physical address of the word; null: -EFAULT. */
    private Key key(long uaddr, boolean priv, long[] paOut) {
        MmStruct mm = k.mm();
        if (mm == null) {
            return null;
        }
        long pa = k.userAccess().translate(uaddr, false);
        if (pa < 0) {
            return null;
        }
        if (paOut != null) {
            paOut[0] = pa;
        }
        if (priv) {
            return new Key(mm, uaddr);
        }
        mm.mmapLock.downRead();
        boolean shared;
        try {
            VmArea v = mm.vmaLookup(uaddr);
            shared = v != null && (v.flags() & VmArea.VM_SHARED) != 0;
        } finally {
            mm.mmapLock.upRead();
        }
        return shared ? new Key(null, pa) : new Key(mm, uaddr);
    }

    /** futex_wait: queue if *uaddr == val (checked under the lock), else -EAGAIN. */
    private long wait(Vcpu cpu, long uaddr, boolean priv, int val, int bitset, long deadline) {
        if ((uaddr & 3) != 0) {
            return -Errno.EINVAL;
        }
        long[] pa = new long[1];
        Key key = key(uaddr, priv, pa);
        if (key == null) {
            return -Errno.EFAULT;
        }
        Task t = k.current();
        synchronized (sched.lock) {
            int cur = k.machine().memory().read32Acquire(pa[0]);
            if (cur != val) {
                return -Errno.EAGAIN;
            }
            if (deadline != Long.MAX_VALUE && deadline <= k.machine().guestTime().monotonicNanos(cpu)) {
                return -Errno.ETIMEDOUT;
            }
            if (t.killPending) {
                return -Errno.EINTR;
            }
            Wait w = new Wait(t, key, bitset, deadline == Long.MAX_VALUE ? null
                    : (kk, vcpu, task) -> wait(vcpu, uaddr, priv, val, bitset, deadline));
            buckets.computeIfAbsent(key, x -> new ArrayDeque<>()).addLast(w);
            return sched.blockLocked(t, w, deadline, String.format("futex wait on 0x%x (value %d)", uaddr, val));
        }
    }

    /** futex_wake: wakes up to {@code n} waiters whose bitset intersects {@code bitset}. */
    long wake(long uaddr, boolean priv, int n, int bitset) {
        if ((uaddr & 3) != 0) {
            return -Errno.EINVAL;
        }
        Key key = key(uaddr, priv, null);
        if (key == null) {
            return -Errno.EFAULT;
        }
        int woken;
        synchronized (sched.lock) {
            woken = wakeLocked(key, n, bitset);
        }
        if (woken > 0) {
            k.machine().yieldPoint(org.mmulab.emulator.machine.YieldKind.WAKE); // the woken may run first
        }
        return woken;
    }

    private int wakeLocked(Key key, int n, int bitset) {
        ArrayDeque<Wait> q = buckets.get(key);
        int woken = 0;
        if (q == null) {
            return 0;
        }
        for (Iterator<Wait> it = q.iterator(); it.hasNext() && woken < n;) {
            Wait w = it.next();
            if ((w.bitset & bitset) != 0) {
                it.remove();
                sched.wakeLocked(w.task, 0);
                woken++;
            }
        }
        if (q.isEmpty()) {
            buckets.remove(key);
        }
        return woken;
    }

    /** futex_requeue: wake {@code nrWake}, move up to {@code nrRequeue} more to {@code uaddr2}'s queue. */
    private long requeue(long uaddr, boolean priv, int nrWake, int nrRequeue, long uaddr2, boolean cmp, int cmpval) {
        if (nrWake < 0 || nrRequeue < 0) {
            return -Errno.EINVAL;
        }
        if ((uaddr & 3) != 0 || (uaddr2 & 3) != 0) {
            return -Errno.EINVAL;
        }
        long[] pa = new long[1];
        Key k1 = key(uaddr, priv, pa), k2 = key(uaddr2, priv, null);
        if (k1 == null || k2 == null) {
            return -Errno.EFAULT;
        }
        synchronized (sched.lock) {
            if (cmp && k.machine().memory().read32Acquire(pa[0]) != cmpval) {
                return -Errno.EAGAIN;
            }
            int done = wakeLocked(k1, nrWake, FUTEX_BITSET_MATCH_ANY);
            ArrayDeque<Wait> q = buckets.get(k1);
            int moved = 0;
            if (q != null && !k1.equals(k2)) {
                ArrayDeque<Wait> q2 = buckets.computeIfAbsent(k2, x -> new ArrayDeque<>());
                while (moved < nrRequeue && !q.isEmpty()) {
                    Wait w = q.pollFirst();
                    w.key = k2;
                    q2.addLast(w);
                    moved++;
                }
                if (q.isEmpty()) {
                    buckets.remove(k1);
                }
            } else if (q != null) {
                moved = Math.min(nrRequeue, q.size()); // requeue onto itself: they stay queued
            }
            return done + moved;
        }
    }

    /** Takes a waiter off its bucket (a timeout, a signal or a kill woke it). Caller holds the lock. */
    void dequeueLocked(Wait w) {
        ArrayDeque<Wait> q = buckets.get(w.key);
        if (q != null) {
            q.remove(w);
            if (q.isEmpty()) {
                buckets.remove(w.key);
            }
        }
    }

    /**
     * mm_release's clear_child_tid: when other tasks still use the mm, write 0 to the tid address and
     * wake one waiter there (pthread_join's futex).
     */
    void clearChildTid(Task t) {
        long tidptr = t.clearChildTid;
        t.clearChildTid = 0;
        if (tidptr == 0 || t.mm == null || sched.mmUsers(t.mm) <= 1) {
            return;
        }
        if (k.userAccess().copyToUser(tidptr, new byte[4], 0, 4) == 0) {
            wake(tidptr, false, 1, FUTEX_BITSET_MATCH_ANY);
        }
    }

    /**
     * exit_robust_list: for each lock on the task's robust list (and list_op_pending) whose futex word
     * holds the task's tid, set FUTEX_OWNER_DIED (keeping FUTEX_WAITERS) and, if there are waiters, wake
     * one. struct robust_list_head {next, futex_offset, list_op_pending} with {@code word}-byte fields;
     * bit 0 of an entry pointer is the PI flag. A fault ends the walk.
     */
    void exitRobustList(Task t) {
        long head = t.robustList;
        if (head == 0) {
            return;
        }
        int word = t.ia32 ? 4 : 8;
        UserAccess ua = k.userAccess();
        long[] h = readWords(ua, head, 3, word);
        if (h == null) {
            return;
        }
        long offset = word == 4 ? (int) h[1] : h[1];
        long pending = h[2] & ~1L;
        long entry = h[0] & ~1L;
        for (int i = 0; entry != head && i < ROBUST_LIST_LIMIT; i++) {
            long[] next = readWords(ua, entry, 1, word);
            if (next == null) {
                return;
            }
            if (entry != pending) {
                handleDeath(t, ua, entry + offset);
            }
            entry = next[0] & ~1L;
        }
        if (pending != 0) {
            handleDeath(t, ua, pending + offset);
        }
    }

    private static long[] readWords(UserAccess ua, long va, int n, int word) {
        byte[] b = new byte[n * word];
        if (ua.copyFromUser(b, 0, va, b.length) != 0) {
            return null;
        }
        long[] r = new long[n];
        for (int i = 0; i < n; i++) {
            r[i] = word == 8 ? Le.le64(b, 8 * i) : Le.le32(b, 4 * i);
        }
        return r;
    }

    /** handle_futex_death: an atomic update of the futex word (cmpxchg on the physical word). */
    private void handleDeath(Task t, UserAccess ua, long uaddr) {
        if ((uaddr & 3) != 0) {
            return;
        }
        long pa = ua.translate(uaddr, true);
        if (pa < 0) {
            return;
        }
        org.mmulab.emulator.memory.PhysicalMemory mem = k.machine().memory();
        for (int i = 0; i < 16; i++) {
            int uval = mem.read32Acquire(pa);
            if ((uval & FUTEX_TID_MASK) != t.pid) {
                return;
            }
            int nval = (uval & FUTEX_WAITERS) | FUTEX_OWNER_DIED;
            if (mem.compareAndExchange32(pa, uval, nval) == uval) {
                if ((uval & FUTEX_WAITERS) != 0) {
                    wake(uaddr, false, 1, FUTEX_BITSET_MATCH_ANY);
                }
                return;
            }
        }
    }
}
