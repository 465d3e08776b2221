package org.mmulab.emulator.mmu;

import java.util.ArrayList;
import java.util.List;

import org.mmulab.emulator.cpu.CpuState;
import org.mmulab.emulator.cpu.GuestFault;
import org.mmulab.emulator.cpu.Vectors;
import org.mmulab.emulator.memory.PhysicalMemory;
import org.mmulab.emulator.timing.WalkTiming;

/**
 * One vCPU's memory-management unit: linear-to-physical translation through the modelled TLB
 * hierarchy (split L1 iTLB/dTLB, unified STLB, paging-structure caches, PAE's PDPTE registers) and,
 * on a miss, the hardware page walker over x86 paging structures in guest RAM.
 *
 * <p>Rules implemented here, from Intel SDM Vol. 3A:
 * <ul>
 * <li>§4.4 PAE paging: the four PDPTEs are loaded into PDPTE registers at MOV CR3 (and on paging-mode
 *     changes), their reserved bits are checked there (#GP), and a walk never re-reads them.</li>
 * <li>§4.5 4-level paging: PML4E → PDPTE (1 GiB if PS) → PDE (2 MiB if PS) → PTE, 64-bit entries
 *     read with one atomic load each.</li>
 * <li>§4.6 access rights: U/S, R/W with CR0.WP, XD with EFER.NXE, SMEP, SMAP with RFLAGS.AC and
 *     implicit supervisor accesses; rights are the combination over every level.</li>
 * <li>§4.7 #PF error code (P, W/R, U/S, RSVD, I/D) and CR2 = faulting linear address.</li>
 * <li>§4.8 A/D flags set with a locked compare-and-exchange; if the entry changed, the walk restarts.
 *     D is set only for a write; a TLB entry permits writes only if it was filled with D=1, otherwise
 *     a write re-walks to set D.</li>
 * <li>§4.10 TLBs and paging-structure caches are never refreshed implicitly: stale entries stay in
 *     use until INVLPG, INVPCID, a CR3/CR4 write, eviction, or a page fault on that address
 *     (§4.10.4.1) removes them. A fault taken on cached rights is reported without re-walking, as
 *     hardware may (§4.10.4.3) — which is why Linux handles "spurious" faults.</li>
 * </ul>
 * Canonical-address violations raise #GP(0) (SDM Vol. 3A §6.15, interrupt 13).
 */
public final class Mmu {
    private static final int MAX_LEVELS = 4;
    private static final long PDPTE_REG_RESERVED_LOW = 0x1e6L; // PAE PDPTE bits 2:1 and 8:5

    private final PhysicalMemory mem;
    private final CpuState s;
    private final CpuModel model;
    private final Tlb dtlb;
    private final Tlb itlb;
    private final Tlb stlb;
    private final PagingStructureCache pml4eCache;
    private final PagingStructureCache pdpteCache;
    private final PagingStructureCache pdeCache;
    private final long physAddrMask;
    private final long reservedHigh;
    /** PAE: bits 62:MAXPHYADDR of PDEs and PTEs are reserved (SDM tables 4-10, 4-11). */
    private final long paeReservedHigh;
    /** PAE's four PDPTE registers (SDM §4.4.1). */
    private final long[] pdpteRegisters = new long[4];
    public final MmuCounters counters = new MmuCounters();
    /** Cycle accounting for STLB hits and walker loads; null under {@code --timing fast}. */
    private WalkTiming timing;
    /** Watchpoint hook; null unless a debugger watches memory. */
    private volatile AccessObserver observer;
    /** Deterministic scheduling's yield points in the walker; null (PARALLEL) costs one field read per load. */
    private WalkerYield walkerYield;
    /**
     * Physical frame (address) of the interpreter's cached fetch page while it runs a quantum, -1 between
     * quanta; written by this vCPU's thread with release stores, read by {@link #mayReach}.
     */
    private long fetchFrame = -1;
    private static final java.lang.invoke.VarHandle FETCH_FRAME;

    static {
        try {
            FETCH_FRAME = java.lang.invoke.MethodHandles.lookup().findVarHandle(Mmu.class, "fetchFrame", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** Test seam: runs between a walk's loads and its A/D compare-and-exchange (a racing writer). */
    Runnable beforeAccessedUpdate;

    // Walk scratch (reused; a walk allocates nothing).
    private final long[] walkEntryAddr = new long[MAX_LEVELS];
    private final long[] walkEntry = new long[MAX_LEVELS];
    private final int[] walkLevel = new int[MAX_LEVELS];
    private final int[] walkRights = new int[MAX_LEVELS];

    public Mmu(PhysicalMemory mem, CpuState state, CpuModel model) {
        this.mem = mem;
        this.s = state;
        this.model = model;
        int maxPhys = model.maxPhysAddrBits();
        this.physAddrMask = ((1L << maxPhys) - 1) & ~0xfffL;
        // Bits 51:MAXPHYADDR of any 4-level entry are reserved (SDM §4.5, tables 4-14..4-20).
        this.reservedHigh = ((1L << 52) - 1) & ~((1L << maxPhys) - 1);
        this.paeReservedHigh = (Long.MAX_VALUE) & ~((1L << maxPhys) - 1);
        this.dtlb = model.buildL1d();
        this.itlb = model.buildL1i();
        this.stlb = model.buildStlb();
        this.pml4eCache = new PagingStructureCache("pml4e-cache", model.pml4eCache(), 39);
        this.pdpteCache = new PagingStructureCache("pdpte-cache", model.pdpteCache(), 30);
        this.pdeCache = new PagingStructureCache("pde-cache", model.pdeCache(), 21);
    }

    public Mmu(PhysicalMemory mem, CpuState state, int maxPhysAddrBits) {
        this(mem, state, CpuModel.SKYLAKE.withMaxPhysAddrBits(maxPhysAddrBits));
    }

    public CpuModel model() {
        return model;
    }

    public Tlb dtlb() {
        return dtlb;
    }

    public Tlb itlb() {
        return itlb;
    }

    public Tlb stlb() {
        return stlb;
    }

    public List<PagingStructureCache> pagingStructureCaches() {
        return List.of(pml4eCache, pdpteCache, pdeCache);
    }

    public PhysicalMemory memory() {
        return mem;
    }

    /** PAE PDPTE register {@code i} (0..3) as loaded at the last MOV CR3 / paging-mode change. */
    public long pdpteRegister(int i) {
        return pdpteRegisters[i];
    }

    // ------------------------------------------------------------------------------------------
    // Virtual accessors used by the interpreter: the access is a user access when CPL = 3.

    public void setTiming(WalkTiming t) {
        this.timing = t;
        clearFastPath(); // fast entries of the other mode go (installFast keeps the two apart)
    }

    public WalkTiming timing() {
        return timing;
    }

    /** Installs (or, with null, removes) the walker's yield points; before the vCPU runs. */
    public void setWalkerYield(WalkerYield y) {
        this.walkerYield = y;
    }

    /**
     * Whether a guest access may stop at a yield point (walker yield points installed: deterministic
     * scheduling), where another vCPU may run and post requests to this one (cpu.tier.Tier's poll rule).
     */
    public boolean yieldsInsideAccesses() {
        return walkerYield != null;
    }

    /**
     * The interpreter tells which frame its cached fetch translation points at ({@code -1}: none, the
     * quantum ended), so that {@link #mayReach} sees it.
     */
    public void setFetchFrame(long pa) {
        FETCH_FRAME.setRelease(this, pa < 0 ? -1L : pa & ~0xfffL);
    }

    /**
     * For {@code --check}: true if this vCPU's TLBs, paging-structure caches, PDPTE registers, fast
     * path, CR3 root (4-level paging) or the interpreter's cached fetch page can still reach the 4 KiB
     * frame at {@code framePhys}: a frame this returns true for must not be freed. Called from any
     * thread; the caches are read racily, so the answer is exact only when the vCPU's last flush of
     * the frame happened-before the call (it acknowledged the shootdown) or the vCPU is not running.
     */
    public boolean mayReach(long framePhys) {
        long f = framePhys & ~0xfffL;
        if ((long) FETCH_FRAME.getAcquire(this) == f) {
            return true;
        }
        if ((s.cr0 & CpuState.CR0_PG) != 0) {
            if (s.pagingLongMode() && (s.cr3 & physAddrMask) == f) {
                return true;
            }
            if (isPae()) {
                for (long e : pdpteRegisters) {
                    if ((e & Pte.P) != 0 && (e & physAddrMask) == f) {
                        return true;
                    }
                }
            }
        }
        for (PagingStructureCache c : new PagingStructureCache[] {pml4eCache, pdpteCache, pdeCache}) {
            if (c.references(f)) {
                return true;
            }
        }
        for (int i = 0; i < FAST_SIZE; i++) {
            if ((fastReadTag[i] != 0 || fastWriteTag[i] != 0) && fastPage[i] == f) {
                return true;
            }
        }
        for (Tlb t : new Tlb[] {dtlb, itlb, stlb}) {
            for (int size = Tlb.SIZE_4K; size <= Tlb.SIZE_1G; size++) {
                TlbArray a = t.array(size);
                if (a != null && a.covers(f)) {
                    return true;
                }
            }
        }
        return false;
    }

    public void setAccessObserver(AccessObserver o) {
        this.observer = o;
    }

    private void observe(long va, int len, boolean write) {
        AccessObserver o = observer;
        if (o != null) {
            o.access(va, len, write);
        }
    }

    private int userBit() {
        return s.cpl == 3 ? PfErr.U : 0;
    }

    public int read8(long va) {
        observe(va, 1, false);
        return mem.read8(userRead(va));
    }

    public int read16(long va) {
        observe(va, 2, false);
        if ((va & 0xfff) > 0xffe) {
            return (int) readSplit(va, 2, userBit());
        }
        return mem.read16(userRead(va));
    }

    public int read32(long va) {
        observe(va, 4, false);
        if ((va & 0xfff) > 0xffc) {
            return (int) readSplit(va, 4, userBit());
        }
        return mem.read32(userRead(va));
    }

    public long read64(long va) {
        observe(va, 8, false);
        if ((va & 0xfff) > 0xff8) {
            return readSplit(va, 8, userBit());
        }
        return mem.read64(userRead(va));
    }

    public void write8(long va, int v) {
        observe(va, 1, true);
        mem.write8(userWrite(va), v);
    }

    public void write16(long va, int v) {
        observe(va, 2, true);
        if ((va & 0xfff) > 0xffe) {
            writeSplit(va, 2, v, userBit());
            return;
        }
        mem.write16(userWrite(va), v);
    }

    public void write32(long va, int v) {
        observe(va, 4, true);
        if ((va & 0xfff) > 0xffc) {
            writeSplit(va, 4, v, userBit());
            return;
        }
        mem.write32(userWrite(va), v);
    }

    public void write64(long va, long v) {
        observe(va, 8, true);
        if ((va & 0xfff) > 0xff8) {
            writeSplit(va, 8, v, userBit());
            return;
        }
        mem.write64(userWrite(va), v);
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
        return userWrite(va);
    }

    public long translateRead(long va) {
        return userRead(va);
    }

    /** Reads bytes at {@code va} that may straddle a page: both pages are translated first. */
    private long readSplit(long va, int len, int acc) {
        long pa0 = translate(va, acc);
        long pa1 = translate((va | 0xfff) + 1, acc);
        int first = (int) (0x1000 - (va & 0xfff));
        if (timing != null) {
            timing.dataAccess(pa0 + first - 1);
            timing.dataAccess(pa1);
        }
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
        if (timing != null) {
            timing.dataStore(pa0 + first - 1);
            timing.dataStore(pa1);
        }
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
        Tlb l1 = fetch ? itlb : dtlb;
        int pcid = currentPcid();
        int h = l1.lookup(va, pcid);
        if (h >= 0) {
            int attrs = l1.attrs(h);
            if (hitUsable(attrs, access, va, pcid)) {
                long pa = l1.physical(h, va);
                if (fetch) {
                    counters.itlbHits++;
                } else {
                    counters.dtlbHits++;
                    installFast(va, pa, h, attrs, access);
                }
                return pa;
            }
            return walk(va, access, l1, pcid);
        }
        return translateL1Miss(va, access, l1, pcid);
    }

    private long translateL1Miss(long va, int access, Tlb l1, int pcid) {
        boolean fetch = (access & PfErr.I) != 0;
        if (fetch) {
            counters.itlbMisses++;
        } else {
            counters.dtlbMisses++;
            if ((access & PfErr.W) != 0) {
                counters.dtlbStoreMisses++;
            }
        }
        int h = stlb.lookup(va, pcid);
        if (h >= 0) {
            int attrs = stlb.attrs(h);
            if (hitUsable(attrs, access, va, pcid)) {
                counters.stlbHits++;
                if (fetch) {
                    counters.itlbStlbHits++;
                } else if ((access & PfErr.W) != 0) {
                    counters.dtlbStoreStlbHits++;
                }
                if (timing != null) {
                    timing.stlbHit();
                }
                long pa = stlb.physical(h, va);
                int size = stlb.sizeIndex(h);
                fillL1(l1, size, va, pcid, pa & ~((1L << Tlb.pageShift(size)) - 1), attrs);
                return pa;
            }
        }
        if (timing != null) {
            timing.stlbMiss();
        }
        return walk(va, access, l1, pcid);
    }

    private long walk(long va, int access, Tlb l1, int pcid) {
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

    /** Fills an L1 TLB; an entry it evicts from the dTLB takes its fast-path entries with it. */
    private void fillL1(Tlb l1, int sizeIndex, long va, int pcid, long frame, int attrs) {
        long evicted = l1.fill(sizeIndex, va, pcid, frame, attrs);
        if (evicted >= 0 && l1 == dtlb) {
            dropFast(evicted & ~3L, Tlb.pageShift((int) evicted & 3));
        }
    }

    // ------------------------------------------------------------------------------------------
    // Fast path: a direct-mapped, host-side cache of user-mode data translations. It is a strict
    // subset of the modelled L1 dTLB: an entry is installed only from a usable dTLB entry, and every
    // invalidation, flush or eviction in the dTLB clears it. A hit counts as a dTLB hit and refreshes
    // the dTLB entry's LRU age, so the modelled TLB behaves exactly as without the fast path.

    private static final int FAST_SIZE = 256;
    private static final int FAST_MASK = FAST_SIZE - 1;
    /** (va >>> 12) + 1 of a user-readable page, or 0. */
    private final long[] fastReadTag = new long[FAST_SIZE];
    /** (va >>> 12) + 1 of a user-writable page whose dTLB entry has D=1, or 0. */
    private final long[] fastWriteTag = new long[FAST_SIZE];
    private final long[] fastPage = new long[FAST_SIZE];
    private final int[] fastHandle = new int[FAST_SIZE];
    /**
     * Cycle timing's fast entries: the same subset rule and slots, kept apart from the tags above so that
     * the fast-mode check in userRead/userWrite never hits under cycle timing and every guest data access
     * reaches the cache model's charge after it.
     */
    private final long[] cycleReadTag = new long[FAST_SIZE];
    private final long[] cycleWriteTag = new long[FAST_SIZE];

    private void installFast(long va, long pa, int handle, int attrs, int access) {
        if ((access & (PfErr.U | PfErr.IMPLICIT)) != PfErr.U || (attrs & TlbArray.ATTR_US) == 0) {
            return;
        }
        int i = (int) (va >>> 12) & FAST_MASK;
        long tag = (va >>> 12) + 1;
        boolean cycle = timing != null;
        (cycle ? cycleReadTag : fastReadTag)[i] = tag;
        fastPage[i] = pa & ~0xfffL;
        fastHandle[i] = handle;
        boolean writable = (attrs & (TlbArray.ATTR_RW | TlbArray.ATTR_D)) == (TlbArray.ATTR_RW | TlbArray.ATTR_D);
        (cycle ? cycleWriteTag : fastWriteTag)[i] = writable ? tag : 0;
    }

    /** Drops the fast entries that translate anything in [base, base + 2^shift). */
    private void dropFast(long base, int shift) {
        if (shift == 12) {
            int i = (int) (base >>> 12) & FAST_MASK;
            fastReadTag[i] = 0;
            fastWriteTag[i] = 0;
            cycleReadTag[i] = 0;
            cycleWriteTag[i] = 0;
            return;
        }
        long first = (base >>> 12) + 1;
        long last = first + (1L << (shift - 12));
        for (int i = 0; i < FAST_SIZE; i++) {
            long t = fastReadTag[i], c = cycleReadTag[i];
            if (t >= first && t < last || c >= first && c < last) {
                fastReadTag[i] = 0;
                fastWriteTag[i] = 0;
                cycleReadTag[i] = 0;
                cycleWriteTag[i] = 0;
            }
        }
    }

    /**
     * Drops the dTLB entries for {@code va} and exactly the fast-path entries they backed: the 4 KiB page's
     * slot, and every slot inside a 2 MiB / 1 GiB page whose entry went. (A #PF and INVLPG used to clear
     * the whole fast path: 4 KiB of stores on every page fault.)
     */
    private void invalidateDtlbPage(long va, int pcid) {
        int sizes = dtlb.invalidatePage(va, pcid);
        dropFast(va & ~0xfffL, 12);
        if ((sizes & 2) != 0) {
            dropFast(va & ~((1L << 21) - 1), 21);
        }
        if ((sizes & 4) != 0) {
            dropFast(va & ~((1L << 30) - 1), 30);
        }
    }

    private void clearFastPath() {
        java.util.Arrays.fill(fastReadTag, 0);
        java.util.Arrays.fill(fastWriteTag, 0);
        java.util.Arrays.fill(cycleReadTag, 0);
        java.util.Arrays.fill(cycleWriteTag, 0);
    }

    /** Physical address for a user-mode data read by the interpreter (CPL 3). */
    private long userRead(long va) {
        int i = (int) (va >>> 12) & FAST_MASK;
        if (fastReadTag[i] == (va >>> 12) + 1 && s.cpl == 3) {
            counters.dtlbHits++;
            dtlb.touch(fastHandle[i]);
            return fastPage[i] | (va & 0xfff);
        }
        WalkTiming t = timing;
        if (t == null) {
            return translate(va, userBit());
        }
        long pa; // cycle mode: the load goes through L1D/L2/LLC
        if (cycleReadTag[i] == (va >>> 12) + 1 && s.cpl == 3) {
            counters.dtlbHits++;
            dtlb.touch(fastHandle[i]);
            pa = fastPage[i] | (va & 0xfff);
        } else {
            pa = translate(va, userBit());
        }
        t.dataAccess(pa);
        return pa;
    }

    /** Physical address for a user-mode data write by the interpreter (CPL 3). */
    private long userWrite(long va) {
        int i = (int) (va >>> 12) & FAST_MASK;
        if (fastWriteTag[i] == (va >>> 12) + 1 && s.cpl == 3) {
            counters.dtlbHits++;
            dtlb.touch(fastHandle[i]);
            return fastPage[i] | (va & 0xfff);
        }
        WalkTiming t = timing;
        if (t == null) {
            return translate(va, userBit() | PfErr.W);
        }
        long pa; // cycle mode: the store's line is fetched for ownership (write-allocate)
        if (cycleWriteTag[i] == (va >>> 12) + 1 && s.cpl == 3) {
            counters.dtlbHits++;
            dtlb.touch(fastHandle[i]);
            pa = fastPage[i] | (va & 0xfff);
        } else {
            pa = translate(va, userBit() | PfErr.W);
        }
        t.dataStore(pa);
        return pa;
    }

    /**
     * May a cached translation serve this access? Throws #PF when the cached rights forbid it; returns
     * false when a write must re-walk to set D (SDM §4.8).
     */
    private boolean hitUsable(int attrs, int access, long va, int pcid) {
        if (!permitted(attrs, access)) {
            throw pageFault(va, access | PfErr.P, pcid);
        }
        return (access & PfErr.W) == 0 || (attrs & TlbArray.ATTR_D) != 0;
    }

    public int currentPcid() {
        return (s.cr4 & CpuState.CR4_PCIDE) != 0 ? (int) (s.cr3 & 0xfff) : 0;
    }

    private long walk4Level(long va, int access, Tlb l1, int pcid) {
        final boolean nxe = (s.efer & CpuState.EFER_NXE) != 0;
        for (;;) {
            long table;
            int rights;
            int level;
            int slot;
            if ((slot = pdeCache.lookup(va, pcid)) >= 0) {
                counters.pdeCacheHits++;
                table = pdeCache.nextTable(slot);
                rights = pdeCache.rights(slot);
                level = 1;
            } else if ((slot = pdpteCache.lookup(va, pcid)) >= 0) {
                counters.pdpteCacheHits++;
                table = pdpteCache.nextTable(slot);
                rights = pdpteCache.rights(slot);
                level = 2;
            } else if ((slot = pml4eCache.lookup(va, pcid)) >= 0) {
                counters.pml4eCacheHits++;
                table = pml4eCache.nextTable(slot);
                rights = pml4eCache.rights(slot);
                level = 3;
            } else {
                table = s.cr3 & physAddrMask;
                rights = TlbArray.ATTR_RW | TlbArray.ATTR_US;
                level = 4;
            }
            int n = readLevels(va, access, pcid, table, level, rights, false, nxe);
            long pa = finishWalk(va, access, l1, pcid, n, walkRights[n - 1]);
            if (pa >= 0) {
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
            int slot = pdeCache.lookup(va, pcid);
            if (slot >= 0) {
                counters.pdeCacheHits++;
                table = pdeCache.nextTable(slot);
                rights = pdeCache.rights(slot);
                level = 1;
            } else {
                long pdpte = pdpteRegisters[(int) (va >>> 30) & 3];
                if ((pdpte & Pte.P) == 0) {
                    throw pageFault(va, access & ~PfErr.P, pcid);
                }
                table = pdpte & physAddrMask;
                level = 2;
            }
            int n = readLevels(va, access, pcid, table, level, rights, true, nxe);
            long pa = finishWalk(va, access, l1, pcid, n, walkRights[n - 1]);
            if (pa >= 0) {
                return pa;
            }
        }
    }

    /**
     * Reads paging-structure entries from {@code level} of {@code table} down to the leaf into the walk
     * scratch arrays, raising #PF for a non-present entry or a reserved bit. Returns the entry count;
     * the leaf's accumulated rights are in {@code walkRights[n - 1]}. A PS bit ends the walk at levels
     * 3 and 2 (PAE walks start at level 2, so only 2 MiB pages arise there).
     */
    private int readLevels(long va, int access, int pcid, long table, int level, int rights, boolean pae,
            boolean nxe) {
        int n = 0;
        for (; level >= 1; level--) {
            long ea = table + (((va >>> (12 + 9 * (level - 1))) & 511) << 3);
            WalkerYield y = walkerYield;
            if (y != null) {
                y.beforeLoad();
            }
            long e = mem.read64Acquire(ea);
            counters.walkerLoads++;
            if (timing != null) {
                timing.walkerLoad(ea, (access & PfErr.I) != 0);
            }
            if ((e & Pte.P) == 0) {
                throw pageFault(va, access & ~PfErr.P, pcid);
            }
            if (pae ? reservedPae(e, level, nxe) : reserved4Level(e, level, nxe)) {
                throw pageFault(va, access | PfErr.P | PfErr.RSVD, pcid);
            }
            rights = combine(rights, e, nxe);
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

    private static int combine(int rights, long e, boolean nxe) {
        if ((e & Pte.RW) == 0) {
            rights &= ~TlbArray.ATTR_RW;
        }
        if ((e & Pte.US) == 0) {
            rights &= ~TlbArray.ATTR_US;
        }
        if (nxe && (e & Pte.XD) != 0) {
            rights |= TlbArray.ATTR_XD;
        }
        return rights;
    }

    /**
     * Common end of a walk over the {@code n} entries in the scratch arrays: permission check, A/D
     * update by CAS, TLB and paging-structure-cache fills. Returns the physical address, or -1 when an
     * entry changed under the CAS and the walk must restart.
     */
    private long finishWalk(long va, int access, Tlb l1, int pcid, int n, int rights) {
        if (!permitted(rights, access)) {
            throw pageFault(va, access | PfErr.P, pcid);
        }
        Runnable race = beforeAccessedUpdate;
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
            if (want != e && walkerYield != null) {
                walkerYield.beforeAdUpdate();
            }
            if (want != e && mem.compareAndExchange64(walkEntryAddr[i], e, want) != e) {
                counters.walkRestarts++;
                return -1;
            }
            walkEntry[i] = want;
        }
        // Cache the non-leaf entries walked (SDM §4.10.3.1): their next table and rights so far.
        for (int i = 0; i < n - 1; i++) {
            PagingStructureCache c = switch (walkLevel[i]) {
                case 4 -> pml4eCache;
                case 3 -> pdpteCache;
                default -> pdeCache;
            };
            c.fill(va, pcid, walkEntry[i] & physAddrMask, walkRights[i]);
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
        fillL1(l1, sizeIndex, va, pcid, frame, attrs);
        stlb.fill(sizeIndex, va, pcid, frame, attrs);
        return frame | (va & pageMask);
    }

    /** Reserved-bit rules of 4-level paging (SDM §4.5, tables 4-15 to 4-20). */
    private boolean reserved4Level(long e, int level, boolean nxe) {
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
    private boolean reservedPae(long e, int level, boolean nxe) {
        if ((e & paeReservedHigh) != 0 || (!nxe && (e & Pte.XD) != 0)) {
            return true;
        }
        return level == 2 && (e & Pte.PS) != 0 && (e & 0x001f_e000L) != 0;
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

    /**
     * Raises #PF: error code from the access bits (SDM §4.7), CR2 = va, and drops whatever the TLBs and
     * paging-structure caches hold for va (§4.10.4.1), so the handler's fix is seen on retry.
     */
    private GuestFault pageFault(long va, int code, int pcid) {
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
        invalidateDtlbPage(va, pcid);
        itlb.invalidatePage(va, pcid);
        stlb.invalidatePage(va, pcid);
        pml4eCache.invalidate(va, pcid);
        pdpteCache.invalidate(va, pcid);
        pdeCache.invalidate(va, pcid);
        s.cr2 = va;
        counters.pageFaults++;
        return GuestFault.raise(s, Vectors.PF, err);
    }

    // ------------------------------------------------------------------------------------------
    // Invalidation and control-register writes (SDM §4.10.4, §4.4.1).

    /**
     * INVLPG: drops TLB entries for the page of {@code va} (current PCID, and global ones) and every
     * paging-structure-cache entry of the current PCID, whatever its address (§4.10.4.1).
     */
    public void invlpg(long va) {
        counters.invlpg++;
        if (!s.pagingLongMode()) {
            va &= 0xffff_ffffL;
        }
        int pcid = currentPcid();
        invalidateDtlbPage(va, pcid);
        itlb.invalidatePage(va, pcid);
        stlb.invalidatePage(va, pcid);
        flushPagingStructureCaches(pcid);
    }

    /** INVPCID types 0-3 (SDM Vol. 2 INVPCID). Type 0 with a non-canonical address raises #GP. */
    public void invpcid(int type, int pcid, long va) {
        counters.invpcid++;
        clearFastPath();
        switch (type) {
            case 0 -> {
                if (((va << 16) >> 16) != va) {
                    throw GuestFault.raise(s, Vectors.GP, 0);
                }
                for (Tlb t : new Tlb[] {dtlb, itlb, stlb}) {
                    t.invalidatePageNonGlobal(va, pcid);
                }
                flushPagingStructureCaches(pcid);
            }
            case 1 -> {
                for (Tlb t : new Tlb[] {dtlb, itlb, stlb}) {
                    t.flush(true, pcid);
                }
                flushPagingStructureCaches(pcid);
            }
            case 2 -> flushAll();
            case 3 -> {
                for (Tlb t : new Tlb[] {dtlb, itlb, stlb}) {
                    t.flush(true, -1);
                }
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
    public void writeCr3(long value) {
        boolean pcide = (s.cr4 & CpuState.CR4_PCIDE) != 0;
        boolean noFlush = pcide && value < 0;
        long newCr3 = value & ~(1L << 63);
        if (isPae()) {
            loadPdpteRegisters(newCr3);
        }
        s.cr3 = newCr3;
        clearFastPath(); // fast entries are not tagged with a PCID
        if (!noFlush) {
            counters.cr3Flushes++;
            int only = pcide ? (int) (newCr3 & 0xfff) : -1;
            dtlb.flush(true, only);
            itlb.flush(true, only);
            stlb.flush(true, only);
            flushPagingStructureCaches(only);
        }
    }

    /**
     * Applies the effects of a write to CR0, CR4 or EFER that the caller has already stored in the
     * state (SDM §4.10.4.1): toggling CR0.PG, CR4.PGE or CR4.PAE, or clearing CR4.PCIDE, flushes
     * everything including global entries; entering PAE paging reloads the PDPTE registers (§4.4.1).
     */
    public void controlRegistersChanged(long oldCr0, long oldCr4, long oldEfer) {
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

    private boolean isPae() {
        return (s.cr0 & CpuState.CR0_PG) != 0 && (s.cr4 & CpuState.CR4_PAE) != 0 && !s.pagingLongMode();
    }

    /** The vCPU state this MMU belongs to (for {@link ControlRegisterWrites}). */
    CpuState state() {
        return s;
    }

    /** True if {@code cr3} sets a bit at or above MAXPHYADDR (bits 62:MAXPHYADDR; bit 63 is not an address bit). */
    boolean cr3AddressReserved(long cr3) {
        return (cr3 & paeReservedHigh) != 0;
    }

    /** True if loading the PDPTE registers from {@code cr3} would succeed (reads only; no #GP, no state change). */
    boolean pdptesLoadable(long cr3) {
        long base = cr3 & 0xffff_ffe0L;
        for (int i = 0; i < 4; i++) {
            if (pdpteReserved(mem.read64(base + 8L * i))) {
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
            long e = mem.read64(base + 8L * i);
            if (pdpteReserved(e)) {
                throw GuestFault.raise(s, Vectors.GP, 0);
            }
            loaded[i] = e;
        }
        System.arraycopy(loaded, 0, pdpteRegisters, 0, 4);
        // PDPTE registers replace paging-structure caching of the PDPTE level.
        flushPagingStructureCaches(-1);
    }

    /** Drops every translation including global ones and every paging-structure-cache entry. */
    public void flushAll() {
        counters.fullFlushes++;
        clearFastPath();
        dtlb.flush(false, -1);
        itlb.flush(false, -1);
        stlb.flush(false, -1);
        flushPagingStructureCaches(-1);
    }

    private void flushPagingStructureCaches(int pcid) {
        pml4eCache.flush(pcid);
        pdpteCache.flush(pcid);
        pdeCache.flush(pcid);
    }

    // ------------------------------------------------------------------------------------------
    // Debug walk: no A/D updates, no TLB fills, no counters (for gdb and monitor commands).

    public DebugWalk debugWalk(long va) {
        List<DebugWalk.Level> levels = new ArrayList<>(4);
        if ((s.cr0 & CpuState.CR0_PG) == 0) {
            return new DebugWalk("off", va, levels, va & 0xffff_ffffL, null);
        }
        boolean nxe = (s.efer & CpuState.EFER_NXE) != 0;
        boolean lm = s.pagingLongMode();
        String mode = lm ? "4-level" : "PAE";
        if (lm && ((va << 16) >> 16) != va) {
            return new DebugWalk(mode, va, levels, -1, "non-canonical address");
        }
        if (!lm) {
            va &= 0xffff_ffffL;
        }
        long table;
        int top;
        if (lm) {
            table = s.cr3 & physAddrMask;
            top = 4;
        } else {
            long pdpte = pdpteRegisters[(int) (va >>> 30) & 3];
            levels.add(new DebugWalk.Level("PDPTE register", -1, pdpte));
            if ((pdpte & Pte.P) == 0) {
                return new DebugWalk(mode, va, levels, -1, "not present");
            }
            table = pdpte & physAddrMask;
            top = 2;
        }
        String[] names = {"PTE", "PDE", "PDPTE", "PML4E"};
        for (int level = top; level >= 1; level--) {
            long ea = table + (((va >>> (12 + 9 * (level - 1))) & 511) << 3);
            long e = mem.read64(ea);
            levels.add(new DebugWalk.Level(names[level - 1], ea, e));
            if ((e & Pte.P) == 0) {
                return new DebugWalk(mode, va, levels, -1, "not present");
            }
            if (lm ? reserved4Level(e, level, nxe) : reservedPae(e, level, nxe)) {
                return new DebugWalk(mode, va, levels, -1, "reserved bit set");
            }
            if (level == 1 || (level <= 3 && (e & Pte.PS) != 0)) {
                long mask = (1L << (12 + 9 * (level - 1))) - 1;
                return new DebugWalk(mode, va, levels, (e & physAddrMask & ~mask) | (va & mask), null);
            }
            table = e & physAddrMask;
        }
        throw new AssertionError("unreachable");
    }
}
