package org.mmulab.images;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code --timing}, {@code --deterministic --seed}, {@code --stats-json}: what they produce and their usage errors. */
class CliTimingTest {
    static final Path HELLO = Images.image("x86_64", "hello");

    private static DeterminismTest.Run boot(String... options) throws IOException {
        return DeterminismTest.boot(null, List.of(options), HELLO, List.of());
    }

    private static void usageError(DeterminismTest.Run r, String message) {
        assertEquals(2, r.status(), r.err());
        assertEquals(1, r.err().lines().count(), r.err());
        assertTrue(r.err().contains(message), r.err());
        assertEquals("", r.out(), "the guest did not run");
    }

    @Test
    void badValuesAreOneLineUsageErrors(@TempDir Path tmp) throws IOException {
        usageError(boot("--timing", "slow"), "unknown timing mode 'slow' (expected fast or cycle)");
        usageError(boot("--deterministic", "--seed", "x"), "--seed expects a 64-bit integer, got 'x'");
        usageError(boot("--seed", "5"), "--seed needs --deterministic");
        Path dir = Files.createDirectory(tmp.resolve("d"));
        usageError(boot("--stats-json", dir.toString()), "--stats-json " + dir + ": cannot write");
        usageError(boot("--stats-json", tmp.resolve("no/such/dir/s.json").toString()), "cannot write");
    }

    @Test
    void statsJsonHoldsTheCountersHistogramAndKernelSections(@TempDir Path tmp) throws IOException {
        Path json = tmp.resolve("s.json");
        DeterminismTest.Run r = DeterminismTest.boot(json,
                List.of("--timing", "cycle", "--deterministic", "--seed", "0x10", "--stats"),
                Images.image("x86_64", "fault_touch"), List.of("1"));
        assertEquals(0, r.status(), r.err());
        String s = r.json();
        for (String key : List.of("\"timing\": \"cycle\"", "\"model\": \"skylake\"", "\"frequency_hz\": 4000000000",
                "\"seed\": 16", "\"vcpus\": [", "\"total\": {", "\"fault_latency_histogram\": [{\"lo\": ",
                "\"dtlb_load_misses.walk_completed\": ", "\"dtlb_store_misses.walk_completed\": ",
                "\"itlb_misses.walk_completed\": ", "\"page_walker_loads.dtlb_l1\": ", "\"minor-faults\": ",
                "\"ptlock.contended\": 0", "\"tlb_shootdowns\": 0", "\"vmstat\": {\"pgfault\": ", "\"syscalls\": {\"total\": ")) {
            assertTrue(s.contains(key), key + " in\n" + s);
        }
        long open = s.chars().filter(ch -> ch == '{').count(), close = s.chars().filter(ch -> ch == '}').count();
        assertEquals(open, close, "balanced braces");
        assertEquals(s.chars().filter(ch -> ch == '[').count(), s.chars().filter(ch -> ch == ']').count());
        long faults = DeterminismTest.counter(r.err(), "page-faults");
        assertTrue(s.contains("\"page-faults\": " + faults), s);
        assertTrue(r.err().contains("== page-fault latency"), r.err());
    }

    @Test
    void pageFaultsCostAtLeastTheExceptionRoundTrip() throws IOException {
        DeterminismTest.Run r = DeterminismTest.boot(null, List.of("--timing", "cycle", "--stats"),
                Images.image("x86_64", "fault_touch"), List.of("1"));
        long count = DeterminismTest.counter(r.err(), "fault_latency.count");
        long total = DeterminismTest.counter(r.err(), "fault_latency.total_cycles");
        assertTrue(count >= DeterminismTest.counter(r.err(), "pgfault") && count > 256, r.err());
        org.mmulab.emulator.timing.TimingModel t = org.mmulab.emulator.timing.TimingModel.SKYLAKE;
        assertTrue(total / count > t.exceptionEntry() + t.exceptionExit(),
                "hardware part + kernel part: mean " + total / count);
    }
}
