package org.mmulab.kernel.mm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.CyclicBarrier;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.mmulab.emulator.memory.PhysicalMemory;

/** {@link MmCheck}: each invariant holds on a correct mm and is reported when broken; and the split-lock ABA. */
class MmCheckTest {
    static final long A = 0x4000_0000L;
    static final int W = Memory.FAULT_FLAG_WRITE | Memory.FAULT_FLAG_USER;
    PhysicalMemory mem;
    Memory memory;
    Mmap mmap;
    MmStruct mm;

    @BeforeEach
    void setUp() {
        mem = new PhysicalMemory(16L << 20);
        memory = new Memory(mem);
        memory.check.assertPteLocks();
        mmap = new Mmap(memory);
        mm = memory.mmAlloc();
        assertEquals(A, mmap.doMmap(mm, null, A, 8 * 4096, Mmap.PROT_READ | Mmap.PROT_WRITE,
                Mmap.MAP_PRIVATE | Mmap.MAP_ANONYMOUS | Mmap.MAP_FIXED, 0, null));
        for (int i = 0; i < 8; i++) {
            assertEquals(Memory.VM_FAULT_OK, memory.handleMmFault(mm.findVma(A), A + 4096L * i, W));
        }
    }

    private long ptep(long va) {
        long pmd = mem.read64(memory.pmdOffset(mm, va));
        return memory.ops().entryAddr(PteBits.pfn(pmd) << 12, va, 1);
    }

    @Test
    void aCorrectMmPassesAndNothingLeaksAfterExit() {
        assertEquals(List.of(), memory.check.checkMms(List.of(mm)));
        memory.exitMmap(mm);
        assertEquals(List.of(), memory.check.checkMms(List.of()));
        assertEquals(List.of(), memory.check.checkNoLeak());
    }

    @Test
    void aWrongMapcountRssOrLeakIsReported() {
        long pfn = PteBits.pfn(memory.lookupPte(mm, A));
        memory.frames().addMap(pfn);
        assertTrue(memory.check.checkMms(List.of(mm)).stream().anyMatch(v -> v.contains("mapcount 2 but 1 PTEs")));
        memory.frames().removeMap(pfn);
        mm.addCounter(MmStruct.MM_ANONPAGES, 1);
        assertTrue(memory.check.checkMms(List.of(mm)).stream().anyMatch(v -> v.contains("rss anon counter 9")));
        mm.addCounter(MmStruct.MM_ANONPAGES, -1);
        memory.frames().get(pfn); // a reference nobody will drop
        memory.exitMmap(mm);
        List<String> leaks = memory.check.checkNoLeak();
        assertEquals(1, leaks.size(), leaks.toString());
        assertTrue(leaks.get(0).startsWith("pfn 0x" + Long.toHexString(pfn) + " leaked"));
        assertFalse(memory.check.violations().isEmpty());
    }

    @Test
    void aPteWrittenWithoutItsTableLockIsCaught() {
        long p = ptep(A);
        assertThrows(IllegalStateException.class, () -> memory.ops().set(p, 0));
        SpinLock ptl = memory.frames().ptlock(p >>> 12);
        ptl.lock();
        try {
            memory.ops().wrprotect(p); // fine under the lock
        } finally {
            ptl.unlock();
        }
        assertFalse(PteBits.write(memory.lookupPte(mm, A)));
    }

    @Test
    void aLockHeldAtTrapExitIsReported() {
        assertTrue(memory.check.checkNoLocksHeld());
        mm.pageTableLock.lock();
        try {
            assertFalse(memory.check.checkNoLocksHeld());
        } finally {
            mm.pageTableLock.unlock();
        }
    }

    /**
     * {@code --check} ({@link MmCheck#enabled}) needs nothing from the kernel: a Memory made while it is
     * set asserts PTE locks, and the first mm loaded on a vCPU installs the free observer, which then
     * reports a frame freed while that vCPU's TLB still maps it (here: a PTE cleared and its page freed
     * with no flush at all, the bug the check exists for).
     */
    @Test
    void checkModeInstallsItsHooksByItself() {
        MmCheck.enabled = true;
        try {
            org.mmulab.emulator.machine.Machine machine = new org.mmulab.emulator.machine.Machine(16L << 20, 1);
            org.mmulab.emulator.machine.Vcpu cpu = machine.vcpu(0);
            Memory m = new Memory(machine.memory());
            MmStruct mm2 = m.mmAlloc();
            Mmap mmap2 = new Mmap(m);
            assertEquals(A, mmap2.doMmap(mm2, null, A, 4096, Mmap.PROT_READ | Mmap.PROT_WRITE,
                    Mmap.MAP_PRIVATE | Mmap.MAP_ANONYMOUS | Mmap.MAP_FIXED, 0, null));
            cpu.state.cr4 |= org.mmulab.emulator.cpu.CpuState.CR4_PCIDE;
            mm2.activate(cpu);
            assertEquals(Memory.VM_FAULT_OK, m.handleMmFault(mm2.findVma(A), A, W));
            long pa = cpu.mmu().translate(A, org.mmulab.emulator.mmu.PfErr.U | org.mmulab.emulator.mmu.PfErr.W);
            long pfn = pa >>> 12;
            long pmd = machine.memory().read64(m.pmdOffset(mm2, A));
            long ptep = m.ops().entryAddr(PteBits.pfn(pmd) << 12, A, 1);
            assertThrows(IllegalStateException.class, () -> m.ops().clear(ptep), "PTE-lock assertion on");
            SpinLock ptl = m.frames().ptlock(ptep >>> 12);
            ptl.lock();
            try {
                m.ops().clear(ptep);
            } finally {
                ptl.unlock();
            }
            m.frames().removeMap(pfn);
            m.frames().put(pfn); // freed with the TLB entry still there
            assertTrue(m.check.violations().stream().anyMatch(v -> v.contains("can still reach it")), m.check.violations().toString());
            // the report names the structure, the entry, and whose mm the vCPU runs
            String v = m.check.violations().stream().filter(x -> x.contains("can still reach it")).findFirst().orElseThrow();
            assertTrue(v.startsWith("pfn 0x" + Long.toHexString(pfn) + " freed while vCPU 0 can still reach it (flags 0x"), v);
            assertTrue(v.contains("through its dtlb-4k [dtlb-4k entry va 0x" + Long.toHexString(A) + " pcid "), v);
            assertTrue(v.contains("stlb-4k entry va 0x" + Long.toHexString(A)), v);
            assertTrue(v.contains("vCPU 0: CR3 0x" + Long.toHexString(cpu.state.cr3) + " (PCIDE), loaded mm ctx " + mm2.ctxId()
                    + ", asid "), v);
            assertTrue(v.contains(", in its mm_cpumask, ASID slots: "), v);
        } finally {
            MmCheck.enabled = false;
        }
    }

    /**
     * Split PTE lock ABA: pte_offset_map_lock read the PMD and picked up the table's lock; before it
     * locked it, the table was freed and a page table allocated again at the same pfn (the PMD value is
     * the same again). Holding the old lock would exclude nobody: the lock returned must be the table's
     * current one. (On the old code pte_offset_map_lock returned the stale lock.)
     */
    @Test
    void aPteTableFreedAndReallocatedAtTheSamePfnDoesNotHandBackItsOldLock() {
        long pmdp = memory.pmdOffset(mm, A);
        long tpfn = PteBits.pfn(mem.read64(pmdp));
        SpinLock before = memory.frames().ptlock(tpfn);
        int[] runs = {0};
        memory.setPteMapLockRaceHook(() -> {
            if (runs[0]++ == 0) {
                memory.frames().pgtableDtor(tpfn); // freed ...
                memory.frames().pgtableCtor(tpfn); // ... and allocated again as a page table, same pfn
                memory.frames().setFlags(tpfn, FrameTable.PG_PTE_TABLE);
            }
        });
        PteMap pm = memory.pteOffsetMapLock(mm, pmdp, A);
        memory.setPteMapLockRaceHook(null);
        try {
            assertSame(memory.frames().ptlock(tpfn), pm.ptl(), "the table's current lock");
            assertFalse(before.isLocked(), "the stale lock was dropped");
            assertTrue(runs[0] >= 2, "pte_offset_map_lock went round again");
        } finally {
            pm.unlock();
        }
    }

    /**
     * hiwater_rss is the highest RSS ever reached even when faults on other threads race with the
     * decreases: every thread repeatedly faults a page in and zaps it, and the RSS peak a thread saw
     * right after its own increment is never above hiwater_rss.
     */
    @Test
    void hiwaterRssIsNeverBelowAnRssReachedUnderConcurrency() throws Exception {
        int threads = 4;
        long base = 0x5000_0000L;
        assertEquals(base, mmap.doMmap(mm, null, base, threads * 64 * 4096L, Mmap.PROT_READ | Mmap.PROT_WRITE,
                Mmap.MAP_PRIVATE | Mmap.MAP_ANONYMOUS | Mmap.MAP_FIXED, 0, null));
        long[] seen = new long[threads];
        CyclicBarrier go = new CyclicBarrier(threads);
        Thread[] ts = new Thread[threads];
        Throwable[] err = new Throwable[1];
        for (int t = 0; t < threads; t++) {
            int id = t;
            ts[t] = new Thread(() -> {
                try {
                    go.await();
                    for (int round = 0; round < 20; round++) {
                        long s = base + id * 64 * 4096L;
                        mm.mmapLock.downRead();
                        try {
                            for (int i = 0; i < 64; i++) {
                                memory.handleMmFault(mm.findVma(s), s + 4096L * i, W);
                                seen[id] = Math.max(seen[id], mm.rss());
                            }
                        } finally {
                            mm.mmapLock.upRead();
                        }
                        assertEquals(0, mmap.madvise(mm, s, 64 * 4096L, Mmap.MADV_DONTNEED));
                    }
                } catch (Throwable e) {
                    synchronized (err) {
                        err[0] = e;
                    }
                }
            });
            ts[t].start();
        }
        for (Thread t : ts) {
            t.join();
        }
        if (err[0] != null) {
            throw new AssertionError(err[0]);
        }
        for (long s : seen) {
            assertTrue(mm.hiwaterRss() >= s, "hiwater " + mm.hiwaterRss() + " < rss seen " + s);
        }
        assertEquals(8, mm.rss());
        assertEquals(List.of(), memory.check.checkMms(List.of(mm)));
    }
}
