package org.mmulab.kernel.mm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;
import org.mmulab.emulator.memory.PhysicalMemory;

/**
 * The mm's locks are Linux's: not reentrant, taken in mm/rmap.c's order, released only by their holder
 * (checked when LockDep.CHECKS is on, as it is under surefire's -ea); and reclaim never waits for a
 * mapping's lock while another mapping's is held.
 */
class LockingTest {
    @Test
    void checksAreOnInTests() {
        assertTrue(LockDep.CHECKS, "surefire runs with -ea: lock checks must be on");
    }

    @Test
    void aPteLockIsNotReentrant() {
        Memory m = new Memory(new PhysicalMemory(8L << 20));
        MmStruct mm = m.mmAlloc();
        long pfn = m.pgtables.allocPgtablePage();
        SpinLock ptl = m.frames().ptlock(pfn);
        ptl.lock();
        try {
            IllegalStateException e = assertThrows(IllegalStateException.class, ptl::lock);
            assertTrue(e.getMessage().contains("recursive"), e.getMessage());
            assertFalse(ptl.tryLock(), "a trylock by the holder fails, it does not nest");
        } finally {
            ptl.unlock();
        }
        assertFalse(ptl.isLocked());
        assertEquals(0, LockDep.heldCount());
        assertTrue(mm.pgdPhys() > 0);
    }

    @Test
    void mmapLockIsNotReentrantForReadEither() {
        RwSemaphore sem = new RwSemaphore(LockDep.MMAP_LOCK);
        sem.downRead();
        try {
            assertThrows(IllegalStateException.class, sem::downRead);
            assertThrows(IllegalStateException.class, sem::downWrite);
        } finally {
            sem.upRead();
        }
        assertThrows(IllegalStateException.class, sem::upRead, "up_read without down_read");
        sem.downWrite();
        sem.upWrite();
        assertEquals(0, LockDep.heldCount());
    }

    @Test
    void lockOrderIsMmapLockPageTableLockPtlockIPages() {
        CycleCharge none = CycleCharge.NONE;
        RwSemaphore mmap = new RwSemaphore(LockDep.MMAP_LOCK);
        SpinLock ptlMm = new SpinLock(LockDep.PAGE_TABLE_LOCK, none);
        SpinLock pte = new SpinLock(LockDep.PTE_LOCK, none);
        SpinLock pte2 = new SpinLock(LockDep.PTE_LOCK, none);
        SpinLock pages = new SpinLock(LockDep.I_PAGES, none);
        // the right order nests
        mmap.downRead();
        ptlMm.lock();
        pte.lock();
        pages.lock();
        pages.unlock();
        pte.unlock();
        ptlMm.unlock();
        mmap.upRead();
        // the wrong one is reported before it can deadlock
        pte.lock();
        try {
            assertThrows(IllegalStateException.class, mmap::downRead);
            assertThrows(IllegalStateException.class, ptlMm::lock);
            assertThrows(IllegalStateException.class, pte2::lock, "two PTE locks without a nesting rule");
            assertTrue(pte2.tryLock(), "a trylock cannot deadlock: allowed");
            pte2.unlock();
        } finally {
            pte.unlock();
        }
        assertEquals(0, LockDep.heldCount());
    }

    @Test
    void onlyTheHolderUnlocks() throws Exception {
        SpinLock l = new SpinLock(LockDep.PTE_LOCK, CycleCharge.NONE);
        l.lock();
        AtomicReference<Throwable> seen = new AtomicReference<>();
        Thread t = new Thread(() -> {
            try {
                l.unlock();
            } catch (Throwable e) {
                seen.set(e);
            }
        });
        t.start();
        t.join();
        assertTrue(seen.get() instanceof IllegalStateException, String.valueOf(seen.get()));
        assertTrue(l.isLocked());
        l.unlock();
    }

    /**
     * Two tasks fault on two files with RAM exhausted: each allocation runs the shrinkers. A barrier
     * shrinker, registered first, holds both tasks inside their allocations at once; then each task's
     * reclaim scans the other's mapping. Before, getPage allocated while holding its own mapping's lock
     * and the shrinker locked the other mapping: A held 1 and waited for 2, B held 2 and waited for 1.
     * Now no mapping lock is held across the allocation and the shrinker only trylocks.
     */
    @Test
    void reclaimInsideOneMappingsFaultNeverWaitsForAnotherMapping() throws Exception {
        FrameTable ft = new FrameTable(new PhysicalMemory(1L << 20));
        while (ft.allocPages(0) >= 0) {
            // exhaust RAM (no shrinker registered yet)
        }
        CyclicBarrier bothAllocating = new CyclicBarrier(2);
        AtomicInteger calls = new AtomicInteger();
        ft.registerShrinker(() -> {
            if (calls.getAndIncrement() < 2) {
                try {
                    bothAllocating.await(20, TimeUnit.SECONDS);
                } catch (InterruptedException | BrokenBarrierException | TimeoutException e) {
                    throw new IllegalStateException("the other task never reached reclaim", e);
                }
            }
            return 0;
        });
        AddressSpace one = AddressSpace.file(ft, "one", new byte[8192]);
        AddressSpace two = AddressSpace.file(ft, "two", new byte[8192]);
        long[] got = {7, 7};
        Thread a = new Thread(() -> got[0] = one.getPage(0), "fault-one");
        Thread b = new Thread(() -> got[1] = two.getPage(0), "fault-two");
        a.setDaemon(true);
        b.setDaemon(true);
        a.start();
        b.start();
        a.join(20_000);
        b.join(1_000); // deadlocked, both are stuck: no need to wait for b as long
        assertFalse(a.isAlive() || b.isAlive(), "ABBA deadlock between two mappings' locks in reclaim");
        assertEquals(-1, got[0], "no frame: OOM, not a hang");
        assertEquals(-1, got[1]);
    }
}
