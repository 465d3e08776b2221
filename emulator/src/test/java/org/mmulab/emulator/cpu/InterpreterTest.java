package org.mmulab.emulator.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.mmulab.emulator.mmu.PfErr;

/**
 * Architectural contracts of the interpreter that the recorded native vectors cannot show: exits,
 * precise exceptions, self-modifying code, stepping, the decoded-code cache. Machine code was
 * assembled with GNU as; the expected architectural outcomes are those the SDM specifies.
 */
class InterpreterTest {
    static final long CODE = 0x40_0000L, DATA = 0x60_0000L, STACK = 0x7f_f000L;
    TestMachine m;

    @BeforeEach
    void setUp() {
        m = new TestMachine();
        m.mapNew(CODE, TestMachine.P | TestMachine.US);
        m.mapNew(CODE + 0x1000, TestMachine.P | TestMachine.US);
        m.mapNew(DATA, TestMachine.P | TestMachine.RW | TestMachine.US | TestMachine.NX);
        m.mapNew(STACK, TestMachine.P | TestMachine.RW | TestMachine.US | TestMachine.NX);
        m.s.gpr[CpuState.RSP] = STACK + 0x800;
        m.s.rip = CODE;
    }

    private void code(String hex) {
        m.load(CODE, TestMachine.hex(hex));
    }

    @Test
    void budgetOneRetiresExactlyOneInstruction() {
        code("31c0" + "ffc0" + "ffc0" + "ffc0"); // xor eax,eax; inc eax x3
        m.s.gpr[0] = 77;
        assertEquals(Exit.BUDGET, m.cpu.run(1));
        assertEquals(1, m.s.instructions);
        assertEquals(CODE + 2, m.s.rip);
        assertEquals(0, m.s.gpr[0]);
        assertEquals(Exit.BUDGET, m.cpu.run(1));
        assertEquals(2, m.s.instructions);
        assertEquals(1, m.s.gpr[0]);
        assertEquals(Exit.BUDGET, m.cpu.run(2));
        assertEquals(4, m.s.instructions);
        assertEquals(3, m.s.gpr[0]);
        assertEquals(CODE + 8, m.s.rip);
    }

    @Test
    void ud2IsUndefinedWithDescription() {
        code("90" + "0f0b");
        assertEquals(Exit.EXCEPTION, m.cpu.run(10));
        assertEquals(Vectors.UD, m.s.exceptionVector);
        assertEquals(CODE + 1, m.s.rip);
        assertEquals(1, m.s.instructions);
        assertEquals("undefined opcode 0f 0b at 0x400001", m.cpu.lastFaultDescription());
    }

    @Test
    void unknownOpcodesAreUndefined() {
        // 0F 38 20 without 66 (PMOVSXBW has no MMX form), D9 D1 (an undefined x87 form), C4 (VEX),
        // 06 (invalid in 64-bit)
        String[] ops = {"0f3820c1", "d9d1", "c4e17d6fc1", "06", "0fff"};
        for (String op : ops) {
            setUp();
            code(op);
            assertEquals(Exit.EXCEPTION, m.cpu.run(1), op);
            assertEquals(Vectors.UD, m.s.exceptionVector, op);
            assertEquals(CODE, m.s.rip);
            assertTrue(m.cpu.lastFaultDescription().startsWith("undefined opcode " + op.substring(0, 2)),
                    m.cpu.lastFaultDescription());
            assertTrue(m.cpu.lastFaultDescription().endsWith(" at 0x400000"), m.cpu.lastFaultDescription());
        }
    }

    @Test
    void lockOnRegisterDestinationIsUndefined() {
        code("f001c8"); // lock add eax,ecx
        assertEquals(Exit.EXCEPTION, m.cpu.run(1));
        assertEquals(Vectors.UD, m.s.exceptionVector);
    }

    @Test
    void instructionLongerThan15BytesIsGp() {
        code("66666666666666666666666648b88877665544332211"); // 10x 66 + mov rax, imm64 (20 bytes)
        assertEquals(Exit.EXCEPTION, m.cpu.run(1));
        assertEquals(Vectors.GP, m.s.exceptionVector);
        assertEquals(CODE, m.s.rip);
    }

    @Test
    void syscallExitContract() {
        code("b83c000000" + "0f05" + "90"); // mov eax,60; syscall; nop
        m.s.setRflags(0x202 | CpuState.CF);
        assertEquals(Exit.SYSCALL, m.cpu.run(100));
        assertEquals(CODE + 7, m.s.rip);
        assertEquals(CODE + 7, m.s.gpr[CpuState.RCX]);
        assertEquals(m.s.getRflags(), m.s.gpr[CpuState.R11]);
        assertEquals(0x203, m.s.gpr[CpuState.R11] & 0xfff);
        assertEquals(2, m.s.instructions);
        assertEquals(60, m.s.gpr[0]);
    }

    @Test
    void int3TrapsWithRipPastIt() {
        code("cc90");
        assertEquals(Exit.EXCEPTION, m.cpu.run(5));
        assertEquals(Vectors.BP, m.s.exceptionVector);
        assertEquals(CODE + 1, m.s.rip);
    }

    @Test
    void hltAtCpl3IsGp() {
        code("f4");
        assertEquals(Exit.EXCEPTION, m.cpu.run(5));
        assertEquals(Vectors.GP, m.s.exceptionVector);
        assertEquals(0, m.s.exceptionErrorCode);
        assertEquals(CODE, m.s.rip);
    }

    @Test
    void int80ExitsWithRipPast() {
        code("cd80");
        assertEquals(Exit.INT80, m.cpu.run(5));
        assertEquals(CODE + 2, m.s.rip);
    }

    @Test
    void requestStopReturnsHalt() {
        code("ebfe"); // jmp $
        m.cpu.requestStop();
        assertEquals(Exit.HALT, m.cpu.run(1_000_000));
        assertEquals(Exit.BUDGET, m.cpu.run(1000));
        assertEquals(1000, m.s.instructions);
        assertEquals(CODE, m.s.rip);
    }

    @Test
    void storeToUnmappedPageIsPreciseWithCr2AndErrorCode() {
        code("488902"); // mov [rdx],rax
        long unmapped = 0x12_3456_7008L;
        m.s.gpr[CpuState.RDX] = unmapped;
        m.s.gpr[0] = 5;
        assertEquals(Exit.EXCEPTION, m.cpu.run(1));
        assertEquals(Vectors.PF, m.s.exceptionVector);
        assertEquals(PfErr.W | PfErr.U, m.s.exceptionErrorCode);
        assertEquals(unmapped, m.s.cr2);
        assertEquals(CODE, m.s.rip);
        assertEquals(0, m.s.instructions);
        assertEquals("#PF (error 0x6) at 0x400000, address 0x1234567008", m.cpu.lastFaultDescription());
    }

    @Test
    void readModifyWriteOnReadOnlyPageFaultsAsWriteAndLeavesMemory() {
        long ro = 0x50_0000L;
        long pa = m.mapNew(ro, TestMachine.P | TestMachine.US);
        m.mem.write32(pa + 8, 40);
        code("0102" + "90"); // add [rdx],eax
        m.s.gpr[CpuState.RDX] = ro + 8;
        m.s.gpr[0] = 2;
        m.s.setRflags(0x202);
        assertEquals(Exit.EXCEPTION, m.cpu.run(1));
        assertEquals(Vectors.PF, m.s.exceptionVector);
        assertEquals(PfErr.P | PfErr.W | PfErr.U, m.s.exceptionErrorCode);
        assertEquals(40, m.mem.read32(pa + 8));
        assertEquals(0x202, m.s.getRflags() & 0xfff);
    }

    @Test
    void readModifyWriteOnNotPresentPageReportsWrite() {
        code("0102"); // add [rdx],eax
        m.s.gpr[CpuState.RDX] = 0x55_0000L;
        assertEquals(Exit.EXCEPTION, m.cpu.run(1));
        assertEquals(PfErr.W | PfErr.U, m.s.exceptionErrorCode);
    }

    @Test
    void pageCrossingStoreWritesNothingWhenSecondPageFaults() {
        long pa = m.pa(DATA);
        code("48894210"); // mov [rdx+0x10],rax
        m.s.gpr[CpuState.RDX] = DATA + 0xffc - 0x10; // 8-byte store at DATA+0xffc crosses into DATA+0x1000
        m.s.gpr[0] = -1L;
        assertEquals(Exit.EXCEPTION, m.cpu.run(1));
        assertEquals(DATA + 0x1000, m.s.cr2);
        for (int i = 0xffc; i < 0x1000; i++) {
            assertEquals(0, m.mem.read8(pa + i));
        }
        m.mapNew(DATA + 0x1000, TestMachine.P | TestMachine.RW | TestMachine.US);
        assertEquals(Exit.BUDGET, m.cpu.run(1));
        assertEquals(-1L, m.mmu.read64(DATA + 0xffc));
    }

    @Test
    void pageCrossingReadModifyWriteOnReadOnlySecondPageWritesNothing() {
        long pa = m.pa(DATA);
        m.mapNew(DATA + 0x1000, TestMachine.P | TestMachine.US); // read-only
        code("480102"); // add [rdx],rax
        m.s.gpr[CpuState.RDX] = DATA + 0xffc;
        m.s.gpr[0] = 0x0101_0101_0101_0101L;
        assertEquals(Exit.EXCEPTION, m.cpu.run(1));
        assertEquals(PfErr.P | PfErr.W | PfErr.U, m.s.exceptionErrorCode);
        assertEquals(DATA + 0x1000, m.s.cr2);
        assertEquals(0, m.mem.read32(pa + 0xffc));
    }

    @Test
    void pushToUnmappedStackLeavesRsp() {
        code("50"); // push rax
        m.s.gpr[CpuState.RSP] = STACK; // next push goes to STACK-8: unmapped
        assertEquals(Exit.EXCEPTION, m.cpu.run(1));
        assertEquals(STACK, m.s.gpr[CpuState.RSP]);
        assertEquals(STACK - 8, m.s.cr2);
        assertEquals(PfErr.W | PfErr.U, m.s.exceptionErrorCode);
    }

    @Test
    void repMovsFaultMidwayCommitsCompletedIterations() {
        code("f3a4" + "90"); // rep movsb; nop
        long src = DATA + 0x100;
        long pa = m.pa(DATA);
        for (int i = 0; i < 64; i++) {
            m.mem.write8(pa + 0x100 + i, i + 1);
        }
        long dst = 0x65_0000L - 16; // last 16 bytes of an unmapped-after page
        m.mapNew(dst & ~0xfffL, TestMachine.P | TestMachine.RW | TestMachine.US);
        m.s.gpr[CpuState.RSI] = src;
        m.s.gpr[CpuState.RDI] = dst;
        m.s.gpr[CpuState.RCX] = 40;
        assertEquals(Exit.EXCEPTION, m.cpu.run(10));
        assertEquals(Vectors.PF, m.s.exceptionVector);
        assertEquals(0x65_0000L, m.s.cr2);
        assertEquals(CODE, m.s.rip);
        assertEquals(24, m.s.gpr[CpuState.RCX]);
        assertEquals(src + 16, m.s.gpr[CpuState.RSI]);
        assertEquals(dst + 16, m.s.gpr[CpuState.RDI]);
        assertEquals(16, m.mmu.read8(dst + 15));
        assertEquals(0, m.s.instructions);
        m.mapNew(0x65_0000L, TestMachine.P | TestMachine.RW | TestMachine.US);
        assertEquals(Exit.BUDGET, m.cpu.run(1));
        assertEquals(CODE + 2, m.s.rip);
        assertEquals(0, m.s.gpr[CpuState.RCX]);
        assertEquals(40, m.mmu.read8(dst + 39));
        assertEquals(1, m.s.instructions);
    }

    @Test
    void divideByZeroAndOverflowRaiseDe() {
        code("48f7f1"); // div rcx
        m.s.gpr[0] = 10;
        m.s.gpr[CpuState.RDX] = 0;
        m.s.gpr[CpuState.RCX] = 0;
        assertEquals(Exit.EXCEPTION, m.cpu.run(1));
        assertEquals(Vectors.DE, m.s.exceptionVector);
        assertEquals("divide error at 0x400000", m.cpu.lastFaultDescription());
        assertEquals(10, m.s.gpr[0]);
        assertEquals(CODE, m.s.rip);

        setUp();
        code("48f7f1"); // div rcx with RDX >= RCX: quotient overflow
        m.s.gpr[CpuState.RDX] = 5;
        m.s.gpr[CpuState.RCX] = 5;
        assertEquals(Exit.EXCEPTION, m.cpu.run(1));
        assertEquals(Vectors.DE, m.s.exceptionVector);

        setUp();
        code("48f7f9"); // idiv rcx: INT64_MIN / -1
        m.s.gpr[0] = Long.MIN_VALUE;
        m.s.gpr[CpuState.RDX] = -1;
        m.s.gpr[CpuState.RCX] = -1;
        assertEquals(Exit.EXCEPTION, m.cpu.run(1));
        assertEquals(Vectors.DE, m.s.exceptionVector);
        assertEquals(Long.MIN_VALUE, m.s.gpr[0]);
    }

    @Test
    void movdqaMisalignedIsGp() {
        code("660f6f02"); // movdqa xmm0,[rdx]
        m.s.gpr[CpuState.RDX] = DATA + 8;
        assertEquals(Exit.EXCEPTION, m.cpu.run(1));
        assertEquals(Vectors.GP, m.s.exceptionVector);
        setUp();
        code("660f6f02");
        m.s.gpr[CpuState.RDX] = DATA + 16;
        m.mmu.write64(DATA + 16, 0x1122);
        m.mmu.write64(DATA + 24, 0x3344);
        assertEquals(Exit.BUDGET, m.cpu.run(1));
        assertEquals(0x1122, m.s.xmm[0]);
        assertEquals(0x3344, m.s.xmm[1]);
    }

    @Test
    void fetchFromNxPageFaultsWithInstructionBit() {
        m.s.rip = DATA;
        assertEquals(Exit.EXCEPTION, m.cpu.run(1));
        assertEquals(Vectors.PF, m.s.exceptionVector);
        assertEquals(PfErr.P | PfErr.U | PfErr.I, m.s.exceptionErrorCode);
        assertEquals(DATA, m.s.cr2);
    }

    @Test
    void instructionCrossingIntoUnmappedPageFaultsOnSecondPage() {
        long last = 0x45_0000L;
        m.mapNew(last, TestMachine.P | TestMachine.US);
        m.load(last + 0xffd, TestMachine.hex("b8ffff")); // mov eax, imm32: 2 immediate bytes on the next page
        m.s.rip = last + 0xffd;
        assertEquals(Exit.EXCEPTION, m.cpu.run(1));
        assertEquals(Vectors.PF, m.s.exceptionVector);
        assertEquals(last + 0x1000, m.s.cr2);
        assertEquals(PfErr.U | PfErr.I, m.s.exceptionErrorCode);
        assertEquals(last + 0xffd, m.s.rip);
        long next = m.mapNew(last + 0x1000, TestMachine.P | TestMachine.US);
        m.mem.write16(next, 0x1234);
        assertEquals(Exit.BUDGET, m.cpu.run(1));
        assertEquals(0x1234ffffL, m.s.gpr[0]);
        // The crossing instruction is not cached: changing its second page is seen.
        m.mem.write16(next, 0x5678);
        m.s.rip = last + 0xffd;
        assertEquals(Exit.BUDGET, m.cpu.run(1));
        assertEquals(0x5678ffffL, m.s.gpr[0]);
    }

    @Test
    void selfModifyingCodeIsSeen() {
        // xor eax,eax; call L; mov byte [rip+L+1],0xc8 (inc eax -> dec eax); call L; jmp E; L: inc eax; ret; E: nop
        long pa = m.mapNew(0x48_0000L, TestMachine.P | TestMachine.RW | TestMachine.US);
        m.load(0x48_0000L, TestMachine.hex("31c0e80e000000c60508000000c8e802000000eb03ffc0c390"));
        m.s.rip = 0x48_0000L;
        assertEquals(Exit.BUDGET, m.cpu.run(9));
        assertEquals(0x48_0018L, m.s.rip);
        assertEquals(0, m.s.gpr[0]); // 2 if the stale decoded "inc" had been executed again
        assertEquals(0xc8, m.mem.read8(pa + 0x16));
    }

    @Test
    void decodedPageIsDroppedOnWriteAndSharedBetweenCpus() {
        code("ffc0" + "ebfc"); // L: inc eax; jmp L
        assertEquals(Exit.BUDGET, m.cpu.run(4));
        assertEquals(2, m.s.gpr[0]);
        long pfn = m.pa(CODE) >>> 12;
        assertTrue(m.cpu.codeCache().isCached(pfn));
        // A second CPU on the same memory shares the cache; a kernel-side write to the frame drops it.
        Interpreter other = new Interpreter(new CpuState(), m.mmu, m.mem);
        assertTrue(other.codeCache() == m.cpu.codeCache());
        m.mem.write8(m.pa(CODE) + 1, 0xc8); // inc eax -> dec eax
        assertFalse(m.cpu.codeCache().isCached(pfn));
        assertEquals(Exit.BUDGET, m.cpu.run(2));
        assertEquals(1, m.s.gpr[0]);
    }

    @Test
    void ripRelativeAddressingUsesTheNextInstructionAddress() {
        // mov rax,[rip+0x1ffff9] (-> 0x600000); mov [rip+0x1ffffa],rax (-> 0x600008);
        // addr32 mov ecx,[eip+0x1ffffb] (-> 0x600010)
        code("488b05f9ff1f00" + "488905faff1f00" + "678b0dfbff1f00");
        m.mmu.write64(DATA, 0x1122334455667788L);
        m.mmu.write32(DATA + 0x10, 0xcafe);
        assertEquals(Exit.BUDGET, m.cpu.run(3), () -> m.cpu.lastFaultDescription());
        assertEquals(0x1122334455667788L, m.s.gpr[0]);
        assertEquals(0x1122334455667788L, m.mmu.read64(DATA + 8));
        assertEquals(0xcafe, m.s.gpr[CpuState.RCX]);
    }

    @Test
    void fsAndGsOverridesUseBases() {
        code("64488b042510000000" + "65488b042518000000"); // mov rax,fs:[0x10]; mov rax,gs:[0x18]
        m.s.fsBase = DATA;
        m.s.gsBase = DATA + 0x100;
        m.mmu.write64(DATA + 0x10, 0xabcdL);
        m.mmu.write64(DATA + 0x118, 0xef01L);
        assertEquals(Exit.BUDGET, m.cpu.run(1));
        assertEquals(0xabcdL, m.s.gpr[0]);
        assertEquals(Exit.BUDGET, m.cpu.run(1));
        assertEquals(0xef01L, m.s.gpr[0]);
    }

    @Test
    void cpuidAdvertisesDocumentedFeatures() {
        code("0fa2" + "0fa2" + "0fa2");
        m.s.gpr[0] = 0;
        m.cpu.run(1);
        assertEquals(0x18, m.s.gpr[0]);
        byte[] v = new byte[12];
        long[] regs = {m.s.gpr[3], m.s.gpr[2], m.s.gpr[1]};
        for (int i = 0; i < 12; i++) {
            v[i] = (byte) (regs[i / 4] >>> (8 * (i % 4)));
        }
        assertEquals(Cpuid.VENDOR, new String(v, java.nio.charset.StandardCharsets.US_ASCII));
        m.s.gpr[0] = 1;
        m.cpu.run(1);
        long edx = m.s.gpr[2];
        assertTrue((edx & (1 << 26)) != 0 && (edx & (1 << 25)) != 0 && (edx & (1 << 15)) != 0, "SSE2/SSE/CMOV");
        assertEquals(1, edx & 1, "x87 FPU advertised");
        assertTrue((m.s.gpr[1] & (1 << 23)) != 0, "POPCNT");
        m.s.gpr[0] = 0x80000008L;
        m.cpu.run(1);
        assertEquals(m.mmu.model().maxPhysAddrBits() | (48 << 8), m.s.gpr[0]);
    }

    @Test
    void lockedCmpxchgOnAlignedWordIsAtomicAndCorrect() {
        code("f0480fb10a"); // lock cmpxchg [rdx],rcx
        m.mmu.write64(DATA, 7);
        m.s.gpr[CpuState.RDX] = DATA;
        m.s.gpr[0] = 7;
        m.s.gpr[CpuState.RCX] = 9;
        m.cpu.run(1);
        assertEquals(9, m.mmu.read64(DATA));
        assertTrue((m.s.getRflags() & CpuState.ZF) != 0);
        m.s.rip = CODE;
        m.cpu.run(1); // now memory 9 != rax 7: rax <- 9, ZF=0
        assertEquals(9, m.s.gpr[0]);
        assertEquals(0, m.s.getRflags() & CpuState.ZF);
    }
}
