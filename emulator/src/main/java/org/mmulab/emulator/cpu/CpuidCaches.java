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
 * Parameters", leaf 18H "Deterministic Address Translation Parameters", leaf 80000006H), computed
 * from the {@link CpuModel} and {@link TimingModel} the MMU and the cache model are built from.
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
}
