package org.mmulab.kernel.explore;

import java.util.List;

import org.mmulab.emulator.machine.Vcpu;
import org.mmulab.kernel.mm.AddressSpace;
import org.mmulab.kernel.mm.HugeMemory;
import org.mmulab.kernel.mm.Memory;
import org.mmulab.kernel.mm.MmFix;
import org.mmulab.kernel.mm.MmStruct;
import org.mmulab.kernel.mm.Mmap;

/**
 * Seed 001 ("collapse_pte_mapped_thp() with mmap_read_lock()"): khugepaged takes a PTE table away under
 * the mmap <em>read</em> lock, so faults and zaps of the same range run meanwhile and all of them rely on
 * pte_offset_map_lock and pmd_lock. A 2 MiB shmem range whose cache already holds one huge folio: vCPU 0
 * alternates MADV_COLLAPSE (collapse_pte_mapped_thp: clear the PTEs, retract the table, map the PMD) and
 * MADV_DONTNEED of the range (the PMD mapping dropped); vCPU 1 meanwhile reads pages of the range (faults
 * building a new PTE table) and MADV_DONTNEEDs single pages (zap_pte_range under that table's lock).
 * With the fix reverted the table is unlinked without pmd_lock and its PTE lock and freed at once
 * instead of by pte_free_defer: it goes back to the allocator while a zap or fault that validated the PMD
 * still holds its lock or a lockless walker still has it mapped.
 */
class CollapseVsFault extends Scenario {
    static final long BASE = 0x4000_0000L;
    static final long H = HugeMemory.HPAGE_PMD_SIZE;
    static final int ROUNDS = 3;
    /** Pages of the range vCPU 1 touches each round. */
    static final int PAGES = 3;

    @Override
    public String name() {
        return "collapse-vs-fault";
    }

    @Override
    public MmFix fix() {
        return MmFix.PTE_FREE_DEFER;
    }

    @Override
    public String description() {
        return "MADV_COLLAPSE/DONTNEED of a shmem 2 MiB on vCPU 0 vs read faults and 1-page DONTNEED on vCPU 1";
    }

    @Override
    public String invariants() {
        return "no-free-while-reachable (table freed under its lock, under a walker, or with a PTE in it), census, kernel-bug";
    }

    @Override
    public long horizon() {
        return 1400;
    }

    @Override
    public int budget() {
        return 200;
    }

    @Override
    void run(ExploreRig rig) {
        MmStruct mm = rig.newMm();
        AddressSpace shm = AddressSpace.shmem(rig.memory.frames(), "/dev/shm/thp");
        long a = rig.mmap.doMmap(mm, shm, BASE, H, Mmap.PROT_READ | Mmap.PROT_WRITE, Mmap.MAP_SHARED | Mmap.MAP_FIXED,
                0, null);
        if (a != BASE) {
            throw new IllegalStateException("mmap gave " + a);
        }
        // setup: the cache gets one huge folio (collapse_file), then the PMD mapping goes again
        Memory memory = rig.memory;
        for (long p = 0; p < H; p += 64 * Mmap.PAGE_SIZE) {
            if (memory.handleMmFault(mm.vmaLookup(BASE + p), BASE + p, Memory.FAULT_FLAG_USER) != Memory.VM_FAULT_OK) {
                throw new IllegalStateException("setup fault failed");
            }
        }
        int r = rig.mmap.madvise(mm, BASE, H, Mmap.MADV_COLLAPSE);
        if (r != 0) {
            throw new IllegalStateException("setup MADV_COLLAPSE: " + r);
        }
        rig.mmap.madvise(mm, BASE, H, Mmap.MADV_DONTNEED);
        // vCPU 1's pte_offset_map_lock is preempted between its lockless PMD read and the PTE lock for a
        // few quanta (an interrupt, a long PAE pmdp_get_lockless): the window khugepaged's retract can use
        Thread[] faulterThread = new Thread[1];
        // faults[0]: stores done by vCPU 1 (-1: all done); faults[1]: 1 while vCPU 1 is in the window
        int[] faults = new int[2];
        memory.setPteMapLockRaceHook(() -> {
            if (Thread.currentThread() == faulterThread[0]) {
                faults[1] = 1;
                for (int k = 0; k < WINDOW; k++) {
                    rig.userWork();
                }
                faults[1] = 0;
            }
        });
        rig.run(List.of(cpu -> collapser(rig, mm, cpu, faults), cpu -> {
            faulterThread[0] = Thread.currentThread();
            faulter(rig, mm, cpu, faults);
        }));
        memory.setPteMapLockRaceHook(null);
        rig.checkCensus(List.of(mm));
        checkData(rig, shm);
    }

    /** Quanta vCPU 1 spends inside pte_offset_map_lock's window. */
    static final int WINDOW = 8;

    private static void collapser(ExploreRig rig, MmStruct mm, Vcpu cpu, int[] faults) {
        mm.activate(cpu);
        for (int i = 0; i < ROUNDS; i++) {
            // until vCPU 1 is inside a pte_offset_map_lock (or done)
            rig.spinUntil(() -> faults[0] < 0 || faults[1] != 0);
            int r = rig.mmap.madvise(mm, BASE, H, Mmap.MADV_COLLAPSE);
            if (r != 0 && r != -11) {
                rig.violate("collapse-result", "MADV_COLLAPSE returned " + r);
            }
            rig.userWork();
            rig.mmap.madvise(mm, BASE, H, Mmap.MADV_DONTNEED);
        }
    }

    private static void faulter(ExploreRig rig, MmStruct mm, Vcpu cpu, int[] faults) {
        mm.activate(cpu);
        for (int i = 0; i < ROUNDS; i++) {
            for (int p = 0; p < PAGES; p++) {
                long va = BASE + (long) (i + p) * 5 * Mmap.PAGE_SIZE;
                rig.store(cpu, mm, va + 8, va);
                faults[0]++;
                rig.mmap.madvise(mm, va + Mmap.PAGE_SIZE, Mmap.PAGE_SIZE, Mmap.MADV_DONTNEED);
            }
        }
        faults[0] = -1; // done: the collapser finishes its rounds alone
    }

    /** Every value vCPU 1 stored is in the shmem object (shared mapping: a zap never loses data). */
    static void checkData(ExploreRig rig, AddressSpace shm) {
        for (int i = 0; i < ROUNDS; i++) {
            for (int p = 0; p < PAGES; p++) {
                long va = BASE + (long) (i + p) * 5 * Mmap.PAGE_SIZE;
                long pfn = shm.findPage((va - BASE) >>> 12);
                long got = pfn < 0 ? 0 : rig.machine.memory().read64((pfn << 12) + 8);
                if (pfn >= 0) {
                    rig.memory.frames().put(pfn);
                }
                if (got != va) {
                    rig.violate("no-lost-write", "vCPU 1 stored 0x" + Long.toHexString(va) + " at 0x"
                            + Long.toHexString(va + 8) + ", the shmem object holds 0x" + Long.toHexString(got));
                }
            }
        }
    }
}
