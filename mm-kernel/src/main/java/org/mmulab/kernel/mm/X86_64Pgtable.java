package org.mmulab.kernel.mm;

import org.mmulab.emulator.machine.YieldKind;
import org.mmulab.emulator.memory.PhysicalMemory;

/**
 * 4-level x86-64 paging (arch/x86/include/asm/pgtable_64.h, pgtable_64_types.h): 512 64-bit entries per
 * table, every entry read and written with one naturally aligned 64-bit access, so lockless reads
 * cannot tear. TASK_SIZE_MAX = 2^47 - 4096 (the guard page below the canonical hole).
 */
public final class X86_64Pgtable implements PgtableOps {
    public static final long TASK_SIZE = (1L << 47) - 4096;
    private final PhysicalMemory mem;
    private final CycleCharge charge;

    public X86_64Pgtable(PhysicalMemory mem) {
        this(mem, CycleCharge.NONE);
    }

    /** @param charge where each entry access is charged (one cache-model access per 64-bit load or store) */
    public X86_64Pgtable(PhysicalMemory mem, CycleCharge charge) {
        this.mem = mem;
        this.charge = charge;
    }

    @Override
    public int levels() {
        return 4;
    }

    @Override
    public int shift(int level) {
        return 12 + 9 * (level - 1);
    }

    @Override
    public int entries(int level) {
        return 512;
    }

    @Override
    public long get(long entryPa) {
        charge.load(entryPa, YieldKind.PTE_READ);
        return mem.read64Acquire(entryPa);
    }

    /** none is a zero 64-bit entry in this format: one plain scan of guest RAM. */
    @Override
    public int nextNonNone(long tablePa, int from, int to) {
        return charge.scanNone(mem, tablePa, from, to);
    }

    @Override
    public long getLockless(long entryPa) {
        charge.load(entryPa, YieldKind.PTE_READ);
        return mem.read64Acquire(entryPa);
    }

    @Override
    public void set(long entryPa, long value) {
        checkWrite(entryPa);
        charge.store(entryPa, YieldKind.PTE_WRITE);
        mem.write64Release(entryPa, value);
    }

    @Override
    public void wrprotect(long entryPa) {
        checkWrite(entryPa);
        charge.atomic(entryPa);
        for (;;) {
            long old = mem.read64Acquire(entryPa);
            if ((old & PteBits.RW) == 0 || mem.compareAndExchange64(entryPa, old, old & ~PteBits.RW) == old) {
                return;
            }
        }
    }

    @Override
    public void clear(long entryPa) {
        checkWrite(entryPa);
        charge.store(entryPa, YieldKind.PTE_WRITE);
        mem.write64Release(entryPa, 0);
    }

    @Override
    public long getAndClear(long entryPa) {
        checkWrite(entryPa);
        charge.atomic(entryPa);
        return mem.getAndSet64(entryPa, 0);
    }

    /** {@link PgtableOps#setWriteCheck}: null unless --check. */
    private java.util.function.LongConsumer writeCheck;

    @Override
    public void setWriteCheck(java.util.function.LongConsumer c) {
        writeCheck = c;
    }

    private void checkWrite(long entryPa) {
        java.util.function.LongConsumer c = writeCheck;
        if (c != null) {
            c.accept(entryPa);
        }
    }

    @Override
    public long taskSize() {
        return TASK_SIZE;
    }
}
