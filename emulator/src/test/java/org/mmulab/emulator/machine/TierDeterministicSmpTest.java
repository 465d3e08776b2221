package org.mmulab.emulator.machine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.mmulab.emulator.cpu.tier.Engine;
import org.mmulab.emulator.machine.RacingGuest.Outcome;

/**
 * The translation tier under DETERMINISTIC scheduling (issue 16 item 2): 2-4 vCPUs race on an unlocked
 * counter and a log spread over eight pages (page walks: walker yield points inside compiled blocks),
 * and every 256 rounds send an IPI to the next vCPU (which interrupts its quantum). With the same seed,
 * the outcome with {@code --engine tier} must equal the one with the interpreter alone: final memory,
 * every vCPU's registers, instructions, cycles, TSC and MMU counters, and the instruction count at which
 * each IPI ran on its target. That holds only if the tier ends quanta, honours interrupts and reaches
 * yield points at exactly the interpreter's instructions; under cycle timing (the CYCLE case) the cycles and
 * TSC also require that compiled blocks charge each instruction and fetch as the interpreter does, and
 * charge the clock before each memory access (another vCPU may read it at a walker yield point).
 * <pre>
 * top:  mov (%rsi),%rax; add $1,%rax; mov %rax,(%rsi); mov %r9,%rax; and $0xfff,%eax;
 *       mov %rdi,(%rbx,%rax,8); add (%rsi),%rdi; and $0xffff,%edi; dec %r9; jz done;
 *       test $0xff,%eax; jnz top; mov $1,%eax; syscall; jmp top
 * done: xor %eax,%eax; syscall
 * </pre>
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class TierDeterministicSmpTest {
    private static final int[] RACER = {
        0x48, 0x8b, 0x06, 0x48, 0x83, 0xc0, 0x01, 0x48, 0x89, 0x06, 0x4c, 0x89, 0xc8, 0x25, 0xff, 0x0f, 0x00, 0x00,
        0x48, 0x89, 0x3c, 0xc3, 0x48, 0x03, 0x3e, 0x81, 0xe7, 0xff, 0xff, 0x00, 0x00, 0x49, 0xff, 0xc9, 0x74, 0x10,
        0xa9, 0xff, 0x00, 0x00, 0x00, 0x75, 0xd5, 0xb8, 0x01, 0x00, 0x00, 0x00, 0x0f, 0x05, 0xeb, 0xcc, 0x31, 0xc0,
        0x0f, 0x05,
    };

    private static Outcome run(int cpus, long seed, TimingMode timing, Engine engine, long[] compiled) {
        return RacingGuest.run(RACER, cpus, seed, timing, m -> {
            for (Vcpu v : m.vcpus()) {
                v.interpreter().setEngine(engine);
            }
        }, compiled);
    }

    @ParameterizedTest
    @CsvSource({"2, 1, FAST", "3, 42, FAST", "4, 7, FAST", "2, 5, CYCLE"})
    void tierAndInterpreterGiveTheSameOutcome(int cpus, long seed, TimingMode timing) {
        System.out.println("TierDeterministicSmpTest cpus=" + cpus + " seed=" + seed + " timing=" + timing);
        long[] compiledTier = {0}, compiledInterp = {0};
        Outcome interp = run(cpus, seed, timing, Engine.INTERP, compiledInterp);
        Outcome tier = run(cpus, seed, timing, Engine.TIER, compiledTier);
        assertEquals(0, compiledInterp[0]);
        assertTrue(compiledTier[0] > 0, "the tier compiled the racing loop (under either timing)");
        assertFalse(interp.ipis().isEmpty());
        assertEquals(interp.ipis(), tier.ipis(), "IPI points");
        assertEquals(interp.perCpu(), tier.perCpu(), "registers, instructions, cycles, counters");
        assertEquals(interp.memory(), tier.memory(), "memory");
    }
}
