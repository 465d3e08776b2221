package org.mmulab.kernel.mm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import org.mmulab.emulator.memory.PhysicalMemory;

/**
 * What ptep_get_lockless really promises under PAE, and a caller that relied on more. The interleaving
 * is staged through the per-access charge hook, which runs just before each 32-bit load.
 */
class LocklessReadTest {
    static final long NEW_PTE = 0x8000_0000_0012_3067L; // NX (high word) | pfn 0x123 | D A U W P

    /**
     * getLockless reads low, high, low again. The writer's native_set_pte stores the high word between
     * the reader's first two loads, its low word only after the third: the reader returns the new high
     * word with the old (empty) low word. Torn — but not present, which is all the PAE read guarantees.
     */
    @Test
    void paeLocklessReadCanReturnATornValueButNeverATornPresentOne() {
        PhysicalMemory mem = new PhysicalMemory(1L << 20);
        long pa = 0x5000;
        AtomicInteger loads = new AtomicInteger();
        PaePgtable pae = new PaePgtable(mem, new CycleCharge(() -> {
            if (loads.incrementAndGet() == 2) {
                mem.write32Release(pa + 4, (int) (NEW_PTE >>> 32)); // the writer's first store
            }
            return null;
        }));
        long v = pae.getLockless(pa);
        assertEquals(3, loads.get(), "low, high, low: no retry, the low word did not change");
        assertEquals(NEW_PTE & 0xffff_ffff_0000_0000L, v, "new high word, old low word: torn");
        assertFalse(PteBits.none(v));
        assertFalse(PteBits.present(v), "a torn value never has P: P is in the low word, stored last");
        mem.write32Release(pa, (int) NEW_PTE); // the writer's second store
        assertEquals(NEW_PTE, pae.getLockless(pa));
    }

    /**
     * __pte_offset_map given a torn PMD (a PAE reader inside pmd_populate's two stores, with the table
     * above 4 GiB: new high word, old empty low word) must treat it as "no table for now", not as a bad
     * PMD to clear: clearing it would throw away the table the writer just installed, with its PTEs.
     */
    @Test
    void aTornPmdIsNoTableNotABadPmdToClear() {
        PhysicalMemory mem = new PhysicalMemory(16L << 20);
        Memory memory = new Memory(mem, new FrameTable(mem), new PaePgtable(mem));
        MmStruct mm = memory.mmAlloc();
        Mmap mmap = new Mmap(memory);
        long addr = 0x4000_0000L;
        assertEquals(addr, mmap.doMmap(mm, null, addr, 4096, Mmap.PROT_READ | Mmap.PROT_WRITE,
                Mmap.MAP_PRIVATE | Mmap.MAP_ANONYMOUS | Mmap.MAP_FIXED, 0, null));
        assertEquals(Memory.VM_FAULT_OK, memory.handleMmFault(mm.findVma(addr), addr, Memory.FAULT_FLAG_WRITE));
        long pmdp = memory.pmdOffset(mm, addr);
        long pmd = mem.read64(pmdp);
        long pte = memory.lookupPte(mm, addr);
        assertTrue(PteBits.present(pte));
        long torn = 0x1L << 32; // high word of a table at pfn 0x100000, low word still 0
        assertEquals(-1, memory.pgtables.pteOffsetMap(pmdp, torn, addr));
        assertEquals(pmd, mem.read64(pmdp), "the PMD was cleared for a torn read");
        assertEquals(pte, memory.lookupPte(mm, addr));
        assertEquals(0, memory.stats.pmdBad.get());
        // a present bad PMD is still pmd_clear_bad's
        mem.write64(pmdp, pmd & ~PteBits.USER);
        assertEquals(-1, memory.pgtables.pteOffsetMap(pmdp, pmd & ~PteBits.USER, addr));
        assertEquals(0, mem.read64(pmdp));
        assertEquals(1, memory.stats.pmdBad.get());
    }
}
