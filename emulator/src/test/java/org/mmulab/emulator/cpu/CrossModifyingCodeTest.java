package org.mmulab.emulator.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;
import org.mmulab.emulator.memory.PhysicalMemory;

/**
 * The window {@link DecodedCodeCache#serialize} closes: a store to a code frame that raced with another
 * vCPU's first marking of the frame and so missed the "holds code" bit (the write-side check is not
 * ordered after the store). The race itself cannot be forced from a test, so its outcome is built
 * directly: the frame is decoded (marked), then written with the listener detached, which clears the
 * bit without dropping the decoded page, as the racing store would. Executing the frame then still
 * runs the stale decode; after CPUID (serializing, SDM Vol. 3A §8.1.3) the new bytes run.
 */
class CrossModifyingCodeTest {
    private static final long CODE = 0x40_0000L;

    @Test
    void cpuidDropsADecodedPageWhoseFrameChangedWithoutNotice() {
        TestMachine m = new TestMachine();
        long frame = m.mapNew(CODE, TestMachine.P | TestMachine.RW | TestMachine.US);
        // 0x00: mov edx, 1; syscall      0x10: cpuid; jmp 0x00
        m.load(CODE, TestMachine.hex("ba01000000 0f05"));
        m.load(CODE + 0x10, TestMachine.hex("0fa2 ebec"));
        m.s.rip = CODE;
        assertEquals(Exit.SYSCALL, m.cpu.run(10));
        assertEquals(1, m.s.gpr[CpuState.RDX]);

        PhysicalMemory.CodeWriteListener cache = m.mem.codeWriteListener();
        m.mem.setCodeWriteListener(null);
        m.mem.write8(frame + 1, 2); // mov edx, 2: the store that missed the mark
        m.mem.setCodeWriteListener(cache);
        m.s.rip = CODE;
        assertEquals(Exit.SYSCALL, m.cpu.run(10));
        assertEquals(1, m.s.gpr[CpuState.RDX], "precondition: the stale decode is still cached");

        m.s.rip = CODE + 0x10;
        assertEquals(Exit.SYSCALL, m.cpu.run(10));
        assertEquals(2, m.s.gpr[CpuState.RDX], "after CPUID the modified code runs");
    }
}
