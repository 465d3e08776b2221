package org.mmulab.emulator.machine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The machine API, under both scheduling modes, (runAll, IPIs with acknowledgements, idle, kick, interrupt, tick, shutdown)
 * with real guest code on real threads. Every assertion holds under any interleaving; {@code @Timeout}
 * only turns a deadlock into a failure.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SmpMachineTest {
    /**
     * A machine in {@code mode} (DETERMINISTIC: seed 1) with one vCPU per program: vCPU i runs
     * {@code programs[i]} from the start of guest page i.
     */
    private static SmpGuest running(Machine.Scheduling mode, int[]... programs) {
        SmpGuest g = new SmpGuest(mode, programs.length);
        for (int i = 0; i < programs.length; i++) {
            g.code(i, 0, programs[i]);
            g.start(i, SmpGuest.va(i));
        }
        return g;
    }

    @Test
    void oneVcpuRunAllIsRun0() {
        SmpGuest g = running(Machine.Scheduling.PARALLEL, SmpGuest.SYSCALL_LOOP);
        assertEquals(1, g.machine.runAll());
        assertEquals(1, g.machine.vcpu(0).state.instructions);
        assertEquals(Machine.Scheduling.PARALLEL, g.machine.scheduling());
        g.assertNoFailures();
    }

    @ParameterizedTest
    @EnumSource(Machine.Scheduling.class)
    void ipiRunsOnTheTargetsThreadAndTheSenderWaitsForTheAck(Machine.Scheduling mode) {
        SmpGuest g = running(mode, SmpGuest.SYSCALL_LOOP, SmpGuest.SPIN);
        Machine m = g.machine;
        Vcpu v0 = m.vcpu(0), v1 = m.vcpu(1);
        AtomicReference<Thread> ranOn = new AtomicReference<>();
        AtomicReference<Vcpu> currentInCall = new AtomicReference<>();
        AtomicBoolean doneBeforeReturn = new AtomicBoolean();
        AtomicReference<Thread> senderThread = new AtomicReference<>();
        g.onSyscall = (cpu, nr) -> {
            senderThread.set(Thread.currentThread());
            g.await(v1::isRunning);
            AtomicBoolean done = new AtomicBoolean();
            m.sendIpis(cpu, List.of(v1), target -> {
                ranOn.set(Thread.currentThread());
                currentInCall.set(m.currentVcpu());
                done.set(true);
            });
            doneBeforeReturn.set(done.get());
            m.shutdown();
        };
        m.runAll();
        g.assertNoFailures();
        assertTrue(doneBeforeReturn.get(), "sendIpis returned before the target acknowledged");
        assertSame(v1, currentInCall.get(), "the call ran on vCPU 1's thread");
        assertTrue(ranOn.get() != senderThread.get());
        assertEquals(1, v1.clock().ipisReceived());
        assertEquals(1, v0.clock().ipisSent);
        assertEquals(1, v0.clock().shootdowns);
        assertTrue(v1.state.instructions > 0);
    }

    @ParameterizedTest
    @EnumSource(Machine.Scheduling.class)
    void aSenderAmongTheTargetsRunsTheCallItself(Machine.Scheduling mode) {
        SmpGuest g = running(mode, SmpGuest.SYSCALL_LOOP, SmpGuest.SPIN);
        Machine m = g.machine;
        AtomicIntegerArray ranOnOwnThread = new AtomicIntegerArray(2);
        g.onSyscall = (cpu, nr) -> {
            g.await(m.vcpu(1)::isRunning);
            m.sendIpis(cpu, m.vcpus(), target -> {
                if (m.currentVcpu() == target) {
                    ranOnOwnThread.incrementAndGet(target.id());
                }
            });
            m.shutdown();
        };
        m.runAll();
        g.assertNoFailures();
        assertEquals(1, ranOnOwnThread.get(0));
        assertEquals(1, ranOnOwnThread.get(1));
    }

    @ParameterizedTest
    @EnumSource(Machine.Scheduling.class)
    void vcpusIpiingEachOtherConcurrentlyNeverDeadlock(Machine.Scheduling mode) {
        int cpus = 4, rounds = 200;
        SmpGuest g = running(mode, Collections.nCopies(cpus, SmpGuest.SYSCALL_LOOP).toArray(int[][]::new));
        Machine m = g.machine;
        AtomicIntegerArray received = new AtomicIntegerArray(cpus);
        AtomicIntegerArray sent = new AtomicIntegerArray(cpus);
        g.onSyscall = (cpu, nr) -> {
            m.sendIpis(cpu, m.vcpus(), target -> received.incrementAndGet(target.id()));
            if (sent.incrementAndGet(cpu.id()) == rounds) {
                cpu.stop();
            }
        };
        m.runAll();
        g.assertNoFailures();
        for (int i = 0; i < cpus; i++) {
            // every vCPU got every call, whether it ran it itself or (once stopped) its sender did
            assertEquals(cpus * rounds, received.get(i), "calls for vCPU " + i);
        }
    }

    @ParameterizedTest
    @EnumSource(Machine.Scheduling.class)
    void aStoppedTargetsCallIsRunByTheSender(Machine.Scheduling mode) {
        SmpGuest g = running(mode, SmpGuest.SYSCALL_LOOP, SmpGuest.SYSCALL_LOOP);
        Machine m = g.machine;
        Vcpu v1 = m.vcpu(1);
        AtomicReference<Vcpu> ranBy = new AtomicReference<>();
        AtomicBoolean v1Stopped = new AtomicBoolean();
        g.onSyscall = (cpu, nr) -> {
            if (cpu == v1) {
                v1Stopped.set(true);
                cpu.stop();
                return;
            }
            // v1 has run and left its run loop: "not running" alone also holds before v1's thread starts, and one
            // that is starting (online, not yet running) would take the call from its mailbox itself
            g.await(() -> v1Stopped.get() && !v1.isRunning());
            m.sendIpis(cpu, List.of(v1), target -> ranBy.set(m.currentVcpu()));
            cpu.stop();
        };
        m.runAll();
        g.assertNoFailures();
        assertSame(m.vcpu(0), ranBy.get());
        assertEquals(1, v1.clock().ipisReceived());
    }

    @ParameterizedTest
    @EnumSource(Machine.Scheduling.class)
    void idleIsWokenByKick(Machine.Scheduling mode) {
        SmpGuest g = running(mode, SmpGuest.SYSCALL_LOOP, SmpGuest.SYSCALL_LOOP);
        Machine m = g.machine;
        Vcpu v1 = m.vcpu(1);
        AtomicBoolean ready = new AtomicBoolean();
        AtomicBoolean idleReturnedReady = new AtomicBoolean();
        g.onSyscall = (cpu, nr) -> {
            if (cpu == v1) {
                cpu.idle(ready::get);
                idleReturnedReady.set(ready.get());
                cpu.stop();
                return;
            }
            g.await(v1::isIdling); // v1 is (about to be) parked
            ready.set(true);
            m.kick(v1);
            cpu.stop();
        };
        m.runAll();
        g.assertNoFailures();
        assertTrue(idleReturnedReady.get());
    }

    @ParameterizedTest
    @EnumSource(Machine.Scheduling.class)
    void idleIsWokenByAnIpiWhichRunsOnTheIdleVcpu(Machine.Scheduling mode) {
        SmpGuest g = running(mode, SmpGuest.SYSCALL_LOOP, SmpGuest.SYSCALL_LOOP);
        Machine m = g.machine;
        Vcpu v1 = m.vcpu(1);
        AtomicReference<Vcpu> ranOn = new AtomicReference<>();
        g.onSyscall = (cpu, nr) -> {
            if (cpu == v1) {
                cpu.idle(() -> ranOn.get() != null);
                cpu.stop();
                return;
            }
            g.await(v1::isIdling);
            m.sendIpis(cpu, List.of(v1), target -> ranOn.set(m.currentVcpu()));
            cpu.stop();
        };
        m.runAll();
        g.assertNoFailures();
        assertSame(v1, ranOn.get());
    }

    @ParameterizedTest
    @EnumSource(Machine.Scheduling.class)
    void idleReturnsAtItsDeadline(Machine.Scheduling mode) {
        SmpGuest g = running(mode, SmpGuest.SYSCALL_LOOP);
        Machine m = g.machine;
        AtomicLong lateBy = new AtomicLong(-1);
        g.onSyscall = (cpu, nr) -> {
            cpu.idleDeadlineNanos = m.guestTime().monotonicNanos(cpu) + 1_000_000;
            cpu.idle(() -> false);
            lateBy.set(m.guestTime().monotonicNanos(cpu) - cpu.idleDeadlineNanos);
            cpu.stop();
        };
        m.runAll();
        g.assertNoFailures();
        assertTrue(lateBy.get() >= 0, "idle returned before its deadline");
    }

    @ParameterizedTest
    @EnumSource(Machine.Scheduling.class)
    void interruptEndsTheQuantumEarlyAndTicks(Machine.Scheduling mode) {
        SmpGuest g = running(mode, SmpGuest.SPIN);
        Machine m = g.machine;
        long[] atTick = new long[3];
        AtomicInteger ticks = new AtomicInteger();
        g.onTick = cpu -> {
            int t = ticks.getAndIncrement();
            atTick[t] = cpu.state.instructions;
            if (t == 0) {
                cpu.interrupt(); // pending before the next quantum starts: it must end at once
            } else if (t == 2) {
                cpu.stop();
            }
        };
        m.runAll();
        g.assertNoFailures();
        assertEquals(Vcpu.QUANTUM, atTick[0], "a full quantum without an interrupt");
        assertEquals(atTick[0], atTick[1], "the interrupted quantum ran no instruction");
        assertEquals(atTick[1] + Vcpu.QUANTUM, atTick[2]);
    }

    @ParameterizedTest
    @EnumSource(Machine.Scheduling.class)
    void shutdownWakesIdleVcpusAndEndsRunAll(Machine.Scheduling mode) {
        SmpGuest g = running(mode, Collections.nCopies(3, SmpGuest.SYSCALL_LOOP).toArray(int[][]::new));
        Machine m = g.machine;
        AtomicInteger idleReturns = new AtomicInteger();
        g.onSyscall = (cpu, nr) -> {
            if (cpu.id() != 0) {
                cpu.idle(() -> false);
                idleReturns.incrementAndGet();
                return;
            }
            g.await(() -> m.vcpu(1).isIdling() && m.vcpu(2).isIdling());
            m.shutdown();
        };
        m.runAll();
        g.assertNoFailures();
        assertEquals(2, idleReturns.get());
        for (Vcpu v : m.vcpus()) {
            assertFalse(v.isRunning());
        }
    }

    @Test
    void aThrowingVcpuShutsTheMachineDownAndRunAllRethrows() {
        SmpGuest g = running(Machine.Scheduling.PARALLEL, SmpGuest.SPIN, SmpGuest.SYSCALL_LOOP);
        Machine m = g.machine;
        m.setTrapHandler(new TrapHandler() {
            @Override
            public void syscall(Vcpu cpu, boolean int80) {
                throw new IllegalStateException("kernel bug");
            }

            @Override
            public void exception(Vcpu cpu, int vector, long errorCode) {
            }
        });
        IllegalStateException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class, m::runAll);
        assertEquals("kernel bug", e.getMessage());
    }

    @Test
    void machinesUpTo256Vcpus() {
        assertEquals(256, new Machine(1 << 20, 256).vcpus().size());
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> new Machine(1 << 20, 257));
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> new Machine(1 << 20, 0));
    }
}
