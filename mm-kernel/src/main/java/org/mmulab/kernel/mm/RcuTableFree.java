package org.mmulab.kernel.mm;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.LongConsumer;

/**
 * {@code pte_free_defer} (arch/x86/mm/pgtable.c, Linux 6.6, "mm/pgtable: add pte_free_defer() for
 * pgtable as page") and the RCU read side that {@code __pte_offset_map} opens and {@code pte_unmap}
 * closes (mm/pgtable-generic.c), reduced to what page tables need: a PTE table that khugepaged unlinked
 * ({@link Khugepaged}'s retract) is freed only after a grace period, when every lockless walker that
 * might have read the old PMD ({@code pte_offset_map} without the lock: the fault path's first look) has
 * left its read-side section.
 *
 * <p>Readers register in a slot ({@code rcu_read_lock}) before reading the PMD and record the table they
 * mapped; a deferred table remembers which slots were occupied (and their generation) when it was queued,
 * and is freed once each of those slots has been left since. Nobody ever waits for a grace period: frees
 * happen at the next reader exit, the next deferral or {@link #poll} (the khugepaged tick), so no lock
 * order is added. Registration allocates nothing (the fault path's rule). {@link #checkFree} is the
 * debug check behind the explorer's invariant: a PTE table about to be freed must not be held by a
 * registered walker, and must hold no present entry (a fault that installed into an unlinked table).
 */
final class RcuTableFree {
    /** Reader slots: more than any machine's vCPUs plus the threads that run no vCPU. */
    private static final int SLOTS = 1024;

    private final AtomicReferenceArray<PteSlot> readers = new AtomicReferenceArray<>(SLOTS);
    /** Bumped on every exit from a slot: a snapshot of (slot, generation) is passed once it changed. */
    private final AtomicLongArray generation = new AtomicLongArray(SLOTS);
    private final Object queueLock = new Object();
    private final List<Deferred> queue = new ArrayList<>();
    private volatile boolean pending;
    private final LongConsumer free;
    private final Memory memory;

    private record Deferred(long pfn, int[] slots, long[] gens) {
    }

    RcuTableFree(Memory memory, LongConsumer free) {
        this.memory = memory;
        this.free = free;
    }

    /**
     * rcu_read_lock for a lockless walker; the table it maps goes into {@code walker} (whose ptl and pmdval
     * the caller has cleared), which {@link #checkFree} looks at. Returns the slot.
     */
    int readLock(PteSlot walker) {
        int i = (int) (Thread.currentThread().getId() * 0x9E3779B1L >>> 7) & (SLOTS - 1);
        while (!readers.compareAndSet(i, null, walker)) {
            i = (i + 1) & (SLOTS - 1);
        }
        return i;
    }

    /** rcu_read_unlock (pte_unmap). */
    void readUnlock(int slot) {
        readers.set(slot, null);
        generation.incrementAndGet(slot);
        if (pending) {
            poll();
        }
    }

    /** pte_free_defer: {@code pfn} (already unlinked from its PMD and flushed) is freed after a grace period. */
    void defer(long pfn) {
        int n = 0;
        int[] slots = new int[8];
        long[] gens = new long[8];
        for (int i = 0; i < SLOTS; i++) {
            if (readers.get(i) != null) {
                if (n == slots.length) {
                    slots = java.util.Arrays.copyOf(slots, n * 2);
                    gens = java.util.Arrays.copyOf(gens, n * 2);
                }
                slots[n] = i;
                gens[n++] = generation.get(i);
            }
        }
        synchronized (queueLock) {
            queue.add(new Deferred(pfn, java.util.Arrays.copyOf(slots, n), java.util.Arrays.copyOf(gens, n)));
            pending = true;
        }
        poll();
    }

    /** Frees every deferred table whose grace period has elapsed. */
    void poll() {
        List<Long> ready = null;
        synchronized (queueLock) {
            for (int q = 0; q < queue.size(); q++) {
                Deferred d = queue.get(q);
                boolean passed = true;
                for (int k = 0; k < d.slots.length && passed; k++) {
                    passed = generation.get(d.slots[k]) != d.gens[k];
                }
                if (passed) {
                    if (ready == null) {
                        ready = new ArrayList<>();
                    }
                    ready.add(d.pfn);
                    queue.remove(q--);
                }
            }
            pending = !queue.isEmpty();
        }
        if (ready != null) {
            for (long pfn : ready) {
                checkFree(pfn);
                free.accept(pfn);
            }
        }
    }

    /** Tables waiting for their grace period. */
    int deferred() {
        synchronized (queueLock) {
            return queue.size();
        }
    }

    /**
     * The checks before a PTE table khugepaged unlinked goes back to the allocator (reported to
     * {@link MmCheck}): no registered lockless walker has it mapped, and no entry in it is present.
     */
    void checkFree(long pfn) {
        for (int i = 0; i < SLOTS; i++) {
            PteSlot w = readers.get(i);
            if (w != null && w.ptl != null && PteBits.pfn(w.pmdval) == pfn) {
                memory.check.report("PTE table pfn 0x" + Long.toHexString(pfn)
                        + " freed while a lockless walker (pte_offset_map) still holds it");
            }
        }
        SpinLock ptl = memory.frames().ptlockOrNull(pfn);
        if (ptl != null && ptl.isLocked()) {
            memory.check.report("PTE table pfn 0x" + Long.toHexString(pfn) + " freed while its PTE lock is held"
                    + " (a walker that validated the PMD still works in it)");
        }
        long base = pfn << 12;
        for (int i = 0; i < 512; i++) {
            long e = memory.physicalMemory().read64Acquire(base + 8L * i);
            if (!PteBits.none(e)) {
                memory.check.report("PTE table pfn 0x" + Long.toHexString(pfn) + " freed with entry " + i + " = "
                        + PteBits.describe(e) + " (a PTE installed into an unlinked table: lost mapping)");
                return;
            }
        }
    }
}
