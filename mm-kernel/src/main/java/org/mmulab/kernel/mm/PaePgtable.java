package org.mmulab.kernel.mm;

import java.lang.invoke.VarHandle;

import org.mmulab.emulator.machine.YieldKind;
import org.mmulab.emulator.memory.PhysicalMemory;

/**
 * 32-bit PAE paging (arch/x86/include/asm/pgtable-3level.h, pgtable-3level_types.h): 3 levels, a
 * 4-entry PDPT (the PGD; PDPTEs may only have P and the address — RW/US are reserved there), 512-entry
 * PMD and PTE tables of 64-bit entries that a 32-bit kernel writes as two 32-bit halves:
 * <ul>
 * <li>{@code native_set_pte}: high word, smp_wmb, low word — the entry becomes present (P is in the
 *     low word) only once its high half is in place;</li>
 * <li>{@code native_pte_clear}: low word first (not present any more), then high;</li>
 * <li>{@code native_ptep_get_and_clear}: a 64-bit cmpxchg loop;</li>
 * <li>{@code ptep_get_lockless} / {@code pmdp_get_lockless}: low, smp_rmb, high, smp_rmb, re-read
 *     low, retry if it changed. That does <em>not</em> exclude a torn value: a reader between
 *     native_set_pte's two stores reads the old low word, the new high word, and the old low word again,
 *     and returns that mix. It only guarantees that a value with P set is whole (P lives in the low
 *     word, stored last and cleared first); a non-present, non-none value may be torn, which is why the
 *     callers revalidate under the lock ({@link PgtableOps#getLockless}).</li>
 * </ul>
 * TASK_SIZE is PAGE_OFFSET = 3 GiB (the default VMSPLIT_3G). Selected by
 * {@code KernelConfig.PagingMode.PAE}; the generic mm goes through {@link PgtableOps} only.
 *
 * <p>{@link #setBetweenHalvesHook} runs a test's code between the two halves of {@link #set} and
 * {@link #clear}: the windows in which a lockless reader can see a torn entry.
 */
public final class PaePgtable implements PgtableOps {
    public static final long TASK_SIZE = 0xC000_0000L;
    private final PhysicalMemory mem;
    private volatile java.util.function.LongConsumer betweenHalves;

    /**
     * Test hook called with the entry's physical address between the two 32-bit stores of {@link #set}
     * (high written, low still old) and of {@link #clear} (low zeroed, high still old). Null: none.
     */
    public void setBetweenHalvesHook(java.util.function.LongConsumer h) {
        betweenHalves = h;
    }

    private void betweenHalves(long entryPa) {
        java.util.function.LongConsumer h = betweenHalves;
        if (h != null) {
            h.accept(entryPa);
        }
    }

    private final CycleCharge charge;

    public PaePgtable(PhysicalMemory mem) {
        this(mem, CycleCharge.NONE);
    }

    /** @param charge where each 32-bit half access and each cmpxchg64 is charged */
    public PaePgtable(PhysicalMemory mem, CycleCharge charge) {
        this.mem = mem;
        this.charge = charge;
    }

    @Override
    public int levels() {
        return 3;
    }

    @Override
    public int shift(int level) {
        return 12 + 9 * (level - 1);
    }

    @Override
    public int entries(int level) {
        return level == 3 ? 4 : 512;
    }

    @Override
    public long mkTable(int level, long pfn) {
        return level == 3 ? (pfn << 12) | PteBits.PRESENT : PteBits.mkTable(pfn);
    }

    @Override
    public boolean tableBad(int level, long e) {
        if (level == 3) {
            return (e & PteBits.PRESENT) == 0 || (e & 0x1e6L) != 0; // PDPTE reserved bits 2:1, 8:5
        }
        return PteBits.tableBad(e);
    }

    private long lo(long pa) {
        charge.load(pa, YieldKind.PTE_READ_LO);
        return mem.read32Acquire(pa) & 0xffff_ffffL;
    }

    private long hi(long pa) {
        charge.load(pa + 4, YieldKind.PTE_READ_HI);
        return mem.read32Acquire(pa + 4) & 0xffff_ffffL;
    }

    @Override
    public long get(long entryPa) {
        // Under the PTE lock nobody else writes it; the two halves are consistent.
        return lo(entryPa) | hi(entryPa) << 32;
    }

    /** none is a zero 64-bit entry in this format: one plain scan of guest RAM. */
    @Override
    public int nextNonNone(long tablePa, int from, int to) {
        return charge.scanNone(mem, tablePa, from, to);
    }

    @Override
    public long getLockless(long entryPa) {
        for (;;) {
            long low = lo(entryPa);
            VarHandle.acquireFence();
            long high = hi(entryPa);
            VarHandle.acquireFence();
            if (low == lo(entryPa)) {
                return low | high << 32;
            }
        }
    }

    @Override
    public void set(long entryPa, long value) {
        checkWrite(entryPa);
        charge.store(entryPa + 4, YieldKind.PTE_WRITE_HI);
        mem.write32Release(entryPa + 4, (int) (value >>> 32));
        VarHandle.releaseFence(); // smp_wmb
        betweenHalves(entryPa);
        charge.store(entryPa, YieldKind.PTE_WRITE_LO);
        mem.write32Release(entryPa, (int) value);
    }

    /** clear_bit(_PAGE_BIT_RW) on the low word: a locked 32-bit AND; the high word is not touched. */
    @Override
    public void wrprotect(long entryPa) {
        checkWrite(entryPa);
        charge.atomic(entryPa);
        for (;;) {
            int old = mem.read32Acquire(entryPa);
            if ((old & PteBits.RW) == 0 || mem.compareAndExchange32(entryPa, old, old & (int) ~PteBits.RW) == old) {
                return;
            }
        }
    }

    @Override
    public void clear(long entryPa) {
        checkWrite(entryPa);
        charge.store(entryPa, YieldKind.PTE_WRITE_LO);
        mem.write32Release(entryPa, 0);
        VarHandle.releaseFence();
        betweenHalves(entryPa);
        charge.store(entryPa + 4, YieldKind.PTE_WRITE_HI);
        mem.write32Release(entryPa + 4, 0);
    }

    @Override
    public long getAndClear(long entryPa) {
        checkWrite(entryPa);
        for (;;) {
            long old = getLockless(entryPa);
            charge.atomic(entryPa);
            if (mem.compareAndExchange64(entryPa, old, 0) == old) {
                return old;
            }
        }
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
