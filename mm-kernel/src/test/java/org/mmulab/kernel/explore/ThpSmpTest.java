package org.mmulab.kernel.explore;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.mmulab.emulator.machine.Vcpu;
import org.mmulab.kernel.mm.AddressSpace;
import org.mmulab.kernel.mm.HugeMemory;
import org.mmulab.kernel.mm.MmStruct;
import org.mmulab.kernel.mm.Mmap;

/**
 * THP collapse and split with every vCPU of the machine using the range (1 and 4 vCPUs, 4-level and PAE,
 * deterministic schedules from seeds): vCPU 0 collapses an anonymous and a shmem 2 MiB (MADV_COLLAPSE)
 * and later splits them again (MADV_DONTNEED of a page of each) while every vCPU keeps storing to
 * and loading from its own pages through its own TLB. Afterwards: every value is where it was stored,
 * the census is clean, no frame or page table was freed while a vCPU could reach it (the rig's watch:
 * pmdp_collapse_flush and the split's flush shoot down before anything is freed), and the same seed
 * gives the same run.
 */
class ThpSmpTest {
    static final long ANON = 0x4000_0000L, SHM = 0x4080_0000L;
    static final long H = HugeMemory.HPAGE_PMD_SIZE;
    static final int ROUNDS = 3;

    private static long slot(long base, int cpu, int k) {
        return base + ((long) cpu * 37 + k * 5) * Mmap.PAGE_SIZE + 8L * cpu;
    }

    /** One run: returns its violations and yield count as a fingerprint. */
    static String run(int cpus, boolean pae, long seed) {
        ExploreRig rig = new ExploreRig(cpus, pae, Set.of(), seed, new Pct(seed, cpus, 3, 20_000), null);
        MmStruct mm = rig.newMm();
        rig.mapAnon(mm, ANON, H, Mmap.PROT_READ | Mmap.PROT_WRITE, Mmap.MAP_PRIVATE);
        AddressSpace shm = AddressSpace.shmem(rig.memory.frames(), "/dev/shm/thp-smp");
        rig.mmap.doMmap(mm, shm, SHM, H, Mmap.PROT_READ | Mmap.PROT_WRITE, Mmap.MAP_SHARED | Mmap.MAP_FIXED, 0, null);
        int[] phase = new int[1];
        List<Consumer<Vcpu>> bodies = new ArrayList<>();
        for (int c = 0; c < cpus; c++) {
            bodies.add(cpu -> {
                mm.activate(cpu);
                int id = cpu.id();
                for (int r = 0; r < ROUNDS; r++) {
                    for (int k = 0; k < 3; k++) {
                        rig.store(cpu, mm, slot(ANON, id, k), (r << 16) | (id << 8) | k);
                        rig.store(cpu, mm, slot(SHM, id, k), (r << 16) | (id << 8) | k | 0x80);
                    }
                    if (id == 0) {
                        expect(rig, 0, rig.mmap.madvise(mm, ANON, H, Mmap.MADV_COLLAPSE), "anon MADV_COLLAPSE");
                        expect(rig, 0, rig.mmap.madvise(mm, SHM, H, Mmap.MADV_COLLAPSE), "shmem MADV_COLLAPSE");
                        phase[0]++;
                        rig.userWork();
                        // split both again: DONTNEED of a page nobody uses in each
                        rig.mmap.madvise(mm, ANON + 300 * Mmap.PAGE_SIZE, Mmap.PAGE_SIZE, Mmap.MADV_DONTNEED);
                        rig.mmap.madvise(mm, SHM + 400 * Mmap.PAGE_SIZE, Mmap.PAGE_SIZE, Mmap.MADV_DONTNEED);
                    }
                    for (int k = 0; k < 3; k++) {
                        long want = (r << 16) | (id << 8) | k;
                        long got = rig.load(cpu, mm, slot(ANON, id, k));
                        if (got != want) {
                            rig.violate("data", "anon " + Long.toHexString(slot(ANON, id, k)) + ": " + got + " != " + want);
                        }
                        got = rig.load(cpu, mm, slot(SHM, id, k));
                        if (got != (want | 0x80)) {
                            rig.violate("data", "shmem " + Long.toHexString(slot(SHM, id, k)) + ": " + got);
                        }
                    }
                    rig.userWork();
                }
            });
        }
        rig.run(bodies);
        rig.checkCensus(List.of(mm));
        if (phase[0] != ROUNDS) {
            rig.violate("phases", "collapses done: " + phase[0]);
        }
        return rig.violations() + " after " + rig.yields() + " yields, " + rig.memory.stats.asMap();
    }

    private static void expect(ExploreRig rig, int want, int got, String what) {
        if (got != want) {
            rig.violate("collapse", what + " returned " + got);
        }
    }

    @ParameterizedTest
    @CsvSource({"1, false", "1, true", "4, false", "4, true"})
    void collapseAndSplitUnderEveryVcpu(int cpus, boolean pae) {
        for (long seed = 0; seed < 3; seed++) {
            String a = run(cpus, pae, seed);
            assertEquals("[]", a.substring(0, a.indexOf(" after ")), "seed " + seed + ": " + a);
            assertEquals(a, run(cpus, pae, seed), "seed " + seed + " replayed differently");
        }
    }
}
