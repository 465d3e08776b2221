package org.mmulab.kernel.mm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.mmulab.emulator.machine.Vcpu;

/**
 * TLB shootdown across vCPUs running on their own threads ({@link SmpRig}): a flush of another vCPU is
 * an IPI whose flush_tlb_func runs on that vCPU's thread; exit_mmap frees nothing another vCPU can still
 * reach; fork leaves no vCPU of the parent a writable TLB entry for a page it now shares with the child.
 * Each test waits on conditions, never on time.
 */
class SmpShootdownTest {
    static final long A = 0x4000_0000L;
    static final int ANON = Mmap.MAP_PRIVATE | Mmap.MAP_ANONYMOUS | Mmap.MAP_FIXED;

    /** (vCPU id, thread) pairs where flush_tlb_func / forget ran on a thread not the vCPU's own. */
    private static List<String> watchThreads(SmpRig rig, Thread[] owner) {
        List<String> wrong = Collections.synchronizedList(new ArrayList<>());
        rig.memory.tlbFlush.setFlushFuncObserver((cpu, t) -> {
            if (owner[cpu.id()] != null && owner[cpu.id()] != t) {
                wrong.add("vCPU " + cpu.id() + "'s flush ran on " + t.getName());
            }
        });
        return wrong;
    }

    /**
     * vCPU 1 holds writable TLB entries; vCPU 0 mprotects the range read-only. The flush of vCPU 1 runs
     * on vCPU 1's thread (an IPI it answers while idle), and afterwards its store faults (SIGSEGV). On the
     * old code TlbFlush ran vCPU 1's flush_tlb_func, and touched its MMU, from vCPU 0's thread.
     */
    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void aRemoteFlushRunsOnTheTargetsOwnThread(boolean pae) {
        SmpRig rig = new SmpRig(2, 32L << 20, pae);
        MmStruct mm = rig.memory.mmAlloc();
        assertEquals(A, rig.mmap.doMmap(mm, null, A, 16 * 4096, SmpRig.RW, ANON, 0, null));
        Thread[] owner = new Thread[2];
        List<String> wrong = watchThreads(rig, owner);
        AtomicBoolean touched = new AtomicBoolean(), protectedRo = new AtomicBoolean(), storeFaulted = new AtomicBoolean();
        AtomicLong remoteFlushes = new AtomicLong();
        rig.run(List.of(cpu -> {
            owner[0] = Thread.currentThread();
            mm.activate(cpu);
            rig.await(cpu, touched::get);
            long before = rig.memory.stats.tlbPageFlushes.get() + rig.memory.stats.tlbFullFlushes.get();
            assertEquals(0, rig.mmap.mprotect(mm, A, 4 * 4096, Mmap.PROT_READ));
            remoteFlushes.set(rig.memory.stats.tlbPageFlushes.get() + rig.memory.stats.tlbFullFlushes.get() - before);
            protectedRo.set(true);
            rig.signal();
        }, cpu -> {
            owner[1] = Thread.currentThread();
            mm.activate(cpu);
            for (int i = 0; i < 4; i++) {
                assertTrue(rig.store(cpu, mm, A + 4096L * i, i));
            }
            touched.set(true);
            rig.signal();
            rig.await(cpu, protectedRo::get);
            storeFaulted.set(!rig.store(cpu, mm, A, 99));
        }));
        assertEquals(List.of(), wrong);
        assertTrue(remoteFlushes.get() > 0, "vCPU 1 had the mm loaded: it was flushed");
        assertTrue(storeFaulted.get(), "no writable TLB entry survived mprotect(PROT_READ) on vCPU 1");
        assertEquals(List.of(), rig.memory.check.checkMms(List.of(mm)));
        rig.memory.exitMmap(mm);
        assertEquals(List.of(), rig.memory.check.checkNoLeak());
        assertEquals(List.of(), rig.memory.check.violations());
    }

    /**
     * vCPU 1 filled its TLB and paging-structure caches from the mm, then went lazy (its task exited)
     * — and in the PCID case vCPU 2 switched to another mm, keeping the first one's entries tagged with
     * its ASID. vCPU 0 runs exit_mmap: every frame and page table it frees, the PGD included, is
     * unreachable from every vCPU when freed (the free observer asks each vCPU's MMU), and each
     * vCPU's forget ran on its own thread.
     */
    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void exitMmapFreesNothingAnotherVcpuCanReach(boolean pae) {
        SmpRig rig = new SmpRig(3, 32L << 20, pae);
        MmStruct mm = rig.memory.mmAlloc();
        MmStruct other = rig.memory.mmAlloc();
        assertEquals(A, rig.mmap.doMmap(mm, null, A, 1024 * 4096, SmpRig.RW, ANON, 0, null));
        Thread[] owner = new Thread[3];
        List<String> wrong = watchThreads(rig, owner);
        AtomicBoolean ready1 = new AtomicBoolean(), ready2 = new AtomicBoolean(), exited = new AtomicBoolean();
        rig.run(List.of(cpu -> {
            owner[0] = Thread.currentThread();
            mm.activate(cpu);
            assertTrue(rig.store(cpu, mm, A, 1));
            rig.await(cpu, () -> ready1.get() && ready2.get());
            rig.memory.tlbFlush.enterLazyTlb(cpu);
            rig.memory.exitMmap(mm);
            exited.set(true);
            rig.signal();
        }, cpu -> {
            owner[1] = Thread.currentThread();
            mm.activate(cpu);
            for (int i = 0; i < 1024; i += 64) { // two PTE tables' worth, spread
                assertTrue(rig.store(cpu, mm, A + 4096L * i, i));
            }
            rig.memory.tlbFlush.enterLazyTlb(cpu);
            ready1.set(true);
            rig.signal();
            rig.await(cpu, exited::get);
        }, cpu -> {
            owner[2] = Thread.currentThread();
            mm.activate(cpu);
            for (int i = 512; i < 1024; i += 32) {
                assertTrue(rig.load(cpu, mm, A + 4096L * i) != Long.MIN_VALUE);
            }
            other.activate(cpu); // switched away: under PCIDE the mm's entries stay, tagged
            ready2.set(true);
            rig.signal();
            rig.await(cpu, exited::get);
        }));
        assertEquals(List.of(), wrong);
        assertEquals(List.of(), rig.memory.check.violations(), "nothing freed while reachable");
        for (Vcpu v : rig.machine.vcpus()) {
            assertTrue(rig.memory.tlbFlush.state(v).loadedMm() != mm, "nobody has the dead mm loaded");
            for (int a = 0; a < TlbFlush.TLB_NR_DYN_ASIDS; a++) {
                // A slot trimmed by an earlier flush (wrong-CPU case) may still name the dead ctx_id, but
                // dropped: its PCID was invalidated and a switch to it would flush.
                TlbFlush.CpuTlbState st = rig.memory.tlbFlush.state(v);
                assertTrue(st.ctxId(a) != mm.ctxId() || st.tlbGen(a) == 0, "no live ASID slot names it");
            }
        }
        assertTrue(mm.cpumask().isEmpty());
        rig.memory.exitMmap(other);
        assertEquals(List.of(), rig.memory.check.checkNoLeak());
    }

    /**
     * Lazy TLB (arch/x86/mm/tlb.c): a vCPU that keeps the mm loaded but runs none of its tasks is not
     * interrupted by a flush that frees nothing (mprotect); switching back it finds its ASID behind
     * tlb_gen and flushes, so its old writable entry is gone. A flush that frees (munmap) does interrupt
     * it, and its flush_tlb_func switches it to init_mm.
     */
    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void lazyVcpusSkipPermissionFlushesCatchUpOnSwitchAndLeaveOnFrees(boolean pae) {
        SmpRig rig = new SmpRig(2, 32L << 20, pae);
        MmStruct mm = rig.memory.mmAlloc();
        assertEquals(A, rig.mmap.doMmap(mm, null, A, 8 * 4096, SmpRig.RW, ANON, 0, null));
        List<Integer> flushedOn = Collections.synchronizedList(new ArrayList<>());
        rig.memory.tlbFlush.setFlushFuncObserver((cpu, t) -> flushedOn.add(cpu.id()));
        AtomicBoolean lazy = new AtomicBoolean(), protectedRo = new AtomicBoolean(), back = new AtomicBoolean(),
                lazyAgain = new AtomicBoolean(), unmapped = new AtomicBoolean();
        boolean[] flushedOnSwitch = new boolean[1], faulted = new boolean[1], leftForInitMm = new boolean[1];
        int[] flushesOfVcpu1 = new int[2];
        TlbFlush.CpuTlbState[] st1 = new TlbFlush.CpuTlbState[1];
        rig.run(List.of(cpu -> {
            mm.activate(cpu);
            rig.await(cpu, lazy::get);
            assertEquals(0, rig.mmap.mprotect(mm, A, 4096, Mmap.PROT_READ));
            flushesOfVcpu1[0] = Collections.frequency(flushedOn, 1);
            protectedRo.set(true);
            rig.signal();
            rig.await(cpu, lazyAgain::get);
            assertEquals(0, rig.mmap.doMunmap(mm, A + 4096, 4096)); // frees a page: lazy vCPUs too
            flushesOfVcpu1[1] = Collections.frequency(flushedOn, 1);
            unmapped.set(true);
            rig.signal();
            rig.await(cpu, back::get);
        }, cpu -> {
            st1[0] = rig.memory.tlbFlush.state(cpu);
            mm.activate(cpu);
            assertTrue(rig.store(cpu, mm, A, 1));
            assertTrue(rig.store(cpu, mm, A + 4096, 2));
            rig.memory.tlbFlush.enterLazyTlb(cpu);
            lazy.set(true);
            rig.signal();
            rig.await(cpu, protectedRo::get);
            flushedOnSwitch[0] = rig.memory.tlbFlush.switchMm(cpu, mm); // the task runs again
            faulted[0] = !rig.store(cpu, mm, A, 3);
            rig.memory.tlbFlush.enterLazyTlb(cpu);
            lazyAgain.set(true);
            rig.signal();
            rig.await(cpu, unmapped::get);
            leftForInitMm[0] = st1[0].loadedMm() == null;
            back.set(true);
            rig.signal();
        }));
        assertEquals(0, flushesOfVcpu1[0], "mprotect skipped the lazy vCPU");
        assertTrue(flushedOnSwitch[0], "its ASID was behind: the switch back flushed");
        assertTrue(faulted[0], "so the store to the read-only page faulted");
        assertTrue(flushesOfVcpu1[1] > 0, "munmap's freeing flush reached the lazy vCPU");
        assertTrue(leftForInitMm[0], "... which left the mm for init_mm");
        assertEquals(List.of(), rig.memory.check.violations());
        rig.memory.exitMmap(mm);
        assertEquals(List.of(), rig.memory.check.checkNoLeak());
    }

    /**
     * Both vCPUs wrote page P (writable, dirty TLB entries). vCPU 0 forks. vCPU 1 then stores to P
     * without any other kernel entry: the store must fault (fork's flush_tlb_mm reached it) and COW, so
     * the child keeps the value P had at fork time. With the parent's writable TLB entry left in place,
     * the store would go to the page now shared with the child.
     */
    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void forkLeavesNoWritableTlbEntryInTheParent(boolean pae) {
        SmpRig rig = new SmpRig(2, 32L << 20, pae);
        MmStruct mm = rig.memory.mmAlloc();
        assertEquals(A, rig.mmap.doMmap(mm, null, A, 4 * 4096, SmpRig.RW, ANON, 0, null));
        AtomicBoolean ready1 = new AtomicBoolean(), forked = new AtomicBoolean(), stored = new AtomicBoolean();
        MmStruct[] child = new MmStruct[1];
        long v0 = 0x0b5e55ed, v1 = 0x5ca1ab1e;
        rig.run(List.of(cpu -> {
            mm.activate(cpu);
            assertTrue(rig.store(cpu, mm, A, v0));
            rig.await(cpu, ready1::get);
            child[0] = Fork.dupMmap(rig.memory, mm);
            forked.set(true);
            rig.signal();
            rig.await(cpu, stored::get);
        }, cpu -> {
            mm.activate(cpu);
            assertTrue(rig.store(cpu, mm, A, v0)); // a writable, dirty TLB entry for P on vCPU 1
            ready1.set(true);
            rig.signal();
            rig.await(cpu, forked::get);
            long faults = rig.memory.stats.faults.get();
            assertTrue(rig.store(cpu, mm, A, v1));
            assertTrue(rig.memory.stats.faults.get() > faults, "the store after fork faulted (COW)");
            stored.set(true);
            rig.signal();
        }));
        assertNotNull(child[0]);
        long cpte = rig.memory.lookupPte(child[0], A);
        long ppte = rig.memory.lookupPte(mm, A);
        assertEquals(v0, rig.machine.memory().read64(PteBits.pfn(cpte) << 12), "the child's page kept the fork-time value");
        assertEquals(v1, rig.machine.memory().read64(PteBits.pfn(ppte) << 12));
        assertFalse(PteBits.pfn(cpte) == PteBits.pfn(ppte));
        assertEquals(List.of(), rig.memory.check.checkMms(List.of(mm, child[0])));
        rig.memory.exitMmap(child[0]);
        rig.memory.exitMmap(mm);
        assertEquals(List.of(), rig.memory.check.checkNoLeak());
        assertEquals(List.of(), rig.memory.check.violations());
        assertNull(rig.memory.tlbFlush.state(rig.machine.vcpu(1)).loadedMm());
    }

    /**
     * switch_mm without PCIDE (PAE, or 4-level with PCIDE off): a vCPU leaves the old mm's mm_cpumask only
     * after the CR3 write that flushed its TLB, paging-structure caches and fast path (and under PAE
     * reloaded the PDPTE registers) — the last moment a flush sender still interrupts it, it can reach no
     * page and no table of the old mm. The old code left the mask first: in PARALLEL mode a munmap on
     * another vCPU that read the mask in that window sent this vCPU no IPI and freed a page its TLB still
     * mapped. Leaving through leave_mm, a wrong-CPU flush and exit_mmap's forget is checked the same way.
     */
    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void aVcpuLeavesAnMmsCpumaskOnlyOnceItReachesNothingOfIt(boolean pae) {
        SmpRig rig = new SmpRig(2, 32L << 20, pae);
        for (Vcpu v : rig.machine.vcpus()) {
            long cr4 = v.state.cr4;
            v.state.cr4 &= ~org.mmulab.emulator.cpu.CpuState.CR4_PCIDE;
            v.mmu().controlRegistersChanged(v.state.cr0, cr4, v.state.efer);
        }
        MmStruct mm = rig.memory.mmAlloc();
        MmStruct other = rig.memory.mmAlloc();
        assertEquals(A, rig.mmap.doMmap(mm, null, A, 4 * 4096, SmpRig.RW, ANON, 0, null));
        assertEquals(A, rig.mmap.doMmap(other, null, A, 4 * 4096, SmpRig.RW, ANON, 0, null));
        long[] page = new long[1];
        List<String> reachable = Collections.synchronizedList(new ArrayList<>());
        List<String> leaves = Collections.synchronizedList(new ArrayList<>());
        rig.memory.tlbFlush.setCpumaskLeaveObserver((cpu, left) -> {
            leaves.add("vCPU " + cpu.id() + " leaves mm " + left.ctxId());
            if (left == mm) {
                for (long f : new long[] {page[0], mm.pgdPhys()}) {
                    String via = org.mmulab.emulator.mmu.FrameReach.describe(cpu.mmu(), f);
                    if (via != null) {
                        reachable.add("vCPU " + cpu.id() + " leaves mm_cpumask still reaching 0x" + Long.toHexString(f) + " via " + via);
                    }
                }
                if (pae) {
                    for (int i = 0; i < 3; i++) { // the user PMDs the PDPTE registers held
                        long pmd = rig.memory.physicalMemory().read64(mm.pgdPhys() + 8L * i) & ~0xfffL;
                        String via = org.mmulab.emulator.mmu.FrameReach.describe(cpu.mmu(), pmd);
                        if (via != null) {
                            reachable.add("vCPU " + cpu.id() + " leaves mm_cpumask still reaching PMD 0x" + Long.toHexString(pmd) + " via " + via);
                        }
                    }
                }
            }
        });
        AtomicBoolean switched = new AtomicBoolean(), unmapped = new AtomicBoolean();
        rig.run(List.of(cpu -> {
            mm.activate(cpu);
            rig.await(cpu, switched::get);
            assertEquals(0, rig.mmap.doMunmap(mm, A, 4096)); // vCPU 1 is no longer in the mask: no IPI to it
            unmapped.set(true);
            rig.signal();
        }, cpu -> {
            mm.activate(cpu);
            page[0] = rig.access(cpu, mm, A, true);
            assertTrue(page[0] > 0);
            assertTrue(cpu.mmu().mayReach(page[0]), "the store filled the TLB");
            other.activate(cpu); // switch_mm: CR3 write, then leave mm's mask
            assertFalse(mm.cpumask().contains(cpu), "without PCIDE the switch leaves the old mask at once");
            switched.set(true);
            rig.signal();
            rig.await(cpu, unmapped::get);
            rig.memory.tlbFlush.leaveMm(cpu);
        }));
        assertTrue(leaves.contains("vCPU 1 leaves mm " + mm.ctxId()), leaves.toString());
        assertEquals(List.of(), reachable);
        assertEquals(List.of(), rig.memory.check.violations(), "nothing freed while reachable, no vCPU left a mask early");
        rig.memory.exitMmap(mm);
        rig.memory.exitMmap(other);
        assertEquals(List.of(), reachable, "exit_mmap's forget");
        assertEquals(List.of(), rig.memory.check.violations());
        assertEquals(List.of(), rig.memory.check.checkNoLeak());
    }
}
