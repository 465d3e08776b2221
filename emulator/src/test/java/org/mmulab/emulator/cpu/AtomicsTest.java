package org.mmulab.emulator.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;
import org.mmulab.emulator.mmu.Mmu;

/**
 * LOCK-prefixed instructions executed by two vCPUs on two host threads against one shared word: no
 * update may be lost. (A plain read-modify-write loses updates under this contention.)
 */
class AtomicsTest {
    static final long CODE = 0x40_0000L, DATA = 0x60_0000L;
    static final int ITER = 100_000;

    private long run(String loopHex, long dataOffset, boolean bytesOk) throws Exception {
        TestMachine m = new TestMachine();
        m.mapNew(CODE, TestMachine.P | TestMachine.US);
        m.mapNew(DATA, TestMachine.P | TestMachine.RW | TestMachine.US);
        m.load(CODE, TestMachine.hex(loopHex + "ebfe")); // the loop, then "jmp $" to park on
        int len = loopHex.length() / 2;
        CpuState s2 = new CpuState();
        s2.cr3 = m.s.cr3;
        Interpreter cpu2 = new Interpreter(s2, new Mmu(m.mem, s2, 39), m.mem);
        CpuState[] states = {m.s, s2};
        Interpreter[] cpus = {m.cpu, cpu2};
        Thread[] threads = new Thread[2];
        Throwable[] err = new Throwable[1];
        for (int i = 0; i < 2; i++) {
            CpuState st = states[i];
            Interpreter cpu = cpus[i];
            st.rip = CODE;
            st.gpr[CpuState.RDX] = DATA + dataOffset;
            st.gpr[CpuState.RCX] = ITER;
            st.gpr[CpuState.RAX] = 1;
            threads[i] = new Thread(() -> {
                try {
                    while (st.rip != CODE + len) {
                        int x = cpu.run(1000);
                        if (x != Exit.BUDGET) {
                            throw new AssertionError("exit " + x + " vector " + st.exceptionVector + " err " + st.exceptionErrorCode + " rip 0x" + Long.toHexString(st.rip) + " cr2 0x" + Long.toHexString(st.cr2) + " rdx 0x" + Long.toHexString(st.gpr[CpuState.RDX]));
                        }
                    }
                } catch (Throwable t) {
                    err[0] = t;
                }
            });
        }
        for (Thread t : threads) {
            t.start();
        }
        for (Thread t : threads) {
            t.join();
        }
        if (err[0] != null) {
            throw new AssertionError(err[0]);
        }
        return m.mmu.read64(DATA + dataOffset);
    }

    @Test
    void lockIncIsAtomicAcrossThreads() throws Exception {
        // 1: lock inc qword [rdx]; dec ecx; jnz 1b
        assertEquals(2L * ITER, run("f048ff02ffc975f8", 8, false));
    }

    @Test
    void lockXaddIsAtomicAcrossThreads() throws Exception {
        // 1: mov eax,1; lock xadd [rdx],eax; dec ecx; jnz 1b
        assertEquals(2L * ITER, run("b801000000f00fc102ffc975f3", 16, false));
    }

    @Test
    void lockCmpxchgLoopIsAtomicAcrossThreads() throws Exception {
        // 1: mov eax,[rdx]; 2: lea r8d,[rax+1]; lock cmpxchg [rdx],r8d; jne 2b; dec ecx; jnz 1b
        assertEquals(2L * ITER, run("8b02448d4001f0440fb10275f5ffc975ef", 24, false));
    }

    @Test
    void lockIncOnMisalignedWordIsAtomicAcrossThreads() throws Exception {
        assertEquals(2L * ITER, run("f048ff02ffc975f8", 0x3d, false) & 0xffff_ffffL);
    }
}
