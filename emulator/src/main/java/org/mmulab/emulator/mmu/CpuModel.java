package org.mmulab.emulator.mmu;

import java.util.Locale;

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
 * caches, traps, locks, IPIs) with its sources; both presets use {@link TimingModel#SKYLAKE}.
 *
 * <p>Simplification, stated where a reader looks for it: the STLB's 4K and 2M entries are modelled as
 * two arrays of the published geometry rather than one array whose capacity the two sizes share.
 */
public record CpuModel(String name, int maxPhysAddrBits,
        TlbGeometry l1d4k, TlbGeometry l1d2m, TlbGeometry l1d1g,
        TlbGeometry l1i4k, TlbGeometry l1i2m,
        TlbGeometry stlb4k, TlbGeometry stlb2m, TlbGeometry stlb1g,
        int pml4eCache, int pdpteCache, int pdeCache, TimingModel timing) {

    /** Entries and ways of one set-associative array; {@code entries == 0} means no such array. */
    public record TlbGeometry(int entries, int ways) {
        TlbArray build(String name, int pageShift) {
            return entries == 0 ? null : new TlbArray(name, entries, ways, pageShift);
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

    public static CpuModel byName(String name) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "skylake" -> SKYLAKE;
            case "tiny" -> TINY;
            default -> throw new IllegalArgumentException("unknown CPU model '" + name + "' (known: skylake, tiny)");
        };
    }

    /** The same model with another MAXPHYADDR. */
    public CpuModel withMaxPhysAddrBits(int bits) {
        return new CpuModel(name, bits, l1d4k, l1d2m, l1d1g, l1i4k, l1i2m, stlb4k, stlb2m, stlb1g, pml4eCache,
                pdpteCache, pdeCache, timing);
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
