package org.mmulab.emulator.machine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.mmulab.emulator.mmu.Pte;

/**
 * The interpreter's cached fetch translation under SMP (issue 12 item 1: "a remote unmap ends the
 * target's cached fetch page"). vCPU 1 loops on page P incrementing a counter; vCPU 0, as a kernel
 * would, points P's PTE at another frame holding different code and shoots vCPU 1 down with an IPI
 * that runs INVLPG on it. Once the shootdown is acknowledged vCPU 1 must not execute one more
 * instruction from the old frame: the counter stays at the value read right after the ack, and vCPU 1
 * next executes the new frame's SYSCALL. Before SMP the flush was done from the sender's thread
 * (TlbFlush called the target's Mmu directly) and the target kept its fetch page for the rest of its
 * quantum, up to 65,536 instructions of the old code.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SmpFetchPageTest {

    @Test
    void aShootdownEndsTheTargetsCachedFetchPage() {
        SmpGuest g = new SmpGuest(2);
        Machine m = g.machine;
        Vcpu v1 = m.vcpu(1);
        long counterPa = SmpGuest.frame(2);
        g.code(0, 0, SmpGuest.SYSCALL_LOOP);
        g.code(1, 0, 0x48, 0xff, 0x03, 0xeb, 0xfb); // P: inc qword [rbx]; jmp P
        byte[] newCode = {0x0f, 0x05, (byte) 0xeb, (byte) 0xfc}; // syscall; jmp back
        m.memory().writeBytes(SmpGuest.SPARE0, newCode, 0, newCode.length);
        g.start(0, SmpGuest.va(0));
        g.start(1, SmpGuest.va(1));
        v1.state.gpr[org.mmulab.emulator.cpu.CpuState.RBX] = SmpGuest.va(2);
        AtomicLong afterAck = new AtomicLong(-1);
        AtomicLong beforeRemap = new AtomicLong(-1);
        AtomicLong v1TrapRip = new AtomicLong(-1);
        g.onSyscall = (cpu, nr) -> {
            if (cpu == v1) {
                v1TrapRip.set(cpu.state.rip);
                cpu.stop();
                return;
            }
            g.await(() -> m.memory().read64(counterPa) > 1000); // v1 runs the old code
            beforeRemap.set(m.memory().read64(counterPa));
            m.memory().write64Release(SmpGuest.pteAddr(1), SmpGuest.SPARE0 | Pte.P | Pte.RW | Pte.US);
            m.sendIpis(cpu, List.of(v1), target -> target.mmu().invlpg(SmpGuest.va(1)));
            afterAck.set(m.memory().read64(counterPa));
            assertFalse(v1.mmu().mayReach(SmpGuest.frame(1)), "vCPU 1 can still reach the old code frame");
            cpu.stop();
        };
        m.runAll();
        g.assertNoFailures();
        assertTrue(beforeRemap.get() > 1000);
        assertEquals(afterAck.get(), m.memory().read64(counterPa),
                "vCPU 1 executed the old frame after acknowledging the shootdown");
        assertEquals(SmpGuest.va(1) + 2, v1TrapRip.get(), "vCPU 1 went on with the new frame's code");
    }
}
