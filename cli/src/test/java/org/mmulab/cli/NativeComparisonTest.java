package org.mmulab.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

import org.junit.jupiter.api.Test;
import org.mmulab.emulator.mmu.cpudb.CpuPresets;

/** The side-by-side report: shape ratios to the 64-page plateau (interpolated on log-log axes), ratios, CSV. */
class NativeComparisonTest {
    @Test
    void shapeIsTheRatioToThePlateauInterpolatedBetweenPowersOfTwo() {
        TreeMap<Long, Double> c = new TreeMap<>();
        c.put(64L, 4.0);
        c.put(1024L, 8.0);
        c.put(2048L, 32.0);
        assertEquals(2.0, NativeComparison.shape(c, 1024), 1e-12);
        // log-log: 1536 is log2(1.5) = 0.585 of the way from 1024 to 2048; 8 * 4^0.585 = 18.9
        assertEquals(8 * Math.pow(4, Math.log(1.5) / Math.log(2)) / 4, NativeComparison.shape(c, 1536), 1e-9);
        assertTrue(Double.isNaN(NativeComparison.shape(c, 4096)), "beyond the curve");
        c.remove(64L);
        assertTrue(Double.isNaN(NativeComparison.shape(c, 1024)), "no plateau");
    }

    @Test
    void theVerdictIsWithinAQuarterEitherWay() {
        assertEquals("within 25 %", NativeComparison.verdict(1.25, 1.0));
        assertEquals("within 25 %", NativeComparison.verdict(0.75, 1.0));
        assertEquals("outside 25 %", NativeComparison.verdict(1.26, 1.0));
        assertEquals("outside 25 %", NativeComparison.verdict(2.65, 1.82));
    }

    @Test
    void nativeTlbStrideRunsAreTimedLongEnough() {
        BenchCommand.Workload w = new BenchCommand.Workload("tlb_stride", List.of("256", "20000"), List.of("8", "8"), 1);
        assertEquals(List.of("256", "20000", "1", "0", "" + BenchCommand.NATIVE_TLB_MIN_MS), BenchCommand.nativeArgs(w, w.args()));
        BenchCommand.Workload r = new BenchCommand.Workload("tlb_stride", List.of("16384", "65536", "1", "1"), List.of(), 1);
        assertEquals(List.of("16384", "65536", "1", "1", "50"), BenchCommand.nativeArgs(r, r.args()));
        BenchCommand.Workload p = new BenchCommand.Workload("page_fault1", List.of("128", "16"), List.of(), 1);
        assertEquals(List.of("128", "16"), BenchCommand.nativeArgs(p, p.args()));
        BenchCommand.Workload wp = new BenchCommand.Workload("walk_probe", List.of("pde", "0"), List.of(), 1);
        assertEquals(List.of("pde", "" + BenchCommand.NATIVE_TLB_MIN_MS), BenchCommand.nativeArgs(wp, wp.args()));
    }

    @Test
    void hostCyclesAreAtTheMeasuredClockWhenTheModelRanAtIt() {
        List<BenchResults.Result> mr = new ArrayList<>(), hr = new ArrayList<>();
        mr.add(BenchResults.parseResult("RESULT page_fault1.cycles_per_page 7000 cycles"));
        mr.add(BenchResults.parseResult("RESULT page_fault1.ns_per_page 2000 ns"));
        hr.add(BenchResults.parseResult("RESULT page_fault1.ns_per_page 1000 ns"));
        NativeComparison cmp = new NativeComparison(BenchResults.table(mr), BenchResults.table(hr), CpuPresets.byName("zen5"), true,
                3500);
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        cmp.print(new PrintStream(b, true, StandardCharsets.UTF_8));
        String out = b.toString(StandardCharsets.UTF_8);
        assertTrue(out.contains("cores at the host's measured 3.50 GHz"), out);
        assertTrue(cmp.csv().contains("page_fault1,page,2000.000,1000.000,7000.000,3500.000"), cmp.csv());
    }

    @Test
    void printsBothRunsSideBySideWithShapeRatios() {
        long[] pages = {64, 1024, 2048, 16384};
        List<BenchResults.Result> mr = new ArrayList<>(), hr = new ArrayList<>();
        double[] cyc = {5, 10, 20, 50}, hns = {1, 1.5, 2, 8};
        for (int i = 0; i < pages.length; i++) {
            mr.add(BenchResults.parseResult("RESULT tlb_stride.cycles_per_access@pages=" + pages[i] + " " + cyc[i] + " cycles"));
            mr.add(BenchResults.parseResult("RESULT tlb_stride.ns_per_access@pages=" + pages[i] + " " + cyc[i] / 2 + " ns"));
            hr.add(BenchResults.parseResult("RESULT tlb_stride.ns_per_access@pages=" + pages[i] + " " + hns[i] + " ns"));
        }
        NativeComparison cmp = new NativeComparison(BenchResults.table(mr), BenchResults.table(hr), CpuPresets.byName("zen5"), true);
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        cmp.print(new PrintStream(b, true, StandardCharsets.UTF_8));
        String out = b.toString(StandardCharsets.UTF_8);
        assertTrue(out.contains("preset zen5"), out);
        assertTrue(out.matches("(?s).*tlb_stride\\s+16384\\s+10\\.00\\s+8\\.00\\s+\\+25%  within 25 %.*"), out);
        assertTrue(out.matches("(?s).*tlb_stride\\s+1536\\s+\\S+\\s+\\S+\\s+\\+\\d+%  outside 25 %.*"), out);
        assertTrue(out.matches("(?s).*access @pages=64\\s+2\\.500\\s+1\\.000\\s+2\\.50x\\s+5\\.000\\s+2\\.700\\s+1\\.85x.*"), out);
        assertTrue(cmp.shapeCsv().contains("tlb_stride,16384,10.000,8.000,yes"), cmp.shapeCsv());
        assertTrue(cmp.csv().contains("tlb_stride,access @pages=64,2.500,1.000,5.000,2.700,,"), cmp.csv());
    }
}
