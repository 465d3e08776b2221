package org.mmulab.emulator.machine;

import java.time.Instant;

/**
 * The clocks a guest can read (clock_gettime's CLOCK_REALTIME and CLOCK_MONOTONIC families, RDTSC)
 * and how it sleeps. Host time by default. Under {@code --deterministic} every clock is virtual: a
 * vCPU's time is its TSC (cycles plus idle cycles) divided by the timing model's frequency, REALTIME
 * starts at {@link #VIRTUAL_EPOCH_SECONDS}, and a sleep advances the vCPU's idle cycles instead of
 * blocking the host — so the same image and seed read the same times.
 */
public final class GuestTime {
    /** CLOCK_REALTIME at virtual time 0 under {@code --deterministic}: 2024-01-01T00:00:00Z. */
    public static final long VIRTUAL_EPOCH_SECONDS = 1_704_067_200L;

    private final boolean virtual;
    private final long seed;
    private final long hostStart = System.nanoTime();

    private GuestTime(boolean virtual, long seed) {
        this.virtual = virtual;
        this.seed = seed;
    }

    static GuestTime host() {
        return new GuestTime(false, 0);
    }

    static GuestTime deterministic(long seed) {
        return new GuestTime(true, seed);
    }

    /** True under {@code --deterministic}: every clock follows virtual time. */
    public boolean isVirtual() {
        return virtual;
    }

    /** The {@code --seed} of a deterministic machine (0 otherwise). */
    public long seed() {
        return seed;
    }

    /** CLOCK_MONOTONIC (and BOOTTIME, the CPU-time clocks) in nanoseconds since boot. */
    public long monotonicNanos(Vcpu cpu) {
        return virtual ? cpu.virtualNanos() : System.nanoTime() - hostStart;
    }

    /** CLOCK_REALTIME in nanoseconds since the Unix epoch. */
    public long realtimeNanos(Vcpu cpu) {
        if (virtual) {
            return VIRTUAL_EPOCH_SECONDS * 1_000_000_000L + cpu.virtualNanos();
        }
        Instant now = Instant.now();
        return now.getEpochSecond() * 1_000_000_000L + now.getNano();
    }

    /**
     * Sleeps {@code nanos}: under virtual time the vCPU's clock moves forward by that much (no host
     * wait); otherwise the calling thread sleeps. Throws when the host sleep is interrupted.
     */
    public void sleep(Vcpu cpu, long nanos) throws InterruptedException {
        if (nanos <= 0) {
            return;
        }
        if (virtual) {
            cpu.clock().idle(cpu.clock().model().nanosToCycles(nanos));
            return;
        }
        long ms = nanos / 1_000_000;
        Thread.sleep(ms, (int) (nanos % 1_000_000));
    }
}
