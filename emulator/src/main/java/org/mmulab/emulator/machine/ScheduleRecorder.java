package org.mmulab.emulator.machine;

/**
 * Told of every decision of the {@link Machine.Scheduling#DETERMINISTIC} scheduler: "vCPU
 * {@code vcpu} did {@code kind} at yield {@code yieldIndex}, then vCPU {@code next} ran". Called on the
 * baton holder's thread, so an implementation needs no locking; {@code next} is -1 when no vCPU is
 * left to run.
 */
@FunctionalInterface
public interface ScheduleRecorder {
    void yielded(long yieldIndex, int vcpu, YieldKind kind, int next);
}
