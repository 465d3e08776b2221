package org.mmulab.emulator.mmu;

import org.mmulab.emulator.cpu.CpuState;

/**
 * {@code --check}'s question to one {@link Mmu}: may this vCPU still reach a physical frame through what
 * it caches — the interpreter's fetch page, the CR3 root (4-level paging, SDM Vol. 3A §4.5), PAE's PDPTE
 * registers (§4.4.1), the paging-structure caches (§4.10.3), the fast path, or a TLB entry (§4.10.2)? A
 * frame it may reach must not be freed: Linux frees page tables and pages only after the TLB shootdown
 * (mm/mmu_gather.c).
 */
final class FrameReach {
    private FrameReach() {
    }

    /** {@link Mmu#mayReach}. */
    static boolean mayReach(Mmu m, long framePhys) {
        long f = framePhys & ~0xfffL;
        if (m.fetchFrameAcquire() == f) {
            return true;
        }
        CpuState s = m.state();
        long physAddrMask = m.physAddrMask;
        if ((s.cr0 & CpuState.CR0_PG) != 0) {
            if (s.pagingLongMode() && (s.cr3 & physAddrMask) == f) {
                return true;
            }
            if (m.invalidation.isPae()) {
                for (long e : m.pdpteRegisters) {
                    if ((e & Pte.P) != 0 && (e & physAddrMask) == f) {
                        return true;
                    }
                }
            }
        }
        for (PagingStructureCache c : new PagingStructureCache[] {m.pml4eCache, m.pdpteCache, m.pdeCache}) {
            if (c.references(f)) {
                return true;
            }
        }
        if (m.fast.reaches(f)) {
            return true;
        }
        for (Tlb t : new Tlb[] {m.dtlb, m.itlb, m.stlb}) {
            for (int size = Tlb.SIZE_4K; size <= Tlb.SIZE_1G; size++) {
                TlbArray a = t.array(size);
                if (a != null && a.covers(f)) {
                    return true;
                }
            }
        }
        return false;
    }
}
