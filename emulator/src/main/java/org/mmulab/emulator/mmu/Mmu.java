package org.mmulab.emulator.mmu;

import org.mmulab.emulator.cpu.CpuState;
import org.mmulab.emulator.cpu.GuestFault;
import org.mmulab.emulator.cpu.Vectors;
import org.mmulab.emulator.memory.PhysicalMemory;

/**
 * One vCPU's memory-management unit: linear-to-physical translation through the TLBs and, on a
 * miss, the hardware page walker over x86 paging structures in guest RAM.
 *
 * <p>Rules implemented here, from Intel SDM Vol. 3A:
 * <ul>
 * <li>§4.5 4-level paging: PML4E → PDPTE (1 GiB if PS) → PDE (2 MiB if PS) → PTE, 64-bit entries read
 *     with one atomic load each.</li>
 * <li>§4.6 access rights: U/S, R/W with CR0.WP, XD with EFER.NXE, SMEP, SMAP with RFLAGS.AC and
 *     implicit supervisor accesses; rights are the combination over every level.</li>
 * <li>§4.7 #PF error code (P, W/R, U/S, RSVD, I/D) and CR2 = faulting linear address.</li>
 * <li>§4.8 A/D flags set with a locked compare-and-exchange; if the entry changed, the walk restarts.
 *     D is set only for a write; a TLB entry permits writes only if it was filled with D=1, otherwise
 *     a write re-walks to set D.</li>
 * <li>§4.10 TLBs are never refreshed implicitly: stale entries stay in use until INVLPG, a CR3 write,
 *     eviction, or a page fault on that address (§4.10.4.1) removes them.</li>
 * </ul>
 * Canonical-address violations raise #GP(0) (SDM Vol. 3A §6.15, interrupt 13).
 */
public final class Mmu {
    private static final int MAX_LEVELS = 4;

    private final PhysicalMemory mem;
    private final CpuState s;
    private final Tlb dtlb;
    private final Tlb itlb;
    private final long physAddrMask;
    private final long reservedHigh;
    public final MmuCounters counters = new MmuCounters();
    /** Test seam: runs between a walk's loads and its A/D compare-and-exchange (a racing writer). */
    Runnable beforeAccessedUpdate;

    // Walk scratch (reused; a walk allocates nothing).
    private final long[] walkEntryAddr = new long[MAX_LEVELS];
    private final long[] walkEntry = new long[MAX_LEVELS];

    public Mmu(PhysicalMemory mem, CpuState state, int maxPhysAddrBits) {
        this.mem = mem;
        this.s = state;
        this.physAddrMask = ((1L << maxPhysAddrBits) - 1) & ~0xfffL;
        // Bits 51:MAXPHYADDR of any entry are reserved (SDM §4.5, tables 4-14..4-20).
        this.reservedHigh = ((1L << 52) - 1) & ~((1L << maxPhysAddrBits) - 1);
        // Skylake-client-like L1 sizes; the modelled hierarchy (STLB, PWCs) arrives with CpuModel.
        this.dtlb = new Tlb(new TlbArray("dtlb-4k", 64, 4, 12), new TlbArray("dtlb-2m", 32, 4, 21),
                new TlbArray("dtlb-1g", 4, 4, 30));
        this.itlb = new Tlb(new TlbArray("itlb-4k", 128, 8, 12), new TlbArray("itlb-2m", 8, 8, 21), null);
    }

    public Tlb dtlb() {
        return dtlb;
    }

    public Tlb itlb() {
        return itlb;
    }

    public PhysicalMemory memory() {
        return mem;
    }

    // ------------------------------------------------------------------------------------------
    // Virtual accessors used by the interpreter: the access is a user access when CPL = 3.

    private int userBit() {
        return s.cpl == 3 ? PfErr.U : 0;
    }

    public int read8(long va) {
        return mem.read8(translate(va, userBit()));
    }

    public int read16(long va) {
        if ((va & 0xfff) > 0xffe) {
            return (int) readSplit(va, 2, userBit());
        }
        return mem.read16(translate(va, userBit()));
    }

    public int read32(long va) {
        if ((va & 0xfff) > 0xffc) {
            return (int) readSplit(va, 4, userBit());
        }
        return mem.read32(translate(va, userBit()));
    }

    public long read64(long va) {
        if ((va & 0xfff) > 0xff8) {
            return readSplit(va, 8, userBit());
        }
        return mem.read64(translate(va, userBit()));
    }

    public void write8(long va, int v) {
        mem.write8(translate(va, userBit() | PfErr.W), v);
    }

    public void write16(long va, int v) {
        if ((va & 0xfff) > 0xffe) {
            writeSplit(va, 2, v, userBit());
            return;
        }
        mem.write16(translate(va, userBit() | PfErr.W), v);
    }

    public void write32(long va, int v) {
        if ((va & 0xfff) > 0xffc) {
            writeSplit(va, 4, v, userBit());
            return;
        }
        mem.write32(translate(va, userBit() | PfErr.W), v);
    }

    public void write64(long va, long v) {
        if ((va & 0xfff) > 0xff8) {
            writeSplit(va, 8, v, userBit());
            return;
        }
        mem.write64(translate(va, userBit() | PfErr.W), v);
    }

    /** Instruction fetch of one byte. */
    public int fetch8(long va) {
        return mem.read8(translate(va, userBit() | PfErr.I));
    }

    /** Physical address of {@code va} for an instruction fetch (decoded-code cache lookups). */
    public long translateFetch(long va) {
        return translate(va, userBit() | PfErr.I);
    }

    /** Physical address for a write by the current privilege level, checking the write is allowed. */
    public long translateWrite(long va) {
        return translate(va, userBit() | PfErr.W);
    }

    public long translateRead(long va) {
        return translate(va, userBit());
    }

    /** Reads bytes at {@code va} that may straddle a page: both pages are translated first. */
    private long readSplit(long va, int len, int acc) {
        long pa0 = translate(va, acc);
        long pa1 = translate((va | 0xfff) + 1, acc);
        int first = (int) (0x1000 - (va & 0xfff));
        long v = 0;
        for (int i = 0; i < len; i++) {
            long b = i < first ? mem.read8(pa0 + i) : mem.read8(pa1 + (i - first));
            v |= b << (8 * i);
        }
        return v;
    }

    /** A write straddling a page: both pages must be writable before any byte is written. */
    private void writeSplit(long va, int len, long v, int acc) {
        long pa0 = translate(va, acc | PfErr.W);
        long pa1 = translate((va | 0xfff) + 1, acc | PfErr.W);
        int first = (int) (0x1000 - (va & 0xfff));
        for (int i = 0; i < len; i++) {
            int b = (int) (v >>> (8 * i)) & 0xff;
            if (i < first) {
                mem.write8(pa0 + i, b);
            } else {
                mem.write8(pa1 + (i - first), b);
            }
        }
    }

    // ------------------------------------------------------------------------------------------
    // Translation.

    /**
     * Translates {@code va} for an access described by {@link PfErr} bits W, U, I (and
     * {@link PfErr#IMPLICIT}); returns the physical address or throws {@link GuestFault} with #PF
     * (CR2 set) or #GP in the vCPU state.
     */
    public long translate(long va, int access) {
        if ((s.cr0 & CpuState.CR0_PG) == 0) {
            return va & 0xffff_ffffL;
        }
        if (s.pagingLongMode()) {
            if (((va << 16) >> 16) != va) {
                throw GuestFault.raise(s, Vectors.GP, 0);
            }
        } else {
            va &= 0xffff_ffffL;
        }
        boolean fetch = (access & PfErr.I) != 0;
        Tlb tlb = fetch ? itlb : dtlb;
        int pcid = currentPcid();
        int h = tlb.lookup(va, pcid);
        if (h >= 0) {
            int attrs = tlb.attrs(h);
            if (permitted(attrs, access)) {
                if ((access & PfErr.W) == 0 || (attrs & TlbArray.ATTR_D) != 0) {
                    if (fetch) {
                        counters.itlbHits++;
                    } else {
                        counters.dtlbHits++;
                    }
                    return tlb.physical(h, va);
                }
                // Write through an entry filled with D=0: the processor walks to set D (SDM §4.8).
            } else {
                // Fault on the cached rights, as hardware does; the fault drops the entry (SDM §4.10.4.1).
                tlb.invalidate(h);
                invalidateOtherTlb(tlb, va, pcid);
                throw pageFault(va, access | PfErr.P);
            }
        }
        if (fetch) {
            counters.itlbMisses++;
        } else {
            counters.dtlbMisses++;
        }
        return walk(va, access, tlb, pcid);
    }

    private void invalidateOtherTlb(Tlb faulted, long va, int pcid) {
        (faulted == itlb ? dtlb : itlb).invalidatePage(va, pcid);
    }

    public int currentPcid() {
        return (s.cr4 & CpuState.CR4_PCIDE) != 0 ? (int) (s.cr3 & 0xfff) : 0;
    }

    private long walk(long va, int access, Tlb tlb, int pcid) {
        if (!s.pagingLongMode()) {
            throw new IllegalStateException("PAE paging arrives with the [mmu] work; only 4-level paging is walked");
        }
        final boolean nxe = (s.efer & CpuState.EFER_NXE) != 0;
        for (;;) {
            long table = s.cr3 & physAddrMask;
            int rights = TlbArray.ATTR_RW | TlbArray.ATTR_US;
            int levels = 0;
            int leafLevel = 0;
            long leaf = 0;
            for (int level = 4; level >= 1; level--) {
                int shift = 12 + 9 * (level - 1);
                long ea = table + (((va >>> shift) & 511) << 3);
                long e = mem.read64Acquire(ea);
                counters.walkerLoads++;
                if ((e & Pte.P) == 0) {
                    throw pageFault(va, access & (PfErr.W | PfErr.U | PfErr.I));
                }
                if (reservedBitsSet(e, level, nxe)) {
                    throw pageFault(va, (access & (PfErr.W | PfErr.U | PfErr.I)) | PfErr.P | PfErr.RSVD);
                }
                if ((e & Pte.RW) == 0) {
                    rights &= ~TlbArray.ATTR_RW;
                }
                if ((e & Pte.US) == 0) {
                    rights &= ~TlbArray.ATTR_US;
                }
                if (nxe && (e & Pte.XD) != 0) {
                    rights |= TlbArray.ATTR_XD;
                }
                walkEntryAddr[levels] = ea;
                walkEntry[levels] = e;
                levels++;
                if (level == 1 || (level <= 3 && (e & Pte.PS) != 0)) {
                    leafLevel = level;
                    leaf = e;
                    break;
                }
                table = e & physAddrMask;
            }
            if (!permitted(rights, access)) {
                throw pageFault(va, access | PfErr.P);
            }
            // Set A in every entry used and D in the leaf for a write, each with a locked CMPXCHG.
            Runnable race = beforeAccessedUpdate;
            if (race != null) {
                race.run();
            }
            boolean write = (access & PfErr.W) != 0;
            boolean changed = false;
            for (int i = 0; i < levels; i++) {
                long e = walkEntry[i];
                long want = e | Pte.A;
                if (i == levels - 1 && write) {
                    want |= Pte.D;
                }
                if (want != e && mem.compareAndExchange64(walkEntryAddr[i], e, want) != e) {
                    changed = true;
                    break;
                }
                walkEntry[i] = want;
            }
            if (changed) {
                counters.walkRestarts++;
                continue;
            }
            leaf = walkEntry[levels - 1];
            int attrs = rights;
            if ((leaf & Pte.D) != 0) {
                attrs |= TlbArray.ATTR_D;
            }
            if ((leaf & Pte.G) != 0 && (s.cr4 & CpuState.CR4_PGE) != 0) {
                attrs |= TlbArray.ATTR_G;
            }
            int sizeIndex = leafLevel - 1;
            long frame = leaf & physAddrMask & ~((1L << Tlb.pageShift(sizeIndex)) - 1);
            counters.walksCompleted++;
            tlb.fill(sizeIndex, va, pcid, frame, attrs);
            return frame | (va & ((1L << Tlb.pageShift(sizeIndex)) - 1));
        }
    }

    /** Reserved-bit rules of 4-level paging (SDM §4.5, tables 4-15 to 4-20). */
    private boolean reservedBitsSet(long e, int level, boolean nxe) {
        if ((e & reservedHigh) != 0) {
            return true;
        }
        if (!nxe && (e & Pte.XD) != 0) {
            return true;
        }
        boolean ps = (e & Pte.PS) != 0;
        if (level == 4 && ps) {
            return true; // PS is reserved in a PML4E
        }
        if (ps && level == 3) {
            return (e & 0x3fff_e000L) != 0; // 1 GiB page: bits 29:13 reserved
        }
        if (ps && level == 2) {
            return (e & 0x001f_e000L) != 0; // 2 MiB page: bits 20:13 reserved
        }
        return false;
    }

    /** SDM §4.6: may an access (PfErr bits) proceed with these combined rights? */
    private boolean permitted(int rights, int access) {
        boolean user = (rights & TlbArray.ATTR_US) != 0;
        boolean writable = (rights & TlbArray.ATTR_RW) != 0;
        boolean xd = (rights & TlbArray.ATTR_XD) != 0;
        boolean write = (access & PfErr.W) != 0;
        if ((access & PfErr.I) != 0) {
            if (xd) {
                return false;
            }
            if ((access & PfErr.U) != 0) {
                return user;
            }
            return !(user && (s.cr4 & CpuState.CR4_SMEP) != 0);
        }
        if ((access & PfErr.U) != 0) {
            return user && (!write || writable);
        }
        // Supervisor data access.
        if (user && (s.cr4 & CpuState.CR4_SMAP) != 0) {
            boolean implicit = (access & PfErr.IMPLICIT) != 0;
            if (implicit || (s.getRflags() & CpuState.AC) == 0) {
                return false;
            }
        }
        return !write || writable || (s.cr0 & CpuState.CR0_WP) == 0;
    }

    private GuestFault pageFault(long va, int code) {
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
        s.cr2 = va;
        counters.pageFaults++;
        return GuestFault.raise(s, Vectors.PF, err);
    }

    // ------------------------------------------------------------------------------------------
    // Invalidation (SDM §4.10.4).

    /** INVLPG: drops translations for the page of {@code va} (current PCID and global) in every TLB. */
    public void invlpg(long va) {
        counters.invlpg++;
        int pcid = currentPcid();
        dtlb.invalidatePage(va, pcid);
        itlb.invalidatePage(va, pcid);
    }

    /**
     * MOV to CR3: loads the new root and, unless PCIDE=1 with bit 63 set (no-flush), drops the
     * non-global entries (of the new PCID when PCIDE=1).
     */
    public void writeCr3(long value) {
        boolean noFlush = (s.cr4 & CpuState.CR4_PCIDE) != 0 && value < 0;
        s.cr3 = value & ~(1L << 63);
        if (!noFlush) {
            counters.cr3Flushes++;
            int only = (s.cr4 & CpuState.CR4_PCIDE) != 0 ? (int) (s.cr3 & 0xfff) : -1;
            dtlb.flush(true, only);
            itlb.flush(true, only);
        }
    }

    /** Drops every translation including global ones (CR4.PGE toggle, INVPCID type 2). */
    public void flushAll() {
        dtlb.flush(false, -1);
        itlb.flush(false, -1);
    }
}
