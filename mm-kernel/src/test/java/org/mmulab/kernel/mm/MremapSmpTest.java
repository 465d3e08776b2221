package org.mmulab.kernel.mm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.mmulab.emulator.machine.Vcpu;

/**
 * mremap with other vCPUs running the same mm ({@link SmpRig}: one thread per vCPU, real MMUs and
 * TLBs, shootdowns by IPI, every check on).
 *
 * <ul>
 * <li>CVE-2018-18281: a vCPU that cached the old translation cannot reach the page any more once
 *     move_ptes drops its PTE locks — from then on a zap through the new address could free it. With
 *     the fix reverted ({@link Mremap#setRevertFlushBeforeUnlock}) the same check finds the stale entry,
 *     so the test fails on the pre-4.20 order.</li>
 * <li>A stress mixing mremap (grow/shrink/move/DONTUNMAP), mprotect, MADV_DONTNEED, MADV_POPULATE_WRITE
 *     and faults on 1-4 vCPUs: no frame is freed while a vCPU can reach it, no lock is held at trap exit,
 *     and the census (refcount, mapcount, RSS per type, page tables) holds at the end, then no leak.
 *     Seeded: the seed is printed; re-run with {@code -Dmmulab.seed=SEED}.</li>
 * </ul>
 */
class MremapSmpTest {
    static final long A = 0x4000_0000L, B = 0x5000_0000L;
    static final int ANON = Mmap.MAP_PRIVATE | Mmap.MAP_ANONYMOUS | Mmap.MAP_FIXED;

    @ParameterizedTest(name = "pae={0} revert={1}")
    @CsvSource({"false, false", "true, false", "false, true", "true, true"})
    void noVcpuReachesTheOldTranslationOnceThePteLockIsDropped(boolean pae, boolean revert) {
        SmpRig rig = new SmpRig(2, 16L << 20, pae);
        MmStruct mm = rig.memory.mmAlloc();
        assertEquals(A, rig.mmap.doMmap(mm, null, A, 4 * 4096L, SmpRig.RW, ANON, 0, null));
        rig.mmap.mremapOps().setRevertFlushBeforeUnlock(revert);
        AtomicBoolean touched = new AtomicBoolean(), moved = new AtomicBoolean();
        AtomicInteger staleAtUnlock = new AtomicInteger(-1);
        long[] pa = new long[1];
        rig.run(List.of(cpu -> {
            mm.activate(cpu);
            rig.await(cpu, touched::get);
            Vcpu other = rig.machine.vcpus().get(1);
            rig.mmap.mremapOps().setMovePtesUnlockHook(() -> staleAtUnlock.set(other.mmu().mayReach(pa[0] & -4096L) ? 1 : 0));
            assertEquals(B, rig.mmap.mremap(mm, A, 4 * 4096L, 4 * 4096L, Mremap.MREMAP_MAYMOVE | Mremap.MREMAP_FIXED, B));
            rig.mmap.mremapOps().setMovePtesUnlockHook(null);
            moved.set(true);
            rig.signal();
        }, cpu -> {
            mm.activate(cpu);
            assertTrue(rig.store(cpu, mm, A, 0x1234)); // the TLB now holds A -> page
            pa[0] = rig.access(cpu, mm, A, false);
            touched.set(true);
            rig.signal();
            rig.await(cpu, moved::get); // idle, answering shootdowns
            assertEquals(0x1234, rig.load(cpu, mm, B));
        }));
        assertEquals(List.of(), rig.memory.check.violations());
        assertEquals(revert ? 1 : 0, staleAtUnlock.get(),
                revert ? "the reverted order leaves the stale entry past the unlock" : "flushed before the unlock");
        assertEquals(List.of(), rig.memory.check.checkMms(List.of(mm)));
        rig.memory.exitMmap(mm);
        assertEquals(List.of(), rig.memory.check.checkNoLeak());
    }

    /**
     * Seed 004's race, run for real: the parent's vCPUs move a shared (shmem) mapping back and forth with
     * mremap while faulting it and zapping it, as another vCPU in a forked child punches holes in the
     * same object (MADV_REMOVE: every mapping of the range through i_mmap, without the parent's mmap
     * lock) and writes through its own mapping. At the end every present PTE of either mm maps the page
     * the object holds at that index: no PTE carried across by a move outlived a punch.
     */
    @ParameterizedTest(name = "pae={0}")
    @CsvSource({"false", "true"})
    void punchingASharedObjectNeverMissesAPteMovedByMremap(boolean pae) {
        long seed = seed();
        System.out.println("MremapSmpTest punch pae=" + pae + " seed=" + seed + " (re-run with -Dmmulab.seed=" + seed + ")");
        SmpRig rig = new SmpRig(4, 64L << 20, pae);
        MmStruct parent = rig.memory.mmAlloc();
        int pages = 16;
        long len = pages * 4096L;
        assertEquals(A, rig.mmap.doMmap(parent, null, A, len, SmpRig.RW, Mmap.MAP_SHARED | Mmap.MAP_ANONYMOUS | Mmap.MAP_FIXED,
                0, null));
        AddressSpace object = parent.vmaLookup(A).file();
        MmStruct child = Fork.dupMmap(rig.memory, parent);
        long[] slots = {A, B, B + (4L << 20) + 4096};
        List<Consumer<Vcpu>> bodies = new ArrayList<>();
        for (int id = 0; id < 4; id++) {
            int me = id;
            Random rnd = new Random(seed * 31 + id);
            bodies.add(cpu -> {
                MmStruct mm = me == 3 ? child : parent;
                mm.activate(cpu);
                for (int op = 0; op < 500; op++) {
                    rig.irqWindow();
                    long at = slots[rnd.nextInt(slots.length)] + 4096L * rnd.nextInt(pages);
                    int k = rnd.nextInt(10);
                    if (me == 0 && k < 4) {
                        long from = slots[rnd.nextInt(slots.length)], to = slots[rnd.nextInt(slots.length)];
                        long r = rig.mmap.mremap(parent, from, len, len, Mremap.MREMAP_MAYMOVE | Mremap.MREMAP_FIXED, to);
                        assertTrue(!Mmap.isErr(r) || r == -14 || r == -22, "mremap: " + r);
                    } else if (me == 3 && k < 3) {
                        int first = rnd.nextInt(pages);
                        int r = rig.mmap.madvise(child, A + 4096L * first, 4096L * (1 + rnd.nextInt(pages - first)),
                                Mmap.MADV_REMOVE);
                        assertEquals(0, r, "MADV_REMOVE");
                    } else if (me == 2 && k < 2) {
                        int r = rig.mmap.madvise(parent, at, 4096, Mmap.MADV_DONTNEED);
                        assertTrue(r == 0 || r == -12, "madvise: " + r);
                    } else if (k < 6) {
                        rig.store(cpu, mm, me == 3 ? A + 4096L * rnd.nextInt(pages) : at, op);
                    } else {
                        rig.load(cpu, mm, me == 3 ? A + 4096L * rnd.nextInt(pages) : at);
                    }
                }
            });
        }
        rig.run(bodies);
        assertEquals(List.of(), rig.memory.check.violations(), "during the run");
        for (MmStruct mm : List.of(parent, child)) {
            for (VmArea v : mm.vmaList()) {
                RandomVmaOps.assertMapsCachedPages(rig, mm, v, object, "a PTE");
            }
        }
        assertEquals(List.of(), rig.memory.check.checkMms(List.of(parent, child)));
        rig.memory.exitMmap(child);
        rig.memory.exitMmap(parent);
        assertEquals(List.of(), rig.memory.check.checkNoLeak(), "after both mms are gone");
    }

    private static long seed() {
        String s = System.getProperty("mmulab.seed");
        return s != null ? Long.parseLong(s) : System.nanoTime();
    }

    @ParameterizedTest(name = "{0} vCPUs, pae={1}")
    @CsvSource({"1, false", "2, true", "4, false", "4, true"})
    void mremapMprotectMadviseAndFaultsKeepEveryInvariant(int cpus, boolean pae) {
        stress(cpus, pae, seed(), false);
    }

    /**
     * The same stress under DETERMINISTIC scheduling (the baton passed at every PTE word, lock step and
     * IPI): the invariants hold, and one seed gives one run (the same mm event counts and vCPU cycles).
     */
    @ParameterizedTest(name = "4 vCPUs deterministic, pae={0}")
    @CsvSource({"false", "true"})
    void deterministicStressRepeatsForASeed(boolean pae) {
        long seed = seed();
        assertEquals(stress(4, pae, seed, true), stress(4, pae, seed, true), "same seed, same run");
    }

    private static String stress(int cpus, boolean pae, long seed, boolean deterministic) {
        System.out.println("MremapSmpTest cpus=" + cpus + " pae=" + pae + " deterministic=" + deterministic + " seed=" + seed
                + " (re-run with -Dmmulab.seed=" + seed + ")");
        SmpRig rig = new SmpRig(cpus, 64L << 20, pae);
        if (deterministic) {
            rig.machine.setDeterministic(seed);
        }
        MmStruct mm = rig.memory.mmAlloc();
        // Slots of 64 pages at 1 MiB strides; each holds 0..64 pages of a mapping that moves around.
        int slots = 8;
        long stride = 1L << 20;
        for (int i = 0; i < slots; i += 2) {
            assertEquals(A + i * stride, rig.mmap.doMmap(mm, null, A + i * stride, 16 * 4096L, SmpRig.RW, ANON, 0, null));
        }
        RandomVmaOps ops = new RandomVmaOps(rig, A, slots, stride, 64);
        List<Consumer<Vcpu>> bodies = new ArrayList<>();
        for (int id = 0; id < cpus; id++) {
            Random rnd = new Random(seed * 31 + id);
            bodies.add(cpu -> {
                mm.activate(cpu);
                for (int op = 0; op < (deterministic ? 250 : 600); op++) {
                    rig.irqWindow();
                    int kind = rnd.nextInt(100);
                    long slot = A + rnd.nextInt(slots) * stride;
                    long page = rnd.nextInt(64);
                    if (kind < 50) {
                        ops.access(cpu, mm, rnd, slot + page * 4096, op); // may SIGSEGV: not mapped now
                    } else if (kind < 70) {
                        ops.mremap(mm, rnd, slot);
                    } else if (kind < 78) {
                        int r = rig.mmap.mprotect(mm, slot, (1 + rnd.nextInt(16)) * 4096L,
                                rnd.nextBoolean() ? Mmap.PROT_READ : SmpRig.RW);
                        assertTrue(r == 0 || r == -12, "mprotect: " + r);
                    } else if (kind < 86) {
                        int r = rig.mmap.madvise(mm, slot, (1 + rnd.nextInt(64)) * 4096L, Mmap.MADV_DONTNEED);
                        assertTrue(r == 0 || r == -12, "madvise: " + r);
                    } else if (kind < 90) {
                        int r = rig.mmap.madvise(mm, slot, (1 + rnd.nextInt(8)) * 4096L, Mmap.MADV_POPULATE_WRITE);
                        assertTrue(r == 0 || r == -12 || r == -22, "populate: " + r);
                    } else if (kind < 94) {
                        if (rig.mmap.mremap(mm, slot, 4096, 4096, 0, 0) == -14) {
                            assertEquals(slot, rig.mmap.doMmap(mm, null, slot, 8 * 4096L, SmpRig.RW, ANON, 0, null));
                        }
                    }
                }
            });
        }
        rig.run(bodies);
        assertEquals(List.of(), rig.memory.check.violations(), "during the run");
        assertEquals(List.of(), rig.memory.check.checkMms(List.of(mm)));
        assertFalse(rig.memory.stats.mremapPtesMoved.get() == 0, "some PTEs moved");
        StringBuilder fingerprint = new StringBuilder(rig.memory.stats.asMap().toString());
        for (Vcpu v : rig.machine.vcpus()) {
            fingerprint.append(" cpu").append(v.id()).append('=').append(v.cycles());
        }
        rig.memory.exitMmap(mm);
        assertEquals(List.of(), rig.memory.check.checkNoLeak(), "after the mm is gone");
        assertEquals(List.of(), rig.memory.check.violations());
        return fingerprint.toString();
    }
}
