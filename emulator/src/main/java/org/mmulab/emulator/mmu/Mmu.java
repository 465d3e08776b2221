package org.mmulab.emulator.mmu;

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
 *
 * <p>This class is the MMU's front: the interpreter's accessors, the host-side fast path and the TLB
 * lookups (§4.10.2). The walker is {@link PageWalker} (§4.4, §4.5, §4.7, §4.8, §4.10.3), access rights
 * {@link AccessRights} (§4.6), invalidation and control-register effects {@link TlbInvalidation}
 * (§4.10.4, §4.4.1), the L1 TLB's refill from the STLB or a walk {@link TlbRefill} (§4.10.2, §4.10.3),
 * prefetches' translations {@link PrefetchTranslation}, the debugger's walk {@link DebugWalker}, page-crossing accesses
 * {@link PageCrossingAccess}, {@code --check}'s reachability question {@link FrameReach}. Translation returns a physical address or
 * {@link #FAULT} with the exception recorded in the vCPU state; only the public accessors and
 * {@link #translate} throw the shared {@link GuestFault}, at the boundary the interpreter and the
 * translation tier catch.
 */
public final class Mmu {
    /** Internal translation result: a fault is recorded in the vCPU state (never a physical address). */
    static final long FAULT = -2;

    final PhysicalMemory mem;
    private final CpuState s;
    private final CpuModel model;
    final Tlb dtlb;
    final Tlb itlb;
    final Tlb stlb;
    /** The L1 TLBs' 4 KiB arrays, read here through final fields (one load fewer on every modelled translation). */
    private final TlbArray dtlb4k, itlb4k;
    final PagingStructureCache pml4eCache;
    final PagingStructureCache pdpteCache;
    final PagingStructureCache pdeCache;
    final long physAddrMask;
    /** PAE's four PDPTE registers (SDM §4.4.1), loaded by {@link TlbInvalidation}. */
    final long[] pdpteRegisters = new long[4];
    public final MmuCounters counters = new MmuCounters();
    /** Cycle accounting for STLB hits and walker loads; null under {@code --timing fast}. */
    WalkTiming timing;
    /** Watchpoint hook; null unless a debugger watches memory. Set on the vCPU's own thread. */
    private volatile AccessObserver observer;
    /** Deterministic scheduling's yield points in the walker; null (PARALLEL) costs one field read per load. */
    WalkerYield walkerYield;
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

    private final PageWalker walker;
    private final PrefetchTranslation prefetchTranslation;
    private final TlbRefill refill;
    final TlbInvalidation invalidation;
    private final PageCrossingAccess crossing = new PageCrossingAccess(this);

    public Mmu(PhysicalMemory mem, CpuState state, CpuModel model) {
        this.mem = mem;
        this.s = state;
        this.model = model;
        int maxPhys = model.maxPhysAddrBits();
        this.physAddrMask = ((1L << maxPhys) - 1) & ~0xfffL;
        // Bits 51:MAXPHYADDR of any 4-level entry are reserved (SDM §4.5, tables 4-14..4-20).
        long reservedHigh = ((1L << 52) - 1) & ~((1L << maxPhys) - 1);
        long paeReservedHigh = (Long.MAX_VALUE) & ~((1L << maxPhys) - 1);
        this.dtlb = model.buildL1d();
        this.itlb = model.buildL1i();
        this.stlb = model.buildStlb();
        this.dtlb4k = dtlb.a4k;
        this.itlb4k = itlb.a4k;
        this.pml4eCache = new PagingStructureCache("pml4e-cache", model.pml4eCache(), 39);
        this.pdpteCache = new PagingStructureCache("pdpte-cache", model.pdpteCache(), 30);
        this.pdeCache = new PagingStructureCache("pde-cache", model.pdeCache(), 21);
        this.walker = new PageWalker(this, physAddrMask, reservedHigh, paeReservedHigh);
        this.prefetchTranslation = new PrefetchTranslation(this, new PrefetchWalker(this, walker, physAddrMask));
        this.invalidation = new TlbInvalidation(this, paeReservedHigh);
        this.refill = new TlbRefill(this, walker);
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

    public void setTiming(WalkTiming t) {
        this.timing = t;
        if (t != null) {
            t.prefetchTranslator(prefetchTranslation); // the data prefetcher translates through these TLBs
        }
        fast.setCycleMode(t != null); // fast entries of the other mode go (installFast keeps the two apart)
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
        return FrameReach.mayReach(this, framePhys);
    }

    /** The frame {@link #setFetchFrame} published last, or -1 (an acquire load: any thread may ask). */
    long fetchFrameAcquire() {
        return (long) FETCH_FRAME.getAcquire(this);
    }

    /**
     * Installs (null: removes) the watchpoint hook. The fast path is emptied and stays empty while a hook
     * is installed, so a fast-path hit never has to test for one.
     */
    public void setAccessObserver(AccessObserver o) {
        this.observer = o;
        clearFastPath();
    }

    private void observe(long va, int len, boolean write) {
        AccessObserver o = observer;
        if (o != null) {
            o.access(va, len, write);
        }
    }

    int userBit() {
        return s.cpl == 3 ? PfErr.U : 0;
    }

    /** The accessors' boundary: a recorded fault becomes the shared {@link GuestFault}. */
    static long orThrow(long pa) {
        if (pa < 0) {
            throw GuestFault.INSTANCE;
        }
        return pa;
    }

    // ------------------------------------------------------------------------------------------
    // Virtual accessors used by the interpreter and the translation tier: the access is a user access
    // when CPL = 3. Each first tries the fast path inline (a hit is a dTLB hit; it implies no watchpoint
    // hook, fast timing, CPL 3 and an access inside one page), then the full path.

    public int read8(long va) {
        int i = (int) (va >>> 12) & FAST_MASK;
        if (fastReadTag[i] == (va >>> 12) + 1 && s.cpl == 3) {
            return mem.read8(fastHit(i, va));
        }
        observe(va, 1, false);
        return mem.read8(userRead(va));
    }

    public int read16(long va) {
        int i = (int) (va >>> 12) & FAST_MASK;
        if (fastReadTag[i] == (va >>> 12) + 1 && (va & 0xfff) <= 0xffe && s.cpl == 3) {
            return mem.read16(fastHit(i, va));
        }
        observe(va, 2, false);
        if ((va & 0xfff) > 0xffe) {
            return (int) crossing.read(va, 2, userBit());
        }
        return mem.read16(userRead(va));
    }

    public int read32(long va) {
        int i = (int) (va >>> 12) & FAST_MASK;
        if (fastReadTag[i] == (va >>> 12) + 1 && (va & 0xfff) <= 0xffc && s.cpl == 3) {
            return mem.read32(fastHit(i, va));
        }
        observe(va, 4, false);
        if ((va & 0xfff) > 0xffc) {
            return (int) crossing.read(va, 4, userBit());
        }
        return mem.read32(userRead(va));
    }

    public long read64(long va) {
        int i = (int) (va >>> 12) & FAST_MASK;
        if (fastReadTag[i] == (va >>> 12) + 1 && (va & 0xfff) <= 0xff8 && s.cpl == 3) {
            return mem.read64(fastHit(i, va));
        }
        return read64Slow(va);
    }

    private long read64Slow(long va) {
        observe(va, 8, false);
        if ((va & 0xfff) > 0xff8) {
            return crossing.read(va, 8, userBit());
        }
        return mem.read64(userRead(va));
    }

    public void write8(long va, int v) {
        int i = (int) (va >>> 12) & FAST_MASK;
        if (fastWriteTag[i] == (va >>> 12) + 1 && s.cpl == 3) {
            mem.write8(fastHit(i, va), v);
            return;
        }
        observe(va, 1, true);
        mem.write8(userWrite(va), v);
    }

    public void write16(long va, int v) {
        int i = (int) (va >>> 12) & FAST_MASK;
        if (fastWriteTag[i] == (va >>> 12) + 1 && (va & 0xfff) <= 0xffe && s.cpl == 3) {
            mem.write16(fastHit(i, va), v);
            return;
        }
        observe(va, 2, true);
        if ((va & 0xfff) > 0xffe) {
            crossing.write(va, 2, v, userBit());
            return;
        }
        mem.write16(userWrite(va), v);
    }

    public void write32(long va, int v) {
        int i = (int) (va >>> 12) & FAST_MASK;
        if (fastWriteTag[i] == (va >>> 12) + 1 && (va & 0xfff) <= 0xffc && s.cpl == 3) {
            mem.write32(fastHit(i, va), v);
            return;
        }
        observe(va, 4, true);
        if ((va & 0xfff) > 0xffc) {
            crossing.write(va, 4, v, userBit());
            return;
        }
        mem.write32(userWrite(va), v);
    }

    public void write64(long va, long v) {
        int i = (int) (va >>> 12) & FAST_MASK;
        if (fastWriteTag[i] == (va >>> 12) + 1 && (va & 0xfff) <= 0xff8 && s.cpl == 3) {
            mem.write64(fastHit(i, va), v);
            return;
        }
        write64Slow(va, v);
    }

    private void write64Slow(long va, long v) {
        observe(va, 8, true);
        if ((va & 0xfff) > 0xff8) {
            crossing.write(va, 8, v, userBit());
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

    // ------------------------------------------------------------------------------------------
    // Translation.

    /**
     * Translates {@code va} for an access described by {@link PfErr} bits W, U, I (and
     * {@link PfErr#IMPLICIT}); returns the physical address or throws {@link GuestFault} with #PF
     * (CR2 set) or #GP in the vCPU state.
     */
    public long translate(long va, int access) {
        return orThrow(translateOrFault(va, access));
    }

    /**
     * {@link #translate} without the throw: the physical address, or a negative value after recording
     * #PF (CR2 set) or #GP in the vCPU state.
     */
    public long translateOrFault(long va, int access) {
        if ((access & ~PfErr.W) == PfErr.U) {
            // An explicit user-mode data access: the fast path first. Its entries are a subset of the dTLB's
            // usable user entries (installed only for such accesses to U/S pages, writes only with D=1, gone
            // with their dTLB entry and on every paging-mode, CR3 or timing change), so a hit is exactly the
            // dTLB hit the lookup below would find: the same counter, the same LRU update, no fault possible.
            int i = (int) (va >>> 12) & FAST_MASK;
            long[] tags = (access & PfErr.W) == 0 ? (timing == null ? fastReadTag : cycleReadTag)
                    : (timing == null ? fastWriteTag : cycleWriteTag);
            if (tags[i] == (va >>> 12) + 1) {
                return fastHit(i, va);
            }
        }
        return translateModelled(va, access);
    }

    /**
     * {@link #translateOrFault} through the modelled TLBs, for a caller that has already tried the fast path
     * (the user accessors) or whose access it never serves.
     */
    private long translateModelled(long va, int access) {
        if ((s.cr0 & CpuState.CR0_PG) == 0) {
            return va & 0xffff_ffffL;
        }
        if (s.pagingLongMode()) {
            if (((va << 16) >> 16) != va) {
                return nonCanonical();
            }
        } else {
            va &= 0xffff_ffffL;
        }
        Tlb l1 = (access & PfErr.I) != 0 ? itlb : dtlb;
        int pcid = currentPcid();
        long vpn = (va & 0x0000_ffff_ffff_ffffL) >>> 12; // the 4 KiB arrays' page number and key, for L1 and STLB
        long key = TlbEntryWord.pack(vpn + 1, pcid, 0);
        int h = ((access & PfErr.I) != 0 ? itlb4k : dtlb4k).lookupKey(vpn, key);
        if (h < 0 && (h = l1.lookupLarge(va, pcid)) < 0) {
            return refill.l1Miss(va, vpn, key, access, l1, pcid);
        }
        int attrs = l1.attrs(h);
        if (!AccessRights.permitted(s, attrs, access) || (access & PfErr.W) != 0 && (attrs & TlbArray.ATTR_D) == 0) {
            return refill.l1HitRefused(va, access, l1, pcid, h, attrs);
        }
        long pa = l1.physical(h, va);
        if (l1 == itlb) {
            counters.itlbHits++;
        } else {
            counters.dtlbHits++;
            installFast(va, pa, h, attrs, access);
        }
        return pa;
    }

    /*
     * The rare outcomes live in methods of their own (the L1 miss and refused hits in TlbRefill), so that
     * the hot paths above and below stay small enough for the JIT to inline whole (HotSpot's
     * FreqInlineSize counts bytecodes).
     */

    /** A non-canonical linear address in 4-level paging: #GP(0) (SDM Vol. 3A §6.15). */
    private long nonCanonical() {
        GuestFault.raise(s, Vectors.GP, 0);
        return FAULT;
    }

    /** Fills an L1 TLB; an entry it evicts from the dTLB takes its fast-path entries with it. */
    void fillL1(Tlb l1, int sizeIndex, long va, int pcid, long frame, int attrs) {
        long evicted = l1.fill(sizeIndex, va, pcid, frame, attrs);
        if (evicted >= 0 && l1 == dtlb) {
            fast.drop(evicted & ~3L, Tlb.pageShift((int) evicted & 3));
        }
    }

    public int currentPcid() {
        return (s.cr4 & CpuState.CR4_PCIDE) != 0 ? (int) (s.cr3 & 0xfff) : 0;
    }

    // ------------------------------------------------------------------------------------------
    // Fast path (FastPath): the same arrays, read here through final fields.

    private static final int FAST_MASK = FastPath.MASK;
    final FastPath fast = new FastPath();
    private final long[] fastReadTag = fast.readTag;
    private final long[] fastWriteTag = fast.writeTag;
    private final long[] fastPage = fast.page;
    private final int[] fastHandle = fast.handle;
    private final long[] cycleReadTag = fast.cycleReadTag;
    private final long[] cycleWriteTag = fast.cycleWriteTag;

    /** A fast-path hit in slot {@code i}: a dTLB hit (counter and LRU age); returns the physical address. */
    private long fastHit(int i, long va) {
        counters.dtlbHits++;
        dtlb.touch(fastHandle[i]);
        return fastPage[i] | (va & 0xfff);
    }

    private void installFast(long va, long pa, int handle, int attrs, int access) {
        if ((access & (PfErr.U | PfErr.IMPLICIT)) != PfErr.U || (attrs & TlbArray.ATTR_US) == 0
                || observer != null) {
            return;
        }
        fast.install(va, pa, handle, attrs, timing != null);
    }

    /**
     * Drops the dTLB entries for {@code va} and exactly the fast-path entries they backed: the 4 KiB page's
     * slot, and every slot inside a 2 MiB / 1 GiB page whose entry went. (A #PF and INVLPG used to clear
     * the whole fast path: 4 KiB of stores on every page fault.)
     */
    void invalidateDtlbPage(long va, int pcid) {
        int sizes = dtlb.invalidatePage(va, pcid);
        fast.drop(va & ~0xfffL, 12);
        if ((sizes & 2) != 0) {
            fast.drop(va & ~((1L << 21) - 1), 21);
        }
        if ((sizes & 4) != 0) {
            fast.drop(va & ~((1L << 30) - 1), 30);
        }
    }

    void clearFastPath() {
        fast.clear();
    }

    /** Physical address for a user-mode data read by the interpreter (CPL 3). */
    private long userRead(long va) {
        int i = (int) (va >>> 12) & FAST_MASK;
        if (fastReadTag[i] == (va >>> 12) + 1 && s.cpl == 3) {
            return fastHit(i, va);
        }
        WalkTiming t = timing;
        if (t == null) {
            return orThrow(translateModelled(va, userBit())); // the fast path missed just above
        }
        long pa; // cycle mode: the load goes through L1D/L2/LLC
        if (cycleReadTag[i] == (va >>> 12) + 1 && s.cpl == 3) {
            pa = fastHit(i, va);
        } else {
            pa = orThrow(translateModelled(va, userBit()));
        }
        t.dataLoad(s.rip, va, pa); // the load's instruction trains the data prefetcher
        return pa;
    }

    /** Physical address for a user-mode data write by the interpreter (CPL 3). */
    private long userWrite(long va) {
        int i = (int) (va >>> 12) & FAST_MASK;
        if (fastWriteTag[i] == (va >>> 12) + 1 && s.cpl == 3) {
            return fastHit(i, va);
        }
        WalkTiming t = timing;
        if (t == null) {
            return orThrow(translateModelled(va, userBit() | PfErr.W)); // the fast path missed just above
        }
        long pa; // cycle mode: the store's line is fetched for ownership (write-allocate)
        if (cycleWriteTag[i] == (va >>> 12) + 1 && s.cpl == 3) {
            pa = fastHit(i, va);
        } else {
            pa = orThrow(translateModelled(va, userBit() | PfErr.W));
        }
        t.dataStore(pa);
        return pa;
    }

    // ------------------------------------------------------------------------------------------
    // Invalidation and control-register writes (SDM §4.10.4, §4.4.1): TlbInvalidation.

    /** INVLPG (SDM §4.10.4.1): {@link TlbInvalidation#invlpg}. */
    public void invlpg(long va) {
        invalidation.invlpg(va);
    }

    /** INVPCID types 0-3; type 0 with a non-canonical address raises #GP: {@link TlbInvalidation#invpcid}. */
    public void invpcid(int type, int pcid, long va) {
        invalidation.invpcid(type, pcid, va);
    }

    /** MOV to CR3, PAE PDPTE registers and PCID no-flush included: {@link TlbInvalidation#writeCr3}. */
    public void writeCr3(long value) {
        invalidation.writeCr3(value);
    }

    /** The TLB effects of a CR0/CR4/EFER write already stored: {@link TlbInvalidation#controlRegistersChanged}. */
    public void controlRegistersChanged(long oldCr0, long oldCr4, long oldEfer) {
        invalidation.controlRegistersChanged(oldCr0, oldCr4, oldEfer);
    }

    /** Drops every translation including global ones and every paging-structure-cache entry. */
    public void flushAll() {
        invalidation.flushAll();
    }

    /** The vCPU state this MMU belongs to (for {@link ControlRegisterWrites}). */
    CpuState state() {
        return s;
    }

    /** True if {@code cr3} sets a bit at or above MAXPHYADDR (bits 62:MAXPHYADDR; bit 63 is not an address bit). */
    boolean cr3AddressReserved(long cr3) {
        return (cr3 & ~physAddrMask & ~0xfffL & Long.MAX_VALUE) != 0;
    }

    /** True if loading the PDPTE registers from {@code cr3} would succeed (reads only; no #GP, no state change). */
    boolean pdptesLoadable(long cr3) {
        return invalidation.pdptesLoadable(cr3);
    }

    // ------------------------------------------------------------------------------------------
    // Debug walk: no A/D updates, no TLB fills, no counters (for gdb and monitor commands).

    public DebugWalk debugWalk(long va) {
        return DebugWalker.walk(this, walker, physAddrMask, va);
    }
}
