package org.mmulab.emulator.machine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.mmulab.emulator.machine.RacingGuest.Outcome;

/**
 * DETERMINISTIC scheduling (issue 12 item 8): 2..4 vCPUs run guest code that races on memory (an
 * unlocked read-modify-write counter, and a log whose order is the order of LOCK XADDs), touching eight
 * log pages (page walks: walker yield points) and sending IPIs every 256 rounds from a syscall. The
 * outcome (final memory, every vCPU's instructions, cycles and MMU counters, the order and instruction
 * counts at which IPIs ran) depends on the interleaving, so: the same seed twice gives the same outcome;
 * 20 seeds give at least two outcomes; a recorded schedule replayed under another seed gives the
 * recorded outcome.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class DeterministicSchedulingTest {
    private static final int[] RACER = {
        0x48, 0x8b, 0x06,                   // 0: mov rax, [rsi]          unlocked counter
        0x48, 0xff, 0xc0,                   // 3: inc rax
        0x48, 0x89, 0x06,                   // 6: mov [rsi], rax
        0xb8, 0x01, 0x00, 0x00, 0x00,       // 9: mov eax, 1
        0xf0, 0x48, 0x0f, 0xc1, 0x46, 0x08, // 14: lock xadd [rsi+8], rax  log index
        0x25, 0xff, 0x0f, 0x00, 0x00,       // 20: and eax, 0xfff
        0x48, 0x89, 0x3c, 0xc3,             // 25: mov [rbx+rax*8], rdi   log[i] = vCPU id + 1
        0x49, 0xff, 0xc9,                   // 29: dec r9
        0x74, 0x10,                         // 32: jz 50
        0x4c, 0x89, 0xc8,                   // 34: mov rax, r9
        0xa8, 0xff,                         // 37: test al, 0xff
        0x75, 0xd7,                         // 39: jnz 0
        0xb8, 0x01, 0x00, 0x00, 0x00,       // 41: mov eax, 1              syscall 1: send an IPI
        0x0f, 0x05,                         // 46: syscall
        0xeb, 0xce,                         // 48: jmp 0
        0x31, 0xc0,                         // 50: xor eax, eax            syscall 0: stop
        0x0f, 0x05,                         // 52: syscall
    };

    private static Outcome run(int cpus, long seed, TimingMode timing, ScheduleSource source, ScheduleRecorder recorder) {
        Outcome o = RacingGuest.run(RACER, cpus, seed, timing, m -> {
            if (source != null) {
                m.setScheduleSource(source);
            }
            m.setScheduleRecorder(recorder);
        }, null);
        assertEquals((long) cpus * RacingGuest.ROUNDS, o.logIndex(), "LOCK XADD lost an increment");
        return o;
    }

    @ParameterizedTest
    @CsvSource({"2, 1, FAST", "3, 42, FAST", "4, 7, FAST", "4, 99, CYCLE"})
    void theSameSeedGivesTheSameOutcome(int cpus, long seed, TimingMode timing) {
        System.out.println("DeterministicSchedulingTest cpus=" + cpus + " seed=" + seed + " timing=" + timing);
        Outcome a = run(cpus, seed, timing, null, null);
        Outcome b = run(cpus, seed, timing, null, null);
        assertEquals(a, b);
        assertFalse(a.ipis().isEmpty());
    }

    @Test
    void differentSeedsGiveDifferentInterleavings() {
        Set<List<Long>> memories = new HashSet<>();
        Set<Long> counters = new HashSet<>();
        for (long seed = 1; seed <= 20; seed++) {
            Outcome o = run(3, seed, TimingMode.FAST, null, null);
            memories.add(o.memory());
            counters.add(o.memory().get(0)); // the unlocked counter: lost updates depend on the interleaving
        }
        assertTrue(memories.size() >= 2, "20 seeds gave " + memories.size() + " final memory image(s)");
        System.out.println("DeterministicSchedulingTest: 20 seeds, " + memories.size() + " memory images, "
                + counters.size() + " unlocked-counter values");
    }

    @Test
    void aRecordedScheduleReplaysUnderAnotherSeed() {
        List<String> log = new ArrayList<>();
        List<Integer> choices = new ArrayList<>();
        Outcome recorded = run(3, 5, TimingMode.FAST, null, (k, vcpu, kind, next) -> {
            assertEquals(choices.size(), k);
            choices.add(next);
            if (log.size() < 5) {
                log.add("vCPU " + vcpu + " did " + kind + " at yield " + k + ", then vCPU " + next);
            }
        });
        assertTrue(choices.size() > 10);
        assertTrue(log.get(0).startsWith("vCPU 0 did "), log.get(0));
        int[] replay = choices.stream().mapToInt(Integer::intValue).toArray();
        Outcome replayed = run(3, 6, TimingMode.FAST, ScheduleSource.replay(replay, ScheduleSource.seeded(6)), null);
        assertEquals(recorded.memory(), replayed.memory());
        assertEquals(recorded.ipis(), replayed.ipis());
    }

    @Test
    void everyVcpuIdleWithoutADeadlineIsAGuestDeadlockNotAHang() {
        SmpGuest g = new SmpGuest(2, Machine.Scheduling.DETERMINISTIC, 3);
        g.code(0, 0, SmpGuest.SYSCALL_LOOP);
        g.start(0, SmpGuest.va(0));
        g.start(1, SmpGuest.va(0));
        g.onSyscall = (cpu, nr) -> cpu.idle(() -> false);
        g.machine.runAll();
        g.assertNoFailures();
        assertTrue(g.machine.guestDeadlocked());
    }

    @Test
    void virtualTimeJumpsToTheEarliestIdleDeadline() {
        SmpGuest g = new SmpGuest(2, Machine.Scheduling.DETERMINISTIC, 3);
        Machine m = g.machine;
        g.code(0, 0, SmpGuest.SYSCALL_LOOP);
        g.start(0, SmpGuest.va(0));
        g.start(1, SmpGuest.va(0));
        long[] woke = new long[2];
        g.onSyscall = (cpu, nr) -> {
            long deadline = (cpu.id() + 1) * 5_000_000L; // 5 ms and 10 ms of guest time
            cpu.idleDeadlineNanos = deadline;
            cpu.idle(() -> false);
            woke[cpu.id()] = m.guestTime().monotonicNanos(cpu);
            cpu.stop();
        };
        m.runAll();
        g.assertNoFailures();
        assertFalse(m.guestDeadlocked());
        assertTrue(woke[0] >= 5_000_000L && woke[1] >= 10_000_000L, woke[0] + " " + woke[1]);
        assertTrue(m.vcpu(1).clock().idleCycles() > 0);
    }

    @Test
    void quantumIsDocumentedAndSettable() {
        assertEquals(Machine.DEFAULT_DETERMINISTIC_QUANTUM, deterministicMachine(2, 0).quantum());
        assertEquals(Vcpu.QUANTUM, deterministicMachine(1, 0).quantum(), "one vCPU keeps the 65,536 quantum");
        assertEquals(100, deterministicMachine(2, 100).quantum());
        assertEquals(Vcpu.QUANTUM, new Machine(1 << 20, 2).quantum());
    }

    private static Machine deterministicMachine(int cpus, int quantum) {
        Machine m = new Machine(1 << 20, cpus);
        if (quantum > 0) {
            m.setDeterministicQuantum(quantum);
        }
        m.setDeterministic(1);
        assertEquals(Machine.Scheduling.DETERMINISTIC, m.scheduling());
        return m;
    }
}
