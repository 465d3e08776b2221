package org.mmulab.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.mmulab.emulator.machine.Vcpu;
import org.mmulab.emulator.mmu.Mmu;
import org.mmulab.emulator.mmu.PagingStructureCache;
import org.mmulab.emulator.mmu.Pte;
import org.mmulab.emulator.mmu.Tlb;
import org.mmulab.kernel.mm.MmStruct;

/**
 * exit_mmap never frees a page-table page (the PGD included) or a data frame that a vCPU can still
 * reach: through CR3, the PAE PDPTE registers, a TLB entry or a paging-structure-cache entry. The frame
 * table's free observer checks each frame as it goes back to the allocator.
 */
class ExitMmapTest {
    private static List<String> watchFrees(Fixture f) {
        List<String> violations = new ArrayList<>();
        Vcpu cpu = f.cpu;
        f.memory().frames().setFreeObserver(pfn -> {
            Mmu mmu = cpu.mmu();
            long pa = pfn << 12;
            if ((cpu.state.cr3 & Pte.ADDR_MASK) == pa) {
                violations.add("pfn 0x" + Long.toHexString(pfn) + " freed while CR3 points at it");
            }
            if (!cpu.state.pagingLongMode()) {
                for (int i = 0; i < 4; i++) {
                    long e = mmu.pdpteRegister(i);
                    if ((e & Pte.P) != 0 && (e & Pte.ADDR_MASK) == pa) {
                        violations.add("pfn 0x" + Long.toHexString(pfn) + " freed while PDPTE register " + i + " points at it");
                    }
                }
            }
            for (PagingStructureCache c : mmu.pagingStructureCaches()) {
                if (c.validCount() != 0) {
                    violations.add("pfn 0x" + Long.toHexString(pfn) + " freed with " + c.validCount() + " entries in " + c.name());
                }
            }
            for (Tlb t : new Tlb[] {mmu.dtlb(), mmu.itlb(), mmu.stlb()}) {
                for (int s = 0; s < 3; s++) {
                    if (t.array(s) == null) {
                        continue;
                    }
                    t.array(s).forEach((va, pcid, frame, attrs) -> {
                        if (frame == pa) {
                            violations.add("pfn 0x" + Long.toHexString(pfn) + " freed while a TLB maps va 0x" + Long.toHexString(va) + " to it");
                        }
                    });
                }
            }
        });
        return violations;
    }

    private static void touchPages(Fixture f, long a, int n) {
        for (int i = 0; i < n; i++) {
            assertTrue(f.touch(a + i * 4096L, true) >= 0);
        }
    }

    @Test
    void exitLeavesTheMmForInitMmBeforeFreeingItsPgd() throws Exception {
        Fixture f = Fixture.booted();
        MmStruct mm = f.mm();
        long a = f.mmap(0, 16 * 4096, 3, 0x22);
        touchPages(f, a, 16);
        long pgd = mm.pgdPhys();
        assertEquals(pgd, f.cpu.state.cr3 & Pte.ADDR_MASK, "the task's mm is loaded");
        List<String> violations = watchFrees(f);
        f.sys(Syscalls.NR_EXIT_GROUP, 0);
        f.memory().frames().setFreeObserver(null);
        assertTrue(f.kernel.task().exited());
        assertEquals(List.of(), violations);
        assertEquals(f.memory().swapperPgdPhys(), f.cpu.state.cr3 & Pte.ADDR_MASK, "the vCPU runs on init_mm");
        assertEquals(null, f.memory().tlbFlush.state(f.cpu).loadedMm());
    }

    @Test
    void paeExitLeavesTheMmBeforeFreeingThePdptAndItsPmds() throws Exception {
        Fixture f = Fixture.booted32(KernelConfig.PagingMode.PAE);
        long a = f.sys32(192, 0, 16 * 4096, 3, 0x22, -1, 0) & 0xffff_ffffL; // mmap2
        touchPages(f, a, 16);
        assertEquals(f.mm().pgdPhys(), f.cpu.state.cr3 & Pte.ADDR_MASK);
        List<String> violations = watchFrees(f);
        f.sys32(252, 0); // exit_group
        f.memory().frames().setFreeObserver(null);
        assertTrue(f.kernel.task().exited());
        assertEquals(List.of(), violations);
        for (int i = 0; i < 4; i++) {
            assertEquals(0, f.cpu.mmu().pdpteRegister(i) & Pte.P, "PDPTE register " + i + " from init_mm's empty PDPT");
        }
    }

    /**
     * With PCIDs a vCPU that switched to another mm keeps the first mm's TLB and paging-structure-cache
     * entries, tagged with its PCID. Unusable while that PCID is inactive, they still name the tables
     * exit_mmap frees: the exit empties the ASID slot and invalidates the PCID first.
     */
    @Test
    void pcidTaggedEntriesOfAnMmSwitchedAwayFromGoBeforeItsTablesAreFreed() throws Exception {
        Fixture f = Fixture.booted();
        MmStruct a = f.mm();
        long x = f.mmap(0, 16 * 4096, 3, 0x22);
        touchPages(f, x, 16);
        MmStruct b = f.memory().mmAlloc();
        f.memory().tlbFlush.switchMm(f.cpu, b);
        assertTrue(f.cpu.mmu().pagingStructureCaches().stream().anyMatch(c -> c.validCount() > 0),
                "A's walks left PCID-tagged paging-structure-cache entries");
        List<String> violations = watchFrees(f);
        f.memory().exitMmap(a);
        f.memory().frames().setFreeObserver(null);
        assertEquals(List.of(), violations);
        assertEquals(b.pgdPhys(), f.cpu.state.cr3 & Pte.ADDR_MASK, "B stays loaded");
        for (int asid = 0; asid < org.mmulab.kernel.mm.TlbFlush.TLB_NR_DYN_ASIDS; asid++) {
            assertTrue(f.memory().tlbFlush.state(f.cpu).ctxId(asid) != a.ctxId(), "A's ASID slot emptied");
        }
    }
}
