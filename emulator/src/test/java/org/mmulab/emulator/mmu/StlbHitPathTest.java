package org.mmulab.emulator.mmu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.mmulab.emulator.cpu.CpuState;
import org.mmulab.emulator.cpu.GuestFault;
import org.mmulab.emulator.memory.PhysicalMemory;
import org.mmulab.emulator.mmu.cpudb.Zen5;

/**
 * The MMU's 4 KiB translation path through its L1 TLBs and STLB (SDM Vol. 3A §4.10.2, §4.10.3.1: an L1 miss looks
 * up the STLB, whose hit is installed in the L1 TLB; a miss of both walks and fills both) against a reference
 * hierarchy of {@link ReferenceTlbArray}s following the same rules: after every translation of a seeded random
 * sequence (user reads and writes, supervisor reads, fetches, two PCIDs, global pages, pages first written after
 * a read so that a write finds D = 0 in the L1 TLB or the STLB and re-walks, INVLPG) the L1 dTLB, L1 iTLB and STLB
 * 4 KiB arrays hold the reference's entries slot by slot, and the hit, miss, STLB-hit and walk counters agree. The
 * pages crowd a few sets of every array, so hits, LRU updates and evictions happen at every level. The seed is
 * printed; {@code -Dstlb.path.seed=N} replays one.
 */
class StlbHitPathTest {
    private static final long SEED = Long.getLong("stlb.path.seed", System.nanoTime());
    private static final int OPS = 30_000;
    private static final int PAGES = 96;
    private static final long BASE = 0x4000_0000L;
    /** TlbArray.ATTR_*: user, writable, dirty, global. */
    private static final int RW = 1, US = 2, D = 8, G = 16;

    @ParameterizedTest
    @ValueSource(strings = {"skylake", "tiny", "zen5"})
    void sameEntriesSlotBySlotAndSameCountersAsTheReferenceHierarchy(String preset) {
        CpuModel model = switch (preset) {
            case "skylake" -> CpuModel.SKYLAKE;
            case "tiny" -> CpuModel.TINY;
            default -> Zen5.MODEL;
        };
        System.out.println("StlbHitPathTest " + preset + ": seed " + SEED + " (replay with -Dstlb.path.seed=" + SEED + ")");
        SplittableRandom r = new SplittableRandom(SEED ^ preset.hashCode());
        PhysicalMemory mem = new PhysicalMemory(32 << 20);
        CpuState s = new CpuState();
        Mmu mmu = new Mmu(mem, s, model);
        PageTableBuilder pt = new PageTableBuilder(mem, 0x100000);
        s.cr3 = pt.root;
        s.cr4 |= CpuState.CR4_PCIDE;
        ReferenceTlbArray refD = reference(mmu.dtlb()), refI = reference(mmu.itlb()), refS = reference(mmu.stlb());
        long[] va = new long[PAGES];
        boolean[] dirty = new boolean[PAGES];
        boolean[] global = new boolean[PAGES];
        for (int i = 0; i < PAGES; i++) {
            // 4 + 4 x 23 pages 128 pages apart: they share a few sets of every array (its set count divides 128).
            va[i] = BASE + ((long) (i % 4) << 12) + ((long) (i / 4) << 19);
            dirty[i] = r.nextInt(3) == 0;
            global[i] = r.nextInt(8) == 0;
            pt.map4k(va[i], frame(i), Pte.P | Pte.RW | Pte.US | Pte.A | (dirty[i] ? Pte.D : 0) | (global[i] ? Pte.G : 0));
        }
        long dHits = 0, iHits = 0, dMisses = 0, iMisses = 0, stlbHits = 0, walks = 0;
        int recent = 0;
        for (int op = 0; op < OPS; op++) {
            String at = "seed " + SEED + ", " + preset + ", op " + op;
            if (r.nextInt(200) == 0) {
                mmu.writeCr3(1L << 63 | pt.root | (s.cr3 & 0xfff) ^ 1); // the other PCID; bit 63: nothing flushed
            }
            int pcid = (int) (s.cr3 & 0xfff);
            // Mostly pages near the last one (hits at every level), sometimes any page (misses, evictions).
            int p = r.nextInt(4) == 0 ? r.nextInt(PAGES) : Math.floorMod(recent + r.nextInt(9) - 4, PAGES);
            recent = p;
            long v = va[p] + r.nextInt(4096);
            if (r.nextInt(100) == 0) {
                mmu.invlpg(v);
                refD.invalidatePage(v, pcid);
                refI.invalidatePage(v, pcid);
                refS.invalidatePage(v, pcid);
                continue;
            }
            int kind = r.nextInt(8);
            int access = kind < 4 ? PfErr.U : kind < 6 ? PfErr.U | PfErr.W : kind == 6 ? 0 : PfErr.U | PfErr.I;
            boolean write = (access & PfErr.W) != 0;
            ReferenceTlbArray l1 = (access & PfErr.I) != 0 ? refI : refD;
            s.cpl = (access & PfErr.U) != 0 ? 3 : 0;
            long pa;
            try {
                pa = mmu.translate(v, access);
            } catch (GuestFault f) {
                throw new AssertionError(at + ": unexpected fault, vector " + s.exceptionVector);
            }
            assertEquals(frame(p) | (v & 0xfff), pa, at + ": physical address");
            // The reference: L1, then STLB (installed in L1 when usable), else a walk filling L1 then STLB.
            boolean fetch = (access & PfErr.I) != 0;
            int slot = l1.lookup(v, pcid);
            boolean usable = slot >= 0 && (!write || (l1.attrs(slot) & D) != 0);
            if (slot >= 0 && usable) {
                if (fetch) {
                    iHits++;
                } else {
                    dHits++;
                }
            } else {
                if (slot < 0) { // an L1 hit refused for D = 0 re-walks without counting a miss
                    if (fetch) {
                        iMisses++;
                    } else {
                        dMisses++;
                    }
                }
                int h = slot < 0 ? refS.lookup(v, pcid) : -1;
                if (h >= 0 && (!write || (refS.attrs(h) & D) != 0)) {
                    stlbHits++;
                    l1.fill(v, pcid, refS.frame(h), refS.attrs(h));
                } else {
                    walks++;
                    dirty[p] |= write;
                    int attrs = RW | US | (dirty[p] ? D : 0) | (global[p] ? G : 0);
                    l1.fill(v, pcid, frame(p), attrs);
                    refS.fill(v, pcid, frame(p), attrs);
                }
            }
            assertEquals(refD.contents(), ReferenceTlbArray.contentsOf(mmu.dtlb().array(Tlb.SIZE_4K)), at + ": dTLB");
            assertEquals(refI.contents(), ReferenceTlbArray.contentsOf(mmu.itlb().array(Tlb.SIZE_4K)), at + ": iTLB");
            assertEquals(refS.contents(), ReferenceTlbArray.contentsOf(mmu.stlb().array(Tlb.SIZE_4K)), at + ": STLB");
            MmuCounters c = mmu.counters;
            assertEquals(dHits, c.dtlbHits, at + ": dTLB hits");
            assertEquals(iHits, c.itlbHits, at + ": iTLB hits");
            assertEquals(dMisses, c.dtlbMisses, at + ": dTLB misses");
            assertEquals(iMisses, c.itlbMisses, at + ": iTLB misses");
            assertEquals(stlbHits, c.stlbHits, at + ": STLB hits");
            assertEquals(walks, c.walksCompleted, at + ": walks");
        }
    }

    private static long frame(int page) {
        return 0x80_0000L + ((long) page << 12);
    }

    private static ReferenceTlbArray reference(Tlb tlb) {
        TlbArray a = tlb.array(Tlb.SIZE_4K);
        return new ReferenceTlbArray(a.name(), a.entries(), a.ways(), a.pageShift());
    }
}
