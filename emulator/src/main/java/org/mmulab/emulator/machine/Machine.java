package org.mmulab.emulator.machine;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

import org.mmulab.emulator.memory.PhysicalMemory;
import org.mmulab.emulator.mmu.CpuModel;
import org.mmulab.emulator.timing.VcpuClock;

/**
 * A machine: guest RAM, N vCPUs and the trap handler (the kernel). {@link #run(int)} runs vCPUs until
 * they stop. Scheduling modes (PARALLEL threads, DETERMINISTIC interleaving) arrive with multi-vCPU
 * guests; today the boot vCPU runs on the caller's thread.
 */
public final class Machine {
    /** Skylake client reports 39 physical address bits (CPUID.80000008H:EAX[7:0]). */
    public static final int DEFAULT_MAXPHYADDR = 39;

    private final PhysicalMemory memory;
    private final List<Vcpu> vcpus;
    private volatile TrapHandler trapHandler;
    private GuestTime guestTime = GuestTime.host();
    /** The vCPU running on each host thread (for charging kernel work to it). */
    private final ThreadLocal<Vcpu> current = new ThreadLocal<>();

    public Machine(long ramBytes, int cpus) {
        this(ramBytes, cpus, CpuModel.SKYLAKE.withMaxPhysAddrBits(DEFAULT_MAXPHYADDR));
    }

    /** A machine whose vCPUs are {@code model} ({@code --cpu-model}): its TLBs, caches and timing. */
    public Machine(long ramBytes, int cpus, CpuModel model) {
        if (cpus < 1 || cpus > 64) {
            throw new IllegalArgumentException("vCPU count must be 1..64: " + cpus);
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
        for (Vcpu v : vcpus) {
            v.configureTiming(mode);
        }
    }

    public TimingMode timingMode() {
        return vcpus.get(0).timingMode();
    }

    /**
     * {@code --deterministic --seed S}: guest clocks and RDTSC follow virtual time and everything random
     * the kernel hands out comes from {@code seed}. Call before running.
     */
    public void setDeterministic(long seed) {
        guestTime = GuestTime.deterministic(seed);
        for (Vcpu v : vcpus) {
            v.state.tscSource = v::tsc;
        }
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

    /** Runs vCPU {@code id} on the calling thread until it stops. */
    public void run(int id) {
        vcpu(id).run();
    }

    /** Stops every vCPU. */
    public void shutdown() {
        for (Vcpu v : vcpus) {
            v.stop();
        }
    }
}
