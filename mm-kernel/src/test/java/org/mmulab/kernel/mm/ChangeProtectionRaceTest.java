package org.mmulab.kernel.mm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.mmulab.emulator.memory.PhysicalMemory;

/**
 * mprotect and zap against what other vCPUs do between the kernel's steps, staged deterministically
 * through {@link HookedPgtable} and the pte_offset_map_lock race hook (no threads, no timing).
 */
class ChangeProtectionRaceTest {
    static final long ADDR = 0x4000_0000L;
    PhysicalMemory mem;
    HookedPgtable ops;
    Memory memory;
    Mmap mmap;
    MmStruct mm;

    @BeforeEach
    void setUp() {
        mem = new PhysicalMemory(16L << 20);
        ops = new HookedPgtable(mem);
        memory = new Memory(mem, new FrameTable(mem), ops);
        mmap = new Mmap(memory);
        mm = memory.mmAlloc();
        long a = mmap.doMmap(mm, null, ADDR, 4 * 4096, Mmap.PROT_READ | Mmap.PROT_WRITE,
                Mmap.MAP_PRIVATE | Mmap.MAP_ANONYMOUS | Mmap.MAP_FIXED, 0, null);
        assertEquals(ADDR, a);
        for (int i = 0; i < 4; i++) {
            assertEquals(Memory.VM_FAULT_OK, memory.handleMmFault(mm.findVma(ADDR), ADDR + i * 4096L,
                    Memory.FAULT_FLAG_WRITE | Memory.FAULT_FLAG_USER));
        }
    }

    private long ptep(long va) {
        long pmd = mem.read64(memory.pmdOffset(mm, va));
        return ops.entryAddr(PteBits.pfn(pmd) << 12, va, 1);
    }

    /**
     * change_pte_range read the PTE (present, clean, not yet accessed), decided to change it; before its
     * atomic clear, another vCPU's walker set A and D. The new PTE must keep them: it is made from what
     * ptep_modify_prot_start returned, not from the first read.
     */
    @Test
    void accessedAndDirtySetByTheWalkerBeforeTheClearSurviveMprotect() {
        long target = ADDR + 4096;
        long ptep = ptep(target);
        // a clean, never-accessed writable PTE (as after writeback, or a fresh mapping)
        mem.write64(ptep, mem.read64(ptep) & ~(PteBits.ACCESSED | PteBits.DIRTY));
        AtomicInteger hits = new AtomicInteger();
        ops.beforeGetAndClear = pa -> {
            if (pa == ptep && hits.getAndIncrement() == 0) {
                ops.walkerSets(pa, PteBits.ACCESSED | PteBits.DIRTY);
            }
        };
        assertEquals(0, mmap.mprotect(mm, ADDR, 4 * 4096, Mmap.PROT_READ));
        ops.beforeGetAndClear = null;
        assertEquals(1, hits.get(), "mprotect cleared the PTE once");
        long pte = mem.read64(ptep);
        assertTrue(PteBits.present(pte) && !PteBits.write(pte), PteBits.describe(pte));
        assertEquals(PteBits.DIRTY, pte & PteBits.DIRTY, "the walker's D bit was lost: " + PteBits.describe(pte));
        assertEquals(PteBits.ACCESSED, pte & PteBits.ACCESSED, "the walker's A bit was lost: " + PteBits.describe(pte));
    }

    /**
     * Stages: the caller read the PMD (a table); in pte_offset_map_lock's window khugepaged-like code
     * retracts the table (PMD none), so pte_offset_map_lock fails; then a fault on another vCPU installs
     * the table again (here the same page with its entries). The caller must look at the PMD again
     * (change_pmd_range's / zap_pmd_range's retry) instead of skipping the 2 MiB.
     */
    private final AtomicInteger state = new AtomicInteger(); // 0 armed, 1 retracted, 2 table back
    private long pmdp, table;

    private void retractOnceThenRefault() {
        pmdp = memory.pmdOffset(mm, ADDR);
        table = mem.read64(pmdp);
        AtomicInteger noneReads = new AtomicInteger();
        memory.setPteMapLockRaceHook(() -> {
            if (state.compareAndSet(0, 1)) {
                ops.clear(pmdp); // retract_page_tables: the PMD goes none
            }
        });
        ops.beforeGetLockless = pa -> {
            // pte_offset_map_lock reads the PMD twice more (its pmd_same recheck, then its retry, which
            // finds none and fails); after that the refault puts the table back.
            if (pa == pmdp && state.get() == 1 && noneReads.getAndIncrement() == 2) {
                ops.set(pmdp, table);
                state.set(2);
            }
            return pa;
        };
    }

    /** Ends the staging; a refault the operation never gave a chance to happen happens now. */
    private void unhook() {
        memory.setPteMapLockRaceHook(null);
        ops.beforeGetLockless = null;
        if (state.compareAndSet(1, 2)) {
            ops.set(pmdp, table);
        }
    }

    @Test
    void mprotectRetriesWhenPteOffsetMapLockFailsAndChangesTheReinstalledTable() {
        retractOnceThenRefault();
        long failedBefore = memory.stats.pteMapLockFailed.get();
        assertEquals(0, mmap.mprotect(mm, ADDR, 4 * 4096, Mmap.PROT_READ));
        unhook();
        assertEquals(failedBefore + 1, memory.stats.pteMapLockFailed.get(), "the staged failure happened");
        for (int i = 0; i < 4; i++) {
            long pte = memory.lookupPte(mm, ADDR + i * 4096L);
            assertTrue(PteBits.present(pte), PteBits.describe(pte));
            assertTrue(!PteBits.write(pte), "page " + i + " still writable after mprotect(PROT_READ): " + PteBits.describe(pte));
        }
    }

    @Test
    void zapRetriesWhenPteOffsetMapLockFailsAndZapsTheReinstalledTable() {
        long anon = mm.counter(MmStruct.MM_ANONPAGES);
        retractOnceThenRefault();
        long failedBefore = memory.stats.pteMapLockFailed.get();
        assertEquals(0, mmap.madvise(mm, ADDR, 4 * 4096, Mmap.MADV_DONTNEED));
        unhook();
        assertEquals(failedBefore + 1, memory.stats.pteMapLockFailed.get(), "the staged failure happened");
        for (int i = 0; i < 4; i++) {
            assertEquals(0, memory.lookupPte(mm, ADDR + i * 4096L), "page " + i + " still mapped after MADV_DONTNEED");
        }
        assertEquals(anon - 4, mm.counter(MmStruct.MM_ANONPAGES));
    }
}
