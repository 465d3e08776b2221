package org.mmulab.emulator.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * CR0.EM / MP / TS for x87, SSE and MMX ({@link DeviceNotAvailable}; SDM Vol. 3A §2.5 Table 2-2 and
 * each Vol. 2 entry's exceptions): the fault comes before the instruction changes any register, flag,
 * x87/SSE state or memory. Before, only MMX checked CR0: SSE and x87 ran with EM or TS set.
 */
class DeviceNotAvailableTest {
    static final long CODE = TestMachine.USER_CODE, DATA = TestMachine.USER_DATA;
    static final long EM = CpuState.CR0_EM, TS = CpuState.CR0_TS, MP = CpuState.CR0_MP;
    TestMachine m;

    @BeforeEach
    void setUp() {
        m = TestMachine.withUserPages();
        m.s.gpr[CpuState.RDX] = DATA;
        m.s.gpr[CpuState.RCX] = DATA + 0x400;
        m.s.gpr[CpuState.RAX] = 0x1234_5678_9abcL;
        m.s.cr4 |= CpuState.CR4_OSXSAVE;
        m.s.xcr0 = 3;
        m.s.fpu.init();
        for (int i = 0; i < 32; i++) {
            m.s.xmm[i] = 0x0101_0101_0101_0101L * (i + 1);
        }
        for (int i = 0; i < 128; i++) {
            m.mmu.write64(DATA + 8 * i, 0x0f0f_0000_0000_0000L + i);
        }
        m.mmu.write32(DATA, 0x1f80); // a valid MXCSR for LDMXCSR
    }

    /** Runs {@code hex} with CR0 bits {@code cr0}; returns the vector, or -1 when it ran. */
    private int run(String hex, long cr0) {
        m.s.cr0 = (m.s.cr0 & ~(EM | TS | MP)) | cr0;
        m.load(CODE, TestMachine.hex(hex));
        m.s.rip = CODE;
        m.s.exceptionVector = -1;
        int exit = m.cpu.run(1);
        return exit == Exit.EXCEPTION ? m.s.exceptionVector : -1;
    }

    private long[] snapshot() {
        long[] mem = new long[128];
        for (int i = 0; i < mem.length; i++) {
            mem[i] = m.mmu.read64(DATA + 8 * i);
        }
        var f = m.s.fpu;
        long[] regs = {f.top, f.valid, f.statusWord(), f.fcw, f.fop, f.fip, f.fdp, m.s.mxcsr, m.s.getRflags()};
        return concat(concat(concat(concat(mem, m.s.gpr.clone()), m.s.xmm.clone()), f.sig.clone()), regs);
    }

    private static long[] concat(long[] a, long[] b) {
        long[] r = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }

    /** {@code hex} faults with {@code vector} under {@code cr0} and leaves every piece of state as it was. */
    private void faults(String hex, long cr0, int vector) {
        long[] before = snapshot();
        assertEquals(vector, run(hex, cr0), hex + " with CR0 bits 0x" + Long.toHexString(cr0));
        assertEquals(CODE, m.s.rip, hex + ": RIP stays at the instruction");
        assertArrayEquals(before, snapshot(), hex + ": nothing changed");
    }

    /** Each instruction faults with {@code vectors[i]} under CR0 bits {@code cr0s[i]}, changing nothing. */
    private void faultsUnder(String[] hexes, long[] cr0s, int[] vectors) {
        for (String hex : hexes) {
            for (int i = 0; i < cr0s.length; i++) {
                faults(hex, cr0s[i], vectors[i]);
            }
        }
    }

    @Test
    void sseIsUdUnderEmAndNmUnderTs() {
        String[] sse = {
            "660fd4ca", // paddq %xmm2,%xmm1
            "0f1002", // movups (%rdx),%xmm0
            "0f1102", // movups %xmm0,(%rdx)
            "f20f58ca", // addsd %xmm2,%xmm1
            "0fae12", // ldmxcsr (%rdx)
            "0fae1a", // stmxcsr (%rdx)
            "660f3800ca", // pshufb %xmm2,%xmm1 (SSSE3, 0F 38)
            "660f3a0eca55", // pblendw $0x55,%xmm2,%xmm1 (SSE4.1, 0F 3A)
            "f30f7e02", // movq (%rdx),%xmm0
        };
        faultsUnder(sse, new long[] {EM, TS, EM | TS}, new int[] {Vectors.UD, Vectors.NM, Vectors.UD});
        assertEquals(-1, run("660fd4ca", MP), "MP alone does not matter");
    }

    @Test
    void x87IsNmUnderEmOrTsAndFxsaveToo() {
        String[] x87 = {
            "d9e8", // fld1
            "d902", // flds (%rdx)
            "dd1a", // fstpl (%rdx)
            "dfe0", // fnstsw %ax
            "dbe3", // fninit
            "dbe2", // fnclex
            "d92a", // fldcw (%rdx)
            "d93a", // fnstcw (%rdx)
            "dd32", // fnsave (%rdx)
            "0fae02", // fxsave (%rdx): #NM for EM too, not #UD
            "0fae0a", // fxrstor (%rdx)
        };
        faultsUnder(x87, new long[] {EM, TS, TS | MP}, new int[] {Vectors.NM, Vectors.NM, Vectors.NM});
        assertEquals(-1, run("d9e8", MP), "fld1 runs with MP alone");
    }

    @Test
    void fwaitTrapsOnlyForTsWithMp() {
        assertEquals(-1, run("9b", TS), "TS without MP: WAIT runs");
        assertEquals(-1, run("9b", EM), "EM does not affect WAIT");
        assertEquals(-1, run("9b", EM | MP));
        faults("9b", TS | MP, Vectors.NM);
        faults("9b", EM | TS | MP, Vectors.NM);
    }

    @Test
    void mmxAndXsaveShareTheChecksAndIntegerOpsInTheSseMapsDoNot() {
        faults("0fd4ca", EM, Vectors.UD); // paddq %mm2,%mm1
        faults("0fd4ca", TS, Vectors.NM);
        faults("0fae21", TS, Vectors.NM); // xsave (%rcx)
        m.s.gpr[CpuState.RAX] = 3;
        assertEquals(-1, run("0fae21", EM), "XSAVE ignores EM");
        assertEquals(-1, run("f20f38f1c1", EM | TS), "crc32l %ecx,%eax is an integer instruction");
    }
}
