package org.mmulab.kernel.mm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Consumer;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.mmulab.emulator.machine.Vcpu;

/**
 * The [vma-ops] stress over a memfd-like shmem object ({@link SmpRig}, every check on): 4 vCPUs of one
 * mm (plus a forked child on one of them in the shared case) mix mremap (grow, shrink, MAYMOVE, FIXED,
 * DONTUNMAP) of MAP_SHARED and MAP_PRIVATE mappings of the object and of anonymous memory, mprotect,
 * MADV_DONTNEED, MADV_REMOVE, MADV_POPULATE_READ/WRITE, truncation of the object (shrink with its two
 * unmap_mapping_range passes, then grow back) and hole punching ({@link Truncate#punchHole}) with loads
 * and stores (SIGBUS past EOF and SIGSEGV where nothing is mapped are fine). Checked: no frame is freed
 * while a vCPU can reach it, no lock is held at trap exit, every present PTE of a shared mapping maps the
 * page the object holds at that index (a truncate or punch never missed a moved PTE), the census (refcount,
 * mapcount, RSS per type, page tables) holds, and nothing leaks once the mms and the object are gone.
 * Both page-table formats; under deterministic scheduling one seed gives one run. Seeded: the seed is
 * printed; re-run with {@code -Dmmulab.seed=SEED}.
 */
class ShmemVmaStressTest {
    static final long A = 0x4000_0000L;
    static final int PAGES = 64;
    static final long STRIDE = 1L << 20;
    static final int SLOTS = 8;

    private static long seed() {
        String s = System.getProperty("mmulab.seed");
        return s != null ? Long.parseLong(s) : System.nanoTime();
    }

    @ParameterizedTest(name = "4 vCPUs, pae={0}")
    @CsvSource({"false", "true"})
    void mremapMprotectMadviseTruncateAndFaultsOnShmemKeepEveryInvariant(boolean pae) {
        stress(pae, seed(), false);
    }

    @ParameterizedTest(name = "4 vCPUs deterministic, pae={0}")
    @CsvSource({"false", "true"})
    void deterministicRunRepeatsForASeed(boolean pae) {
        long seed = seed();
        assertEquals(stress(pae, seed, true), stress(pae, seed, true), "same seed, same run");
    }

    private static String stress(boolean pae, long seed, boolean deterministic) {
        System.out.println("ShmemVmaStressTest pae=" + pae + " deterministic=" + deterministic + " seed=" + seed
                + " (re-run with -Dmmulab.seed=" + seed + ")");
        SmpRig rig = new SmpRig(4, 64L << 20, pae);
        if (deterministic) {
            rig.machine.setDeterministic(seed);
        }
        AddressSpace obj = AddressSpace.shmem(rig.memory.frames(), "/memfd:stress (deleted)");
        obj.setEof(PAGES * 4096L);
        MmStruct mm = rig.memory.mmAlloc();
        // Even slots: shared mappings of the object; odd slots: private ones (COW over shmem) or anonymous.
        for (int i = 0; i < SLOTS; i++) {
            long at = A + i * STRIDE;
            int flags = (i % 2 == 0 ? Mmap.MAP_SHARED : Mmap.MAP_PRIVATE) | Mmap.MAP_FIXED;
            AddressSpace f = i == 7 ? null : obj;
            assertEquals(at, rig.mmap.doMmap(mm, f, at, 16 * 4096L, SmpRig.RW, f == null ? flags | Mmap.MAP_ANONYMOUS : flags,
                    0, null));
        }
        MmStruct child = Fork.dupMmap(rig.memory, mm);
        // inode_lock: one truncate/punch of the object at a time (a sleeping lock: its waiters answer IPIs)
        RwSemaphore inodeLock = new RwSemaphore(LockDep.MMAP_LOCK, rig.memory.frames().charge());
        RandomVmaOps ops = new RandomVmaOps(rig, A, SLOTS, STRIDE, PAGES);
        List<Consumer<Vcpu>> bodies = new ArrayList<>();
        for (int id = 0; id < 4; id++) {
            int me = id;
            Random rnd = new Random(seed * 31 + id);
            bodies.add(cpu -> {
                MmStruct my = me == 3 ? child : mm;
                my.activate(cpu);
                for (int op = 0; op < (deterministic ? 250 : 600); op++) {
                    rig.irqWindow();
                    int kind = rnd.nextInt(100);
                    long slot = A + rnd.nextInt(SLOTS) * STRIDE;
                    long page = rnd.nextInt(PAGES);
                    if (kind < 45) {
                        ops.access(cpu, my, rnd, slot + page * 4096, op);
                    } else if (kind < 60 && me != 3) {
                        ops.mremap(my, rnd, slot);
                    } else if (kind < 66) {
                        int r = rig.mmap.mprotect(my, slot, (1 + rnd.nextInt(16)) * 4096L,
                                rnd.nextBoolean() ? Mmap.PROT_READ : SmpRig.RW);
                        assertTrue(r == 0 || r == -12, "mprotect: " + r);
                    } else if (kind < 74) {
                        int advice = switch (rnd.nextInt(4)) {
                            case 0 -> Mmap.MADV_DONTNEED;
                            case 1 -> Mmap.MADV_REMOVE;
                            case 2 -> Mmap.MADV_POPULATE_READ;
                            default -> Mmap.MADV_POPULATE_WRITE;
                        };
                        int r = rig.mmap.madvise(my, slot, (1 + rnd.nextInt(16)) * 4096L, advice);
                        // ENOMEM: unmapped; EINVAL: REMOVE of a private range, POPULATE_WRITE of a read-only
                        // one; EACCES: REMOVE of a read-only shared range; EFAULT: populating past EOF (SIGBUS)
                        assertTrue(r == 0 || r == -12 || r == -22 || r == -13 || r == -14, "madvise " + advice + ": " + r);
                    } else if (kind < 79) {
                        int first = rnd.nextInt(PAGES), n = 1 + rnd.nextInt(PAGES - first);
                        inodeLock.downWrite();
                        try {
                            assertTrue(Truncate.punchHole(rig.memory, obj, first, first + n) >= 0);
                        } finally {
                            inodeLock.upWrite();
                        }
                    } else if (kind < 82) {
                        int keep = rnd.nextInt(PAGES);
                        inodeLock.downWrite(); // shmem_setattr: shrink (truncate_pagecache), then grow back
                        try {
                            obj.setEof(keep * 4096L);
                            Truncate.unmapMappingRange(rig.memory, obj, keep, Long.MAX_VALUE);
                            obj.truncatePages(keep);
                            Truncate.unmapMappingRange(rig.memory, obj, keep, Long.MAX_VALUE);
                            obj.setEof(PAGES * 4096L);
                        } finally {
                            inodeLock.upWrite();
                        }
                    } else if (kind < 86 && me != 3) {
                        if (rig.mmap.mremap(my, slot, 4096, 4096, 0, 0) == -14) {
                            int s = (int) ((slot - A) / STRIDE);
                            AddressSpace f = s % 2 == 0 || rnd.nextBoolean() ? obj : null;
                            int flags = (s % 2 == 0 ? Mmap.MAP_SHARED : Mmap.MAP_PRIVATE) | Mmap.MAP_FIXED
                                    | (f == null ? Mmap.MAP_ANONYMOUS : 0);
                            assertEquals(slot, rig.mmap.doMmap(my, f, slot, 8 * 4096L, SmpRig.RW, flags, 0, null));
                        }
                    }
                }
            });
        }
        rig.run(bodies);
        assertEquals(List.of(), rig.memory.check.violations(), "during the run");
        for (MmStruct m : List.of(mm, child)) {
            for (VmArea v : m.vmaList()) {
                if (v.file() != obj || (v.flags() & VmArea.VM_SHARED) == 0) {
                    continue;
                }
                RandomVmaOps.assertMapsCachedPages(rig, m, v, obj, "a shared PTE");
            }
        }
        assertEquals(List.of(), rig.memory.check.checkMms(List.of(mm, child)));
        assertFalse(rig.memory.stats.mremapPtesMoved.get() == 0, "some PTEs moved");
        StringBuilder fingerprint = new StringBuilder(rig.memory.stats.asMap().toString());
        for (Vcpu v : rig.machine.vcpus()) {
            fingerprint.append(" cpu").append(v.id()).append('=').append(v.cycles());
        }
        rig.memory.exitMmap(child);
        rig.memory.exitMmap(mm);
        obj.releaseUser();
        assertEquals(List.of(), rig.memory.check.checkNoLeak(), "after the mms and the object are gone");
        assertEquals(List.of(), rig.memory.check.violations());
        return fingerprint.toString();
    }
}
