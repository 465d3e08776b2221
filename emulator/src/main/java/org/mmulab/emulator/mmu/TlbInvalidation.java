package org.mmulab.emulator.mmu;

import org.mmulab.emulator.cpu.CpuState;
import org.mmulab.emulator.cpu.GuestFault;
import org.mmulab.emulator.cpu.Vectors;

/**
 * What invalidates one {@link Mmu}'s TLBs and paging-structure caches (Intel SDM Vol. 3A §4.10.4.1; Bochs'
 * cpu/paging.cc TLB_flush / INVLPG / INVPCID, Linux arch/x86/mm/tlb.c is the software side): INVLPG,
 * INVPCID types 0-3, MOV to CR3 (with PCIDE's no-flush bit 63), and the CR0/CR4/EFER writes that flush
 * everything; and PAE's PDPTE registers, loaded at MOV CR3 and on paging-mode changes with their
 * reserved-bit #GP (§4.4.1). Every drop of a dTLB entry also drops the host fast-path entries it backed.
 */
final class TlbInvalidation {
    private static final long PDPTE_REG_RESERVED_LOW = 0x1e6L; // PAE PDPTE bits 2:1 and 8:5

    private final Mmu mmu;
    private final CpuState s;
    private final MmuCounters counters;
    private final long paeReservedHigh;

    TlbInvalidation(Mmu mmu, long paeReservedHigh) {
        this.mmu = mmu;
        this.s = mmu.state();
        this.counters = mmu.counters;
        this.paeReservedHigh = paeReservedHigh;
    }

    /**
     * INVLPG: drops TLB entries for the page of {@code va} (current PCID, and global ones) and every
     * paging-structure-cache entry of the current PCID, whatever its address (§4.10.4.1).
     */
    void invlpg(long va) {
        counters.invlpg++;
        if (!s.pagingLongMode()) {
            va &= 0xffff_ffffL;
        }
        int pcid = mmu.currentPcid();
        mmu.invalidateDtlbPage(va, pcid);
        mmu.itlb.invalidatePage(va, pcid);
        mmu.stlb.invalidatePage(va, pcid);
        flushPagingStructureCaches(pcid);
    }

    /** INVPCID types 0-3 (SDM Vol. 2 INVPCID). Type 0 with a non-canonical address raises #GP. */
    void invpcid(int type, int pcid, long va) {
        counters.invpcid++;
        mmu.clearFastPath();
        switch (type) {
            case 0 -> {
                if (((va << 16) >> 16) != va) {
                    throw GuestFault.raise(s, Vectors.GP, 0);
                }
                mmu.dtlb.invalidatePageNonGlobal(va, pcid);
                mmu.itlb.invalidatePageNonGlobal(va, pcid);
                mmu.stlb.invalidatePageNonGlobal(va, pcid);
                flushPagingStructureCaches(pcid);
            }
            case 1 -> {
                mmu.dtlb.flush(true, pcid);
                mmu.itlb.flush(true, pcid);
                mmu.stlb.flush(true, pcid);
                flushPagingStructureCaches(pcid);
            }
            case 2 -> flushAll();
            case 3 -> {
                mmu.dtlb.flush(true, -1);
                mmu.itlb.flush(true, -1);
                mmu.stlb.flush(true, -1);
                flushPagingStructureCaches(-1);
            }
            default -> throw GuestFault.raise(s, Vectors.GP, 0);
        }
    }

    /**
     * MOV to CR3: loads the new root (and, under PAE, the PDPTE registers, checking their reserved bits:
     * #GP(0) leaves CR3 unchanged). Unless PCIDE=1 with bit 63 set, drops the non-global TLB entries
     * (of the new PCID when PCIDE=1) and the paging-structure caches of that PCID.
     */
    void writeCr3(long value) {
        boolean pcide = (s.cr4 & CpuState.CR4_PCIDE) != 0;
        boolean noFlush = pcide && value < 0;
        long newCr3 = value & ~(1L << 63);
        if (isPae()) {
            loadPdpteRegisters(newCr3);
        }
        s.cr3 = newCr3;
        mmu.clearFastPath(); // fast entries are not tagged with a PCID
        if (!noFlush) {
            counters.cr3Flushes++;
            int only = pcide ? (int) (newCr3 & 0xfff) : -1;
            mmu.dtlb.flush(true, only);
            mmu.itlb.flush(true, only);
            mmu.stlb.flush(true, only);
            flushPagingStructureCaches(only);
        }
    }

    /**
     * Applies the effects of a write to CR0, CR4 or EFER that the caller has already stored in the
     * state (SDM §4.10.4.1): toggling CR0.PG, CR4.PGE or CR4.PAE, or clearing CR4.PCIDE, flushes
     * everything including global entries; entering PAE paging reloads the PDPTE registers (§4.4.1).
     */
    void controlRegistersChanged(long oldCr0, long oldCr4, long oldEfer) {
        long cr0Diff = oldCr0 ^ s.cr0;
        long cr4Diff = oldCr4 ^ s.cr4;
        boolean pcidCleared = (oldCr4 & CpuState.CR4_PCIDE) != 0 && (s.cr4 & CpuState.CR4_PCIDE) == 0;
        if ((cr0Diff & (CpuState.CR0_PG | CpuState.CR0_WP)) != 0
                || (cr4Diff & (CpuState.CR4_PGE | CpuState.CR4_PAE | CpuState.CR4_SMEP | CpuState.CR4_PSE)) != 0
                || pcidCleared || ((oldEfer ^ s.efer) & CpuState.EFER_NXE) != 0) {
            flushAll();
        }
        if (isPae() && ((cr0Diff & CpuState.CR0_PG) != 0
                || (cr4Diff & (CpuState.CR4_PAE | CpuState.CR4_PGE | CpuState.CR4_PSE | CpuState.CR4_SMEP)) != 0)) {
            loadPdpteRegisters(s.cr3);
        }
    }

    boolean isPae() {
        return (s.cr0 & CpuState.CR0_PG) != 0 && (s.cr4 & CpuState.CR4_PAE) != 0 && !s.pagingLongMode();
    }

    /** True if loading the PDPTE registers from {@code cr3} would succeed (reads only; no #GP, no state change). */
    boolean pdptesLoadable(long cr3) {
        long base = cr3 & 0xffff_ffe0L;
        for (int i = 0; i < 4; i++) {
            if (pdpteReserved(mmu.mem.read64(base + 8L * i))) {
                return false;
            }
        }
        return true;
    }

    private boolean pdpteReserved(long e) {
        return (e & Pte.P) != 0 && ((e & PDPTE_REG_RESERVED_LOW) != 0 || (e & paeReservedHigh) != 0 || e < 0);
    }

    /** SDM §4.4.1: read the four PDPTEs at CR3[31:5]; a present one with reserved bits set → #GP(0). */
    private void loadPdpteRegisters(long cr3) {
        long base = cr3 & 0xffff_ffe0L;
        long[] loaded = new long[4];
        for (int i = 0; i < 4; i++) {
            long e = mmu.mem.read64(base + 8L * i);
            if (pdpteReserved(e)) {
                throw GuestFault.raise(s, Vectors.GP, 0);
            }
            loaded[i] = e;
        }
        System.arraycopy(loaded, 0, mmu.pdpteRegisters, 0, 4);
        // PDPTE registers replace paging-structure caching of the PDPTE level.
        flushPagingStructureCaches(-1);
    }

    /** Drops every translation including global ones and every paging-structure-cache entry. */
    void flushAll() {
        counters.fullFlushes++;
        mmu.clearFastPath();
        mmu.dtlb.flush(false, -1);
        mmu.itlb.flush(false, -1);
        mmu.stlb.flush(false, -1);
        flushPagingStructureCaches(-1);
    }

    private void flushPagingStructureCaches(int pcid) {
        mmu.pml4eCache.flush(pcid);
        mmu.pdpteCache.flush(pcid);
        mmu.pdeCache.flush(pcid);
    }
}
