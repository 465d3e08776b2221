package org.mmulab.emulator.mmu;

import org.mmulab.emulator.timing.TimingModel;

/**
 * The sizes of a processor's translation caches. Sources for the {@link #SKYLAKE} figures: Intel 64
 * and IA-32 Architectures Optimization Reference Manual, table "TLB parameters of the Skylake
 * microarchitecture" (L1 dTLB 64×4-way 4K, 32×4-way 2M, 4 1G; L1 iTLB 128×8-way 4K, 8 2M per thread;
 * STLB 1536×12-way shared 4K/2M, 16×4-way 1G) and CPUID.80000008H (39 physical address bits on
 * client parts). Paging-structure cache sizes are not published by Intel; the defaults are
 * ChampSim's (PML4E 2, PDPTE 4, PDE 32 entries, fully associative).
 *
 * <p>{@link #timing} holds every latency the cycle model charges (instruction classes, TLB levels,
 * caches, traps, locks, IPIs) with its sources; SKYLAKE and TINY use {@link TimingModel#SKYLAKE}. The other
 * presets (one file per part, sources cited) are in {@code org.mmulab.emulator.mmu.cpudb}.
 *
 * <p>{@link #identity} is what the guest's CPUID reports (vendor, family/model/stepping, brand, and which
 * vendor's cache/TLB leaves); the presets each give their part's.
 *
 * <p>Simplification, stated where a reader looks for it: the STLB's 4K and 2M entries are modelled as
 * two arrays of the published geometry rather than one array whose capacity the two sizes share.
 */
public record CpuModel(String name, int maxPhysAddrBits,
        TlbGeometry l1d4k, TlbGeometry l1d2m, TlbGeometry l1d1g,
        TlbGeometry l1i4k, TlbGeometry l1i2m,
        TlbGeometry stlb4k, TlbGeometry stlb2m, TlbGeometry stlb1g,
        int pml4eCache, int pdpteCache, int pdeCache, TimingModel timing,
        org.mmulab.emulator.mmu.cpudb.CpuIdentity identity) {

    /** A model that identifies itself as the Skylake client part (the default preset's CPUID). */
    public CpuModel(String name, int maxPhysAddrBits,
            TlbGeometry l1d4k, TlbGeometry l1d2m, TlbGeometry l1d1g,
            TlbGeometry l1i4k, TlbGeometry l1i2m,
            TlbGeometry stlb4k, TlbGeometry stlb2m, TlbGeometry stlb1g,
            int pml4eCache, int pdpteCache, int pdeCache, TimingModel timing) {
        this(name, maxPhysAddrBits, l1d4k, l1d2m, l1d1g, l1i4k, l1i2m, stlb4k, stlb2m, stlb1g, pml4eCache, pdpteCache,
                pdeCache, timing, org.mmulab.emulator.mmu.cpudb.CpuIdentity.SKYLAKE);
    }

    /** Entries and ways of one set-associative array; {@code entries == 0} means no such array. */
    public record TlbGeometry(int entries, int ways) {
        public TlbGeometry {
            if (entries < 0 || ways <= 0 || entries > 0 && (entries % ways != 0 || Integer.bitCount(entries / ways) != 1)) {
                throw new IllegalArgumentException("TLB geometry " + entries + "/" + ways + "-way: sets must be a power of two");
            }
        }

        TlbArray build(String name, int pageShift) {
            return entries == 0 ? null : new TlbArray(name, entries, ways, pageShift);
        }
    }

    public CpuModel {
        java.util.Objects.requireNonNull(name);
        java.util.Objects.requireNonNull(timing);
        java.util.Objects.requireNonNull(identity);
        if (maxPhysAddrBits < 32 || maxPhysAddrBits > 52) {
            throw new IllegalArgumentException(name + ": MAXPHYADDR must be 32..52: " + maxPhysAddrBits);
        }
        if (l1d4k.entries() == 0 || l1i4k.entries() == 0 || stlb4k.entries() == 0) {
            throw new IllegalArgumentException(name + ": the 4 KiB L1 dTLB, L1 iTLB and STLB cannot be empty");
        }
        if (pml4eCache < 1 || pdpteCache < 1 || pdeCache < 1) {
            throw new IllegalArgumentException(name + ": paging-structure caches need at least one entry");
        }
    }

    public static final CpuModel SKYLAKE = new CpuModel("skylake", 39,
            new TlbGeometry(64, 4), new TlbGeometry(32, 4), new TlbGeometry(4, 4),
            new TlbGeometry(128, 8), new TlbGeometry(8, 8),
            new TlbGeometry(1536, 12), new TlbGeometry(1536, 12), new TlbGeometry(16, 4),
            2, 4, 32, TimingModel.SKYLAKE);

    /** A few entries everywhere so tests can force evictions with a handful of pages. */
    public static final CpuModel TINY = new CpuModel("tiny", 39,
            new TlbGeometry(4, 2), new TlbGeometry(2, 2), new TlbGeometry(2, 2),
            new TlbGeometry(4, 2), new TlbGeometry(2, 2),
            new TlbGeometry(8, 2), new TlbGeometry(4, 2), new TlbGeometry(2, 2),
            1, 1, 2, TimingModel.SKYLAKE);

    /**
     * The preset called {@code name} ({@link org.mmulab.emulator.mmu.cpudb.CpuPresets}: skylake,
     * sapphire-rapids, zen3, zen4, zen5, tiny); IllegalArgumentException naming the known ones.
     */
    public static CpuModel byName(String name) {
        return org.mmulab.emulator.mmu.cpudb.CpuPresets.byName(name).model();
    }

    /** The same model with another MAXPHYADDR. */
    public CpuModel withMaxPhysAddrBits(int bits) {
        return new CpuModel(name, bits, l1d4k, l1d2m, l1d1g, l1i4k, l1i2m, stlb4k, stlb2m, stlb1g, pml4eCache,
                pdpteCache, pdeCache, timing, identity);
    }

    /** The same model with the virtualised-host layer {@code layer} under its timing ({@link TimingModel#withHostLayer}). */
    public CpuModel withHostLayer(org.mmulab.emulator.timing.VirtualisedHost layer) {
        return new CpuModel(name, maxPhysAddrBits, l1d4k, l1d2m, l1d1g, l1i4k, l1i2m, stlb4k, stlb2m, stlb1g, pml4eCache,
                pdpteCache, pdeCache, timing.withHostLayer(layer), identity);
    }

    /** The same model with its cores at {@code hz} ({@link TimingModel#withCoreClock}). */
    public CpuModel withCoreClock(long hz) {
        return new CpuModel(name, maxPhysAddrBits, l1d4k, l1d2m, l1d1g, l1i4k, l1i2m, stlb4k, stlb2m, stlb1g, pml4eCache,
                pdpteCache, pdeCache, timing.withCoreClock(hz), identity);
    }

    Tlb buildL1d() {
        return new Tlb(l1d4k.build("dtlb-4k", 12), l1d2m.build("dtlb-2m", 21), l1d1g.build("dtlb-1g", 30));
    }

    Tlb buildL1i() {
        return new Tlb(l1i4k.build("itlb-4k", 12), l1i2m.build("itlb-2m", 21), null);
    }

    Tlb buildStlb() {
        return new Tlb(stlb4k.build("stlb-4k", 12), stlb2m.build("stlb-2m", 21), stlb1g.build("stlb-1g", 30));
    }
}
