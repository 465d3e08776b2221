package org.mmulab.kernel.mm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.time.Duration;

import org.junit.jupiter.api.Test;
import org.mmulab.emulator.memory.PhysicalMemory;

/**
 * MADV_DONTNEED under the mmap read lock (madvise_need_mmap_write) and the flush two parallel zaps need:
 * tlb_finish_mmu with another mmu_gather of the mm pending flushes the whole mm even when it cleared
 * nothing itself (mm_tlb_flush_nested), and only then (99baac21e458).
 */
class ParallelZapTest {
    static final long ADDR = 0x4000_0000L;

    private final Memory memory = new Memory(new PhysicalMemory(16L << 20));
    private final Mmap mmap = new Mmap(memory);
    private final MmStruct mm = memory.mmAlloc();

    @Test
    void dontneedRunsWhileAnotherThreadHoldsTheMmapReadLock() throws Exception {
        assertEquals(ADDR, mmap.doMmap(mm, null, ADDR, 4096, Mmap.PROT_READ | Mmap.PROT_WRITE,
                Mmap.MAP_PRIVATE | Mmap.MAP_ANONYMOUS | Mmap.MAP_FIXED, 0, null));
        assertEquals(Memory.VM_FAULT_OK, memory.handleMmFault(mm.findVma(ADDR), ADDR, Memory.FAULT_FLAG_WRITE));
        mm.mmapLock.downRead(); // a fault in progress on another CPU
        try {
            int[] r = {-1};
            Thread t = new Thread(() -> r[0] = mmap.madvise(mm, ADDR, 4096, Mmap.MADV_DONTNEED));
            t.start();
            assertTimeoutPreemptively(Duration.ofSeconds(20), () -> t.join());
            assertEquals(0, r[0]);
        } finally {
            mm.mmapLock.upRead();
        }
        assertEquals(0, memory.lookupPte(mm, ADDR));
        assertEquals(0, mm.counter(MmStruct.MM_ANONPAGES));
    }

    @Test
    void aGatherFinishingWhileAnotherIsPendingFlushesTheWholeMm() {
        long before = memory.stats.gatherFlushes.get();
        MmuGather first = new MmuGather(mm);
        MmuGather second = new MmuGather(mm);
        second.finish(); // found nothing to zap, but `first` may have cleared PTEs it has not flushed
        assertEquals(before + 1, memory.stats.gatherFlushes.get(), "nested: a full flush");
        first.finish(); // alone now, nothing gathered: nothing to flush
        assertEquals(before + 1, memory.stats.gatherFlushes.get());
        assertEquals(0, mm.tlbFlushPending.get());
    }

    @Test
    void withTheFixRevertedTheEmptyGatherFlushesNothing() {
        memory.fixes.revert(MmFix.TLB_FLUSH_NESTED);
        long before = memory.stats.gatherFlushes.get();
        MmuGather first = new MmuGather(mm);
        new MmuGather(mm).finish();
        first.finish();
        assertEquals(before, memory.stats.gatherFlushes.get());
    }
}
