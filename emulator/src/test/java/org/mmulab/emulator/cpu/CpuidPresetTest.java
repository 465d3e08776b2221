package org.mmulab.emulator.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;
import org.mmulab.emulator.mmu.CpuModel;

/**
 * The guest's CPUID follows the preset: vendor, signature, brand and, for AMD parts, AMD's cache and TLB
 * leaves (80000005H, 80000006H, 8000001DH) describing the preset's modelled hierarchy; the default preset
 * still reports the Skylake part (its exact leaves are SegmentsXStateCpuidTest's).
 */
class CpuidPresetTest {
    private static int[] leaf(CpuModel m, int leaf, int sub) {
        CpuState s = new CpuState();
        s.cpuCount = 2;
        s.cpuIndex = 1;
        s.longMode64 = true;
        return Cpuid.leaf(s, m, leaf, sub);
    }

    private static String text(CpuModel m, int[] leaves, boolean vendorOrder) {
        ByteBuffer b = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);
        for (int l : leaves) {
            int[] r = leaf(m, l, 0);
            if (vendorOrder) {
                b.putInt(r[1]).putInt(r[3]).putInt(r[2]);
            } else {
                b.putInt(r[0]).putInt(r[1]).putInt(r[2]).putInt(r[3]);
            }
        }
        return new String(b.array(), 0, b.position(), StandardCharsets.US_ASCII).replace("\0", "");
    }

    private static String vendor(CpuModel m) {
        return text(m, new int[] {0}, true);
    }

    private static String brand(CpuModel m) {
        return text(m, new int[] {0x80000002, 0x80000003, 0x80000004}, false);
    }

    @Test
    void eachPresetIdentifiesAsItsPart() {
        CpuModel zen5 = CpuModel.byName("zen5");
        assertEquals("AuthenticAMD", vendor(zen5));
        assertEquals(0x00B00F21, leaf(zen5, 1, 0)[0], "family 1AH (F + B), model 02H, stepping 1");
        assertEquals("AMD EPYC 9755 128-Core Processor", brand(zen5));
        assertEquals(0x10, leaf(zen5, 0, 0)[0]);
        assertEquals(0x8000001e, leaf(zen5, 0x80000000, 0)[0]);
        assertEquals(0x00A10F11, leaf(CpuModel.byName("zen4"), 1, 0)[0], "family 19H, model 11H");
        assertEquals(0x00A00F11, leaf(CpuModel.byName("zen3"), 1, 0)[0], "family 19H, model 01H");
        assertEquals("AMD EPYC 9654 96-Core Processor", brand(CpuModel.byName("zen4")));
        CpuModel spr = CpuModel.byName("sapphire-rapids");
        assertEquals("GenuineIntel", vendor(spr));
        assertEquals(0x000806F8, leaf(spr, 1, 0)[0], "family 6, model 8FH, stepping 8");
        assertEquals("Intel(R) Xeon(R) Platinum 8480+", brand(spr));
        assertEquals("GenuineIntel", vendor(CpuModel.SKYLAKE));
        assertEquals(0x000506E3, leaf(CpuModel.SKYLAKE, 1, 0)[0]);
        assertEquals("Intel(R) Core(TM) i7-6700K CPU @ 4.00GHz", brand(CpuModel.SKYLAKE));
        for (String p : new String[] {"zen3", "zen4", "zen5", "sapphire-rapids"}) {
            CpuModel m = CpuModel.byName(p);
            assertEquals(leaf(CpuModel.SKYLAKE, 1, 0)[2] & ~(1 << 27), leaf(m, 1, 0)[2] & ~(1 << 27),
                    p + ": the same feature bits (what mmulab executes)");
            assertEquals(leaf(CpuModel.SKYLAKE, 7, 0)[1], leaf(m, 7, 0)[1], p);
        }
    }

    @Test
    void everyPresetAdvertisesMmxAndAmdRepeatsItInTheExtendedLeaf() {
        for (org.mmulab.emulator.mmu.cpudb.CpuPresets.Preset p : org.mmulab.emulator.mmu.cpudb.CpuPresets.ALL) {
            CpuModel m = p.model();
            assertNotEquals(0, leaf(m, 1, 0)[3] & (1 << 23), p.name() + ": CPUID.1:EDX.MMX");
            int e1 = leaf(m, 0x80000001, 0)[3] & (1 << 23);
            if (m.identity().amd()) {
                assertNotEquals(0, e1, p.name() + ": AMD CPUID.80000001H:EDX.MMX");
            } else {
                assertEquals(0, e1, p.name() + ": reserved on Intel");
            }
        }
    }

    @Test
    void amdCacheAndTlbLeavesDescribeTheModel() {
        CpuModel zen5 = CpuModel.byName("zen5");
        assertArrayEquals(new int[4], leaf(zen5, 4, 0), "leaf 4 is reserved on AMD");
        assertArrayEquals(new int[4], leaf(zen5, 2, 0), "leaf 2 is reserved on AMD");
        assertArrayEquals(new int[4], leaf(zen5, 0x18, 0), "above the max basic leaf");
        assertNotEquals(0, leaf(zen5, 0x80000001, 0)[2] & (1 << 22), "TOPOEXT");
        int[] l5 = leaf(zen5, 0x80000005, 0);
        assertEquals(0xFF << 24 | 96 << 16 | 0xFF << 8 | 64, l5[1], "L1 DTLB 96 and ITLB 64 4K entries, fully associative");
        assertEquals(48 << 24 | 12 << 16 | 1 << 8 | 64, l5[2], "L1D 48 KiB 12-way, 64-byte lines");
        assertEquals(32 << 24 | 8 << 16 | 1 << 8 | 64, l5[3], "L1I 32 KiB 8-way");
        int[] l6 = leaf(zen5, 0x80000006, 0);
        assertEquals(8 << 12 | 0xfff, l6[1] & 0xffff, "L2 TLB 4K: 16-way (code 8), 4096 entries saturate the 12-bit field");
        assertEquals(1024 << 16 | 8 << 12 | 1 << 8 | 64, l6[2], "L2 1 MiB 16-way");
        assertEquals(8 << 18 | 8 << 12 | 1 << 8 | 64, l6[3], "L3: the modelled 4 MiB share in 512 KiB units, 16-way");
        int[][] expect = {{1, 1, 12, 64}, {2, 1, 8, 64}, {3, 2, 16, 1024}, {3, 3, 16, 4096}}; // type, level, ways, sets
        for (int sub = 0; sub < 4; sub++) {
            int[] r = leaf(zen5, 0x8000001d, sub);
            assertEquals(expect[sub][0], r[0] & 0x1f, "type of subleaf " + sub);
            assertEquals(expect[sub][1], (r[0] >>> 5) & 7, "level of subleaf " + sub);
            assertEquals(expect[sub][2], (r[1] >>> 22) + 1, "ways of subleaf " + sub);
            assertEquals(63, r[1] & 0xfff, "line size - 1");
            assertEquals(expect[sub][3], r[2] + 1, "sets of subleaf " + sub);
        }
        assertArrayEquals(new int[4], leaf(zen5, 0x8000001d, 4), "the list ends");
        assertEquals(1, leaf(zen5, 0x8000001e, 0)[0], "extended APIC id = vCPU index");
        assertEquals(1, leaf(zen5, 0x80000008, 0)[2] & 0xff, "cores - 1");
        assertEquals(52, leaf(zen5, 0x80000008, 0)[0] & 0xff);
    }
}
