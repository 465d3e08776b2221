package org.mmulab.emulator.debug;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.mmulab.emulator.cpu.CpuState;
import org.mmulab.emulator.machine.Vcpu;

/**
 * All-stop run control on real guest code ({@link GuestLoop}): breakpoints, single steps, continue,
 * watchpoints reported after the write, interrupting a spinning vCPU, the --wait halt, and two vCPUs.
 */
class DebugControllerRunControlTest {
    private static final long WAIT_S = 20;
    private GuestLoop g;
    private final BlockingQueue<StopEvent> events = new LinkedBlockingQueue<>();

    private GuestLoop machine(int cpus) {
        g = new GuestLoop(cpus);
        g.dbg.setStopListener(events::add);
        return g;
    }

    @AfterEach
    void tearDown() throws InterruptedException {
        if (g != null) {
            g.close();
            assertTrue(g.traps.isEmpty(), "unexpected traps: " + g.traps);
        }
    }

    private StopEvent next() throws InterruptedException {
        StopEvent e = events.poll(WAIT_S, TimeUnit.SECONDS);
        assertNotNull(e, () -> "no stop event within " + WAIT_S + " s; stopped=" + g.dbg.isStopped() + "\n" + vcpuStacks());
        return e;
    }

    /** Where every vCPU thread is, for a stop that never came (an intermittent failure seen under load). */
    private static String vcpuStacks() {
        StringBuilder b = new StringBuilder();
        Thread.getAllStackTraces().forEach((t, stack) -> {
            if (t.getName().startsWith("vcpu-")) {
                b.append(t.getName()).append(' ').append(t.getState()).append('\n');
                for (int i = 0; i < Math.min(stack.length, 12); i++) {
                    b.append("    at ").append(stack[i]).append('\n');
                }
            }
        });
        return b.toString();
    }

    private void resume(DebugController.Action a) {
        g.dbg.resume(a, Map.of());
    }

    @Test
    void breakpointStopsBeforeTheInstructionAndContinueHitsItAgain() throws Exception {
        machine(1);
        g.dbg.addBreakpoint(GuestLoop.STORE);
        g.start();
        StopEvent e = next();
        assertEquals(StopEvent.Reason.BREAKPOINT, e.reason());
        assertEquals(GuestLoop.STORE, e.address());
        CpuState s = g.state(0);
        assertEquals(GuestLoop.STORE, s.rip);
        assertEquals(1, s.gpr[CpuState.RAX], "inc ran once");
        assertEquals(0, g.stored(0), "the store at the breakpoint has not run");
        assertTrue(g.dbg.isStopped());

        resume(DebugController.Action.CONTINUE);   // must not re-hit at once: it runs one lap
        e = next();
        assertEquals(StopEvent.Reason.BREAKPOINT, e.reason());
        assertEquals(GuestLoop.STORE, s.rip);
        assertEquals(2, s.gpr[CpuState.RAX]);
        assertEquals(1, g.stored(0));
        assertEquals(e, g.dbg.lastStop());
    }

    @Test
    void stepExecutesExactlyOneInstruction() throws Exception {
        machine(1);
        g.dbg.addBreakpoint(GuestLoop.STORE);
        g.start();
        next();
        long before = g.state(0).instructions;
        resume(DebugController.Action.STEP);
        StopEvent e = next();
        assertEquals(StopEvent.Reason.STEP, e.reason());
        assertEquals(0, e.cpu());
        assertEquals(GuestLoop.JMP, g.state(0).rip);
        assertEquals(before + 1, g.state(0).instructions);
        assertEquals(1, g.stored(0), "the stepped store happened");
        resume(DebugController.Action.STEP);
        assertEquals(StopEvent.Reason.STEP, next().reason());
        assertEquals(GuestLoop.INC, g.state(0).rip);
        g.dbg.removeBreakpoint(GuestLoop.STORE);
        resume(DebugController.Action.STEP);
        next();
        resume(DebugController.Action.STEP);
        assertEquals(StopEvent.Reason.STEP, next().reason());
        assertEquals(GuestLoop.JMP, g.state(0).rip, "no breakpoint any more: stepped over the store");
    }

    @Test
    void writeWatchpointIsReportedAfterTheWriteCompleted() throws Exception {
        machine(1);
        g.dbg.addWatchpoint(GuestLoop.data(0), 8, WatchKind.WRITE);
        g.start();
        StopEvent e = next();
        assertEquals(StopEvent.Reason.WATCHPOINT, e.reason());
        assertEquals(WatchKind.WRITE, e.watchKind());
        assertEquals(GuestLoop.data(0), e.address());
        assertEquals(GuestLoop.JMP, g.state(0).rip, "stopped after the store");
        assertEquals(1, g.stored(0), "the new value is in memory");
        resume(DebugController.Action.CONTINUE);
        e = next();
        assertEquals(StopEvent.Reason.WATCHPOINT, e.reason());
        assertEquals(2, g.stored(0));
        assertTrue(g.dbg.removeWatchpoint(GuestLoop.data(0), 8, WatchKind.WRITE));
    }

    @Test
    void readWatchpointDoesNotFireOnWrites() throws Exception {
        machine(1);
        g.dbg.addWatchpoint(GuestLoop.data(0), 8, WatchKind.READ);   // the loop only writes
        g.dbg.addBreakpoint(GuestLoop.JMP);
        g.start();
        StopEvent e = next();
        assertEquals(StopEvent.Reason.BREAKPOINT, e.reason(), "the write did not trigger the read watchpoint");
        assertEquals(1, g.stored(0));
    }

    @Test
    void interruptStopsASpinningGuest() throws Exception {
        machine(1);
        g.start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_S);
        while (g.state(0).instructions < 100_000 && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        assertTrue(g.state(0).instructions >= 100_000, "the guest spins");
        assertNull(events.poll(), "nothing stopped it yet");
        g.dbg.interrupt();
        StopEvent e = next();
        assertEquals(StopEvent.Reason.INTERRUPT, e.reason());
        assertTrue(g.dbg.isStopped());
        long rip = g.state(0).rip;
        assertTrue(rip == GuestLoop.INC || rip == GuestLoop.STORE || rip == GuestLoop.JMP, Long.toHexString(rip));
        assertEquals(g.state(0).gpr[CpuState.RAX] - (rip == GuestLoop.STORE ? 1 : 0), g.stored(0),
                "stopped at an instruction boundary");
        g.dbg.interrupt();   // already stopped: nothing new is reported
        resume(DebugController.Action.CONTINUE);
        g.dbg.interrupt();
        assertEquals(StopEvent.Reason.INTERRUPT, next().reason());
        assertNull(events.poll(), "exactly one event per stop");
    }

    @Test
    void haltAtStartHoldsTheGuestAtItsFirstInstruction() throws Exception {
        machine(1);
        g.dbg.haltAtStart();
        g.start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_S);
        while (!g.dbg.isStopped() && System.nanoTime() < deadline) {
            Thread.onSpinWait();   // the vCPU thread may be between entering its run loop and parking
        }
        assertTrue(g.dbg.isStopped(), "held at the first instruction");
        g.dbg.interrupt();   // what attaching does: nothing to report, the machine is already stopped
        assertEquals(0, g.state(0).instructions);
        assertEquals(GuestLoop.INC, g.state(0).rip);
        resume(DebugController.Action.STEP);   // exactly one instruction ever ran: the step
        assertEquals(StopEvent.Reason.STEP, next().reason());
        assertEquals(GuestLoop.STORE, g.state(0).rip);
        assertEquals(1, g.state(0).instructions);
        assertNull(events.poll(), "the interrupt of a stopped machine reported nothing");
    }

    @Test
    void twoVcpusStopTogetherAndStayPutWhenAsked() throws Exception {
        machine(2);
        g.dbg.addBreakpoint(GuestLoop.STORE);
        g.start();
        StopEvent e = next();
        assertEquals(StopEvent.Reason.BREAKPOINT, e.reason());
        assertTrue(g.dbg.isStopped(), "reported only after both vCPUs parked");
        int other = 1 - e.cpu();
        g.dbg.removeBreakpoint(GuestLoop.STORE);
        long otherInstructions = g.state(other).instructions;
        // Step the one that hit; the other stays.
        g.dbg.resume(DebugController.Action.STAY, Map.of(e.cpu(), DebugController.Action.STEP));
        StopEvent s = next();
        assertEquals(StopEvent.Reason.STEP, s.reason());
        assertEquals(e.cpu(), s.cpu());
        assertEquals(GuestLoop.JMP, g.state(e.cpu()).rip);
        assertEquals(otherInstructions, g.state(other).instructions, "the other vCPU stayed parked");
        // Step the other one alone.
        g.dbg.resume(DebugController.Action.STAY, Map.of(other, DebugController.Action.STEP));
        s = next();
        assertEquals(other, s.cpu());
        assertEquals(otherInstructions + 1, g.state(other).instructions);
        // Both continue; a watchpoint on vCPU 1's slot stops both.
        g.dbg.addWatchpoint(GuestLoop.data(1), 8, WatchKind.WRITE);
        resume(DebugController.Action.CONTINUE);
        e = next();
        assertEquals(StopEvent.Reason.WATCHPOINT, e.reason());
        assertEquals(1, e.cpu(), "only vCPU 1 writes data(1)");
        assertTrue(g.dbg.isStopped());
        assertEquals(g.state(1).gpr[CpuState.RAX], g.stored(1));
    }

    @Test
    void aStopRequestedRightAfterResumeIsReportedOnlyOnceEveryVcpuParkedAgain() throws Exception {
        machine(2);
        g.start();
        g.dbg.interrupt();
        next();
        for (int i = 0; i < 200; i++) {
            // The vCPU threads have not even woken up when the interrupt arrives: they were released by the
            // resume, so the stop must wait for them to park again (it used to be reported at once).
            resume(DebugController.Action.CONTINUE);
            g.dbg.interrupt();
            assertEquals(StopEvent.Reason.INTERRUPT, next().reason());
            assertTrue(g.dbg.isStopped(), "round " + i + ": reported before every vCPU parked");
        }
        assertNull(events.poll());
    }

    /**
     * A vCPU that saw a halt request and went to park, but got the controller's lock only after a resume
     * cancelled that halt, must not park: parking would set the halt again with nothing reported, and
     * the next interrupt would find the machine "already stopped" and report nothing (a lost Ctrl-C).
     * The interleaving is forced by holding the controller's lock while the vCPU blocks on it.
     */
    @Test
    void aVcpuLateToParkForACancelledHaltDoesNotSwallowTheNextInterrupt() throws Exception {
        machine(1);
        Vcpu v = g.machine.vcpu(0);
        g.dbg.vcpuStarted(v);
        g.dbg.interrupt(); // a halt request; the vCPU is running, so nothing is reported yet
        java.lang.reflect.Field f = DebugController.class.getDeclaredField("lock");
        f.setAccessible(true);
        Object lock = f.get(g.dbg);
        Thread late = new Thread(() -> g.dbg.beforeInstructions(v, 100), "late-vcpu");
        late.setDaemon(true);
        synchronized (lock) {
            late.start();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_S);
            while (late.getState() != Thread.State.BLOCKED && System.nanoTime() < deadline) {
                Thread.onSpinWait();
            }
            assertEquals(Thread.State.BLOCKED, late.getState(), "the vCPU waits for the lock inside park");
            resume(DebugController.Action.CONTINUE); // cancels the halt before the vCPU gets the lock
        }
        late.join(TimeUnit.SECONDS.toMillis(WAIT_S));
        assertTrue(!late.isAlive(), "the vCPU went on running instead of parking for a cancelled halt");
        g.dbg.interrupt();
        Thread back = new Thread(() -> g.dbg.beforeInstructions(v, 100), "vcpu-back");
        back.setDaemon(true);
        back.start(); // the vCPU comes back from its quantum and parks for the new halt
        assertEquals(StopEvent.Reason.INTERRUPT, next().reason());
        assertNull(events.poll());
        resume(DebugController.Action.CONTINUE);
        back.join(TimeUnit.SECONDS.toMillis(WAIT_S));
    }

    /**
     * The race behind the intermittent failure of the test above (round 0): the first stop is reported
     * while a vCPU thread has not entered its run loop yet, and that vCPU must not make the reported stop
     * look unfinished when it enters: it parks before running anything. Forced without threads racing.
     */
    @Test
    void aVcpuEnteringItsRunLoopWhileStoppedCountsAsParked() throws Exception {
        machine(1);
        Vcpu v = g.machine.vcpu(0);
        g.dbg.interrupt();
        assertEquals(StopEvent.Reason.INTERRUPT, next().reason(), "no vCPU running: reported at once");
        assertTrue(g.dbg.isStopped());
        g.dbg.vcpuStarted(v);
        assertTrue(g.dbg.isStopped(), "the vCPU entering its run loop parks before its first instruction");
        long before = g.state(0).instructions;
        Thread t = new Thread(() -> g.dbg.beforeInstructions(v, 100), "vcpu-entering");
        t.setDaemon(true);
        t.start();
        g.dbg.interrupt();
        assertNull(events.poll(), "an interrupt of the stopped machine reports nothing");
        resume(DebugController.Action.CONTINUE);
        t.join(TimeUnit.SECONDS.toMillis(WAIT_S));
        assertTrue(!t.isAlive(), "released by the resume");
        assertEquals(before, g.state(0).instructions);
        assertTrue(!g.dbg.isStopped());
    }

    @Test
    void machineExitedReleasesParkedVcpusAndIsReported() throws Exception {
        machine(1);
        g.dbg.addBreakpoint(GuestLoop.STORE);
        g.start();
        next();
        g.machine.shutdown();
        g.dbg.machineExited(5);
        StopEvent e = next();
        assertEquals(StopEvent.Reason.EXITED, e.reason());
        assertEquals(5, e.exitStatus());
        assertEquals(StopEvent.Reason.EXITED, g.dbg.lastStop().reason());
        g.dbg.interrupt();
        assertNull(events.poll(), "no stop after exit");
    }
}
