package org.mmulab.emulator.machine;

import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.locks.LockSupport;

/**
 * {@link Machine.Scheduling#DETERMINISTIC}: one host thread per vCPU and a baton, so that exactly one
 * of them runs at any time; at every yield point the holder asks the {@link ScheduleSource} (a seeded
 * PRNG by default) which eligible vCPU runs next and hands the baton over. The hand-over is a volatile
 * write of {@link #holder} read by the next holder: the happens-before edge that makes everything the
 * previous holder did visible (guest memory, TLB flushes done by IPIs, kernel structures). Because
 * every decision depends only on state written under the baton, the same seed and image give the same
 * interleaving, output, cycles and counters on any host.
 *
 * <p>Eligibility: a vCPU that finished its loop never runs again; one in {@link Vcpu#idle} runs only
 * when kicked, sent an IPI or stopped; one waiting for IPI acknowledgements only when they are all in
 * or its own mailbox is not empty. When no vCPU is eligible and some idle with a deadline, virtual time
 * jumps: the one with the earliest deadline runs and its clock is advanced to it (idle cycles). When
 * none has a deadline the guest can never make progress (every vCPU waits for another): the machine
 * records it ({@link Machine#guestDeadlocked()}) and stops every vCPU rather than hang.
 *
 * <p>A vCPU woken from idle catches its virtual time up to that of the vCPU that handed it the baton,
 * so the sleeping vCPU's TSC does not lag the machine's.
 */
final class BatonScheduler extends Scheduler {
    private final Machine machine;
    private final Vcpu[] vcpus;
    private final long quantum;
    private final int[] eligible;
    private final boolean[] participating;
    private final boolean[] finished;
    /** A vCPU chosen because its idle deadline is the earliest: its clock jumps to the deadline. */
    private final boolean[] warp;
    private ScheduleSource source;
    private ScheduleRecorder recorder;
    /** The vCPU id holding the baton; -1 when none. */
    private volatile int holder = -1;
    private CountDownLatch arrived = new CountDownLatch(0);
    private long yields;
    /** The TSC of the vCPU that last handed the baton over. */
    private long batonTsc;

    BatonScheduler(Machine machine, long seed, long quantum) {
        this.machine = machine;
        this.vcpus = machine.vcpus().toArray(new Vcpu[0]);
        this.quantum = quantum;
        this.eligible = new int[vcpus.length];
        this.participating = new boolean[vcpus.length];
        this.finished = new boolean[vcpus.length];
        this.warp = new boolean[vcpus.length];
        this.source = ScheduleSource.seeded(seed);
    }

    void setSource(ScheduleSource s) {
        this.source = s;
    }

    void setRecorder(ScheduleRecorder r) {
        this.recorder = r;
    }

    long quantumLength() {
        return quantum;
    }

    @Override
    long quantum(Vcpu v) {
        return quantum;
    }

    @Override
    void prepare(List<Vcpu> run) {
        java.util.Arrays.fill(participating, false);
        java.util.Arrays.fill(finished, false);
        java.util.Arrays.fill(warp, false);
        for (Vcpu v : run) {
            participating[v.id()] = true;
        }
        arrived = new CountDownLatch(run.size());
        holder = run.get(0).id();
    }

    @Override
    void started(Vcpu v) {
        if (!participating[v.id()]) {
            // A loop started directly (Vcpu.run, not Machine.run/runAll): it joins the run; the first one
            // takes the baton. Only Machine.run/runAll give a host-independent order.
            synchronized (this) {
                participating[v.id()] = true;
                finished[v.id()] = false;
                if (holder < 0) {
                    holder = v.id();
                }
            }
            waitForBaton(v);
            return;
        }
        // Every loop of the run is online before the first instruction: whether an early IPI is queued
        // or run by its sender must not depend on how fast the host starts threads.
        arrived.countDown();
        boolean interrupted = false;
        while (true) {
            try {
                arrived.await();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        waitForBaton(v);
    }

    @Override
    void endOfQuantum(Vcpu v) {
        yieldPoint(v, YieldKind.QUANTUM);
    }

    @Override
    void finished(Vcpu v) {
        if (holder != v.id()) {
            return; // never got the baton (failed before its first instruction): nothing to hand over
        }
        finished[v.id()] = true;
        int next = pick(v, YieldKind.EXIT);
        if (next >= 0) {
            handOff(v, next);
        } else {
            holder = -1;
        }
    }

    @Override
    void yieldPoint(Machine m, YieldKind kind) {
        Vcpu v = m.currentVcpu();
        if (v != null) {
            yieldPoint(v, kind);
        }
    }

    @Override
    void yieldPoint(Vcpu v, YieldKind kind) {
        if (holds(v)) {
            switchFrom(v, kind);
        }
    }

    private boolean holds(Vcpu v) {
        return holder == v.id() && Thread.currentThread() == v.thread();
    }

    @Override
    void idle(Vcpu v, GuestTime time) {
        if (!holds(v)) {
            super.idle(v, time);
            return;
        }
        switchFrom(v, YieldKind.IDLE);
        if (warp[v.id()]) {
            warp[v.id()] = false;
            long deadline = v.idleDeadlineNanos;
            long now;
            while ((now = time.monotonicNanos(v)) < deadline) {
                v.clock().idle(Math.max(1, v.clock().model().nanosToCycles(deadline - now)));
            }
        } else {
            long behind = batonTsc - v.tsc();
            if (behind > 0) {
                v.clock().idle(behind);
            }
        }
    }

    @Override
    void awaitAcks(Vcpu sender, IpiCall.Batch batch) {
        if (sender == null || !holds(sender)) {
            super.awaitAcks(sender, batch);
            return;
        }
        sender.awaiting = batch;
        try {
            while (!batch.done()) {
                sender.serviceMailbox();
                if (batch.done()) {
                    break;
                }
                switchFrom(sender, YieldKind.IPI_ACK);
            }
        } finally {
            sender.awaiting = null;
        }
    }

    /** The holder {@code v} lets the source pick the next vCPU and, if another, waits for the baton back. */
    private void switchFrom(Vcpu v, YieldKind kind) {
        int next = pick(v, kind);
        if (next != v.id()) {
            handOff(v, next);
            waitForBaton(v);
        }
    }

    private void handOff(Vcpu from, int to) {
        batonTsc = from.tsc();
        holder = to;
        LockSupport.unpark(vcpus[to].thread());
    }

    private void waitForBaton(Vcpu v) {
        while (holder != v.id()) {
            LockSupport.park(this);
        }
    }

    /** Decides who runs after yield point {@code yields} of {@code v}: -1 when every vCPU has finished. */
    private int pick(Vcpu v, YieldKind kind) {
        long k = yields++;
        int n = 0;
        for (int i = 0; i < vcpus.length; i++) {
            if (eligible(i)) {
                eligible[n++] = i;
            }
        }
        int next;
        if (n > 0) {
            next = source.next(k, v.id(), kind, eligible, n);
            if (!isIn(next, n)) {
                throw new IllegalStateException("schedule source picked vCPU " + next + ", not eligible at yield " + k);
            }
        } else {
            next = noneEligible();
        }
        ScheduleRecorder r = recorder;
        if (r != null) {
            r.yielded(k, v.id(), kind, next);
        }
        return next;
    }

    private boolean isIn(int id, int n) {
        for (int i = 0; i < n; i++) {
            if (eligible[i] == id) {
                return true;
            }
        }
        return false;
    }

    private boolean eligible(int i) {
        if (!participating[i] || finished[i]) {
            return false;
        }
        Vcpu v = vcpus[i];
        if (v.isStopRequested() || v.hasMail() || warp[i]) {
            return true;
        }
        if (v.isIdling()) {
            return v.isKicked();
        }
        IpiCall.Batch b = v.awaiting;
        return b == null || b.done();
    }

    /** Every live vCPU waits: jump virtual time to the earliest idle deadline, or stop a deadlocked guest. */
    private int noneEligible() {
        int best = -1;
        int firstLive = -1;
        for (int i = 0; i < vcpus.length; i++) {
            if (!participating[i] || finished[i]) {
                continue;
            }
            if (firstLive < 0) {
                firstLive = i;
            }
            Vcpu v = vcpus[i];
            if (v.isIdling() && v.idleDeadlineNanos != Long.MAX_VALUE
                    && (best < 0 || v.idleDeadlineNanos < vcpus[best].idleDeadlineNanos)) {
                best = i;
            }
        }
        if (best >= 0) {
            warp[best] = true;
            return best;
        }
        if (firstLive >= 0) {
            machine.guestDeadlock();
        }
        return firstLive;
    }
}
