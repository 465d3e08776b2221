package org.mmulab.emulator.machine;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

import org.mmulab.emulator.cpu.CpuState;
import org.mmulab.emulator.cpu.Exit;
import org.mmulab.emulator.cpu.InstructionTiming;
import org.mmulab.emulator.cpu.Interpreter;
import org.mmulab.emulator.cpu.Vectors;
import org.mmulab.emulator.debug.DebugController;
import org.mmulab.emulator.memory.PhysicalMemory;
import org.mmulab.emulator.mmu.CpuModel;
import org.mmulab.emulator.mmu.Mmu;
import org.mmulab.emulator.mmu.MmuCounters;
import org.mmulab.emulator.mmu.WalkerYield;
import org.mmulab.emulator.timing.CacheHierarchy;
import org.mmulab.emulator.timing.InstrClass;
import org.mmulab.emulator.timing.TimingModel;
import org.mmulab.emulator.timing.VcpuClock;
import org.mmulab.emulator.timing.WalkTiming;

/**
 * One virtual CPU: architectural state, its MMU and TLBs, and the interpreter that runs it. The run
 * loop hands every trap to the {@link TrapHandler} and resumes until someone calls {@link #stop()}.
 *
 * <p>SMP (how it works): the loop runs on the vCPU's own host thread ({@link Machine#runAll}), and
 * nothing but that thread touches the vCPU's TLBs, paging-structure caches, fast path, CR3 or clock
 * (the clock's {@code ipiReceived} excepted). Other vCPUs reach it through its IPI mailbox: a queued
 * call {@linkplain #interrupt interrupts} the interpreter (it returns at the next poll, at most 1,024
 * instructions later, which also ends the cached fetch translation) and the loop runs the call before
 * the next quantum; an {@linkplain #idle idle} vCPU is unparked for it; a vCPU waiting for its own
 * acknowledgements or spinning in the kernel ({@link Machine#serviceIpis}) runs it there. After every
 * 65,536 instructions and after every interrupt the loop calls {@link TrapHandler#tick} (the kernel's
 * scheduler tick). Under DETERMINISTIC scheduling the loop also yields the baton after every quantum
 * ({@link Machine#quantum()} instructions) and the MMU at every walker load and A/D update.
 *
 * <p>Timing (DESIGN.md §2 {@code timing}): every vCPU has a {@link VcpuClock}. Under
 * {@link TimingMode#CYCLE} the interpreter charges each instruction its class cost
 * ({@link InstructionTiming}), the MMU charges STLB hits and walker loads through this vCPU's cache
 * model ({@link WalkTiming}), and the kernel's memory accesses go through the same caches. Under
 * {@link TimingMode#FAST} nothing is added to the hot paths: {@link #cycles()} is computed from the
 * counters at fixed prices (every instruction a SIMPLE one, every L1 TLB miss an STLB lookup, every
 * walker load an L1D hit) plus what the
 * kernel charged. The run loop charges trap entry and exit and times every page fault (hardware part
 * from the faulting instruction's issue, plus the kernel's handling, plus IRET) into the histogram.
 */
public final class Vcpu {
    /** Instructions per interpreter call; a stop request is seen within one quantum. */
    static final long QUANTUM = 1 << 16;

    private final int id;
    private final Machine machine;
    public final CpuState state = new CpuState();
    private final Mmu mmu;
    private final Interpreter interpreter;
    private volatile boolean stopRequested;
    /** IPI calls queued for this vCPU (kernel/smp.c call_single_queue). */
    private final ConcurrentLinkedQueue<IpiCall> mailbox = new ConcurrentLinkedQueue<>();
    /** Guards {@link #online} against a sender that runs a call itself while the loop starts. */
    private final Object onlineLock = new Object();
    private boolean online;
    /** Calls for this vCPU being run by their senders while it is offline; guarded by onlineLock. */
    private int offlineCalls;
    private volatile Thread thread;
    private volatile boolean idling, kicked, tickDue;
    /** The IPI batch this vCPU waits for under the baton scheduler (its eligibility), else null. */
    IpiCall.Batch awaiting;
    /**
     * Guest monotonic time (ns, {@link GuestTime#monotonicNanos}) at which {@link #idle} must return
     * even if its condition is still false: the kernel sets it before idling for a timed wait
     * (futex timeouts, nanosleep); {@code Long.MAX_VALUE}: no deadline.
     */
    public volatile long idleDeadlineNanos = Long.MAX_VALUE;
    private volatile boolean running;
    private volatile InstructionTrace trace;
    private volatile DebugController debug;
    private final TimingModel timingModel;
    private VcpuClock clock;
    private WalkTiming walkTiming;
    private InstructionTiming instructionTiming;

    Vcpu(Machine machine, int id, PhysicalMemory mem, CpuModel model) {
        this.machine = machine;
        this.id = id;
        this.mmu = new Mmu(mem, state, model);
        this.interpreter = new Interpreter(state, mmu, mem);
        this.timingModel = mmu.model().timing();
        configureTiming(TimingMode.FAST, null);
    }

    /** Installs the page walker's yield points (DETERMINISTIC scheduling) or removes them. */
    void setWalkerYield(boolean on) {
        mmu.setWalkerYield(on ? new WalkerYield() {
            @Override
            public void beforeLoad() {
                machine.scheduler().yieldPoint(Vcpu.this, YieldKind.WALKER_LOAD);
            }

            @Override
            public void beforeAdUpdate() {
                machine.scheduler().yieldPoint(Vcpu.this, YieldKind.AD_CAS);
            }
        } : null);
    }

    /** Selects the timing level; call before the vCPU runs. Resets this vCPU's cycle account. */
    void configureTiming(TimingMode mode, org.mmulab.emulator.timing.CoherenceDomain domain) {
        if (mode == TimingMode.CYCLE) {
            CacheHierarchy caches = domain != null ? domain.join() : timingModel.buildCaches();
            clock = new VcpuClock(timingModel, caches);
            // the prefetcher times its fills on the clock
            walkTiming = new WalkTiming(caches, timingModel.stlbHit(), timingModel.hostLayer().walkCycles(), clock);
            instructionTiming = new InstructionTiming(state, timingModel, clock, walkTiming);
        } else {
            walkTiming = null;
            clock = new VcpuClock(timingModel, null);
            instructionTiming = null;
        }
        mmu.setTiming(walkTiming);
        interpreter.setTiming(instructionTiming);
    }

    public TimingMode timingMode() {
        return walkTiming != null ? TimingMode.CYCLE : TimingMode.FAST;
    }

    /** This vCPU's cycle account (kernel work, traps, locks, IPIs, fault histogram). */
    public VcpuClock clock() {
        return clock;
    }

    /** The MMU's walk timing under cycle mode (page_walker_loads by level), else null. */
    public WalkTiming walkTiming() {
        return walkTiming;
    }

    /**
     * perf's {@code cycles} for this vCPU: in cycle mode the sum of instruction, walk and kernel charges;
     * in fast mode the counters at fixed prices plus the kernel's charges.
     */
    public long cycles() {
        if (walkTiming != null) {
            return clock.cycles() + walkTiming.cycles;
        }
        MmuCounters m = mmu.counters;
        return clock.cycles() + state.instructions * timingModel.cycles(InstrClass.SIMPLE)
                + (m.dtlbMisses + m.itlbMisses) * timingModel.stlbHit() + m.walkerLoads * timingModel.l1d().latency();
    }

    /** The time-stamp counter: cycles plus idle cycles (an invariant TSC at the core frequency). */
    public long tsc() {
        return cycles() + clock.idleCycles();
    }

    /** Virtual time of this vCPU in nanoseconds: TSC / frequency. */
    public long virtualNanos() {
        return timingModel.cyclesToNanos(tsc());
    }

    public int id() {
        return id;
    }

    public Machine machine() {
        return machine;
    }

    public Mmu mmu() {
        return mmu;
    }

    public Interpreter interpreter() {
        return interpreter;
    }

    public void setTrace(InstructionTrace t) {
        this.trace = t;
    }

    /** Attaches the debugger's run control (breakpoints, stepping, all-stop). */
    public void setDebugController(DebugController d) {
        this.debug = d;
    }

    /** Asks the run loop to return; safe from any thread and from inside a trap handler. Wakes an idle vCPU. */
    public void stop() {
        stopRequested = true;
        interpreter.requestStop();
        LockSupport.unpark(thread);
    }

    /** True once {@link #stop()} was called (the loop returns at the next instruction boundary). */
    public boolean isStopRequested() {
        return stopRequested;
    }

    /** True while the run loop is active on some thread (it then runs IPI calls sent to it itself). */
    public boolean isRunning() {
        return running;
    }

    /**
     * Makes the interpreter return to the run loop at the next instruction boundary (within 1024
     * instructions); the loop then services the mailbox and calls {@link TrapHandler#tick}. Safe from
     * any thread.
     */
    public void interrupt() {
        tickDue = true;
        interpreter.interrupt();
    }

    // ---- IPIs ---------------------------------------------------------------------------------

    /**
     * Queues {@code call} for this vCPU and makes it notice (interrupt the quantum, wake it from idle).
     * When the loop is not running (not started yet, or finished) the caller runs the call itself: this
     * vCPU's TLBs are not in use, and nobody else would.
     */
    void post(IpiCall call) {
        mailbox.add(call);
        interrupt();
        machine.scheduler().posted(this);
        LockSupport.unpark(thread);
        synchronized (onlineLock) {
            if (online || !call.claim()) {
                return;
            }
            offlineCalls++; // the loop cannot start while a sender runs a call for it
        }
        try {
            call.run(this); // outside the lock: the call may reach yield points
        } finally {
            synchronized (onlineLock) {
                offlineCalls--;
                onlineLock.notifyAll();
            }
        }
    }

    /** Runs the calls queued for this vCPU; on its own thread. Returns how many ran. */
    int serviceMailbox() {
        int n = 0;
        IpiCall c;
        while ((c = mailbox.poll()) != null) {
            if (c.claim()) {
                c.run(this);
                n++;
                machine.scheduler().yieldPoint(this, YieldKind.IPI_ACK);
            }
        }
        return n;
    }

    boolean hasMail() {
        return !mailbox.isEmpty();
    }

    /** The host thread running this vCPU's loop, or null. */
    Thread thread() {
        return thread;
    }

    /** Wakes this vCPU if it idles, to re-check its idle condition. */
    void kick() {
        kicked = true;
        machine.scheduler().kicked(this);
        LockSupport.unpark(thread);
    }

    /**
     * The kernel's idle loop for this vCPU, called on its own thread (from a trap handler): returns
     * when {@code until} is true, when {@link #idleDeadlineNanos} (guest monotonic time) has passed, or
     * when the vCPU or machine stops. The mailbox is serviced meanwhile. PARALLEL: the thread parks
     * (no host CPU) and is woken by {@link Machine#kick}, an IPI or stop; the parked host time is
     * counted as idle cycles. DETERMINISTIC: the baton goes to another vCPU and this one is not picked
     * again until kicked, sent an IPI, or every vCPU idles (then virtual time jumps to the earliest
     * deadline); the virtual time it waited is counted as idle cycles.
     */
    public void idle(BooleanSupplier until) {
        if (Thread.currentThread() != thread) {
            throw new IllegalStateException("vCPU " + id + " idles only on its own thread");
        }
        Scheduler sched = machine.scheduler();
        GuestTime time = machine.guestTime();
        try {
            while (true) {
                serviceMailbox();
                kicked = false;
                if (until.getAsBoolean() || stopRequested || time.monotonicNanos(this) >= idleDeadlineNanos) {
                    return;
                }
                idling = true;
                if (hasMail() || kicked || stopRequested) {
                    idling = false;
                    continue;
                }
                sched.idle(this, time);
                idling = false;
            }
        } finally {
            idling = false;
        }
    }

    /** True while this vCPU waits in {@link #idle} (scheduler eligibility). */
    boolean isIdling() {
        return idling;
    }

    boolean isKicked() {
        return kicked;
    }

    /**
     * Joins or leaves the set of vCPUs whose mailbox is serviced by their own thread. Joining waits for
     * calls senders are running for this vCPU meanwhile (they use its TLBs).
     */
    private void setOnline(boolean on) {
        synchronized (onlineLock) {
            boolean interrupted = false;
            while (on && offlineCalls > 0) {
                try {
                    onlineLock.wait();
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            online = on;
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Runs guest code on the calling thread until {@link #stop()}. */
    public void run() {
        TrapHandler kernel = machine.trapHandler();
        DebugController d = debug;
        Scheduler sched = machine.scheduler();
        thread = Thread.currentThread();
        machine.enter(this);
        setOnline(true);
        running = true; // after going online: a sender that saw it running queues its calls for this thread
        if (d != null) {
            d.vcpuStarted(this);
        }
        try {
            sched.started(this);
            long sinceTick = 0;
            while (!stopRequested) {
                serviceMailbox();
                InstructionTrace t = trace;
                long budget = t == null ? sched.quantum(this) : 1;
                if (d != null) {
                    budget = d.beforeInstructions(this, budget);
                    if (stopRequested) {
                        break;
                    }
                }
                long before = state.instructions;
                int exit = interpreter.run(budget);
                sinceTick += state.instructions - before;
                InstructionTiming it = instructionTiming;
                if (it != null) {
                    it.settle();
                }
                switch (exit) {
                    case Exit.BUDGET -> {
                        if (t != null) {
                            t.retired(this);
                        }
                    }
                    case Exit.SYSCALL, Exit.INT80 -> {
                        clock.syscallEntry();
                        kernel.syscall(this, exit == Exit.INT80);
                        clock.syscallExit();
                        if (t != null && !stopRequested) {
                            t.retired(this);
                        }
                    }
                    case Exit.EXCEPTION -> {
                        int vector = state.exceptionVector;
                        state.exceptionVector = -1;
                        long start = it != null ? it.issueCycles() : cycles();
                        clock.exceptionEntry();
                        kernel.exception(this, vector, state.exceptionErrorCode);
                        clock.exceptionExit();
                        if (vector == Vectors.PF) {
                            clock.recordFault(cycles() - start);
                        }
                    }
                    case Exit.HALT -> {
                        if (stopRequested) {
                            return;
                        }
                    }
                    default -> throw new IllegalStateException("unknown interpreter exit " + exit);
                }
                if (d != null && !stopRequested) {
                    d.afterInstructions(this, exit);
                }
                if (stopRequested) {
                    break;
                }
                if (sinceTick >= QUANTUM || tickDue) {
                    // The scheduler tick: after each 65,536 instructions and after an interrupt.
                    sinceTick = 0;
                    tickDue = false;
                    serviceMailbox();
                    kernel.tick(this);
                }
                sched.endOfQuantum(this);
            }
        } finally {
            // Leave the online set first: from here on senders run calls for this vCPU themselves;
            // then run what was queued before (exactly one of the two runs each call).
            setOnline(false);
            serviceMailbox();
            machine.leave();
            running = false;
            sched.finished(this);
            thread = null;
            if (d != null) {
                d.vcpuFinished(this);
            }
        }
    }
}
