package org.mmulab.emulator.mmu.cpudb;

import org.mmulab.emulator.mmu.CpuModel;
import org.mmulab.emulator.mmu.CpuModel.TlbGeometry;
import org.mmulab.emulator.timing.DataPrefetch;
import org.mmulab.emulator.timing.InstrClass;
import org.mmulab.emulator.timing.TimingModel;
import org.mmulab.emulator.timing.TimingModel.CacheGeometry;

/**
 * AMD Zen 5 server core (EPYC 9005 "Turin", CPUID family 1Ah models 00h-1Fh), modelled at the
 * EPYC 9755's 2.7 GHz base clock. Sources:
 * <ul>
 * <li>AMD, "Software Optimization Guide for the AMD Zen5 Microarchitecture" (pub. 58455, rev 1.00, 2024)
 *     and Cohen and Subramony, "Next Generation Zen 5 Core", Hot Chips 2024: L1 ITLB 64 entries and L1
 *     DTLB 96 entries, fully associative, every page size; L2 ITLB 2K and L2 DTLB 4K entries holding
 *     everything but 1 GiB pages; L1I 32 KiB 8-way, L1D 48 KiB 12-way, L2 1 MiB 16-way, L3 32 MiB
 *     16-way per 8-core CCD (one core's 4 MiB share modelled, as for the other presets).</li>
 * <li>Latencies: the optimization guide's 4-cycle integer load-to-use (the L1D's latency is set to 5, as for
 *     complex addressing: a miss costs the serving level's latency minus it; a hit is in the class cost, below), 14-cycle L2; Chips and Cheese, "Zen 5's Memory Subsystem" (2024): about 7 extra
 *     cycles for an L2 DTLB hit, L3 about 50 cycles, DRAM about 110 ns beyond it on DDR5 servers (297
 *     cycles at 2.7 GHz, 350 used with the L3 lookup).</li>
 * <li>CPUID.80000008H: 52 physical address bits on EPYC 9005.</li>
 * <li>Page-walk caches: AMD documents that the L2 DTLB also holds page-directory entries to speed
 *     up walks but not their count; 16 PDPTEs and 4 PML4Es are assumed. The PDE count, 128, is <em>measured</em>
 *     by test-images' {@code walk_probe pde1g} (this host, 2026-12-05, 5 runs, load 1.5-2.3): 8-256 target pages
 *     1 GiB apart, each with its own PD page, so all their PDE lines share one L1D set and come from L2 past 12
 *     targets (a PDE-cache miss then costs an L2 load, ~4 ns), 128+ filler loads between targets so each target
 *     walks: 25-32 ns per target at 16-64 targets, 29-46 at 80-128, rising in every run from 160 (33.6-45.1) to
 *     256 (42.6-67.3); one run of five stepped +9.6 ns between 64 and 80, the others not, where a 64-entry cache
 *     (the targets' PDEs plus the fillers') steps by an L2 load in the model (26.6 → 45.9 cycles). The model's
 *     128 entries hold up to 127 targets. {@code walk_probe pde} (targets 2 MiB apart, their PDEs 8 to an
 *     L1D-resident line; 5 runs): 11.4-15.3 ns per target at 24-32 targets, 16.4-18.5 at 48-64, 17.1-19.8 at
 *     80-128, 17.2-28 at 160-256, against 27-32 cycles (PTE lines from L2) in the bare model: the host's are 2-D
 *     walks (a PVM guest: the shadow table is walked through the outer VM's nested page table), and
 *     {@code bench --native --cpu-model host} calibrates the difference as the virtualised-host layer's walk
 *     figure ({@code VirtualisedHost.walkCycles}; +14 cycles at 2.7 GHz, +28 at the measured 3.5 GHz).</li>
 * <li>L2 and L3 set index ({@link CacheGeometry#hashed}): not published. Measured: the host's L2 holds 512
 *     lines that all share physical address bits 6-11 ({@code prefetch_probe chase} set0, random order: 12.7-13.1
 *     TSC ticks per load at 128-512 pages, an L2 hit plus the L2 DTLB hit, 35.8 at 1,024), which an index of
 *     the low line-address bits alone (PA[15:6], 16 sets for such lines, 256 lines) cannot hold. The model with
 *     that index and the buddy allocator's consecutive frames gave tlb_stride's layout (one line per page at
 *     3i mod 64) a few dozen of its L2 and LLC sets and sent 7 % of the loads of a 16,384-page address-order
 *     chase to DRAM, where the host's {@code walk_probe} chase (below) costs LLC hits; so the model's L2 and LLC
 *     fold the upper address bits into the index (an XOR of index-wide fields). Not exact either: with it the L2
 *     holds every set0 line up to its capacity, where the host's holds 512-768.</li>
 * <li>What ends the host's address-order plateau past 128 MiB is the LLC's capacity, not a translation reach:
 *     {@code walk_probe STRIDE 0 THP 50 512} (2026-12-05, 4 runs of 4 KiB pages and 2 of each other variant, load
 *     1.4-2.9) chases one line per page in address order over 16-512 MiB: 8.6-10.0 ns per load at every span from
 *     64 to 192 MiB, then a step between 224-320 MiB and 384 MiB (16-59 ns at 320-384, 34-198 at 512); with
 *     MADV_HUGEPAGE (one guest PDE per 2 MiB) the same step at 224-320 MiB; with pages 2 or 4 apart (half or a
 *     quarter of the data lines, the same spans) it moves out to 256-512 and 384-512+ MiB. So it follows the
 *     lines the chase and its page tables (guest and shadow) keep, about 4-6 MiB, i.e. the LLC share this core
 *     gets on a shared part (the model: 4 MiB), and the host's consecutive 65,536-page point sits on that edge
 *     (10.2 ns in one run, 99 ns in another). The random order over 32-128 MiB costs 44-68 ns in one set of
 *     runs and 237-350 ns in another 20 minutes later on the same binary (hypervisor state, not the part).</li>
 * <li>Why the host's address-order chase past the L2 DTLB's reach is cheap: {@code walk_probe region 200 32768 [0|1]}
 *     (2026-12-05; 20 runs of 4 KiB pages, 12 at load 0.9-1.35 and 8 at 1.6-2.2, 4 of MADV_HUGEPAGE at 0.9-1.0;
 *     core 3.28-3.72 GHz by {@code walk_probe clock}, cycles = ns x that run's clock) chases the same consecutive
 *     pages (tlb_stride's line layout) in address order, in "region" order (each 2 MiB region's 512 pages in a
 *     random order, the regions in turn: no constant stride, so no prefetch walk, but consecutive demand walks
 *     share one PT page) and in a random order. 1,024 pages (inside the L2 DTLB): address 1.8-2.1 ns (6-7
 *     cycles), region and random 5.7-6.8 (19-24): losing the prefetcher alone costs an L2 hit. 16,384 pages:
 *     address 8.8-10.5 ns (30-35 cycles), region 52.7-69.2 (179-232), random 62.1-80.6 (209-269) in the 15 runs
 *     in the fast state; region 90-91 in 2 and 309-384 ns (1,050-1,330 cycles) in 3 others (the hypervisor state
 *     noted above; address order stays at 10-11 ns). 32,768 pages: address 9.2-11.7, region 55.1-72.4 in 10 fast
 *     runs, 237-332 in 10 slow.
 *     So region order costs 6-8x address order, 44-61 ns more, not "about the same": demand walks are
 *     <em>not</em> cheap for sharing a PT page (hypothesis B refuted), and the address order's loads neither walk
 *     nor wait for their lines because the stride prefetcher runs ahead of them (hypothesis A, the prefetch
 *     walk's translation reaching the demand load, consistent; the earlier {@code TlbFill.FROM_STLB} had no walked translation reach a load,
 *     {@link #PREFETCH} now puts it in the L2 DTLB, below). The probe does not split the 44-61 ns into walk and lost data prefetch: guest
 *     MADV_HUGEPAGE is no walk-free control here, since the hardware's entries stay 4 KiB ({@code walk_probe 512
 *     1 THP 50 512}, 2 runs each: pages 2 MiB apart step to 18-19 ns by 112 pages, past the L1 DTLB, with and
 *     without it, where 2 MiB entries would hit the L2 DTLB) and its region rows match the 4 KiB ones (16,384
 *     pages: 46.2-64.6 ns). Confidence: B refuted, high; A, moderate.</li>
 * <li>Core clock: {@code walk_probe clock} (a chain of dependent ADDs, one cycle each) measured 3.59-3.77 GHz on
 *     this host (5 runs, 2026-12-05), against the 2.7 GHz base modelled here: host figures turned into cycles at
 *     the nominal clock (ns x 2.7) count 25-28 % fewer cycles than the host core spent; a dependent L1 hit (1.06-1.13
 *     ns) is 4.0-4.2 of its cycles, the guide's 4-cycle load-to-use. The preset keeps 2.7 GHz;
 *     {@code bench --native --cpu-model host} runs it at the clock it measures ({@code --core-mhz auto}).</li>
 * <li>Instruction classes: Agner Fog, "Instruction tables" (2024), Zen 4/Zen 5: DIV r32 ~11, DIV r64
 *     ~14, LOCK-prefixed RMW ~8, RDTSC ~36; the rest as Skylake (same rounded throughputs), except the memory
 *     operand: <b>MEM_OPERAND = 0</b>. 58455 (and Agner Fog's microarchitecture manual, Zen 5 chapter, 2025): four
 *     address-generation units, up to four loads (or two loads and two stores) per cycle; an instruction's load
 *     or store is an op of its own in the load/store pipes, not in the ALU that runs the rest, so its reciprocal
 *     throughput (1/4 load, 1/2 store), rounded up as every class is, adds no whole cycle; the 4-cycle load-to-use
 *     latency (above) then is what a dependent chase pays per L1 hit. tlb_stride's timed loop (add, the load, cmp,
 *     jb) costs 4 model cycles per load, the host 3.7-4.1 of its own (2026-12-06, {@code bench --native}, 6 runs),
 *     where the Skylake extra made it 5. The L1D latency (5) stays what a miss's cost is counted from.</li>
 * <li>L1 data stride prefetcher ({@link #PREFETCH}): that it exists and learns per load instruction, 58455
 *     ("L1 Stride Prefetcher: uses memory access history of individual instructions to fetch additional
 *     lines when each access is a constant distance from the previous"). How far ahead it runs and that it
 *     crosses 4 KiB pages are not
 *     documented: they were <em>measured</em> on an EPYC family 1Ah model 02h (a 2-vCPU Firecracker/PVM
 *     guest) by test-images' {@code prefetch_probe} (its own program, not tlb_stride, which is the check),
 *     2026-12-05, regions of 2,048 pages (inside the L2 DTLB's reach), strides of 1 and 8 pages plus three
 *     lines: after 8 trained loads a load k strides ahead cost an L1 hit plus 2-10 TSC ticks for k = 1..6-7,
 *     past the half-way mark to an unpredicted load from k = 8 (distance 7). Strides up to 8 pages + 192 bytes (32,960 bytes) were measured
 *     and are followed; longer ones are not. The reach <em>ramps</em> ({@code DataPrefetch.initialReach} 3): same
 *     probe and host, 2026-12-06, 2,048 pages, T = 3..8 trained loads, three runs each at strides of 1 and 8
 *     pages (load 1.7-3.2): after T loads the loads k &le; T strides ahead cost 46-74 ticks (the floor 45-49) and
 *     k = T + 1 about an unpredicted load (T = 3: k = 1-3 at 46-66, k = 4 at 82-87 against 84-91 far; T = 5:
 *     k = 6 at 76-90), up to k = 7 (T = 8: k = 8 at 72-80, half-way; k = 9 at 85-93), so the prefetcher
 *     reaches 3 strides ahead at the load that confirms a stride (the third) and one more per further load,
 *     up to the distance. Beyond the L2 DTLB's reach (65,536 pages, the probe's target
 *     loads k strides ahead whose translations no TLB held) k = 1-3 cost 53-89 ticks against 49-51 for an
 *     L1 hit and 259-288 unpredicted: a prefetch walks on a TLB miss, so the model's do
 *     ({@code DataPrefetch.walks}, mmu.PrefetchWalker).</li>
 * <li>A prefetch that fetches its line installs the translation it found in the L2 DTLB in the L1 DTLB
 *     ({@code DataPrefetch.TlbFill.FROM_STLB}): {@code prefetch_probe chase}, same host, 2026-12-05,
 *     whole-region chases one load per page: with every line in one L1D set (so each line is an L1D miss a
 *     prefetch covers), address order costs the same at 128-512 pages (5.6-6.2 TSC ticks per load) as at
 *     64-96 (5.7-6.9), where the L1 DTLB holds every page, while the random order pays the L2 DTLB hit
 *     (8.5 → 12.7-13.1); with the lines in L1D (nothing to fetch) address order pays it like the random
 *     order (2.4 → 6.4-6.6 at 128-384 pages). So a prefetch whose line misses L1D brings its translation
 *     from the L2 DTLB into the L1 DTLB, and one whose line L1D holds does not.</li>
 * <li>A translation the prefetch's own walk read goes into the <b>L2 DTLB</b>, not the L1 DTLB
 *     ({@code TlbFill.FROM_STLB_WALK_INTO_STLB}, 2026-12-06): the walk completes before the line's L1D lookup, as
 *     a demand walk fills the L2 DTLB, so the demand load then pays an L1 DTLB miss and an L2 DTLB hit instead
 *     of a walk. No probe separates where a walked translation lands (beyond the L2 DTLB's reach a walk's cost
 *     hides in the line's latency); the three rules were run against the host's tlb_stride curves
 *     ({@code bench --native --native-runs 5 --timing cycle --deterministic --cpu-model host}, same host,
 *     2026-12-06, load 1.3-2.2, core 3,357-3,599 MHz; ratios to the 64-page plateau, model vs host):
 *     L1 DTLB fill (FROM_STLB_AND_WALK, an earlier session, model only, 5-cycle plateau) puts the consecutive
 *     16,384-page point at 3.9x and pages 8 apart at 1,536 pages at 1.6x against the host's 7.2-7.7x and 5.0-5.2x: too cheap; no
 *     fill (FROM_STLB) at 13.3x and 12.1x (+78 %, +141 %): too dear; the L2 DTLB fill at 5.5-5.7x and 4.7-4.9x
 *     (-20 to -28 %, -1 to -10 %, 5 runs, load 0.6-5), with 1,536 consecutive pages 1.41x against 1.66-1.77x and
 *     262,144 pages 32.6-35.9x against 38.7-41.8x (28.0x in one run): all three consecutive points within 25 % in 2 of
 *     the 5 runs, 1,536 in all 5, 16,384 in 3, 262,144 in 4 (docs/cache-model.md, "This session: the prefetch walk
 *     fills the L2 DTLB"). The pages-8-apart curve, not fitted, is the independent check: its 1,536-page point went
 *     from +81-141 % to -1 to -10 %.</li>
 * </ul>
 * Simplifications: the fully associative L1 DTLB and the L2 DTLB are one array per page size of the
 * published geometry (they share capacity between sizes on the part); the separate L2 ITLB is not
 * modelled (instruction misses look up the unified STLB); 1 GiB pages miss the STLB (AMD: not held);
 * of the four data prefetchers 58455 lists (L1 stride, L1 region, L2 stream, L2 up/down) only the L1
 * stride one is modelled.
 */
public final class Zen5 {
    private Zen5() {
    }

    public static final String SUMMARY = "AMD Zen 5 server (EPYC 9005 Turin, family 1Ah), 2.7 GHz";

    /** The L1 stride prefetcher, as measured by prefetch_probe (see above). */
    public static final DataPrefetch PREFETCH = new DataPrefetch(7, 3, 32_960, true, true,
            DataPrefetch.TlbFill.FROM_STLB_WALK_INTO_STLB,
            "L1 stride prefetcher (AMD 58455); distance 7 strides (3 at a stride's first confirmation, one more per load), crosses pages, walks on a TLB miss, a prefetch that fetches "
                    + "its line installs an STLB hit's translation in the L1 dTLB, strides up to 32,960 B: measured by "
                    + "prefetch_probe on an EPYC family 1Ah model 02h, 2026-12-05 (the ramp 2026-12-06); a walked translation goes into the STLB: "
                    + "chosen against that host's tlb_stride curves, 2026-12-06");

    public static final TimingModel TIMING = new TimingModel("zen5", 2_700_000_000L,
            new CacheGeometry(48 << 10, 12, 5), new CacheGeometry(1 << 20, 16, 14).hashed(),
            new CacheGeometry(4 << 20, 16, 50).hashed(),
            350, new int[] {2, 3, 4, 12},
            0, 7,
            715, 330, 90, 60,
            8, 1, 120,
            500, 1500, 2000,
            classes(), new CacheGeometry(32 << 10, 8, 0), 2000).withPrefetch(PREFETCH);

    public static final CpuModel MODEL = new CpuModel("zen5", 52,
            new TlbGeometry(96, 96), new TlbGeometry(96, 96), new TlbGeometry(96, 96),
            new TlbGeometry(64, 64), new TlbGeometry(64, 64),
            new TlbGeometry(4096, 16), new TlbGeometry(4096, 16), new TlbGeometry(0, 1),
            4, 16, 128, TIMING, CpuIdentity.ZEN5);

    static int[] classes() {
        int[] c = TimingModel.skylakeClasses();
        c[InstrClass.DIV32.ordinal()] = 11;
        c[InstrClass.DIV64.ordinal()] = 14;
        c[InstrClass.LOCKED_RMW.ordinal()] = 8;
        c[InstrClass.RDTSC.ordinal()] = 36;
        c[InstrClass.MEM_OPERAND.ordinal()] = 0; // a load/store is its own op in the load/store pipes (above)
        return c;
    }
}
