package org.mmulab.emulator.machine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.mmulab.emulator.cpu.CpuState;

/**
 * Guest code on several vCPUs sees x86-TSO (PhysicalMemory's header) and cross-modifying code per SDM
 * Vol. 3A §8.1.3. Only what TSO guarantees is asserted, so each assertion holds under every
 * interleaving; a broken ordering or lost locked update shows up as a count that cannot happen on x86.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class SmpMemoryOrderTest {
    private static final int N = 200_000;

    private static int[] imm32(int v) {
        return new int[] {v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24};
    }

    private static int[] cat(int[]... parts) {
        int n = 0;
        for (int[] p : parts) {
            n += p.length;
        }
        int[] r = new int[n];
        int i = 0;
        for (int[] p : parts) {
            System.arraycopy(p, 0, r, i, p.length);
            i += p.length;
        }
        return r;
    }

    /**
     * Message passing: vCPU 0 stores data = i then flag = i for i = 1..N; vCPU 1 loads flag then data
     * and counts data < flag, which TSO forbids (loads are not reordered with older loads, stores not
     * with older stores).
     */
    @ParameterizedTest
    @CsvSource({"PARALLEL, 0", "DETERMINISTIC, 7"})
    void messagePassingNeverSeesTheFlagBeforeTheData(Machine.Scheduling mode, long seed) {
        SmpGuest g = new SmpGuest(2, mode, seed);
        long data = SmpGuest.va(2);
        g.code(0, 0, cat(new int[] {
            0x48, 0xff, 0xc1,             // 0: inc rcx
            0x48, 0x89, 0x0e,             // 3: mov [rsi], rcx        data
            0x48, 0x89, 0x4e, 0x08,       // 6: mov [rsi+8], rcx      flag
            0x48, 0x81, 0xf9}, imm32(N), new int[] { // 10: cmp rcx, N
            0x75, 0xed,                   // 17: jne 0
            0x0f, 0x05}));                // 19: syscall
        g.code(1, 0, cat(new int[] {
            0x48, 0x8b, 0x46, 0x08,       // 0: mov rax, [rsi+8]      flag
            0x48, 0x8b, 0x16,             // 4: mov rdx, [rsi]        data
            0x48, 0x39, 0xc2,             // 7: cmp rdx, rax
            0x73, 0x04,                   // 10: jae 16
            0x48, 0xff, 0x46, 0x10,       // 12: inc qword [rsi+16]   a TSO violation
            0x48, 0x3d}, imm32(N), new int[] { // 16: cmp rax, N
            0x75, 0xe8,                   // 22: jne 0
            0x0f, 0x05}));                // 24: syscall
        for (int i = 0; i < 2; i++) {
            g.start(i, SmpGuest.va(i));
            g.machine.vcpu(i).state.gpr[CpuState.RSI] = data;
        }
        g.onSyscall = (cpu, nr) -> cpu.stop();
        g.machine.runAll();
        g.assertNoFailures();
        assertEquals(N, g.mem.read64(SmpGuest.frame(2) + 8));
        assertEquals(0, g.mem.read64(SmpGuest.frame(2) + 16), "loads saw the flag before the data it publishes");
    }

    /** LOCK XADD and LOCK CMPXCHG counters from 2..4 vCPUs lose no increment. */
    @ParameterizedTest
    @CsvSource({"PARALLEL, 2, 0", "PARALLEL, 4, 0", "DETERMINISTIC, 3, 11", "DETERMINISTIC, 4, 12"})
    void lockedCountersLoseNoIncrement(Machine.Scheduling mode, int cpus, long seed) {
        int k = 50_000;
        SmpGuest g = new SmpGuest(cpus, mode, seed);
        g.code(0, 0, cat(new int[] {
            0xb8, 0x01, 0x00, 0x00, 0x00, // 0: mov eax, 1
            0xf0, 0x48, 0x0f, 0xc1, 0x06, // 5: lock xadd [rsi], rax
            0x48, 0xff, 0xc9,             // 10: dec rcx
            0x75, 0xf1,                   // 13: jnz 0
            0xb9}, imm32(k), new int[] {  // 15: mov ecx, k
            0x48, 0x8b, 0x46, 0x08,       // 20: mov rax, [rsi+8]
            0x48, 0x8d, 0x50, 0x01,       // 24: lea rdx, [rax+1]
            0xf0, 0x48, 0x0f, 0xb1, 0x56, 0x08, // 28: lock cmpxchg [rsi+8], rdx
            0x75, 0xf4,                   // 34: jne 24 (RAX holds the value seen)
            0x48, 0xff, 0xc9,             // 36: dec rcx
            0x75, 0xeb,                   // 39: jnz 20
            0x0f, 0x05}));                // 41: syscall
        for (int i = 0; i < cpus; i++) {
            g.start(i, SmpGuest.va(0));
            g.machine.vcpu(i).state.gpr[CpuState.RSI] = SmpGuest.va(2);
            g.machine.vcpu(i).state.gpr[CpuState.RCX] = k;
        }
        g.onSyscall = (cpu, nr) -> cpu.stop();
        g.machine.runAll();
        g.assertNoFailures();
        assertEquals((long) cpus * k, g.mem.read64(SmpGuest.frame(2)), "LOCK XADD counter");
        assertEquals((long) cpus * k, g.mem.read64(SmpGuest.frame(2) + 8), "LOCK CMPXCHG counter");
    }

    /**
     * Cross-modifying code (SDM §8.1.3): vCPU 1 loops over "mov edx, 1" (decoded and cached) while
     * polling a flag; vCPU 0 waits until vCPU 1 has looped, stores "mov edx, 2" over it as data, then
     * sets the flag; vCPU 1, having seen the flag, executes CPUID and the modified instruction: EDX = 2.
     */
    @ParameterizedTest
    @CsvSource({"PARALLEL, 0", "DETERMINISTIC, 3", "DETERMINISTIC, 4"})
    void anotherVcpusCodeStoreIsExecutedAfterFlagAndCpuid(Machine.Scheduling mode, long seed) {
        SmpGuest g = new SmpGuest(2, mode, seed);
        g.code(1, 0,
                0x4c, 0x8b, 0x06,             // 0: mov r8, [rsi]          flag
                0x0f, 0xa2,                   // 3: cpuid                  serializing
                0xba, 0x01, 0x00, 0x00, 0x00, // 5: mov edx, 1             the code vCPU 0 modifies
                0x48, 0xff, 0x46, 0x08,       // 10: inc qword [rsi+8]     loops done
                0x4d, 0x85, 0xc0,             // 14: test r8, r8
                0x74, 0xed,                   // 17: jz 0
                0x0f, 0x05);                  // 19: syscall
        g.code(0, 0,
                0x48, 0x8b, 0x46, 0x08,       // 0: mov rax, [rsi+8]
                0x48, 0x85, 0xc0,             // 4: test rax, rax
                0x74, 0xf7,                   // 7: jz 0                   until vCPU 1 has looped
                0xc6, 0x07, 0x02,             // 9: mov byte [rdi], 2      mov edx, 1 -> mov edx, 2
                0x48, 0xc7, 0x06, 0x01, 0x00, 0x00, 0x00, // 12: mov qword [rsi], 1   flag
                0x0f, 0x05);                  // 19: syscall
        Vcpu v0 = g.machine.vcpu(0), v1 = g.machine.vcpu(1);
        g.start(0, SmpGuest.va(0));
        g.start(1, SmpGuest.va(1));
        v0.state.gpr[CpuState.RSI] = SmpGuest.va(2);
        v1.state.gpr[CpuState.RSI] = SmpGuest.va(2);
        v0.state.gpr[CpuState.RDI] = SmpGuest.va(1) + 6;
        AtomicLong edx = new AtomicLong(-1);
        g.onSyscall = (cpu, nr) -> {
            if (cpu == v1) {
                edx.set(cpu.state.gpr[CpuState.RDX]);
            }
            cpu.stop();
        };
        g.machine.runAll();
        g.assertNoFailures();
        assertTrue(g.mem.read64(SmpGuest.frame(2) + 8) >= 2, "vCPU 1 ran the old code before the store");
        assertEquals(2, edx.get(), "vCPU 1 executed the stale instruction after seeing the flag and CPUID");
    }
}
