package org.mmulab.emulator.machine;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;

import org.mmulab.emulator.memory.PhysicalMemory;
import org.mmulab.emulator.mmu.CpuModel;
import org.mmulab.emulator.timing.VcpuClock;

/**
 * A machine: guest RAM, 1..256 vCPUs and the trap handler (the kernel).
 *
 * <p>How the vCPUs run ({@link #runAll}): each on its own host thread (vCPU 0 on the caller's), until
 * every loop has stopped. Two scheduling modes:
 * <ul>
 * <li>{@link Scheduling#PARALLEL} (default): the threads run freely; {@link #yieldPoint} is a no-op;
 *     the quantum is 65,536 instructions, cut short by {@link Vcpu#interrupt} (IPIs use it).</li>
 * <li>{@link Scheduling#DETERMINISTIC} ({@link #setDeterministic}): a baton ({@link BatonScheduler}) lets
 *     exactly one thread run; at each yield point a seeded PRNG (or a replayed schedule) picks the next.
 *     The quantum is {@link #DEFAULT_DETERMINISTIC_QUANTUM} instructions unless
 *     {@link #setDeterministicQuantum} says otherwise (a 1-vCPU machine keeps 65,536: nobody to
 *     interleave with, and its runs stay identical to the single-vCPU emulator's).</li>
 * </ul>
 * IPIs (kernel/smp.c {@code smp_call_function_many}): {@link #sendIpis} queues a call in each target's
 * mailbox, interrupts its quantum and wakes it; the target runs the call on its own thread at an
 * instruction boundary, or while it idles, spins ({@link #serviceIpis}) or waits for its own acks. So a
 * TLB flush only ever runs on the vCPU that owns the TLB, and the sender returns after every target
 * acknowledged.
 *
 * <p>Under DETERMINISTIC scheduling a vCPU thread must never block on something only another vCPU
 * can release (a Java monitor or lock another vCPU holds, a latch): that vCPU is parked waiting for
 * the baton. Kernel waits spin at {@link #yieldPoint} ({@code LOCK_SPIN}), idle ({@link Vcpu#idle}) or
 * wait for IPI acks, all of which hand the baton over.
 */
public final class Machine {
    /** Skylake client reports 39 physical address bits (CPUID.80000008H:EAX[7:0]). */
    public static final int DEFAULT_MAXPHYADDR = 39;
    /** The largest machine: 256 vCPUs (8-bit xAPIC ids). */
    public static final int MAX_CPUS = 256;
    /**
     * DETERMINISTIC mode's instruction quantum for machines of 2+ vCPUs: 4,096. Small enough that user
     * code alone interleaves at a fine grain (a few microseconds of guest time), large enough that
     * hand-overs (a park/unpark each) stay a minor cost next to the instructions.
     */
    public static final int DEFAULT_DETERMINISTIC_QUANTUM = 4096;

    /** How the vCPU threads share the host. */
    public enum Scheduling {
        /** One free-running host thread per vCPU. */
        PARALLEL,
        /** One thread per vCPU, a baton, a seeded choice at each yield point: reproducible interleavings. */
        DETERMINISTIC
    }

    private final PhysicalMemory memory;
    private final List<Vcpu> vcpus;
    private volatile TrapHandler trapHandler;
    private GuestTime guestTime = GuestTime.host();
    /** The vCPU running on each host thread (for charging kernel work to it). */
    private final ThreadLocal<Vcpu> current = new ThreadLocal<>();
    /** PARALLEL's no-op scheduler or the baton; read on every yield point. */
    private Scheduler scheduler = Scheduler.PARALLEL;
    private int deterministicQuantum;
    private volatile boolean guestDeadlocked;

    public Machine(long ramBytes, int cpus) {
        this(ramBytes, cpus, CpuModel.SKYLAKE.withMaxPhysAddrBits(DEFAULT_MAXPHYADDR));
    }

    /** A machine whose vCPUs are {@code model} ({@code --cpu-model}): its TLBs, caches and timing. */
    public Machine(long ramBytes, int cpus, CpuModel model) {
        if (cpus < 1 || cpus > MAX_CPUS) {
            throw new IllegalArgumentException("vCPU count must be 1.." + MAX_CPUS + ": " + cpus);
        }
        this.memory = new PhysicalMemory(ramBytes);
        List<Vcpu> list = new ArrayList<>(cpus);
        for (int i = 0; i < cpus; i++) {
            list.add(new Vcpu(this, i, memory, model));
        }
        this.vcpus = List.copyOf(list);
        for (Vcpu v : vcpus) {
            v.state.cpuIndex = v.id(); // CPUID's APIC id and topology
            v.state.cpuCount = cpus;
        }
    }

    public PhysicalMemory memory() {
        return memory;
    }

    public List<Vcpu> vcpus() {
        return vcpus;
    }

    public Vcpu vcpu(int i) {
        return vcpus.get(i);
    }

    /** {@code --timing}: selects every vCPU's timing level and resets their cycle accounts. Call before running. */
    public void configureTiming(TimingMode mode) {
        // N vCPUs under cycle timing share an LLC and keep their private caches coherent (timing.CoherenceDomain).
        var domain = mode == TimingMode.CYCLE && vcpus.size() > 1
                ? new org.mmulab.emulator.timing.CoherenceDomain(vcpus.get(0).mmu().model().timing(), vcpus.size()) : null;
        for (Vcpu v : vcpus) {
            v.configureTiming(mode, domain);
        }
    }

    public TimingMode timingMode() {
        return vcpus.get(0).timingMode();
    }

    /**
     * {@code --deterministic --seed S}: guest clocks and RDTSC follow virtual time, everything random the
     * kernel hands out comes from {@code seed}, and the vCPUs run under the baton scheduler whose choices
     * come from {@code seed} too. Call before running.
     */
    public void setDeterministic(long seed) {
        guestTime = GuestTime.deterministic(seed);
        for (Vcpu v : vcpus) {
            v.state.tscSource = v::tsc;
        }
        long q = deterministicQuantum > 0 ? deterministicQuantum
                : vcpus.size() == 1 ? Vcpu.QUANTUM : DEFAULT_DETERMINISTIC_QUANTUM;
        BatonScheduler b = new BatonScheduler(this, seed, q);
        scheduler = b;
        for (Vcpu v : vcpus) {
            v.setWalkerYield(true);
        }
    }

    /**
     * {@code --quantum N}: DETERMINISTIC mode's instructions between two QUANTUM yield points (N >= 1).
     * Call before {@link #setDeterministic}.
     */
    public void setDeterministicQuantum(int n) {
        if (n < 1) {
            throw new IllegalArgumentException("quantum must be at least 1 instruction: " + n);
        }
        deterministicQuantum = n;
    }

    /** The instruction quantum of the current mode. */
    public long quantum() {
        return scheduler instanceof BatonScheduler b ? b.quantumLength() : Vcpu.QUANTUM;
    }

    public Scheduling scheduling() {
        return scheduler instanceof BatonScheduler ? Scheduling.DETERMINISTIC : Scheduling.PARALLEL;
    }

    /** DETERMINISTIC mode: replaces the seeded choice (race explorer replay). Call before running. */
    public void setScheduleSource(ScheduleSource s) {
        baton().setSource(Objects.requireNonNull(s));
    }

    /** DETERMINISTIC mode: logs every scheduling decision (null: none). Call before running. */
    public void setScheduleRecorder(ScheduleRecorder r) {
        baton().setRecorder(r);
    }

    private BatonScheduler baton() {
        if (scheduler instanceof BatonScheduler b) {
            return b;
        }
        throw new IllegalStateException("schedules exist in DETERMINISTIC mode only (setDeterministic first)");
    }

    Scheduler scheduler() {
        return scheduler;
    }

    /** The guest's clocks (host or virtual time). */
    public GuestTime guestTime() {
        return guestTime;
    }

    /**
     * The cycle account of the vCPU the calling thread runs (the kernel runs on the trapping vCPU's
     * thread); the boot vCPU's when the caller is not a vCPU thread (exec before the first run).
     */
    public VcpuClock currentClock() {
        if (vcpus.size() == 1) {
            return vcpus.get(0).clock();
        }
        Vcpu v = current.get();
        return (v != null ? v : vcpus.get(0)).clock();
    }

    /** The vCPU whose loop runs on the calling thread, or null. */
    public Vcpu currentVcpu() {
        return current.get();
    }

    void enter(Vcpu v) {
        current.set(v);
    }

    void leave() {
        current.remove();
    }

    public void setTrapHandler(TrapHandler h) {
        this.trapHandler = Objects.requireNonNull(h);
    }

    public TrapHandler trapHandler() {
        TrapHandler h = trapHandler;
        if (h == null) {
            throw new IllegalStateException("no trap handler (kernel) installed");
        }
        return h;
    }

    /** Runs vCPU {@code id} alone on the calling thread until it stops (the other vCPUs do not run). */
    public void run(int id) {
        trapHandler();
        scheduler.prepare(List.of(vcpu(id)));
        vcpu(id).run();
    }

    /**
     * Runs every vCPU, each on its own host thread (vCPU 0 on the caller's), and returns when all have
     * stopped ({@link #shutdown} or each {@link Vcpu#stop}). With one vCPU this is {@code run(0)}. If a
     * vCPU's loop throws (a kernel bug), the machine is shut down and the first such exception is
     * rethrown here once every thread has ended. Returns the number of vCPUs that ran.
     */
    public int runAll() {
        trapHandler();
        int n = vcpus.size();
        scheduler.prepare(vcpus);
        Throwable[] failure = new Throwable[1];
        Thread[] threads = new Thread[n];
        for (int i = 1; i < n; i++) {
            Vcpu v = vcpus.get(i);
            threads[i] = new Thread(() -> runGuarded(v, failure), "vcpu-" + i);
            threads[i].setDaemon(true);
        }
        for (int i = 1; i < n; i++) {
            threads[i].start();
        }
        runGuarded(vcpus.get(0), failure);
        for (int i = 1; i < n; i++) {
            joinUninterruptibly(threads[i]);
        }
        Throwable f;
        synchronized (failure) {
            f = failure[0];
        }
        if (f instanceof RuntimeException re) {
            throw re;
        }
        if (f instanceof Error e) {
            throw e;
        }
        if (f != null) {
            throw new IllegalStateException(f);
        }
        return n;
    }

    private void runGuarded(Vcpu v, Throwable[] failure) {
        try {
            v.run();
        } catch (Throwable t) {
            synchronized (failure) {
                if (failure[0] == null) {
                    failure[0] = t;
                }
            }
            shutdown();
        }
    }

    private static void joinUninterruptibly(Thread t) {
        boolean interrupted = false;
        while (true) {
            try {
                t.join();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** Stops every vCPU and wakes the idle or waiting ones. */
    public void shutdown() {
        for (Vcpu v : vcpus) {
            v.stop();
        }
    }

    /**
     * True when, under DETERMINISTIC scheduling, every vCPU ended up waiting (idle without a deadline,
     * or for acks) with nobody left to wake it, so the machine stopped them all instead of hanging.
     */
    public boolean guestDeadlocked() {
        return guestDeadlocked;
    }

    void guestDeadlock() {
        guestDeadlocked = true;
        shutdown();
    }

    /**
     * A point where, under DETERMINISTIC scheduling, the calling vCPU may hand the baton to another
     * (chosen by the seeded PRNG or the installed schedule). PARALLEL: a no-op (one field read and a
     * virtual call on a constant). No-op on threads that are not running a vCPU.
     */
    public void yieldPoint(YieldKind kind) {
        scheduler.yieldPoint(this, kind);
    }

    /**
     * smp_call_function_many + wait: {@code fn.accept(target)} runs on each target's own thread at an
     * instruction boundary, or while it idles, spins or waits for its own acks; for {@code sender} (if
     * among the targets) synchronously here. Returns after every target acknowledged; meanwhile the
     * sender runs its own mailbox, so vCPUs that IPI each other do not deadlock. A target whose loop is
     * not running (not started or finished) has its call run by the sender: its TLBs are not in use.
     * {@code sender} is the calling thread's vCPU, or null for a thread that runs none (its waiting
     * then only parks). Charges the sender one {@code ipiSent} per remote target and one
     * {@code shootdown} per call with remote targets, each target one {@code ipiReceived}.
     * Yield points: IPI_SEND before the calls are queued, IPI_ACK while waiting and after each call.
     */
    public void sendIpis(Vcpu sender, Collection<Vcpu> targets, Consumer<Vcpu> fn) {
        Objects.requireNonNull(fn);
        int remote = 0;
        boolean self = false;
        for (Vcpu t : targets) {
            if (t == sender) {
                self = true;
            } else {
                remote++;
            }
        }
        if (remote > 0) {
            if (sender != null) {
                scheduler.yieldPoint(sender, YieldKind.IPI_SEND);
            }
            IpiCall.Batch batch = new IpiCall.Batch(Thread.currentThread(), remote);
            for (Vcpu t : targets) {
                if (t != sender) {
                    if (sender != null) {
                        sender.clock().ipiSent();
                    }
                    t.post(new IpiCall(fn, batch));
                }
            }
            if (sender != null) {
                sender.clock().shootdown();
            }
            if (self) {
                fn.accept(sender); // local work overlaps the remote calls, as smp_call_function_many does
            }
            scheduler.awaitAcks(sender != null && sender == current.get() ? sender : null, batch);
        } else if (self) {
            fn.accept(sender);
        }
    }

    /** The calling vCPU runs its pending IPI calls now (kernel lock-spin loops); no-op off a vCPU thread. */
    public void serviceIpis() {
        Vcpu v = current.get();
        if (v != null) {
            v.serviceMailbox();
        }
    }

    /** Wakes {@code v} if it idles, to re-check its idle condition. */
    public void kick(Vcpu v) {
        v.kick();
    }

    /** Wakes every idle vCPU. */
    public void kickAll() {
        for (Vcpu v : vcpus) {
            v.kick();
        }
    }
}
