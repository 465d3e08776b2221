package org.mmulab.emulator.mmu.cpudb;

import org.mmulab.emulator.mmu.CpuModel;
import org.mmulab.emulator.mmu.CpuModel.TlbGeometry;
import org.mmulab.emulator.timing.InstrClass;
import org.mmulab.emulator.timing.TimingModel;
import org.mmulab.emulator.timing.TimingModel.CacheGeometry;

/**
 * AMD Zen 3 server core (EPYC 7003 "Milan", CPUID family 19h models 00h-0Fh; also Ryzen 5000 at
 * 20h-2Fh and 50h-5Fh), modelled at the EPYC 7763's 2.45 GHz base clock. Sources:
 * <ul>
 * <li>AMD, "Software Optimization Guide for AMD EPYC 7003 Processors" (pub. 56665, rev 3.00, 2020):
 *     L1 DTLB 64 entries and L1 ITLB 64 entries, fully associative, every page size; L2 DTLB 2048
 *     entries (4 KiB and 2 MiB, 1 GiB smashed), L2 ITLB 512 entries; L1I and L1D 32 KiB 8-way, L2
 *     512 KiB 8-way, L3 32 MiB 16-way shared by 8 cores (one core's 4 MiB share modelled).</li>
 * <li>7-cpu.com, "AMD Zen 3" (Ryzen 9 5950X): L1 4-5 cycles, L2 12 cycles, L3 46 cycles, RAM 46 cycles
 *     + 78 ns (at 2.45 GHz: 237 cycles, 240 used); Chips and Cheese (2021): an L2 DTLB hit costs about
 *     7 cycles more than an L1 DTLB hit.</li>
 * <li>CPUID.80000008H: 48 physical address bits on EPYC 7003.</li>
 * <li>The L2 DTLB's associativity is modelled as 16 ways (2048 / 16 = 128 sets; the part's skewed
 *     organisation is not); page-walk caches as in {@link Zen5}: not published, 64/16/4 assumed.</li>
 * <li>Instruction classes: Agner Fog, "Instruction tables" (2024), Zen 3: DIV r32 ~10, DIV r64 ~14,
 *     LOCK-prefixed RMW ~8, RDTSC ~36.</li>
 * </ul>
 * No data prefetcher is modelled: AMD 56665 lists the same L1 stride, L1 region, L2 stream and L2
 * up/down prefetchers as Zen 5's guide, but neither guide gives how far ahead they run or whether they
 * cross pages, and prefetch_probe (which measured that for {@link Zen5}) has not run on this part.
 */
public final class Zen3 {
    private Zen3() {
    }

    public static final String SUMMARY = "AMD Zen 3 server (EPYC 7003 Milan, family 19h), 2.45 GHz";

    public static final TimingModel TIMING = new TimingModel("zen3", 2_450_000_000L,
            new CacheGeometry(32 << 10, 8, 5), new CacheGeometry(512 << 10, 8, 12), new CacheGeometry(4 << 20, 16, 46),
            240, new int[] {2, 3, 4, 12},
            0, 7,
            715, 330, 90, 60,
            8, 1, 120,
            500, 1500, 2000,
            classes(), new CacheGeometry(32 << 10, 8, 0), 2000);

    public static final CpuModel MODEL = new CpuModel("zen3", 48,
            new TlbGeometry(64, 64), new TlbGeometry(64, 64), new TlbGeometry(64, 64),
            new TlbGeometry(64, 64), new TlbGeometry(64, 64),
            new TlbGeometry(2048, 16), new TlbGeometry(2048, 16), new TlbGeometry(0, 1),
            4, 16, 64, TIMING, CpuIdentity.ZEN3);

    private static int[] classes() {
        int[] c = Zen5.classes();
        c[InstrClass.DIV32.ordinal()] = 10;
        return c;
    }
}
