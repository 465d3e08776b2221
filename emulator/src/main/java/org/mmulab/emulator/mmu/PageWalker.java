package org.mmulab.emulator.mmu;

import org.mmulab.emulator.cpu.CpuState;
import org.mmulab.emulator.cpu.GuestFault;
import org.mmulab.emulator.cpu.Vectors;
import org.mmulab.emulator.memory.PhysicalMemory;
import org.mmulab.emulator.timing.WalkTiming;

/**
 * The hardware page walker of one {@link Mmu} (after Bochs' cpu/paging.cc translate_linear_long_mode /
 * translate_linear_PAE), from Intel SDM Vol. 3A:
 * <ul>
 * <li>§4.4 PAE paging: PDPTE register → PDE (2 MiB if PS) → PTE; the PDPTE registers are never re-read.</li>
 * <li>§4.5 4-level paging: PML4E → PDPTE (1 GiB if PS) → PDE (2 MiB if PS) → PTE, 64-bit entries
 *     read with one atomic load each; reserved bits (tables 4-14..4-20) raise #PF with RSVD.</li>
 * <li>§4.7 #PF error code (P, W/R, U/S, RSVD, I/D) and CR2; §4.10.4.1 a #PF invalidates the TLB and
 *     paging-structure-cache entries for the address.</li>
 * <li>§4.8 A/D flags set with a locked compare-and-exchange; if the entry changed, the walk restarts.</li>
 * <li>§4.10.3 paging-structure caches: consulted from the lowest level up, filled from the walk.</li>
 * </ul>
 * Nothing here throws: a walk returns the physical address, or {@link Mmu#FAULT} with the exception
 * recorded in the vCPU state (vector, error code, CR2); the {@link Mmu} accessors throw the shared
 * {@link GuestFault} at the interpreter's boundary.
 */
final class PageWalker {
    private static final int MAX_LEVELS = 4;
    /** finishWalk: an entry changed under the A/D compare-and-exchange; walk again. */
    private static final long RESTART = -1;

    private final Mmu mmu;
    private final CpuState s;
    private final MmuCounters counters;
    private final long physAddrMask;
    private final long reservedHigh;
    /** PAE: bits 62:MAXPHYADDR of PDEs and PTEs are reserved (SDM tables 4-10, 4-11). */
    private final long paeReservedHigh;

    // Walk scratch (reused; a walk allocates nothing): the entries read by the current walk, outermost first.
    private final long[] walkEntryAddr = new long[MAX_LEVELS];
    private final long[] walkEntry = new long[MAX_LEVELS];
    private final int[] walkLevel = new int[MAX_LEVELS];
    private final int[] walkRights = new int[MAX_LEVELS];

    PageWalker(Mmu mmu, long physAddrMask, long reservedHigh, long paeReservedHigh) {
        this.mmu = mmu;
        this.s = mmu.state();
        this.counters = mmu.counters;
        this.physAddrMask = physAddrMask;
        this.reservedHigh = reservedHigh;
        this.paeReservedHigh = paeReservedHigh;
    }

    /** A TLB miss at both levels (or a write needing D): walk and fill. Returns the address or FAULT. */
    long walk(long va, int access, Tlb l1, int pcid) {
        if ((access & PfErr.I) != 0) {
            counters.itlbWalks++;
        } else {
            counters.dtlbWalks++;
            if ((access & PfErr.W) != 0) {
                counters.dtlbStoreWalks++;
            }
        }
        return s.pagingLongMode() ? walk4Level(va, access, l1, pcid) : walkPae(va, access, l1, pcid);
    }

    private long walk4Level(long va, int access, Tlb l1, int pcid) {
        final boolean nxe = (s.efer & CpuState.EFER_NXE) != 0;
        PagingStructureCache pde = mmu.pdeCache, pdpte = mmu.pdpteCache, pml4e = mmu.pml4eCache;
        for (;;) {
            long table;
            int rights;
            int level;
            int slot;
            if ((slot = pde.lookup(va, pcid)) >= 0) {
                counters.pdeCacheHits++;
                table = pde.nextTable(slot);
                rights = pde.rights(slot);
                level = 1;
            } else if ((slot = pdpte.lookup(va, pcid)) >= 0) {
                counters.pdpteCacheHits++;
                table = pdpte.nextTable(slot);
                rights = pdpte.rights(slot);
                level = 2;
            } else if ((slot = pml4e.lookup(va, pcid)) >= 0) {
                counters.pml4eCacheHits++;
                table = pml4e.nextTable(slot);
                rights = pml4e.rights(slot);
                level = 3;
            } else {
                table = s.cr3 & physAddrMask;
                rights = TlbArray.ATTR_RW | TlbArray.ATTR_US;
                level = 4;
            }
            int n = readLevels(va, access, pcid, table, level, rights, false, nxe);
            if (n < 0) {
                return Mmu.FAULT;
            }
            long pa = finishWalk(va, access, l1, pcid, n, walkRights[n - 1]);
            if (pa != RESTART) {
                return pa;
            }
        }
    }

    /** PAE walk (SDM §4.4): PDPTE register → PDE (2 MiB if PS) → PTE. Linear addresses are 32-bit. */
    private long walkPae(long va, int access, Tlb l1, int pcid) {
        if ((s.cr4 & CpuState.CR4_PAE) == 0) {
            throw new IllegalStateException("32-bit non-PAE paging is not modelled (the kernel never enables it)");
        }
        final boolean nxe = (s.efer & CpuState.EFER_NXE) != 0;
        for (;;) {
            long table;
            int level;
            int rights = TlbArray.ATTR_RW | TlbArray.ATTR_US; // PAE PDPTEs carry no rights
            int slot = mmu.pdeCache.lookup(va, pcid);
            if (slot >= 0) {
                counters.pdeCacheHits++;
                table = mmu.pdeCache.nextTable(slot);
                rights = mmu.pdeCache.rights(slot);
                level = 1;
            } else {
                long pdpte = mmu.pdpteRegister((int) (va >>> 30) & 3);
                if ((pdpte & Pte.P) == 0) {
                    return pageFault(va, access & ~PfErr.P, pcid);
                }
                table = pdpte & physAddrMask;
                level = 2;
            }
            int n = readLevels(va, access, pcid, table, level, rights, true, nxe);
            if (n < 0) {
                return Mmu.FAULT;
            }
            long pa = finishWalk(va, access, l1, pcid, n, walkRights[n - 1]);
            if (pa != RESTART) {
                return pa;
            }
        }
    }

    /**
     * Reads paging-structure entries from {@code level} of {@code table} down to the leaf into the walk
     * scratch arrays. Returns the entry count (the leaf's accumulated rights are in
     * {@code walkRights[n - 1]}), or -1 after recording a #PF for a non-present entry or a reserved bit.
     * A PS bit ends the walk at levels 3 and 2 (PAE walks start at level 2, so only 2 MiB pages arise).
     */
    private int readLevels(long va, int access, int pcid, long table, int level, int rights, boolean pae,
            boolean nxe) {
        int n = 0;
        PhysicalMemory mem = mmu.mem;
        for (; level >= 1; level--) {
            long ea = table + (((va >>> (12 + 9 * (level - 1))) & 511) << 3);
            WalkerYield y = mmu.walkerYield;
            if (y != null) {
                y.beforeLoad();
            }
            long e = mem.read64Acquire(ea);
            counters.walkerLoads++;
            WalkTiming t = mmu.timing;
            if (t != null) {
                t.walkerLoad(ea, (access & PfErr.I) != 0);
            }
            if ((e & Pte.P) == 0) {
                pageFault(va, access & ~PfErr.P, pcid);
                return -1;
            }
            if (pae ? reservedPae(e, level, nxe) : reserved4Level(e, level, nxe)) {
                pageFault(va, access | PfErr.P | PfErr.RSVD, pcid);
                return -1;
            }
            rights = AccessRights.combine(rights, e, nxe);
            walkEntryAddr[n] = ea;
            walkEntry[n] = e;
            walkLevel[n] = level;
            walkRights[n] = rights;
            n++;
            if (level == 1 || (level <= 3 && (e & Pte.PS) != 0)) {
                break;
            }
            table = e & physAddrMask;
        }
        return n;
    }

    /**
     * Common end of a walk over the {@code n} entries in the scratch arrays: permission check, A/D
     * update by CAS, TLB and paging-structure-cache fills. Returns the physical address, RESTART when
     * an entry changed under the CAS, or FAULT.
     */
    private long finishWalk(long va, int access, Tlb l1, int pcid, int n, int rights) {
        if (!AccessRights.permitted(s, rights, access)) {
            return pageFault(va, access | PfErr.P, pcid);
        }
        if (!setAccessedDirty(access, n)) {
            counters.walkRestarts++;
            return RESTART;
        }
        if (n > 1) {
            fillPagingStructureCaches(va, pcid, n - 1);
        }
        long leaf = walkEntry[n - 1];
        int attrs = rights;
        if ((leaf & Pte.D) != 0) {
            attrs |= TlbArray.ATTR_D;
        }
        if ((leaf & Pte.G) != 0 && (s.cr4 & CpuState.CR4_PGE) != 0) {
            attrs |= TlbArray.ATTR_G;
        }
        int sizeIndex = walkLevel[n - 1] - 1;
        long pageMask = (1L << Tlb.pageShift(sizeIndex)) - 1;
        long frame = leaf & physAddrMask & ~pageMask;
        counters.walksCompleted++;
        if ((access & PfErr.I) != 0) {
            counters.itlbWalksCompleted++;
        } else if ((access & PfErr.W) != 0) {
            counters.dtlbStoreWalksCompleted++;
        }
        mmu.fillL1(l1, sizeIndex, va, pcid, frame, attrs);
        mmu.stlb.fill(sizeIndex, va, pcid, frame, attrs);
        return frame | (va & pageMask);
    }

    /**
     * Sets A in every walked entry and D in the leaf for a write (SDM §4.8), each with a locked
     * compare-and-exchange where it changes the entry; false if an entry changed under it (the walk
     * restarts). The entries already carrying the bits, the common case, cost no atomic.
     */
    private boolean setAccessedDirty(int access, int n) {
        Runnable race = mmu.beforeAccessedUpdate;
        if (race != null) {
            race.run();
        }
        boolean write = (access & PfErr.W) != 0;
        for (int i = 0; i < n; i++) {
            long e = walkEntry[i];
            long want = e | Pte.A;
            if (i == n - 1 && write) {
                want |= Pte.D;
            }
            if (want != e) {
                if (!compareAndExchange(i, e, want)) {
                    return false;
                }
                walkEntry[i] = want;
            }
        }
        return true;
    }

    /** The A/D update of walked entry {@code i}: false if the entry no longer holds {@code e}. */
    private boolean compareAndExchange(int i, long e, long want) {
        WalkerYield y = mmu.walkerYield;
        if (y != null) {
            y.beforeAdUpdate();
        }
        return mmu.mem.compareAndExchange64(walkEntryAddr[i], e, want) == e;
    }

    /** Caches the first {@code nonLeaf} walked entries (SDM §4.10.3.1): their next table and rights so far. */
    private void fillPagingStructureCaches(long va, int pcid, int nonLeaf) {
        for (int i = 0; i < nonLeaf; i++) {
            PagingStructureCache c = switch (walkLevel[i]) {
                case 4 -> mmu.pml4eCache;
                case 3 -> mmu.pdpteCache;
                default -> mmu.pdeCache;
            };
            c.fill(va, pcid, walkEntry[i] & physAddrMask, walkRights[i]);
        }
    }

    /** Reserved-bit rules of 4-level paging (SDM §4.5, tables 4-15 to 4-20). */
    boolean reserved4Level(long e, int level, boolean nxe) {
        if ((e & reservedHigh) != 0 || (!nxe && (e & Pte.XD) != 0)) {
            return true;
        }
        if ((e & Pte.PS) == 0) {
            return false;
        }
        return switch (level) {
            case 4 -> true; // PS is reserved in a PML4E
            case 3 -> (e & 0x3fff_e000L) != 0; // 1 GiB page: bits 29:13
            case 2 -> (e & 0x001f_e000L) != 0; // 2 MiB page: bits 20:13
            default -> false; // PAT bit in a PTE
        };
    }

    /** Reserved-bit rules of PAE paging (SDM §4.4.2, tables 4-10, 4-11): bits 62:MAXPHYADDR too. */
    boolean reservedPae(long e, int level, boolean nxe) {
        if ((e & paeReservedHigh) != 0 || (!nxe && (e & Pte.XD) != 0)) {
            return true;
        }
        return level == 2 && (e & Pte.PS) != 0 && (e & 0x001f_e000L) != 0;
    }

    /**
     * Records #PF: error code from the access bits (SDM §4.7), CR2 = va, and drops whatever the TLBs and
     * paging-structure caches hold for va (§4.10.4.1), so the handler's fix is seen on retry. Returns
     * {@link Mmu#FAULT}. A fault sets no A/D flag and fills nothing: the retry's walk does both, once.
     *
     * <p>Not done, on purpose: re-creating, after this invalidation, the paging-structure-cache entries
     * for the non-leaf entries the faulting walk has just read from memory (present, A = 1). The SDM
     * would allow it (the processor may create such entries at any time, §4.10.3.1), but in the common
     * anonymous fault the walk took the PDE from the PDE cache, which §4.10.4.1 requires dropping, so
     * the retry walks from CR3 anyway; page_fault1 saved 30 of 2.8 million walker loads, and the
     * shifted walker yield points changed the race explorer's seed-to-schedule mapping (zap-vs-fault
     * was no longer caught within ScenarioFixTest's 80 seeds).
     */
    long pageFault(long va, int code, int pcid) {
        int err = code & (PfErr.P | PfErr.W | PfErr.U | PfErr.RSVD | PfErr.I);
        if ((err & PfErr.I) != 0) {
            boolean reportI = (s.cr4 & CpuState.CR4_SMEP) != 0
                    || ((s.cr4 & CpuState.CR4_PAE) != 0 && (s.efer & CpuState.EFER_NXE) != 0);
            if (!reportI) {
                err &= ~PfErr.I;
            }
        }
        if ((code & PfErr.IMPLICIT) != 0) {
            err &= ~PfErr.U;
        }
        mmu.invalidateDtlbPage(va, pcid);
        mmu.itlb.invalidatePage(va, pcid);
        mmu.stlb.invalidatePage(va, pcid);
        mmu.pml4eCache.invalidate(va, pcid);
        mmu.pdpteCache.invalidate(va, pcid);
        mmu.pdeCache.invalidate(va, pcid);
        s.cr2 = va;
        counters.pageFaults++;
        GuestFault.raise(s, Vectors.PF, err); // records vector and error code; not thrown here
        return Mmu.FAULT;
    }
}
