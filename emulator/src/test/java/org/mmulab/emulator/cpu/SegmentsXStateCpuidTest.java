package org.mmulab.emulator.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.mmulab.emulator.mmu.CpuModel;
import org.mmulab.emulator.timing.TimingModel;

/**
 * Segment-register loads (MOV/PUSH/POP Sreg) with the SDM's #GP/#NP cases, FS/GS-relative addressing
 * in 32-bit mode, the XSAVE family and XGETBV, and CPUID's cache/TLB/XSAVE leaves decoded and
 * cross-checked against the CpuModel the MMU was built from.
 */
class SegmentsXStateCpuidTest {
    static final long CODE = 0x40_0000L, DATA = 0x60_0000L, STACK = 0x7f_f000L, TLS = 0x61_0000L;
    TestMachine m;

    @BeforeEach
    void setUp() {
        m = new TestMachine();
        m.mapNew(CODE, TestMachine.P | TestMachine.US);
        m.mapNew(DATA, TestMachine.P | TestMachine.RW | TestMachine.US | TestMachine.NX);
        m.mapNew(TLS, TestMachine.P | TestMachine.RW | TestMachine.US | TestMachine.NX);
        m.mapNew(STACK, TestMachine.P | TestMachine.RW | TestMachine.US | TestMachine.NX);
        m.s.gpr[CpuState.RSP] = STACK + 0x800;
        m.s.rip = CODE;
        Segments g = m.s.segs;
        g.gdtEntries = 32;
        g.gdt[6] = Segments.descriptor(TLS, 0xfffff, 3, true, 3, true, false, false, true, true); // TLS, 4 GiB
        g.gdt[7] = Segments.descriptor(TLS, 0xff, 3, true, 3, true, false, false, true, false); // 256-byte limit
        g.gdt[8] = Segments.descriptor(TLS, 0xfffff, 3, true, 3, false, false, false, true, true); // not present
        g.gdt[13] = Segments.descriptor(0, 0xfffff, 3, true, 0, true, false, false, true, true); // DPL 0 data
        g.gdt[14] = Segments.descriptor(0, 0xfffff, 0xb, true, 3, true, false, false, true, true); // user code
        g.gdt[15] = Segments.descriptor(0, 0xfffff, 3, true, 3, true, false, false, true, true); // user data
        g.gdt[16] = Segments.descriptor(0, 0xfffff, 0x9, true, 3, true, false, false, true, true); // execute-only code
        g.sel[Segments.DS] = g.sel[Segments.ES] = g.sel[Segments.SS] = 0x7b;
        g.sel[Segments.CS] = 0x73;
    }

    private void code(String hex) {
        m.load(CODE, TestMachine.hex(hex));
    }

    private long[] r() {
        return m.s.gpr;
    }

    private void mode32() {
        m.s.longMode64 = false;
    }

    /** Runs one instruction that must fault; returns vector and error code. */
    private long[] fault() {
        assertEquals(Exit.EXCEPTION, m.cpu.run(1));
        return new long[] {m.s.exceptionVector, m.s.exceptionErrorCode};
    }

    @Test
    void movToGsLoadsHiddenBaseAndMovFromGsReadsSelector() {
        mode32();
        code("8ee8 8cea 658b0d10000000");
        r()[CpuState.RAX] = 0x33; // entry 6, RPL 3
        r()[CpuState.RDX] = 0xffff_ffffL;
        m.mem.write32(m.pa(TLS + 0x10), 0x1234);
        assertEquals(Exit.BUDGET, m.cpu.run(3));
        assertEquals(TLS, m.s.gsBase);
        assertEquals(0x33, r()[CpuState.RDX], "mov %gs,%edx zero-extends the selector");
        assertEquals(0x1234, r()[CpuState.RCX]);
    }

    @Test
    void badSelectorsFaultWithTheSelectorAsErrorCode() {
        mode32();
        code("8ee8");
        r()[CpuState.RAX] = 0x6b; // DPL 0 data at CPL 3
        assertEquals(Vectors.GP, fault()[0]);
        assertEquals(0x68, m.s.exceptionErrorCode);
        r()[CpuState.RAX] = 0x43; // not present
        long[] f = fault();
        assertEquals(Vectors.NP, f[0]);
        assertEquals(0x40, f[1]);
        r()[CpuState.RAX] = 0x37; // TI=1: no LDT
        f = fault();
        assertEquals(Vectors.GP, f[0]);
        assertEquals(0x34, f[1]);
        r()[CpuState.RAX] = 0x83; // execute-only code
        assertEquals(Vectors.GP, fault()[0]);
        r()[CpuState.RAX] = 32 * 8 + 3; // beyond the GDT limit
        f = fault();
        assertEquals(Vectors.GP, f[0]);
        assertEquals(0x100, f[1]);
        r()[CpuState.RAX] = 0x73; // readable user code is a legal data-segment load
        assertEquals(Exit.BUDGET, m.cpu.run(1));
        assertEquals(0x73, m.s.segs.sel[Segments.GS]);
    }

    @Test
    void nullSelectorLoadsButUsingItIsGp0AndSsRefusesNull() {
        mode32();
        code("8ee8 658b0d00000000");
        r()[CpuState.RAX] = 3;
        assertEquals(Exit.BUDGET, m.cpu.run(1));
        assertEquals(3, m.s.segs.sel[Segments.GS]);
        long[] f = fault();
        assertEquals(Vectors.GP, f[0]);
        assertEquals(0, f[1]);
        code("8ed0"); // mov %ax,%ss
        m.s.rip = CODE;
        r()[CpuState.RAX] = 0;
        f = fault();
        assertEquals(Vectors.GP, f[0]);
        assertEquals(0, f[1]);
    }

    @Test
    void movToCsIsUndefined() {
        mode32();
        code("8ec8");
        assertEquals(Vectors.UD, fault()[0]);
    }

    @Test
    void gsLimitIsChecked() {
        mode32();
        code("8ee8 658b0dff000000 658b0d00010000");
        r()[CpuState.RAX] = 0x3b; // entry 7: limit 0xff
        assertEquals(Exit.BUDGET, m.cpu.run(2));
        long[] f = fault();
        assertEquals(Vectors.GP, f[0]);
        assertEquals(0, f[1]);
    }

    @Test
    void pushPopSegmentRegisters() {
        mode32();
        // push %gs; pop %fs; push %ds; pop %es
        code("0fa8 0fa1 1e 07");
        m.s.segs.load(m.s, Segments.GS, 0x33);
        m.mem.write32(m.pa(STACK + 0x7fc), 0xaaaa_aaaa);
        assertEquals(Exit.BUDGET, m.cpu.run(1));
        assertEquals(STACK + 0x7fc, r()[CpuState.RSP]);
        assertEquals(0xaaaa_0033L, m.mem.read32(m.pa(STACK + 0x7fc)) & 0xffff_ffffL, "16-bit store into a 4-byte slot");
        m.mem.write32(m.pa(STACK + 0x7fc), 0x33);
        assertEquals(Exit.BUDGET, m.cpu.run(3));
        assertEquals(0x33, m.s.segs.sel[Segments.FS]);
        assertEquals(TLS, m.s.fsBase);
        assertEquals(0x7b, m.s.segs.sel[Segments.ES]);
        assertEquals(STACK + 0x800, r()[CpuState.RSP]);
    }

    @Test
    void nonFlatDsIsRefused() {
        mode32();
        code("8ed8");
        r()[CpuState.RAX] = 0x33;
        assertEquals(Vectors.GP, fault()[0]);
    }

    @Test
    void pushEsIsInvalidIn64BitMode() {
        code("06");
        assertEquals(Vectors.UD, fault()[0]);
    }

    @Test
    void xsaveFamilyNeedsOsxsave() {
        code("0f01d0");
        assertEquals(Vectors.UD, fault()[0]);
    }

    @Test
    void xgetbvReadsXcr0AndXsaveXrstorRoundTrip() {
        m.s.cr4 |= CpuState.CR4_OSXSAVE;
        m.s.xcr0 = 3;
        // xgetbv; xsave (%rbx); xrstor (%rbx); xsavec 0x240(%rbx)
        code("0f01d0 0fae23 0fae2b 0fc7a340020000");
        r()[CpuState.RCX] = 0;
        assertEquals(Exit.BUDGET, m.cpu.run(1));
        assertEquals(3, r()[CpuState.RAX]);
        assertEquals(0, r()[CpuState.RDX]);
        for (int i = 0; i < 32; i++) {
            m.s.xmm[i] = 0x1111_0000_0000_0000L * (i % 15 + 1) + i;
        }
        m.s.mxcsr = 0x1fa0;
        r()[CpuState.RAX] = 3;
        r()[CpuState.RDX] = 0;
        r()[CpuState.RBX] = DATA;
        m.mem.write64(m.pa(DATA + 512), 0x8000_0000_0000_0000L | 4); // XSTATE_BV bits outside RFBM survive
        assertEquals(Exit.BUDGET, m.cpu.run(1));
        assertEquals(0x037f, m.mem.read32(m.pa(DATA)) & 0xffff, "FCW of the x87 initial state");
        assertEquals(0x1fa0, m.mem.read32(m.pa(DATA + 24)));
        assertEquals(m.s.xmm[2 * 5 + 1], m.mem.read64(m.pa(DATA + 160 + 16 * 5 + 8)));
        assertEquals(0x8000_0000_0000_0007L, m.mem.read64(m.pa(DATA + 512)));
        m.mem.write64(m.pa(DATA + 512), 3);
        long saved5 = m.s.xmm[10];
        m.s.xmm[10] = 0;
        m.s.mxcsr = 0x1f80;
        assertEquals(Exit.BUDGET, m.cpu.run(1));
        assertEquals(saved5, m.s.xmm[10]);
        assertEquals(0x1fa0, m.s.mxcsr);
        assertEquals(Exit.BUDGET, m.cpu.run(1)); // XSAVEC: compacted header
        assertEquals(3, m.mem.read64(m.pa(DATA + 0x240 + 512)));
        assertEquals(0x8000_0000_0000_0003L, m.mem.read64(m.pa(DATA + 0x240 + 520)));
    }

    @Test
    void xsaveAndXrstorCarryTheX87StateAsFxsaveDoes() {
        m.s.cr4 |= CpuState.CR4_OSXSAVE;
        m.s.xcr0 = 3;
        // fld1; fldpi; xsave (%rbx); fninit; xrstor (%rbx); (XSTATE_BV[0] = 0 then) xrstor (%rbx)
        code("d9e8 d9eb 0fae23 dbe3 0fae2b 0fae2b");
        r()[CpuState.RAX] = 3;
        r()[CpuState.RDX] = 0;
        r()[CpuState.RBX] = DATA;
        assertEquals(Exit.BUDGET, m.cpu.run(3));
        org.mmulab.emulator.cpu.fpu.X87State f = m.s.fpu;
        assertEquals(0xc90fdaa22168c235L, m.mem.read64(m.pa(DATA + 32)), "ST0 = pi's significand");
        assertEquals(0x4000, m.mem.read64(m.pa(DATA + 40)) & 0xffff, "ST0's exponent");
        assertEquals(0x8000_0000_0000_0000L, m.mem.read64(m.pa(DATA + 48)), "ST1 = 1.0");
        assertEquals(0xc0, m.mem.read8(m.pa(DATA + 4)), "abridged tag (by physical register): R6 and R7 valid");
        assertEquals(6 << 11, m.mem.read16(m.pa(DATA + 2)) & 0x3800, "FSW.TOP = 6");
        assertEquals(1, m.mem.read64(m.pa(DATA + 512)) & 1, "XSTATE_BV[0]: x87 saved");
        assertEquals(Exit.BUDGET, m.cpu.run(2)); // fninit; xrstor
        assertEquals(0xc90fdaa22168c235L, f.stSig(0));
        assertEquals(0x8000_0000_0000_0000L, f.stSig(1));
        assertEquals(6, f.top);
        m.mem.write64(m.pa(DATA + 512), 2); // x87 absent from the image: its initial configuration
        assertEquals(Exit.BUDGET, m.cpu.run(1));
        assertEquals(0x037f, f.fcw);
        assertEquals(0, f.statusWord());
        assertEquals(0xffff, f.tagWord(), "all empty");
        assertEquals(0, f.stSig(0));
    }

    @Test
    void xrstorInitialisesAbsentSseAndRejectsBadHeaders() {
        m.s.cr4 |= CpuState.CR4_OSXSAVE;
        m.s.xcr0 = 3;
        code("0fae2b 0fae2b 0fae2b");
        r()[CpuState.RAX] = 3;
        r()[CpuState.RBX] = DATA;
        m.mem.write32(m.pa(DATA + 24), 0x1f80);
        m.mem.write64(m.pa(DATA + 512), 1); // SSE not in XSTATE_BV: XMM registers initialised
        m.s.xmm[3] = 99;
        assertEquals(Exit.BUDGET, m.cpu.run(1));
        assertEquals(0, m.s.xmm[3]);
        m.s.rip = CODE;
        m.mem.write64(m.pa(DATA + 512), 4); // XSTATE_BV outside XCR0
        assertEquals(Vectors.GP, fault()[0]);
        m.mem.write64(m.pa(DATA + 512), 3);
        m.mem.write64(m.pa(DATA + 520), 1); // XCOMP_BV set without the compacted bit
        assertEquals(Vectors.GP, fault()[0]);
        m.mem.write64(m.pa(DATA + 520), 0);
        r()[CpuState.RBX] = DATA + 16; // misaligned
        assertEquals(Vectors.GP, fault()[0]);
    }

    @Test
    void xsetbvAtCpl3IsGp() {
        m.s.cr4 |= CpuState.CR4_OSXSAVE;
        code("0f01d1");
        assertEquals(Vectors.GP, fault()[0]);
    }

    private int[] cpuid(int leaf, int sub) {
        return Cpuid.leaf(m.s, m.mmu.model(), leaf, sub);
    }

    @Test
    void cpuidIdentityAndFeatureBits() {
        int[] l0 = cpuid(0, 0);
        assertEquals(0x18, l0[0]);
        int[] l1 = cpuid(1, 0);
        assertEquals(0x000506e3, l1[0], "family 6 model 5EH stepping 3");
        assertEquals(1, l1[3] & 1, "FPU: the x87 unit");
        assertEquals(0, l1[2] & (1 << 30), "RDRAND not advertised");
        assertEquals(0, l1[2] & (1 << 27), "OSXSAVE follows CR4");
        assertTrue((l1[2] & (1 << 26)) != 0, "XSAVE");
        m.s.cr4 |= CpuState.CR4_OSXSAVE;
        assertTrue((cpuid(1, 0)[2] & (1 << 27)) != 0);
        assertEquals(0, cpuid(7, 0)[1] & (1 << 18), "RDSEED not advertised");
        assertNotEquals(0, cpuid(0x80000001, 0)[3] & (1 << 11), "SYSCALL in 64-bit mode");
        mode32();
        assertEquals(0, cpuid(0x80000001, 0)[3] & (1 << 11), "Intel: SYSCALL bit clear outside 64-bit mode");
        int[] d0 = cpuid(0xd, 0);
        assertEquals(3, d0[0]);
        assertEquals(576, d0[1]);
        assertEquals(3, cpuid(0xd, 1)[0], "XSAVEOPT and XSAVEC");
    }

    @Test
    void cacheLeavesMatchTheTimingModel() {
        TimingModel t = m.mmu.model().timing();
        TimingModel.CacheGeometry[] g = {t.l1d(), t.l2(), t.llc()};
        for (int i = 0; i < 3; i++) {
            int[] l = cpuid(4, i);
            int ways = (l[1] >>> 22) + 1, line = (l[1] & 0xfff) + 1, sets = l[2] + 1;
            assertEquals(i + 1, (l[0] >>> 5) & 7, "level");
            assertEquals(g[i].sizeBytes(), ways * line * sets);
            assertEquals(g[i].ways(), ways);
            assertEquals(64, line);
        }
        assertEquals(0, cpuid(4, 3)[0] & 31, "null type ends the list");
        assertEquals(0xff, (cpuid(2, 0)[0] >>> 8) & 0xff, "leaf 2 defers to leaf 4");
        int l2 = cpuid(0x80000006, 0)[2];
        assertEquals(t.l2().sizeBytes() >>> 10, l2 >>> 16);
    }

    @Test
    void tlbLeafMatchesTheCpuModel() {
        CpuModel model = m.mmu.model();
        int max = cpuid(0x18, 0)[0];
        CpuModel.TlbGeometry[] geo = {model.l1d4k(), model.l1d2m(), model.l1d1g(), model.l1i4k(), model.l1i2m(),
                model.stlb4k(), model.stlb2m(), model.stlb1g()};
        int n = 0;
        for (CpuModel.TlbGeometry x : geo) {
            if (x.entries() > 0) {
                int[] l = cpuid(0x18, n++);
                boolean full = (l[3] & (1 << 8)) != 0;
                int ways = l[1] >>> 16, sets = l[2];
                assertEquals(x.entries(), ways * sets);
                assertEquals(full ? x.entries() : x.ways(), ways);
            }
        }
        assertEquals(n - 1, max);
        assertEquals(0, cpuid(0x18, n)[3] & 31, "past the last subleaf");
        int[] stlb = cpuid(0x18, 5);
        assertEquals(3, stlb[3] & 31, "unified");
        assertEquals(2, (stlb[3] >>> 5) & 7, "second level");
    }

    @Test
    void topologyFollowsTheVcpuCount() {
        m.s.cpuCount = 3;
        m.s.cpuIndex = 2;
        assertEquals(2, cpuid(1, 0)[1] >>> 24, "initial APIC id");
        assertEquals(4, (cpuid(1, 0)[1] >>> 16) & 0xff, "addressable ids");
        int[] smt = cpuid(0xb, 0), core = cpuid(0xb, 1);
        assertEquals(1, smt[1]);
        assertEquals(3, core[1]);
        assertEquals(2, core[0], "APIC id shift");
        assertEquals(2, core[3]);
        assertEquals(0, cpuid(0xb, 2)[1]);
    }
}
