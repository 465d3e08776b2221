package org.mmulab.emulator.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * 32-bit protected/compatibility mode ({@code CpuState.longMode64 == false}): what differs from 64-bit
 * mode. Machine code assembled with GNU as --32; expected outcomes per the SDM. The i386 images in
 * {@link I386ImagesTest} cover the common integer ISA end to end.
 */
class Mode32Test {
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
        m.s.longMode64 = false;
    }

    private void code(String hex) {
        m.load(CODE, TestMachine.hex(hex));
    }

    private long[] r() {
        return m.s.gpr;
    }

    @Test
    void opcodes40To4FAreIncDecNotRex() {
        code("40 49 47 664e");
        r()[CpuState.RAX] = 0xffff_ffffL;
        r()[CpuState.RCX] = 0;
        r()[CpuState.RDI] = 5;
        r()[CpuState.RSI] = 0x1_0000_0000L;
        assertEquals(Exit.BUDGET, m.cpu.run(4));
        assertEquals(0, r()[CpuState.RAX]);
        assertEquals(0xffff_ffffL, r()[CpuState.RCX]);
        assertEquals(6, r()[CpuState.RDI]);
        assertEquals(0x1_0000_ffffL, r()[CpuState.RSI], "DEC r16 keeps bits 63:16");
        assertEquals(CODE + 5, m.s.rip);
    }

    @Test
    void sameBytesDecodeByModeFromOneFrame() {
        // 48 ff c0: 64-bit "inc rax" (REX.W FF /0); 32-bit "dec eax; inc eax".
        code("48ffc0");
        r()[CpuState.RAX] = 10;
        assertEquals(Exit.BUDGET, m.cpu.run(2));
        assertEquals(10, r()[CpuState.RAX]);
        assertEquals(CODE + 3, m.s.rip);
        long pfn = m.pa(CODE) >>> 12;
        assertTrue(m.cpu.codeCache().isCached(pfn, DecodedCodeCache.MODE32));
        m.s.longMode64 = true;
        m.s.rip = CODE;
        assertEquals(Exit.BUDGET, m.cpu.run(1));
        assertEquals(11, r()[CpuState.RAX]);
        assertEquals(CODE + 3, m.s.rip);
        assertTrue(m.cpu.codeCache().isCached(pfn, DecodedCodeCache.MODE64));
        // A write to the frame drops both decodings.
        m.mem.write8(m.pa(CODE + 0x100), 0x90);
        assertFalse(m.cpu.codeCache().isCached(pfn));
    }

    @Test
    void pushaPopaAndStackWidth() {
        code("60 61 50 66683412 665b 5a");
        long sp = STACK + 0x800;
        for (int i = 0; i < 8; i++) {
            r()[i] = i == CpuState.RSP ? sp : 0x1111_1111L * (i + 1);
        }
        assertEquals(Exit.BUDGET, m.cpu.run(1)); // pusha
        assertEquals(sp - 32, r()[CpuState.RSP]);
        assertEquals(0x1111_1111L, m.mem.read32(m.pa(sp - 4)) & 0xffff_ffffL, "EAX pushed first");
        assertEquals(sp, m.mem.read32(m.pa(sp - 20)) & 0xffff_ffffL, "original ESP");
        assertEquals(0x8888_8888L, m.mem.read32(m.pa(sp - 32)) & 0xffff_ffffL, "EDI pushed last");
        r()[CpuState.RAX] = 0;
        r()[CpuState.RDI] = 0;
        m.mem.write32(m.pa(sp - 20), 0xdead); // the ESP slot is skipped by POPA
        assertEquals(Exit.BUDGET, m.cpu.run(1)); // popa
        assertEquals(sp, r()[CpuState.RSP]);
        assertEquals(0x1111_1111L, r()[CpuState.RAX]);
        assertEquals(0x8888_8888L, r()[CpuState.RDI]);
        assertEquals(Exit.BUDGET, m.cpu.run(4)); // push eax; pushw $0x1234; pop bx; pop edx
        assertEquals(0x4444_1234L, r()[CpuState.RBX],
                "POP r16 replaces only BX");
        assertEquals(0x1111_1111L, r()[CpuState.RDX]);
        assertEquals(sp, r()[CpuState.RSP]);
    }

    @Test
    void callPushesFourBytesAndRetPopsThem() {
        code("e800000000 58 c3");
        long sp = STACK + 0x800;
        m.mem.write32(m.pa(sp), 0x40_1234);
        assertEquals(Exit.BUDGET, m.cpu.run(3));
        assertEquals(CODE + 5, r()[CpuState.RAX]);
        assertEquals(0x40_1234L, m.s.rip);
        assertEquals(sp + 4, r()[CpuState.RSP]);
    }

    @Test
    void pushfPopfAreFourBytes() {
        code("9c 9d");
        long sp = STACK + 0x800;
        m.s.setRflags(CpuState.CF | CpuState.ZF | CpuState.IF);
        assertEquals(Exit.BUDGET, m.cpu.run(1));
        assertEquals(sp - 4, r()[CpuState.RSP]);
        assertEquals(CpuState.CF | CpuState.ZF | CpuState.IF | 2, m.mem.read32(m.pa(sp - 4)) & 0xffff_ffffL);
        m.mem.write32(m.pa(sp - 4), (int) (CpuState.SF | CpuState.IF | 2));
        assertEquals(Exit.BUDGET, m.cpu.run(1));
        assertEquals(sp, r()[CpuState.RSP]);
        assertEquals(CpuState.SF | CpuState.IF | 2, m.s.getRflags());
    }

    @Test
    void lockCmpxchg8bSucceedsAndFails() {
        code("f00fc70e f00fc70e");
        long va = DATA + 8;
        m.mem.write64(m.pa(va), 0x1111_2222_3333_4444L);
        r()[CpuState.RSI] = va;
        r()[CpuState.RDX] = 0x1111_2222L;
        r()[CpuState.RAX] = 0x3333_4444L;
        r()[CpuState.RCX] = 0xaaaa_bbbbL;
        r()[CpuState.RBX] = 0xcccc_ddddL;
        assertEquals(Exit.BUDGET, m.cpu.run(1));
        assertEquals(0xaaaa_bbbb_cccc_ddddL, m.mem.read64(m.pa(va)));
        assertTrue((m.s.getRflags() & CpuState.ZF) != 0);
        assertEquals(Exit.BUDGET, m.cpu.run(1)); // EDX:EAX no longer matches: loaded, ZF=0
        assertEquals(0xaaaa_bbbbL, r()[CpuState.RDX]);
        assertEquals(0xcccc_ddddL, r()[CpuState.RAX]);
        assertEquals(0, m.s.getRflags() & CpuState.ZF);
        assertEquals(0xaaaa_bbbb_cccc_ddddL, m.mem.read64(m.pa(va)));
    }

    @Test
    void gsPrefixAddsGsBaseForTls() {
        // mov %ax,%gs with a TLS descriptor in GDT entry 6 (base TLS, 4 GiB limit), then %gs: accesses.
        code("8ee8 65a110000000 65c70307000000");
        m.s.segs.gdt[6] = Segments.descriptor(TLS, 0xfffff, 3, true, 3, true, false, false, true, true);
        r()[CpuState.RAX] = 6 * 8 + 3;
        m.mem.write32(m.pa(TLS + 0x10), 0x5eed);
        r()[CpuState.RBX] = 0x20;
        assertEquals(Exit.BUDGET, m.cpu.run(3));
        assertEquals(6 * 8 + 3, m.s.segs.sel[Segments.GS]);
        assertEquals(TLS, m.s.gsBase);
        assertEquals(0x5eed, r()[CpuState.RAX]);
        assertEquals(7, m.mem.read32(m.pa(TLS + 0x20)));
    }

    @Test
    void effectiveAddressesWrapAt4GiB() {
        code("8d5488ff 8b00");
        r()[CpuState.RAX] = 0;
        r()[CpuState.RCX] = 0;
        assertEquals(Exit.BUDGET, m.cpu.run(1)); // lea -1(%eax,%ecx,4),%edx
        assertEquals(0xffff_ffffL, r()[CpuState.RDX]);
        // mov (%eax),%eax with garbage above bit 31 in the register: only the low 32 bits address memory.
        m.mem.write32(m.pa(DATA), 0x77);
        r()[CpuState.RAX] = 0xffff_ffff_0000_0000L | DATA;
        assertEquals(Exit.BUDGET, m.cpu.run(1));
        assertEquals(0x77, r()[CpuState.RAX]);
    }

    @Test
    void repMovslUsesEcxEsiEdi() {
        code("f3a5");
        for (int i = 0; i < 4; i++) {
            m.mem.write32(m.pa(DATA + 4 * i), 0x100 + i);
        }
        r()[CpuState.RSI] = DATA;
        r()[CpuState.RDI] = DATA + 0x100;
        r()[CpuState.RCX] = 0xffff_ffff_0000_0004L; // upper half ignored: ECX = 4
        assertEquals(Exit.BUDGET, m.cpu.run(1));
        assertEquals(0x103, m.mem.read32(m.pa(DATA + 0x10c)));
        assertEquals(0, r()[CpuState.RCX]);
        assertEquals(DATA + 0x10, r()[CpuState.RSI]);
        assertEquals(DATA + 0x110, r()[CpuState.RDI]);
    }

    @Test
    void enterLeaveUseEbpEsp() {
        code("c8100000 c9");
        long sp = STACK + 0x800;
        r()[CpuState.RBP] = 0x1234;
        assertEquals(Exit.BUDGET, m.cpu.run(1));
        assertEquals(sp - 4, r()[CpuState.RBP]);
        assertEquals(sp - 4 - 16, r()[CpuState.RSP]);
        assertEquals(Exit.BUDGET, m.cpu.run(1));
        assertEquals(0x1234, r()[CpuState.RBP]);
        assertEquals(sp, r()[CpuState.RSP]);
    }

    @Test
    void syscallAndAddressSizePrefixAreUndefinedInt80Exits() {
        code("0f05");
        assertEquals(Exit.EXCEPTION, m.cpu.run(1));
        assertEquals(Vectors.UD, m.s.exceptionVector);
        m.s.rip = CODE + 0x10;
        m.load(CODE + 0x10, TestMachine.hex("678b07"));
        assertEquals(Exit.EXCEPTION, m.cpu.run(1));
        assertEquals(Vectors.UD, m.s.exceptionVector);
        m.s.rip = CODE + 0x20;
        m.load(CODE + 0x20, TestMachine.hex("cd80"));
        assertEquals(Exit.INT80, m.cpu.run(1));
        assertEquals(CODE + 0x22, m.s.rip);
    }

    @Test
    void eipWrapsAt4GiB() {
        // jmp at 0xfffffff0 whose target lies past 4 GiB lands at the wrapped address.
        long top = 0xffff_f000L;
        m.mapNew(top, TestMachine.P | TestMachine.US);
        m.load(top + 0xff0, TestMachine.hex("e9" + String.format("%08x",
                Integer.reverseBytes((int) (0x1_0040_0010L - (top + 0xff5))))));
        m.s.rip = top + 0xff0;
        assertEquals(Exit.BUDGET, m.cpu.run(1));
        assertEquals(CODE + 0x10, m.s.rip);
    }
}
