package org.mmulab.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

/**
 * {@code --cpu-model}: list and bad names are one-line usage errors; a preset reaches the machine (the
 * counter table names it, the kernel's cycles are broken down); the same seed gives the same cycles.
 */
class CpuModelCliTest {
    private static final Path X86 = Path.of("..", "test-images", "bin", "x86_64");

    @Test
    void listAndUnknownNamesAreOneLineUsageErrors() {
        CliRun list = CliRun.run("boot", "--cpu-model", "list", "x");
        assertEquals(2, list.status());
        assertEquals(1, list.err().strip().lines().count(), list.err());
        assertTrue(list.err().contains("zen5 = AMD Zen 5") && list.err().contains("skylake = Intel Skylake"), list.err());
        CliRun bad = CliRun.run("boot", "--cpu-model", "pentium", "x");
        assertEquals(2, bad.status());
        assertEquals(1, bad.err().strip().lines().count(), bad.err());
        assertTrue(bad.err().contains("unknown CPU model 'pentium'"), bad.err());
        CliRun bench = CliRun.run("bench", "--cpu-model", "pentium");
        assertEquals(2, bench.status());
        assertTrue(bench.err().contains("unknown CPU model"), bench.err());
        CliRun pae = CliRun.run("bench", "--native", "--paging", "pae");
        assertEquals(2, pae.status());
        assertTrue(pae.err().contains("--native runs the x86_64 images"), pae.err());
    }

    private static CliRun tlb(String model) {
        return CliRun.run("boot", "--cpu-model", model, "--timing", "cycle", "--deterministic", "--seed", "7", "--stats",
                "--clean-env", X86.resolve("tlb_stride").toString(), "256", "3000");
    }

    private static long counter(String stats, String name) {
        Matcher m = Pattern.compile("\n  " + Pattern.quote(name) + "\\s+(\\d+)").matcher(stats);
        assertTrue(m.find(), name + " in " + stats);
        return Long.parseLong(m.group(1));
    }

    @Test
    void aPresetReachesTheMachineAndCyclesAreDeterministic() {
        CliRun a = tlb("zen4");
        assertEquals(0, a.status(), a.err());
        assertTrue(a.err().contains("model zen4"), a.err());
        assertTrue(counter(a.err(), "kernel_cycles.fault_path") > 0, a.err());
        assertTrue(counter(a.err(), "guest_data.l1_hit") > 0, a.err());
        CliRun b = tlb("zen4");
        assertEquals(a.out(), b.out(), "same seed: same guest output (its RDTSC figures are model cycles)");
        assertEquals(a.err(), b.err(), "same seed: same counters");
        CliRun sky = tlb("skylake");
        assertTrue(counter(sky.err(), "cycles") != counter(a.err(), "cycles"), "another preset, other cycles");
    }

    @Test
    void aVirtLayersWalkFigureIsChargedToEveryWalkAndNothingElseMoves() {
        String[] common = {"--cpu-model", "zen5", "--timing", "cycle", "--deterministic", "--stats", "--clean-env"};
        String img = X86.resolve("tlb_stride").toString();
        // random order: no stride for zen5's prefetcher, whose walks would fill the STLB ahead of the loads
        String[] args = {img, "8192", "4096", "1", "1"};
        CliRun bare = CliRun.run(concat(new String[] {"boot"}, common, args));
        CliRun virt = CliRun.run(concat(new String[] {"boot", "--virt-layer", "0,0,100"}, common, args));
        assertEquals(0, bare.status(), bare.err());
        assertEquals(0, virt.status(), virt.err());
        assertTrue(virt.err().contains("+100 per page walk"), virt.err());
        assertFalse(bare.err().contains("virt.walk_cycles"), "bare metal: no walk layer");
        for (String c : new String[] {"dtlb_load_misses.miss_causes_a_walk", "dtlb_store_misses.miss_causes_a_walk",
                "itlb_misses.miss_causes_a_walk", "page_walker_loads", "dtlb_load_misses.stlb_hit"}) {
            assertEquals(counter(bare.err(), c), counter(virt.err(), c), c + ": the same walks (RDTSC-timed code may take a few more L1 dTLB hits)");
        }
        long walks = counter(virt.err(), "dtlb_load_misses.miss_causes_a_walk");
        assertTrue(walks > 4096, "tlb_stride in a random order past the STLB's reach walks on most loads: " + walks);
        long charged = counter(virt.err(), "virt.walk_cycles");
        assertTrue(charged >= 100 * walks && charged % 100 == 0, charged + " for " + walks + " load walks");
        assertEquals(counter(bare.err(), "walk_cycles") + charged, counter(virt.err(), "walk_cycles"));
    }

    @Test
    void aCoreClockMovesOnlyWhatDramCosts() {
        String[] common = {"--cpu-model", "zen5", "--timing", "cycle", "--deterministic", "--stats", "--clean-env"};
        String img = X86.resolve("tlb_stride").toString();
        CliRun base = CliRun.run(concat(new String[] {"boot"}, common, new String[] {img, "256", "3000"}));
        CliRun fast = CliRun.run(concat(new String[] {"boot", "--core-mhz", "3780"}, common, new String[] {img, "256", "3000"}));
        assertEquals(0, base.status(), base.err());
        assertEquals(0, fast.status(), fast.err());
        assertTrue(fast.err().contains("--core-mhz: the zen5 cores at 3780 MHz (memory latency 490 cycles)"), fast.err());
        assertEquals(counter(base.err(), "guest_data.l3_miss"), counter(fast.err(), "guest_data.l3_miss"), "the same accesses");
        assertTrue(counter(fast.err(), "cycles") > counter(base.err(), "cycles"), "DRAM misses cost more of a faster core's cycles");
        for (String bad : new String[] {"-1", "20001", "x"}) {
            CliRun b = CliRun.run("boot", "--core-mhz", bad, "x");
            assertEquals(2, b.status(), bad);
            assertEquals(1, b.err().strip().lines().count(), b.err());
        }
        CliRun benchBad = CliRun.run("bench", "--core-mhz", "fast");
        assertEquals(2, benchBad.status());
        assertTrue(benchBad.err().contains("--core-mhz: expected auto, nominal or 1..20000"), benchBad.err());
    }

    private static String[] concat(String[]... parts) {
        return java.util.Arrays.stream(parts).flatMap(java.util.Arrays::stream).toArray(String[]::new);
    }

    @Test
    void aVirtLayerIsChargedPerEntryAndBadValuesAreUsageErrors() {
        CliRun bad = CliRun.run("boot", "--virt-layer", "1,x", "x");
        assertEquals(2, bad.status());
        assertEquals(1, bad.err().strip().lines().count(), bad.err());
        assertTrue(bad.err().contains("--virt-layer: expected none or SYSCALL,EXCEPTION"), bad.err());
        CliRun benchBad = CliRun.run("bench", "--virt-layer", "-5,3");
        assertEquals(2, benchBad.status());
        assertTrue(benchBad.err().contains("--virt-layer: expected"), benchBad.err());
        String img = X86.resolve("trap_cost").toString();
        CliRun none = CliRun.run("boot", "--cpu-model", "zen5", "--timing", "cycle", "--deterministic", "--stats", "--clean-env",
                img, "100", "8", "1");
        CliRun virt = CliRun.run("boot", "--cpu-model", "zen5", "--virt-layer", "1000,20000", "--timing", "cycle",
                "--deterministic", "--stats", "--clean-env", img, "100", "8", "1");
        assertEquals(0, none.status(), none.err());
        assertEquals(0, virt.status(), virt.err());
        assertTrue(virt.err().contains("--virt-layer: virtualised host: +1000 cycles per system call, +20000 per exception"),
                virt.err());
        assertEquals(0, counter(none.err(), "kernel_cycles.hypervisor"));
        long hv = counter(virt.err(), "kernel_cycles.hypervisor");
        assertEquals(1000 * counter(virt.err(), "syscalls") + 20000 * counter(virt.err(), "exceptions"), hv);
        assertEquals(counter(none.err(), "syscalls"), counter(virt.err(), "syscalls"));
        assertEquals(counter(none.err(), "exceptions"), counter(virt.err(), "exceptions"));
        assertEquals(counter(none.err(), "kernel_cycles.trap_entry_exit"), counter(virt.err(), "kernel_cycles.trap_entry_exit"),
                "the bare trap cost is unchanged; the layer is counted apart");
        long extra = counter(virt.err(), "cycles") - counter(none.err(), "cycles");
        assertTrue(Math.abs(extra - hv) < 500, "the layer adds its charges and nothing else (the guest prints other "
                + "RDTSC digits, a few instructions more or less): " + extra + " vs " + hv);
    }

    @Test
    void nVcpusShareAnLlcAndTheirSnoopsAreDeterministic() {
        for (String cpus : new String[] {"2", "4"}) {
            String[] args = {"boot", "--cpu-model", "zen5", "--cpus", cpus, "--timing", "cycle", "--deterministic", "--seed", "3",
                    "--stats", "--clean-env", X86.resolve("fault_scale-glibc").toString(), cpus, "64"};
            CliRun a = CliRun.run(args);
            assertEquals(0, a.status(), a.err());
            CliRun b = CliRun.run(args);
            assertEquals(a.out(), b.out(), cpus + " vCPUs, same seed: same guest output");
            assertEquals(a.err(), b.err(), cpus + " vCPUs, same seed: same cycles, snoops and every other counter");
            assertTrue(counter(a.err(), "snoops") > 0, "threads of one mm write shared page-table and data lines: " + a.err());
        }
    }
}
