package org.mmulab.kernel.mm;

import java.util.function.LongConsumer;
import java.util.function.LongUnaryOperator;

import org.mmulab.emulator.memory.PhysicalMemory;

/**
 * A page-table format that runs a test's code at exact points of the kernel's accesses, to stage one
 * interleaving deterministically: what another vCPU (its page walker's A/D CAS, a racing fault or
 * khugepaged) does between two of the kernel's steps. Delegates everything to {@link X86_64Pgtable}.
 */
final class HookedPgtable implements PgtableOps {
    final X86_64Pgtable real;
    final PhysicalMemory mem;
    /** Runs with the entry address before {@link #getAndClear} clears it (null: none). */
    volatile LongConsumer beforeGetAndClear;
    /** Filters {@link #getLockless}: gets the entry address, may act, then the real read happens (null: none). */
    volatile LongUnaryOperator beforeGetLockless;

    HookedPgtable(PhysicalMemory mem) {
        this.mem = mem;
        this.real = new X86_64Pgtable(mem);
    }

    @Override
    public int levels() {
        return real.levels();
    }

    @Override
    public int shift(int level) {
        return real.shift(level);
    }

    @Override
    public int entries(int level) {
        return real.entries(level);
    }

    @Override
    public long get(long entryPa) {
        return real.get(entryPa);
    }

    @Override
    public long getLockless(long entryPa) {
        LongUnaryOperator h = beforeGetLockless;
        if (h != null) {
            h.applyAsLong(entryPa);
        }
        return real.getLockless(entryPa);
    }

    @Override
    public void set(long entryPa, long value) {
        real.set(entryPa, value);
    }

    @Override
    public void wrprotect(long entryPa) {
        real.wrprotect(entryPa);
    }

    @Override
    public void clear(long entryPa) {
        real.clear(entryPa);
    }

    @Override
    public long getAndClear(long entryPa) {
        LongConsumer h = beforeGetAndClear;
        if (h != null) {
            h.accept(entryPa);
        }
        return real.getAndClear(entryPa);
    }

    @Override
    public long mkTable(int level, long pfn) {
        return real.mkTable(level, pfn);
    }

    @Override
    public boolean tableBad(int level, long e) {
        return real.tableBad(level, e);
    }

    @Override
    public long taskSize() {
        return real.taskSize();
    }

    /** The hardware walker setting {@code bits} (A, D) in a PTE with its locked compare-and-exchange. */
    void walkerSets(long ptep, long bits) {
        for (;;) {
            long old = mem.read64(ptep);
            if (mem.compareAndExchange64(ptep, old, old | bits) == old) {
                return;
            }
        }
    }
}
