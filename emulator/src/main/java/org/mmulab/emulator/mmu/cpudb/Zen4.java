package org.mmulab.emulator.mmu.cpudb;

import org.mmulab.emulator.mmu.CpuModel;
import org.mmulab.emulator.mmu.CpuModel.TlbGeometry;
import org.mmulab.emulator.timing.TimingModel;
import org.mmulab.emulator.timing.TimingModel.CacheGeometry;

/**
 * AMD Zen 4 server core (EPYC 9004 "Genoa", CPUID family 19h models 10h-1Fh; also Ryzen 7000 at
 * 60h-7Fh and Bergamo/Siena at A0h-AFh), modelled at the EPYC 9654's 2.4 GHz base clock. Sources:
 * <ul>
 * <li>AMD, "Software Optimization Guide for the AMD Zen4 Microarchitecture" (pub. 57647, rev 1.00,
 *     2023): L1 DTLB 72 entries and L1 ITLB 64 entries, fully associative, every page size; L2 DTLB
 *     3072 entries 24-way (4 KiB, 2 MiB; 1 GiB smashed into 2 MiB entries); L2 ITLB 512 entries;
 *     L1I and L1D 32 KiB 8-way, L2 1 MiB 8-way, L3 32 MiB 16-way per CCD (one core's 4 MiB share
 *     modelled); load-to-use 4 cycles (5 used: complex addressing), L2 14 cycles.</li>
 * <li>Chips and Cheese, "AMD's Zen 4, Part 2: Memory Subsystem and Conclusion" (2022): L2 DTLB hit
 *     about 7 extra cycles, L3 about 50 cycles, DRAM about 90 ns beyond it (216 cycles at 2.4 GHz,
 *     270 used with the L3 lookup).</li>
 * <li>CPUID.80000008H: 52 physical address bits on EPYC 9004.</li>
 * <li>Page-walk caches: not published (the L2 DTLB also holds PDEs); 64 PDEs, 16 PDPTEs, 4 PML4Es assumed.</li>
 * <li>Instruction classes: Agner Fog, "Instruction tables" (2024), Zen 4 (as {@link Zen5#classes()}).</li>
 * </ul>
 * No data prefetcher is modelled: AMD 57647 lists the same L1 stride, L1 region, L2 stream and L2
 * up/down prefetchers as Zen 5's guide, but neither guide gives how far ahead they run or whether they
 * cross pages, and prefetch_probe (which measured that for {@link Zen5}) has not run on this part.
 * Simplifications as in {@link Zen5}. A 72-entry fully associative array is one set of 72 ways.
 */
public final class Zen4 {
    private Zen4() {
    }

    public static final String SUMMARY = "AMD Zen 4 server (EPYC 9004 Genoa, family 19h), 2.4 GHz";

    public static final TimingModel TIMING = new TimingModel("zen4", 2_400_000_000L,
            new CacheGeometry(32 << 10, 8, 5), new CacheGeometry(1 << 20, 8, 14), new CacheGeometry(4 << 20, 16, 50),
            270, new int[] {2, 3, 4, 12},
            0, 7,
            715, 330, 90, 60,
            8, 1, 120,
            500, 1500, 2000,
            Zen5.classes(), new CacheGeometry(32 << 10, 8, 0), 2000);

    public static final CpuModel MODEL = new CpuModel("zen4", 52,
            new TlbGeometry(72, 72), new TlbGeometry(72, 72), new TlbGeometry(72, 72),
            new TlbGeometry(64, 64), new TlbGeometry(64, 64),
            new TlbGeometry(3072, 24), new TlbGeometry(3072, 24), new TlbGeometry(0, 1),
            4, 16, 64, TIMING, CpuIdentity.ZEN4);
}
