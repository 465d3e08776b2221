package org.mmulab.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;

import org.junit.jupiter.api.Test;
import org.mmulab.kernel.mm.Mmap;
import org.mmulab.kernel.mm.MmStruct;

/**
 * Random mmap/munmap/mprotect/madvise/read/write sequences against a page-level model. Every access
 * goes through the real MMU and its (stale-able) TLB, so a missing invalidation shows up as a wrong
 * value or a missing SIGSEGV. At the end everything is unmapped and every frame and table must be back.
 */
class RandomizedMmTest {
    static final long SEGV = -2;
    static final int PAGES = 96;
    static final long BASE = 0x6000_0000_0000L - 48 * 4096; // straddles a 2 MiB/1 GiB/512 GiB boundary
    static final int[] PROTS = {Mmap.PROT_NONE, Mmap.PROT_READ, Mmap.PROT_READ | Mmap.PROT_WRITE, Mmap.PROT_WRITE,
            Mmap.PROT_READ | Mmap.PROT_EXEC};

    @Test
    void fixedSeed() throws Exception {
        run(0x5eedL);
    }

    @Test
    void freshSeeds() throws Exception {
        long base = Long.getLong("mmulab.seed", System.nanoTime());
        int runs = Long.getLong("mmulab.seed") != null ? 1 : 200;
        System.out.println("RandomizedMmTest seeds " + base + ".." + (base + runs - 1)
                + " (a failure names its seed; re-run with -Dmmulab.seed=SEED)");
        quiet = true;
        for (int r = 0; r < runs; r++) {
            run(base + r);
        }
    }

    private boolean quiet;

    private void run(long seed) throws Exception {
        if (!quiet) {
            System.out.println("RandomizedMmTest seed=" + seed + " (re-run with -Dmmulab.seed=" + seed + ")");
        }
        Random rnd = new Random(seed);
        Fixture f = Fixture.booted();
        long free0 = f.memory().frames().freePages();
        long tables0 = f.mm().nrPgtables();
        boolean[] mapped = new boolean[PAGES];
        int[] prot = new int[PAGES];
        long[] value = new long[PAGES];
        for (int step = 0; step < 3000; step++) {
            int i = rnd.nextInt(PAGES);
            int n = 1 + rnd.nextInt(Math.min(12, PAGES - i));
            long va = BASE + i * 4096L;
            String what = "seed " + seed + " step " + step;
            switch (rnd.nextInt(7)) {
                case 0 -> {
                    int p = PROTS[rnd.nextInt(PROTS.length)];
                    assertEquals(va, f.sys(Syscalls.NR_MMAP, va, n * 4096L, p,
                            Mmap.MAP_PRIVATE | Mmap.MAP_ANONYMOUS | Mmap.MAP_FIXED, -1, 0), what);
                    for (int k = i; k < i + n; k++) {
                        mapped[k] = true;
                        prot[k] = p;
                        value[k] = 0;
                    }
                }
                case 1 -> {
                    assertEquals(0, f.sys(Syscalls.NR_MUNMAP, va, n * 4096L), what);
                    for (int k = i; k < i + n; k++) {
                        mapped[k] = false;
                    }
                }
                case 2 -> {
                    int p = PROTS[rnd.nextInt(PROTS.length)];
                    long expect = 0;
                    if (!mapped[i]) {
                        expect = -12;
                    } else {
                        for (int k = i; k < i + n; k++) {
                            if (!mapped[k]) {
                                expect = -12;
                                break;
                            }
                            prot[k] = p;
                        }
                    }
                    assertEquals(expect, f.sys(Syscalls.NR_MPROTECT, va, n * 4096L, p), what);
                }
                case 3 -> {
                    long expect = 0;
                    for (int k = i; k < i + n; k++) {
                        if (mapped[k]) {
                            value[k] = 0;
                        } else {
                            expect = -12;
                        }
                    }
                    assertEquals(expect, f.sys(Syscalls.NR_MADVISE, va, n * 4096L, Mmap.MADV_DONTNEED), what);
                }
                case 4, 5 -> {
                    long v = rnd.nextLong() | 1;
                    long pa = f.touch(va, true);
                    if (mapped[i] && (prot[i] & Mmap.PROT_WRITE) != 0) {
                        assertEquals(true, pa >= 0, what + " write");
                        f.machine.memory().write64(pa, v);
                        value[i] = v;
                    } else {
                        assertEquals(SEGV, pa, what + " write must fault");
                    }
                }
                default -> {
                    long pa = f.touch(va, false);
                    if (mapped[i] && prot[i] != Mmap.PROT_NONE) {
                        assertEquals(true, pa >= 0, what + " read");
                        assertEquals(value[i], f.machine.memory().read64(pa), what + " value");
                    } else {
                        assertEquals(SEGV, pa, what + " read must fault");
                    }
                }
            }
            assertEquals(true, f.mm().counter(MmStruct.MM_ANONPAGES) >= 0, what);
        }
        assertEquals(0, f.sys(Syscalls.NR_MUNMAP, BASE, PAGES * 4096L));
        assertEquals(tables0, f.mm().nrPgtables(), "seed " + seed);
        assertEquals(free0, f.memory().frames().freePages(), "seed " + seed);
    }
}
