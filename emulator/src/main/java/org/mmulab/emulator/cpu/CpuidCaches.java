package org.mmulab.emulator.cpu;

import java.util.ArrayList;
import java.util.List;

import org.mmulab.emulator.mmu.CpuModel;
import org.mmulab.emulator.mmu.CpuModel.TlbGeometry;
import org.mmulab.emulator.timing.CacheLevel;
import org.mmulab.emulator.timing.TimingModel;
import org.mmulab.emulator.timing.TimingModel.CacheGeometry;

/**
 * The CPUID leaves that describe caches and TLBs (SDM Vol. 2A CPUID: leaf 04H "Deterministic Cache
 * Parameters", leaf 18H "Deterministic Address Translation Parameters", leaf 80000006H; for AMD presets
 * AMD APM Vol. 3 Appendix E: 80000005H "L1 Cache and TLB Information", 80000006H "L2 Cache and TLB and
 * L3 Cache Information", 8000001DH "Cache Topology Information", 8000001EH "Processor Topology
 * Information"), computed from the {@link CpuModel} and {@link TimingModel} the MMU and the cache model
 * are built from.
 *
 * <p>AMD encodings used: 80000005H gives associativity as the way count (FFH fully associative);
 * 80000006H as a 4-bit code (1 direct, 2, 3, 4 ways as is, 5 = 6 ways, 6 = 8, 8 = 16, A = 32, B = 48,
 * C = 64, D = 96, E = 128, F fully associative); the L2 TLB entry counts are 12-bit fields, so a 4,096-entry
 * array reports FFFH. The L3 size is the modelled LLC (one core's share, see the presets) in 512 KiB units.
 */
final class CpuidCaches {
    /** Cache types of leaf 4 EAX[4:0]. */
    static final int DATA = 1, UNIFIED = 3;
    /** TLB types of leaf 18H EDX[4:0]. */
    static final int DTLB = 1, ITLB = 2, UTLB = 3;

    private CpuidCaches() {
    }

    /** Leaf 4 subleaf {@code sub}: L1D, L2, LLC, then the null type that ends the list. */
    static int[] leaf4(TimingModel t, int sub, int cpus) {
        CacheGeometry g;
        int level, type;
        switch (sub) {
            case 0 -> {
                g = t.l1d();
                level = 1;
                type = DATA;
            }
            case 1 -> {
                g = t.l2();
                level = 2;
                type = UNIFIED;
            }
            case 2 -> {
                g = t.llc();
                level = 3;
                type = UNIFIED;
            }
            default -> {
                return new int[4];
            }
        }
        int line = 1 << CacheLevel.LINE_SHIFT;
        int sets = g.sizeBytes() / line / g.ways();
        int cores = Cpuid.pow2(cpus);
        int a = type | (level << 5) | (1 << 8) | ((cores - 1) << 26); // self-initialising; private (EAX[25:14] = 0)
        int b = (line - 1) | (0 << 12) | ((g.ways() - 1) << 22);
        return new int[] {a, b, sets - 1, 0};
    }

    /** The modelled TLB arrays in leaf 18H order: {geometry, type, level, page-size bits}. */
    private static List<int[]> tlbs(CpuModel m) {
        List<int[]> l = new ArrayList<>();
        add(l, m.l1d4k(), DTLB, 1, 1);
        add(l, m.l1d2m(), DTLB, 1, 2);
        add(l, m.l1d1g(), DTLB, 1, 8);
        add(l, m.l1i4k(), ITLB, 1, 1);
        add(l, m.l1i2m(), ITLB, 1, 2);
        add(l, m.stlb4k(), UTLB, 2, 1);
        add(l, m.stlb2m(), UTLB, 2, 2);
        add(l, m.stlb1g(), UTLB, 2, 8);
        return l;
    }

    private static void add(List<int[]> l, TlbGeometry g, int type, int level, int sizes) {
        if (g != null && g.entries() > 0) {
            l.add(new int[] {g.entries(), g.ways(), type, level, sizes});
        }
    }

    /**
     * Leaf 18H subleaf {@code sub}: EAX (subleaf 0 only) the highest subleaf; EBX page sizes (bit 0 4K,
     * 1 2M/4M... 3 1G), partitioning 0, ways in 31:16; ECX sets; EDX type, level in 7:5, fully
     * associative in bit 8, sharing (one logical processor) in 25:14. An invalid subleaf is all zero.
     */
    static int[] leaf18(CpuModel m, int sub) {
        List<int[]> l = tlbs(m);
        int a = sub == 0 ? l.size() - 1 : 0;
        if (sub < 0 || sub >= l.size()) {
            return new int[] {a, 0, 0, 0};
        }
        int[] t = l.get(sub);
        int entries = t[0], ways = t[1];
        boolean full = ways >= entries;
        int b = t[4] | ((full ? entries : ways) << 16);
        int c = full ? 1 : entries / ways;
        int d = t[2] | (t[3] << 5) | (full ? 1 << 8 : 0);
        return new int[] {a, b, c, d};
    }

    /** 80000006H ECX: line size 7:0, L2 associativity code 15:12, size in KiB 31:16. */
    static int leaf80000006(TimingModel t) {
        CacheGeometry g = t.l2();
        int code = switch (g.ways()) {
            case 1 -> 1;
            case 2 -> 2;
            case 4 -> 4;
            case 8 -> 6;
            case 16 -> 8;
            case 32 -> 0xa;
            case 48 -> 0xb;
            case 64 -> 0xc;
            case 96 -> 0xd;
            case 128 -> 0xe;
            default -> 0xf;
        };
        return (1 << CacheLevel.LINE_SHIFT) | (code << 12) | ((g.sizeBytes() >>> 10) << 16);
    }

    /** AMD 80000005H associativity field: the way count, FFH when fully associative. */
    private static int amdWays8(int entries, int ways) {
        return ways >= entries ? 0xff : Math.min(ways, 0xfe);
    }

    /** AMD 80000006H associativity code. */
    private static int amdWays4(int entries, int ways) {
        if (ways >= entries) {
            return 0xf;
        }
        return switch (ways) {
            case 1 -> 1;
            case 2 -> 2;
            case 3 -> 3;
            case 4 -> 4;
            case 6 -> 5;
            case 8 -> 6;
            case 16 -> 8;
            case 32 -> 0xa;
            case 48 -> 0xb;
            case 64 -> 0xc;
            case 96 -> 0xd;
            case 128 -> 0xe;
            default -> 9; // "see 8000001DH" (APM: the value for the number of ways is in the cache topology leaf)
        };
    }

    /** AMD 80000005H cache register: size in KiB 31:24, ways 23:16, lines per tag 15:8, line size 7:0. */
    private static int amdL1(CacheGeometry g) {
        int line = 1 << CacheLevel.LINE_SHIFT;
        return (g.sizeBytes() >>> 10) << 24 | amdWays8(g.sizeBytes() / line, g.ways()) << 16 | 1 << 8 | line;
    }

    /** AMD 80000006H TLB half: ways code 15:12 (or 31:28), entries 11:0 (or 27:16), from {@code g} (null: none). */
    private static int amdL2Tlb(TlbGeometry g) {
        if (g == null || g.entries() == 0) {
            return 0;
        }
        return amdWays4(g.entries(), g.ways()) << 12 | Math.min(g.entries(), 0xfff);
    }

    /**
     * The AMD-specific leaves of an AMD preset, or null for a leaf the common code answers: 2, 4 (reserved:
     * zeros), 80000005H, 80000006H, 80000008H, 8000001DH, 8000001EH.
     */
    static int[] amdLeaf(CpuModel m, int leaf, int sub, int cpuIndex, int cpus) {
        TimingModel t = m.timing();
        int line = 1 << CacheLevel.LINE_SHIFT;
        switch (leaf) {
            case 2, 4 -> {
                return new int[4];
            }
            case 0x80000005 -> {
                TlbGeometry d2 = m.l1d2m(), i2 = m.l1i2m(), d4 = m.l1d4k(), i4 = m.l1i4k();
                int a = amdWays8(d2.entries(), d2.ways()) << 24 | Math.min(d2.entries(), 0xff) << 16
                        | amdWays8(i2.entries(), i2.ways()) << 8 | Math.min(i2.entries(), 0xff);
                int b = amdWays8(d4.entries(), d4.ways()) << 24 | Math.min(d4.entries(), 0xff) << 16
                        | amdWays8(i4.entries(), i4.ways()) << 8 | Math.min(i4.entries(), 0xff);
                return new int[] {a, b, amdL1(t.l1d()), amdL1(t.l1i())};
            }
            case 0x80000006 -> {
                // The model's L2 TLB is unified (instruction misses look it up too): it is reported for both sides.
                int a = amdL2Tlb(m.stlb2m()) << 16 | amdL2Tlb(m.stlb2m());
                int b = amdL2Tlb(m.stlb4k()) << 16 | amdL2Tlb(m.stlb4k());
                CacheGeometry l2 = t.l2(), l3 = t.llc();
                int c = (l2.sizeBytes() >>> 10) << 16 | amdWays4(l2.sizeBytes() / line, l2.ways()) << 12 | 1 << 8 | line;
                int d = (l3.sizeBytes() >>> 19) << 18 | amdWays4(l3.sizeBytes() / line, l3.ways()) << 12 | 1 << 8 | line;
                return new int[] {a, b, c, d};
            }
            case 0x80000008 -> {
                return new int[] {m.maxPhysAddrBits() | (SkylakeClientPart.LINEAR_BITS << 8), 0, cpus - 1, 0};
            }
            case 0x8000001d -> {
                CacheGeometry g;
                int level, type;
                switch (sub) {
                    case 0 -> {
                        g = t.l1d();
                        level = 1;
                        type = DATA;
                    }
                    case 1 -> {
                        g = t.l1i();
                        level = 1;
                        type = 2; // instruction cache
                    }
                    case 2 -> {
                        g = t.l2();
                        level = 2;
                        type = UNIFIED;
                    }
                    case 3 -> {
                        g = t.llc();
                        level = 3;
                        type = UNIFIED;
                    }
                    default -> {
                        return new int[4];
                    }
                }
                int sets = g.sizeBytes() / line / g.ways();
                // Self-initialising; NumSharingCache (25:14) = 0: one logical processor, as each vCPU has its own hierarchy.
                return new int[] {type | (level << 5) | (1 << 8), (line - 1) | ((g.ways() - 1) << 22), sets - 1, 0};
            }
            case 0x8000001e -> {
                // Extended APIC id = vCPU index; compute unit (core) id = index, one thread per core; one node.
                return new int[] {cpuIndex, cpuIndex & 0xff, 0, 0};
            }
            default -> {
                return null;
            }
        }
    }
}
