package org.mmulab.emulator.mmu.cpudb;

import org.mmulab.emulator.mmu.CpuModel;
import org.mmulab.emulator.mmu.CpuModel.TlbGeometry;
import org.mmulab.emulator.timing.InstrClass;
import org.mmulab.emulator.timing.TimingModel;
import org.mmulab.emulator.timing.TimingModel.CacheGeometry;

/**
 * Intel Sapphire Rapids server core (4th-gen Xeon Scalable, Golden Cove; CPUID family 6 model 8Fh),
 * modelled at the Xeon Platinum 8480+'s 2.0 GHz base clock. Sources:
 * <ul>
 * <li>Intel 64 and IA-32 Architectures Optimization Reference Manual (vol. 1, 2023), Golden Cove
 *     chapter: load DTLB 96 entries 6-way for 4 KiB pages, 32 entries 4-way for 2M/4M, 8 for 1 GiB;
 *     ITLB 256 entries 8-way 4 KiB, 32 for 2M/4M; STLB 2048 entries 16-way shared by 4 KiB and 2 MiB
 *     pages, 1024 1 GiB entries 8-way; L1D 48 KiB 12-way with 5-cycle load-to-use; L1I 32 KiB 8-way;
 *     L2 2 MiB 16-way, 16 cycles.</li>
 * <li>Intel Xeon Scalable 4th gen datasheet: 1.875 MiB of LLC per core, 15-way (one core's share
 *     modelled); Chips and Cheese, "Sapphire Rapids: Golden Cove Hits the Server" (2023): L3 about 33 ns
 *     (110 cycles used), DRAM about 110 ns beyond it (about 330 cycles at 2 GHz, 330 used); an STLB hit
 *     costs about 8 cycles more than a DTLB hit.</li>
 * <li>CPUID.80000008H: 46 physical address bits. Paging-structure caches: not published; ChampSim's
 *     defaults scaled up as for Skylake (PML4E 2, PDPTE 4, PDE 32).</li>
 * <li>Instruction classes: Agner Fog, "Instruction tables" (2024), Golden Cove: DIV r32 ~12, DIV r64 ~15,
 *     LOCK-prefixed RMW ~19, the rest as Skylake.</li>
 * </ul>
 * L1 data prefetcher: Intel's IP-based stride prefetcher as the optimization manual describes it for its
 * cores ({@link TimingModel#INTEL_IP_STRIDE}: strides up to 2 KB, no prefetch across 4 KiB).
 * Simplification: the STLB's 4 KiB and 2 MiB entries are two arrays of the published geometry.
 */
public final class SapphireRapids {
    private SapphireRapids() {
    }

    public static final String SUMMARY = "Intel Sapphire Rapids server (Golden Cove, family 6 model 8Fh), 2.0 GHz";

    public static final TimingModel TIMING = new TimingModel("sapphire-rapids", 2_000_000_000L,
            new CacheGeometry(48 << 10, 12, 5), new CacheGeometry(2 << 20, 16, 16),
            new CacheGeometry(1920 << 10, 15, 110),
            330, new int[] {2, 3, 4, 12},
            0, 8,
            715, 330, 90, 60,
            19, 1, 120,
            500, 1500, 2000,
            classes(), new CacheGeometry(32 << 10, 8, 0), 2000).withPrefetch(TimingModel.INTEL_IP_STRIDE);

    public static final CpuModel MODEL = new CpuModel("sapphire-rapids", 46,
            new TlbGeometry(96, 6), new TlbGeometry(32, 4), new TlbGeometry(8, 8),
            new TlbGeometry(256, 8), new TlbGeometry(32, 32),
            new TlbGeometry(2048, 16), new TlbGeometry(2048, 16), new TlbGeometry(1024, 8),
            2, 4, 32, TIMING, CpuIdentity.SAPPHIRE_RAPIDS);

    private static int[] classes() {
        int[] c = TimingModel.skylakeClasses();
        c[InstrClass.DIV32.ordinal()] = 12;
        c[InstrClass.DIV64.ordinal()] = 15;
        c[InstrClass.LOCKED_RMW.ordinal()] = 19;
        return c;
    }
}
