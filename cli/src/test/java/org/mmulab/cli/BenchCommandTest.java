package org.mmulab.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import javax.xml.parsers.DocumentBuilderFactory;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;

/** {@code mmulab bench}: a --quick run writes parseable CSV and SVG; bad options exit 2. */
class BenchCommandTest {
    private static final Path IMAGES = Path.of("..", "test-images", "bin");

    @TempDir
    Path tmp;

    private static CliRun run(String... args) {
        return CliRun.run(args);
    }

    @Test
    void quickRunWritesTableCsvAndPlots() throws Exception {
        Path dir = tmp.resolve("results");
        CliRun r = run("bench", "--quick", "--images", IMAGES.toString(), "--out", dir.toString());
        assertEquals(0, r.status(), r.err());
        for (String w : List.of("page_fault1", "sparse_unmap", "tlb_stride", "cpu_loop")) {
            assertTrue(r.err().contains("] " + w + " "), "progress line for " + w + ": " + r.err());
            assertTrue(r.out().contains("\n" + w + " "), "table row for " + w + ": " + r.out());
        }
        assertTrue(r.out().contains("host ns/op") && r.out().contains("guest cycles/op"), r.out());

        List<String> table = Files.readAllLines(dir.resolve("results.csv"));
        assertEquals("paging,timing,workload,figure,host_ns_per_op,guest_cycles_per_op,other,other_unit", table.get(0));
        Set<String> figures = new HashSet<>();
        for (String line : table.subList(1, table.size())) {
            String[] f = line.split(",", -1);
            assertEquals(8, f.length, line);
            assertEquals("4level", f[0]);
            assertEquals("fast", f[1]);
            figures.add(f[2] + " " + f[3]);
            if (f[3].equals("page") || f[3].equals("pair") || f[3].equals("insn") || f[3].startsWith("access @pages=")) {
                assertTrue(Double.parseDouble(f[4]) > 0, line);
                assertTrue(Double.parseDouble(f[5]) > 0, line);
            }
        }
        assertTrue(figures.containsAll(List.of("page_fault1 page", "sparse_unmap pair", "cpu_loop insn", "cpu_loop mips",
                "tlb_stride access @pages=8", "tlb_stride access @pages=256", "tlb_stride/8 access @pages=256")),
                figures.toString());

        List<String> hist = Files.readAllLines(dir.resolve("fault_latency.csv"));
        assertEquals("bucket_log2,lower_cycles,upper_cycles,count", hist.get(0));
        long faults = 0;
        for (String line : hist.subList(1, hist.size())) {
            faults += Long.parseLong(line.split(",")[3]);
        }
        assertEquals(1024, faults, "one sample per page of the quick run's 4 MiB sampled loop");
        assertTrue(Files.readAllLines(dir.resolve("results-raw.csv")).size() > 10);

        Document cliff = parseSvg(dir.resolve("tlb_cliff.svg"));
        assertEquals(2, cliff.getElementsByTagName("polyline").getLength(), "consecutive pages and 8 pages apart");
        for (int i = 0; i < 2; i++) {
            String points = cliff.getElementsByTagName("polyline").item(i).getAttributes().getNamedItem("points").getNodeValue();
            assertEquals(6, points.trim().split(" ").length, "N = 8..256: " + points);
        }
        Document lat = parseSvg(dir.resolve("fault_latency.svg"));
        assertTrue(lat.getElementsByTagName("rect").getLength() > 1, "histogram bars");
    }

    private static Document parseSvg(Path p) throws Exception {
        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        f.setNamespaceAware(true);
        Document d = f.newDocumentBuilder().parse(p.toFile());
        assertEquals("svg", d.getDocumentElement().getLocalName());
        return d;
    }

    @Test
    void scalabilityRunComparesBothLocksAndPlots() throws Exception {
        Path dir = tmp.resolve("scal");
        CliRun r = run("bench", "--scalability", "--quick", "--scalability-cpus", "1,2", "--images", IMAGES.toString(), "--out",
                dir.toString());
        assertEquals(0, r.status(), r.err());
        assertTrue(r.err().contains("2 vCPUs x 64 pages, --pte-lock mm"), r.err());
        List<String> csv = Files.readAllLines(dir.resolve("scalability.csv"));
        assertEquals("vcpus,pages_per_vcpu,split_faults_per_mcycle,page_table_lock_faults_per_mcycle", csv.get(0));
        assertEquals(3, csv.size(), csv.toString());
        for (String row : csv.subList(1, 3)) {
            String[] f = row.split(",");
            assertTrue(Double.parseDouble(f[2]) > 0 && Double.parseDouble(f[3]) > 0, row);
        }
        assertTrue(parseSvg(dir.resolve("scalability.svg")).getDocumentElement().getTextContent().contains("page_table_lock for every PTE"));
    }

    @Test
    void bootRejectsAnUnknownPteLock() {
        CliRun r = run("boot", "--pte-lock", "global", IMAGES.resolve("x86_64").resolve("hello").toString());
        assertEquals(2, r.status());
        assertTrue(r.err().contains("--pte-lock: expected split or mm, got 'global'"), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
    }

    @Test
    void badOptionsExitTwo() {
        CliRun cpus = run("bench", "--cpus", "257", "--images", IMAGES.toString(), "--out", tmp.toString());
        assertEquals(2, cpus.status());
        assertTrue(cpus.err().contains("--cpus must be 1..256, got 257"), cpus.err());
        assertEquals(1, cpus.err().strip().lines().count(), cpus.err());
        for (String bad : List.of("0", "1,2,300", "512")) {
            CliRun n = run("bench", "--scalability", "--scalability-cpus", bad, "--images", IMAGES.toString(), "--out", tmp.toString());
            assertEquals(2, n.status(), bad);
            assertTrue(n.err().contains("--scalability-cpus: each N must be 1..256"), n.err());
            assertEquals(1, n.err().strip().lines().count(), n.err());
        }
        CliRun word = run("bench", "--scalability", "--scalability-cpus", "1,two", "--out", tmp.toString());
        assertEquals(2, word.status(), word.err());
        assertTrue(word.err().contains("two"), word.err());
        assertEquals(2, run("bench", "--cpus", "0").status());
        CliRun timing = run("bench", "--timing", "slow", "--out", tmp.toString());
        assertEquals(2, timing.status());
        assertTrue(timing.err().contains("expected fast or cycle"), timing.err());
        assertEquals(2, run("bench", "--paging", "2level").status());
        assertEquals(2, run("bench", "--no-such-option").status());
        CliRun noImages = run("bench", "--images", tmp.resolve("nowhere").toString(), "--out", tmp.toString());
        assertEquals(2, noImages.status());
        assertTrue(noImages.err().contains("no workload images"), noImages.err());
        assertFalse(Files.exists(tmp.resolve("results.csv")));
    }

    @Test
    void resultLinesParse() {
        BenchResults.Result r = BenchResults.parseResult("RESULT tlb_stride.cycles_per_access@pages=512 9.419 cycles");
        assertEquals("tlb_stride", r.workload());
        assertEquals("cycles_per_access", r.figure());
        assertEquals("pages", r.key());
        assertEquals(512, r.param());
        assertEquals(9.419, r.value(), 1e-9);
        assertNull(BenchResults.parseResult("RESULT nodot 1.0 ns"));
        assertNull(BenchResults.parseResult("page_fault1: 4 MiB x 2 loops"));
        List<BenchResults.Row> rows = BenchResults.table(List.of(
                BenchResults.parseResult("RESULT sparse_unmap.us_per_pair 4.500 us"),
                BenchResults.parseResult("RESULT sparse_unmap.cycles_per_pair 9000.000 cycles"),
                BenchResults.parseResult("RESULT cpu_loop.mips 150.000 MIPS")));
        assertEquals(2, rows.size());
        assertEquals(4500.0, rows.get(0).ns, 1e-9);
        assertEquals(9000.0, rows.get(0).cycles, 1e-9);
        assertEquals(150.0, rows.get(1).other, 1e-9);
        assertEquals("MIPS", rows.get(1).otherUnit);
    }
}
