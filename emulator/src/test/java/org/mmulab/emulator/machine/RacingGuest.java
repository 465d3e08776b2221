package org.mmulab.emulator.machine;

import static org.junit.jupiter.api.Assertions.assertFalse;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.function.Consumer;

import org.mmulab.emulator.cpu.CpuState;
import org.mmulab.emulator.cpu.tier.Tier;
import org.mmulab.emulator.mmu.MmuCounters;

/**
 * The racing workload of {@link DeterministicSchedulingTest} and {@link TierDeterministicSmpTest}: every
 * vCPU runs the same code from guest page 0 with RSI = the counter page (2), RBX = a log spread over
 * {@link #LOG_PAGES} pages from page 4 (page walks: walker yield points), RDI = its id + 1 and
 * R9 = {@link #ROUNDS}. Syscall 0 stops the vCPU; syscall 1 sends an IPI to the next vCPU, recorded with
 * the instruction count at which it ran on its target. The outcome is everything that depends on the
 * interleaving, comparable with equals.
 */
final class RacingGuest {
    static final int ROUNDS = 3000;
    static final int LOG_PAGES = 8;

    /** Final counter and log memory, every vCPU's registers, instructions, cycles, TSC and counters, the IPIs. */
    record Outcome(List<Long> memory, List<Long> perCpu, List<String> ipis) {
        /** The LOCK XADD log index (the second quadword of the counter page). */
        long logIndex() {
            return memory.get(1);
        }
    }

    private RacingGuest() {
    }

    /**
     * Runs {@code code} on {@code cpus} vCPUs under DETERMINISTIC({@code seed}) scheduling; {@code configure}
     * sees the machine before it runs (engine, schedule source, recorder). Adds the translation tier's
     * compiled-block count to {@code compiled[0]} when {@code compiled} is not null.
     */
    static Outcome run(int[] code, int cpus, long seed, TimingMode timing, Consumer<Machine> configure,
            long[] compiled) {
        SmpGuest g = new SmpGuest(cpus, Machine.Scheduling.DETERMINISTIC, seed);
        Machine m = g.machine;
        m.configureTiming(timing);
        configure.accept(m);
        g.code(0, 0, code);
        for (int i = 0; i < cpus; i++) {
            CpuState s = m.vcpu(i).state;
            g.start(i, SmpGuest.va(0));
            s.gpr[CpuState.RSI] = SmpGuest.va(2);
            s.gpr[CpuState.RBX] = SmpGuest.va(4);
            s.gpr[CpuState.RDI] = i + 1;
            s.gpr[CpuState.R9] = ROUNDS;
        }
        List<String> ipis = Collections.synchronizedList(new ArrayList<>());
        g.onSyscall = (cpu, nr) -> {
            if (nr == 0) {
                cpu.stop();
                return;
            }
            Vcpu target = m.vcpu((cpu.id() + 1) % cpus);
            m.sendIpis(cpu, List.of(target), t -> ipis.add(cpu.id() + "->" + t.id() + "@" + t.state.instructions));
        };
        m.runAll();
        g.assertNoFailures();
        assertFalse(m.guestDeadlocked());
        List<Long> memory = new ArrayList<>();
        for (long pa = SmpGuest.frame(2); pa < SmpGuest.frame(4 + LOG_PAGES); pa += 8) {
            memory.add(g.mem.read64(pa));
        }
        List<Long> perCpu = new ArrayList<>();
        for (Vcpu v : m.vcpus()) {
            MmuCounters c = v.mmu().counters;
            for (long r : v.state.gpr) {
                perCpu.add(r);
            }
            perCpu.add(v.state.instructions);
            perCpu.add(v.cycles());
            perCpu.add(v.tsc());
            perCpu.add(c.dtlbMisses);
            perCpu.add(c.dtlbHits);
            perCpu.add(c.walkerLoads);
            perCpu.add(c.itlbMisses);
            perCpu.add(v.clock().ipisReceived());
            perCpu.add(v.clock().ipisSent);
            Tier t = v.interpreter().tier();
            if (compiled != null && t != null) {
                compiled[0] += t.blocksCompiled;
            }
        }
        return new Outcome(memory, perCpu, ipis);
    }
}
