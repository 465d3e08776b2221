package org.mmulab.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.lang.ref.WeakReference;

import org.junit.jupiter.api.Test;
import org.mmulab.emulator.machine.Machine;

/**
 * Regression test for the leak fixed in ead86e3: {@link Kernel#run} runs vCPU 0 on the caller's thread,
 * and trap entry binds that thread to vCPU 0's per-CPU data through a {@code ThreadLocal} held by the
 * kernel. The map entry's value (the per-CPU data) references the kernel, which references the
 * {@code ThreadLocal} key, so the entry is never stale: without {@code here.remove()} at the end of
 * {@code run}, every finished kernel, its machine and the machine's guest RAM stayed reachable from the
 * caller's thread for as long as that thread lived (a suite booting hundreds of machines on one thread).
 *
 * <p>No timing is involved: the machine must become unreachable, which a bounded number of full
 * collections (with some allocation between them) then observes through a {@link WeakReference}.
 */
class KernelRunLeakTest {
    /** Full collections tried before the machine is declared leaked (one is enough on HotSpot). */
    private static final int GC_ROUNDS = 20;

    @Test
    void aFinishedMachineIsCollectableAfterRunReturns() throws Exception {
        WeakReference<Machine> machine = bootAndExit();
        for (int i = 0; i < GC_ROUNDS && machine.get() != null; i++) {
            System.gc();
            allocate();
        }
        assertNull(machine.get(), "the finished Machine (and its guest RAM) is still reachable from the test"
                + " thread after Kernel.run returned and every reference to it was dropped");
    }

    /** Boots a guest that exits with status 7 on this thread; only a weak reference to its machine escapes. */
    private static WeakReference<Machine> bootAndExit() throws Exception {
        Fixture f = new Fixture(16L << 20);
        byte[] code = new byte[PrivilegedInstructionTest.EXIT7.length() / 2];
        for (int i = 0; i < code.length; i++) {
            code[i] = (byte) Integer.parseInt(PrivilegedInstructionTest.EXIT7.substring(2 * i, 2 * i + 2), 16);
        }
        f.exec(TestElf.standard(code, new byte[16], 0).build());
        assertEquals(7, f.kernel.run(), f.stderr());
        return new WeakReference<>(f.machine);
    }

    /** Some garbage between collections, so that a collector that defers reference processing gets to it. */
    private static void allocate() {
        byte[][] junk = new byte[64][];
        for (int i = 0; i < junk.length; i++) {
            junk[i] = new byte[64 << 10];
        }
        if (junk[junk.length - 1].length == 0) {
            throw new AssertionError(); // keeps the allocation observable
        }
    }
}
