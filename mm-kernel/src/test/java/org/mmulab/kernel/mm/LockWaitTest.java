package org.mmulab.kernel.mm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.mmulab.emulator.machine.Vcpu;

/**
 * A vCPU that holds a PTE lock shoots down the TLB of a vCPU that is waiting for that lock (zap_pte_range
 * flushing under the lock when its batch fills does exactly this). The waiter answers the IPI while it
 * waits ({@link LockWait}), so both finish; a waiter that only parked would never acknowledge, and the
 * timeout (a guard against a hang, not a measurement) would fail the test.
 */
class LockWaitTest {
    static final long A = 0x4000_0000L;

    @ParameterizedTest(name = "deterministic={0}")
    @ValueSource(booleans = {false, true})
    @Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void aPteLockHolderShootsDownAVcpuWaitingForThatLock(boolean deterministic) {
        SmpRig rig = new SmpRig(2, 32L << 20, false);
        if (deterministic) {
            rig.machine.setDeterministic(42);
        }
        MmStruct mm = rig.memory.mmAlloc();
        assertEquals(A, rig.mmap.doMmap(mm, null, A, 4 * 4096, SmpRig.RW,
                Mmap.MAP_PRIVATE | Mmap.MAP_ANONYMOUS | Mmap.MAP_FIXED, 0, null));
        AtomicBoolean ready = new AtomicBoolean(), locked = new AtomicBoolean(), waiting = new AtomicBoolean();
        AtomicLong flushedOnWaiter = new AtomicLong();
        Thread[] waiter = new Thread[1];
        rig.memory.tlbFlush.setFlushFuncObserver((cpu, t) -> {
            if (cpu.id() == 1 && t == waiter[0]) {
                flushedOnWaiter.incrementAndGet();
            }
        });
        rig.run(List.of(cpu -> {
            mm.activate(cpu);
            assertTrue(rig.store(cpu, mm, A, 1));
            rig.await(cpu, ready::get);
            long pmdp = rig.memory.pmdOffset(mm, A);
            PteMap pm = rig.memory.pteOffsetMapLock(mm, pmdp, A);
            assertNotNull(pm);
            try {
                locked.set(true);
                rig.signal();
                waitFor(rig, cpu, deterministic, () -> waiting.get() && (deterministic || pm.ptl().hasQueuedThread(waiter[0])));
                mm.flushTlbAll(); // the IPI reaches vCPU 1 inside its wait for pm.ptl()
            } finally {
                pm.unlock();
            }
        }, cpu -> {
            waiter[0] = Thread.currentThread();
            mm.activate(cpu);
            assertTrue(rig.store(cpu, mm, A + 4096, 2));
            ready.set(true);
            rig.signal();
            rig.await(cpu, locked::get);
            waiting.set(true);
            rig.signal();
            PteMap pm = rig.memory.pteOffsetMapLock(mm, rig.memory.pmdOffset(mm, A), A);
            pm.unlock();
        }));
        assertTrue(flushedOnWaiter.get() > 0, "the waiter ran the flush on its own thread");
        assertEquals(List.of(), rig.memory.check.violations());
        rig.memory.exitMmap(mm);
        assertEquals(List.of(), rig.memory.check.checkNoLeak());
    }

    /**
     * Waits for a condition another vCPU makes true without kicking (it is queued on a lock): under
     * PARALLEL by polling with short parks, answering IPIs; under DETERMINISTIC by idling, which hands
     * the baton on.
     */
    private static void waitFor(SmpRig rig, Vcpu cpu, boolean deterministic, java.util.function.BooleanSupplier c) {
        if (deterministic) {
            rig.await(cpu, c);
            return;
        }
        while (!c.getAsBoolean()) {
            rig.irqWindow();
            LockSupport.parkNanos(100_000);
        }
    }
}
