package org.mmulab.kernel.mm;

/**
 * A small lockdep (kernel/locking/lockdep.c) for the mm's {@link SpinLock}s and {@link RwSemaphore}s:
 * when {@link #CHECKS} is on, every thread keeps the stack of locks it holds, and
 * <ul>
 * <li>taking a lock the thread already holds is reported (Linux's spinlocks and rwsems are not
 *     recursive: that is a self-deadlock);</li>
 * <li>taking a lock while holding one of the same or a later class in the documented order is reported
 *     (a possible ABBA deadlock), except with a trylock, which cannot deadlock;</li>
 * <li>releasing a lock the thread does not hold is reported.</li>
 * </ul>
 * The order, outermost first, is mm/rmap.c's "Lock ordering in mm" reduced to the locks mmulab has:
 * {@code mmap_lock} → {@code page_table_lock} → the split PTE lock → {@code mapping->i_pages}.
 *
 * <p>{@link #CHECKS} is read once: on with {@code -Dmmulab.lockdep=true} or when Java assertions are
 * enabled for this package (as surefire runs the tests); off, every check compiles out.
 */
final class LockDep {
    static final boolean CHECKS = Boolean.getBoolean("mmulab.lockdep") || LockDep.class.desiredAssertionStatus();

    /** Checks on: {@link #CHECKS}, or {@code --check} ({@link MmCheck#enabled}, set before any lock is taken). */
    static boolean on() {
        return CHECKS || MmCheck.enabled;
    }

    /** Lock classes in acquisition order. */
    static final int MMAP_LOCK = 0, PAGE_TABLE_LOCK = 1, PTE_LOCK = 2, I_PAGES = 3;
    private static final String[] NAMES = {"mmap_lock", "page_table_lock", "ptlock", "i_pages"};

    private LockDep() {
    }

    /** The locks one thread holds, innermost last. */
    private static final class Held {
        Object[] locks = new Object[8];
        int[] classes = new int[8];
        int n;
    }

    private static final ThreadLocal<Held> HELD = ThreadLocal.withInitial(Held::new);

    static String name(int lockClass) {
        return NAMES[lockClass];
    }

    /** Before a blocking acquire of {@code lock} (class {@code lockClass}). */
    static void checkAcquire(Object lock, int lockClass) {
        Held h = HELD.get();
        for (int i = 0; i < h.n; i++) {
            if (h.locks[i] == lock) {
                throw new IllegalStateException("recursive locking of " + NAMES[lockClass] + " " + lock
                        + ": Linux's locks are not reentrant (self-deadlock)");
            }
            if (h.classes[i] >= lockClass) {
                throw new IllegalStateException("lock order: " + NAMES[lockClass] + " taken while holding "
                        + NAMES[h.classes[i]] + " (order: mmap_lock, page_table_lock, ptlock, i_pages)");
            }
        }
    }

    /**
     * Before a blocking acquire with {@code SINGLE_DEPTH_NESTING} (spin_lock_nested,
     * mmap_write_lock_nested): fork's copy_pte_range holds the child's PTE lock and takes the parent's,
     * dup_mmap holds both mmap locks. One lock of the same class may already be held (not this one);
     * every other rule of {@link #checkAcquire} applies.
     */
    static void checkAcquireNested(Object lock, int lockClass) {
        Held h = HELD.get();
        int same = 0;
        for (int i = 0; i < h.n; i++) {
            if (h.locks[i] == lock) {
                throw new IllegalStateException("recursive locking of " + NAMES[lockClass] + " " + lock
                        + ": Linux's locks are not reentrant (self-deadlock)");
            }
            if (h.classes[i] == lockClass && same++ == 0) {
                continue;
            }
            if (h.classes[i] >= lockClass) {
                throw new IllegalStateException("lock order: " + NAMES[lockClass] + " (nested) taken while holding "
                        + NAMES[h.classes[i]] + " (order: mmap_lock, page_table_lock, ptlock, i_pages)");
            }
        }
    }

    /** After {@code lock} was acquired (blocking or by a successful trylock). */
    static void acquired(Object lock, int lockClass) {
        Held h = HELD.get();
        if (h.n == h.locks.length) {
            h.locks = java.util.Arrays.copyOf(h.locks, h.n * 2);
            h.classes = java.util.Arrays.copyOf(h.classes, h.n * 2);
        }
        h.locks[h.n] = lock;
        h.classes[h.n++] = lockClass;
    }

    /** Before {@code lock} is released: the thread must hold it. */
    static void release(Object lock, int lockClass) {
        Held h = HELD.get();
        for (int i = h.n - 1; i >= 0; i--) {
            if (h.locks[i] == lock) {
                System.arraycopy(h.locks, i + 1, h.locks, i, h.n - i - 1);
                System.arraycopy(h.classes, i + 1, h.classes, i, h.n - i - 1);
                h.locks[--h.n] = null;
                return;
            }
        }
        throw new IllegalStateException("releasing " + NAMES[lockClass] + " " + lock + " not held by "
                + Thread.currentThread().getName());
    }

    /** lockdep_assert_held: the current thread holds {@code lock}. Only meaningful with CHECKS on. */
    static boolean holds(Object lock) {
        Held h = HELD.get();
        for (int i = 0; i < h.n; i++) {
            if (h.locks[i] == lock) {
                return true;
            }
        }
        return false;
    }

    /** Locks the current thread holds (0 when checks are off). */
    static int heldCount() {
        return on() ? HELD.get().n : 0;
    }

    /** The locks the current thread holds, outermost first (for reports). */
    static String describeHeld() {
        Held h = HELD.get();
        StringBuilder b = new StringBuilder("[");
        for (int i = 0; i < h.n; i++) {
            b.append(i == 0 ? "" : ", ").append(h.locks[i]);
        }
        return b.append(']').toString();
    }
}
