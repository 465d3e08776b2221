package org.mmulab.emulator.mmu;

import org.mmulab.emulator.cpu.CpuState;

/**
 * {@code --check}'s question to one {@link Mmu}: may this vCPU still reach a physical frame through what
 * it caches — the interpreter's fetch page, the CR3 root (4-level paging, SDM Vol. 3A §4.5), PAE's PDPTE
 * registers (§4.4.1), the paging-structure caches (§4.10.3), the fast path, or a TLB entry (§4.10.2)? A
 * frame it may reach must not be freed: Linux frees page tables and pages only after the TLB shootdown
 * (mm/mmu_gather.c).
 *
 * <p>{@link #describe} also says <em>which</em> structure reaches the frame (and the entry's linear
 * address and PCID where it has them), so a {@code --check} report names the path that was not flushed.
 * The caches are read without synchronisation: the answer is exact only when the vCPU's last
 * invalidation of the frame happened-before the call (it acknowledged the shootdown) or it is stopped.
 */
public final class FrameReach {
    private FrameReach() {
    }

    /** {@link Mmu#mayReach}. */
    static boolean mayReach(Mmu m, long framePhys) {
        return reachedBy(m, framePhys) != null;
    }

    /**
     * The first structure of {@code m} found reaching the 4 KiB frame at {@code framePhys} — "instruction-fetch
     * frame", "CR3", "PDPTE register", a paging-structure cache's or a TLB array's name, "data fast path" —
     * or null when none does. Allocates nothing (the names are constants), so {@code --check} can ask it on
     * every free and still say what reached the frame at that moment, even if the vCPU changes it right after.
     */
    public static String reachedBy(Mmu m, long framePhys) {
        long f = framePhys & ~0xfffL;
        if (m.fetchFrameAcquire() == f) {
            return "instruction-fetch frame";
        }
        int root = rootReaches(m, f);
        if (root >= 0) {
            return root == 4 ? "CR3" : "PDPTE register";
        }
        String psc = cacheReaching(m.pml4eCache, f);
        if (psc == null) {
            psc = cacheReaching(m.pdpteCache, f);
        }
        if (psc == null) {
            psc = cacheReaching(m.pdeCache, f);
        }
        if (psc != null) {
            return psc;
        }
        if (m.fast.reaches(f)) {
            return "data fast path";
        }
        String tlb = arrayReaching(m.dtlb, f);
        if (tlb == null) {
            tlb = arrayReaching(m.itlb, f);
        }
        return tlb != null ? tlb : arrayReaching(m.stlb, f);
    }

    /** The name of paging-structure cache {@code c} if it points at frame {@code f}, else null. */
    private static String cacheReaching(PagingStructureCache c, long f) {
        return c.references(f) ? c.name() : null;
    }

    /** The name of the first page-size array of {@code t} with an entry covering frame {@code f}, else null. */
    private static String arrayReaching(Tlb t, long f) {
        for (int size = Tlb.SIZE_4K; size <= Tlb.SIZE_1G; size++) {
            TlbArray a = t.array(size);
            if (a != null && a.covers(f)) {
                return a.name();
            }
        }
        return null;
    }

    /** 4 for CR3 (4-level paging), 0..3 for the PDPTE register that points at frame {@code f}, else -1. */
    private static int rootReaches(Mmu m, long f) {
        CpuState s = m.state();
        if ((s.cr0 & CpuState.CR0_PG) == 0) {
            return -1;
        }
        if (s.pagingLongMode() && (s.cr3 & m.physAddrMask) == f) {
            return 4;
        }
        if (m.invalidation.isPae()) {
            for (int i = 0; i < 4; i++) {
                long e = m.pdpteRegisters[i];
                if ((e & Pte.P) != 0 && (e & m.physAddrMask) == f) {
                    return i;
                }
            }
        }
        return -1;
    }

    /**
     * What of {@code m} reaches the 4 KiB frame at {@code framePhys}, in words ("dtlb-4k entry va 0x...
     * pcid 0 attrs 0x7", "PDPTE register 1 = 0x...", ...; several joined by "; "), or null when nothing does. For reports:
     * it builds strings, and only when something reaches the frame.
     */
    public static String describe(Mmu m, long framePhys) {
        long f = framePhys & ~0xfffL;
        StringBuilder b = new StringBuilder();
        CpuState s = m.state();
        if (m.fetchFrameAcquire() == f) {
            add(b, "instruction-fetch frame (interpreter's cached code page)");
        }
        int root = rootReaches(m, f);
        if (root == 4) {
            add(b, "CR3 0x" + Long.toHexString(s.cr3));
        } else if (root >= 0) {
            add(b, "PDPTE register " + root + " = 0x" + Long.toHexString(m.pdpteRegisters[root]) + " (CR3 0x"
                    + Long.toHexString(s.cr3) + ")");
        }
        for (PagingStructureCache c : new PagingStructureCache[] {m.pml4eCache, m.pdpteCache, m.pdeCache}) {
            if (c.references(f)) {
                c.forEach((va, pcid, next) -> {
                    if ((next & ~0xfffL) == f) {
                        add(b, c.name() + " entry va 0x" + Long.toHexString(va) + " pcid " + pcid);
                    }
                });
            }
        }
        FastPath fp = m.fast;
        for (int i = 0; i < FastPath.SIZE; i++) {
            long tag = fp.readTag[i] != 0 ? fp.readTag[i] : fp.writeTag[i];
            if (tag != 0 && fp.page[i] == f) {
                add(b, "data fast path slot " + i + " va 0x" + Long.toHexString((tag - 1) << 12)
                        + (fp.writeTag[i] != 0 ? " (writable)" : ""));
            }
        }
        for (Tlb t : new Tlb[] {m.dtlb, m.itlb, m.stlb}) {
            for (int size = Tlb.SIZE_4K; size <= Tlb.SIZE_1G; size++) {
                TlbArray a = t.array(size);
                if (a != null && a.covers(f)) {
                    String what = a.name();
                    long mask = ~((1L << a.pageShift()) - 1);
                    a.forEach((va, pcid, frame, attrs) -> {
                        if ((frame & mask) == (f & mask)) {
                            add(b, what + " entry va 0x" + Long.toHexString(va) + " pcid " + pcid + " attrs 0x"
                                    + Integer.toHexString(attrs));
                        }
                    });
                }
            }
        }
        return b.length() == 0 ? null : b.toString();
    }

    private static void add(StringBuilder b, String what) {
        if (b.length() > 0) {
            b.append("; ");
        }
        b.append(what);
    }
}
