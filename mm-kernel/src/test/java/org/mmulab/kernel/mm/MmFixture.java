package org.mmulab.kernel.mm;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;

import org.mmulab.emulator.memory.PhysicalMemory;

/**
 * One mm on a machine with no vCPUs, for the single-threaded tests of VMA operations (MremapTest,
 * VmaOpsTest, SoftDirtyTest): the page-table format chosen per test, the PTE-lock assertion on, user
 * loads and stores that fault as the MMU would, and the closing check (census of every mm, then no
 * leak once they are gone).
 */
abstract class MmFixture {
    static final int RW = Mmap.PROT_READ | Mmap.PROT_WRITE;
    static final int ANON = Mmap.MAP_PRIVATE | Mmap.MAP_ANONYMOUS | Mmap.MAP_FIXED;
    static final int SHARED = Mmap.MAP_SHARED | Mmap.MAP_ANONYMOUS | Mmap.MAP_FIXED;
    static final int W = Memory.FAULT_FLAG_WRITE | Memory.FAULT_FLAG_USER;
    static final long P = 4096;

    PhysicalMemory mem;
    Memory memory;
    Mmap mmap;
    MmStruct mm;

    void setUp(boolean pae) {
        mem = new PhysicalMemory(32L << 20);
        memory = new Memory(mem, new FrameTable(mem), pae ? new PaePgtable(mem) : new X86_64Pgtable(mem));
        memory.check.assertPteLocks();
        mmap = new Mmap(memory);
        mm = memory.mmAlloc();
    }

    /** The census of mm and {@code others}, their exit, and no frame leaked. */
    void tearDown(MmStruct... others) {
        List<MmStruct> all = new ArrayList<>(List.of(others));
        all.add(mm);
        assertEquals(List.of(), memory.check.checkMms(all));
        for (MmStruct m : all) {
            memory.exitMmap(m);
        }
        assertEquals(List.of(), memory.check.checkNoLeak());
    }

    long pte(MmStruct m, long va) {
        return memory.lookupPte(m, va);
    }

    /** A user store: a write fault unless the PTE allows the write, then the store through the PTE. */
    void store(MmStruct m, long va, long v) {
        if (!PteBits.write(pte(m, va))) {
            assertEquals(Memory.VM_FAULT_OK, memory.handleMmFault(m.vmaLookup(va), va, W));
        }
        mem.write64((PteBits.pfn(pte(m, va)) << 12) | (va & 0xfff), v);
    }

    /** A user load: a read fault unless the page is present. */
    long load(MmStruct m, long va) {
        if (!PteBits.present(pte(m, va))) {
            assertEquals(Memory.VM_FAULT_OK, memory.handleMmFault(m.vmaLookup(va), va, Memory.FAULT_FLAG_USER));
        }
        return mem.read64((PteBits.pfn(pte(m, va)) << 12) | (va & 0xfff));
    }
}
