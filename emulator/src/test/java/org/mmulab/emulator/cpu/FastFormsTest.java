package org.mmulab.emulator.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The run loop's {@link FastOps} forms must compute exactly what the group methods compute: the same
 * loop (every fast form in 64- and 32-bit operand sizes, register and immediate sources, taken and
 * not-taken Jcc, straight-line FALL links; one loop for the original forms, one for rotates, IMUL,
 * MOVZX/MOVSX, SETcc and CMOVcc, one for the memory forms) runs from random registers and random data
 * on two machines, one with fast forms and one without, for a random number of instructions, and must
 * end in identical registers, flags, RIP, retired count and data and stack pages.
 */
class FastFormsTest {
    private static final long CODE = 0x40_0000L;

    /*
     * loop: add %rbx,%rax; or %rsi,%rdx; and $0x7ffff0ff,%rbx; sub %rdx,%rsi; xor $0x5a5a,%rdi;
     *       cmp %rsi,%rax; jb 1f; add $3,%rax; 1: test %rdx,%rbx; jle 2f; sub $-7,%rbx;
     *    2: mov %rax,%rbp; mov $0x12345678,%rdx; lea 0x40(%rbp,%rsi,4),%rsi; inc %rdi; dec %rbx;
     *       shl $5,%rax; shr $3,%rdx; sar $7,%rbp; add %eax,%ebx; sub $9,%edx; xor %ebp,%esi;
     *       shl $31,%esi; sar $1,%ebx; cmp $100,%edi; js 3f; nop; 3: dec %rcx; jne loop; jmp .
     * The 32-bit build is the same source with e-registers (as --32).
     */
    private static final String LOOP64 = "4801d84809f24881e3fff0ff7f4829d64881f75a5a00004839f072044883c0034885d37e04"
            + "4883ebf94889c548c7c278563412488d74b54048ffc748ffcb48c1e00548c1ea0348c1fd0701c383ea0931eec1e61fd1fb"
            + "83ff6478019048ffc9759febfe";
    private static final String LOOP32 = "01d809f281e3fff0ff7f29d681f75a5a000039f0720383c00385d37e0383ebf989c5ba78"
            + "5634128d74b540474bc1e005c1ea03c1fd0701c383ea0931eec1e61fd1fb83ff647801904975b5ebfe";

    /*
     * The rotate, multiply, extend, SETcc and CMOVcc forms (and, mixed in, forms that stay generic:
     * AH-style byte registers), each reading flags left by a different kind of instruction:
     * loop: rol $7,%rax; ror $13,%rbx; rol %edx; ror $31,%esi; imul $33,%rax,%rbp; imul $-100000,%rbx,%rbx;
     *       imul %rdx,%rsi; imul $7,%edi,%edx; imul %ebp,%eax; imul $0x7fffffff,%rsi,%rdi; movzbl %al,%ebx;
     *       movzbq %sil,%rdx; movzwl %bp,%esi; movsbq %dil,%rbp; movswl %bx,%edi; movsbl %dl,%ebx;
     *       movswq %ax,%r8; movslq %esi,%r9; movsxd %edx,%r10d; cmp %rsi,%rax; setb %r11b; setle %bl;
     *       setg %sil; cmovl %rbx,%rdx; cmovae %esi,%edi; cmova %r8d,%r9d; test %rax,%rax; cmovs %r10,%rax;
     *       sete %al; add %r9,%rdx; sub %r11,%rbx; ror $5,%rbp; setns %bpl; cmovo %rdi,%rsi; xor %rax,%rbx;
     *       imul %r8,%r10; seto %dil; rol $63,%r8; cmovc %r8d,%eax; setc %r9b; shl $3,%rdi; rol $2,%rdi;
     *       cmovnz %rdx,%rax; setp %dl; dec %rcx; jne loop; jmp .
     * The 32-bit build (as --32) is the same idea with e-registers and AH/DH/BH destinations mixed in:
     * loop: rol $7,%eax; ror $13,%ebx; rol %edx; ror $31,%esi; imul $33,%eax,%ebp; imul $-100000,%ebx,%ebx;
     *       imul %edx,%esi; imul $7,%edi,%edx; imul %ebp,%eax; imul $0x7fffffff,%esi,%edi; movzbl %al,%ebx;
     *       movzbl %dl,%edx; movzwl %bp,%esi; movsbl %bl,%ebp; movswl %bx,%edi; movsbl %dl,%ebx; cmp %esi,%eax;
     *       setb %al; setle %bl; setg %dl; setne %ah; cmovl %ebx,%edx; cmovae %esi,%edi; cmova %ebp,%eax;
     *       test %eax,%eax; cmovs %edi,%eax; sete %dh; add %edi,%edx; ror $5,%ebp; xor %eax,%ebx;
     *       rol $31,%esi; cmovo %edi,%esi; seto %bh; setp %dl; imul %ebx,%edi; dec %ecx; jne loop; jmp .
     */
    private static final String MORE64 = "48c1c00748c1cb0dd1c2c1ce1f486be8214869db6079feff480faff26bd7070fafc54869feffffff7f0fb6d8480fb6d60fb7"
            + "f5480fbeef0fbffb0fbeda4c0fbfc04c63ce4463d24839f0410f92c30f9ec3400f9fc6480f4cd30f43fe450f47c84885c049"
            + "0f48c20f94c04c01ca4c29db48c1cd05400f99c5480f40f74831c34d0fafd0400f90c749c1c03f410f42c0410f92c148c1e7"
            + "0348c1c702480f45c20f9ac248ffc90f8555ffffffebfe";
    private static final String MORE32 = "c1c007c1cb0dd1c2c1ce1f6be82169db6079feff0faff26bd7070fafc569feffffff7f0fb6d80fb6d20fb7f50fbeeb0fbffb"
            + "0fbeda39f00f92c00f9ec30f9fc20f95c40f4cd30f43fe0f47c585c00f48c70f94c601fac1cd0531c3c1c61f0f40f70f90c7"
            + "0f9ac20faffb497593ebfe";

    /*
     * The memory forms (FastOps LOAD, LOADX, STORE, ALUM, PUSH, POP, CALL, RET, run out of line), %rdi = DATA:
     * loop: mov %rax,%r8; and $0xff,%r8; mov (%rdi,%r8,8),%rdx; add %rdx,%rax; mov %eax,4(%rdi,%r8,8);
     *       mov 0x10(%rdi),%esi; add (%rdi,%r8,4),%rbx; sub 8(%rdi),%ebp; xor %rbx,0x18(%rdi);
     *       addl $0x1234,0x20(%rdi); cmp %rsi,(%rdi,%r8,8); adc %rdx,0x28(%rdi); sbb 0x30(%rdi),%rsi;
     *       orq $-5,0x38(%rdi); testl $0x100,0x40(%rdi); jz 1f; and %eax,0x48(%rdi);
     *    1: movq $0x12345678,0x50(%rdi); movl $-1,0x58(%rdi); movzbl 3(%rdi,%r8,1),%r9d; movsbq 9(%rdi),%r10;
     *       movzwq 0x12(%rdi,%r8,2),%r11; movswl 0x1e(%rdi),%r12d; movslq 0x24(%rdi),%r13;
     *       movsxd 0x2c(%rdi),%r14d; cmp 0x60(%rdi),%r10d; test %rax,0x68(%rdi); mov %r13,0x70(%rdi,%r8,8);
     *       push %rax; push %rbx; pop %r15; push %rsp; pop %rax; pop %rbx; call func; mov lbl(%rip),%rdx;
     *       add lbl+8(%rip),%r9; dec %rcx; jne loop;
     * lbl:  jmp .
     * func: add %rax,%rdx; push %rsp; pop %rsp; ret
     * The 32-bit build (as --32) uses %ebp as the index, drops the R8-R15 and RIP-relative lines and adds
     * a byte load into %ah (generic) and sub 8(%edi),%eax after the call.
     */
    private static final String MEM64 = "4989c04981e0ff0000004a8b14c74801d0428944c7048b77104a031c872b6f0848315f18814720341200004a3934c7481157"
            + "28481b773048834f38fbf7474000010000740321474848c7475078563412c74758ffffffff460fb64c07034c0fbe57094e0f"
            + "b75c4712440fbf671e4c636f244463772c443b5760488547684e896cc7705053415f54585be819000000488b15100000004c"
            + "030d1100000048ffc90f855bffffffebfe4801c2545cc3";
    private static final String MEM32 = "89c581e5ff0000008b14ef01d08944ef048b7710031caf315f18814720341200003934ef1157281b7730834f38fbf7474000"
            + "0100007403214748c74750785634120fb6542f030fbe77090fb75c6f120fbf471e8a67113b77608547688954ef7050535d54"
            + "585be8080000002b470849758febfe01c2545cc3";
    private static final long DATA = 0x60_0000L, STACK = 0x7f_f000L;

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void fastFormsMatchTheGroupMethods(boolean mode32) {
        compare(mode32, mode32 ? LOOP32 : LOOP64);
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void memoryFormsMatchTheGroupMethods(boolean mode32) {
        compare(mode32, mode32 ? MEM32 : MEM64);
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void rotateMultiplyExtendSetccCmovMatchTheGroupMethods(boolean mode32) {
        compare(mode32, mode32 ? MORE32 : MORE64);
    }

    private static void compare(boolean mode32, String code) {
        long seed = new SplittableRandom().nextLong();
        System.out.println("FastFormsTest seed " + seed + (mode32 ? " (32-bit)" : " (64-bit)"));
        SplittableRandom rnd = new SplittableRandom(seed);
        // RDI and RSP point at the data and stack pages (set after the random registers).
        for (int round = 0; round < 50; round++) {
            long[] regs = new long[16];
            for (int i = 0; i < 16; i++) {
                regs[i] = rnd.nextInt(4) == 0 ? rnd.nextInt(256) - 128 : rnd.nextLong();
            }
            long flags = rnd.nextLong() & (CpuState.CF | CpuState.ZF | CpuState.SF | CpuState.OF | CpuState.PF);
            int budget = 1 + rnd.nextInt(3000);
            byte[] data = new byte[4096];
            rnd.nextBytes(data);
            TestMachine fast = machine(mode32, code, regs, flags, true);
            TestMachine slow = machine(mode32, code, regs, flags, false);
            for (TestMachine m : new TestMachine[] {fast, slow}) {
                m.load(DATA, data);
                m.s.gpr[CpuState.RDI] = DATA;
                m.s.gpr[CpuState.RSP] = STACK + 0x800;
            }
            assertEquals(Exit.BUDGET, fast.cpu.run(budget));
            assertEquals(Exit.BUDGET, slow.cpu.run(budget));
            String where = "seed " + seed + " round " + round;
            assertArrayEquals(slow.s.gpr, fast.s.gpr, where);
            assertEquals(slow.s.getRflags(), fast.s.getRflags(), where);
            assertEquals(slow.s.rip, fast.s.rip, where);
            assertEquals(slow.s.instructions, fast.s.instructions, where);
            for (long page : new long[] {DATA, STACK}) {
                for (long off = 0; off < 4096; off += 8) {
                    assertEquals(slow.mem.read64(slow.pa(page + off)), fast.mem.read64(fast.pa(page + off)),
                            where + " memory at 0x" + Long.toHexString(page + off));
                }
            }
        }
    }

    private static TestMachine machine(boolean mode32, String code, long[] regs, long flags, boolean fastForms) {
        TestMachine m = new TestMachine();
        m.mapNew(CODE, TestMachine.P | TestMachine.US);
        m.load(CODE, TestMachine.hex(code));
        m.mapNew(DATA, TestMachine.P | TestMachine.RW | TestMachine.US | TestMachine.NX);
        m.mapNew(STACK, TestMachine.P | TestMachine.RW | TestMachine.US | TestMachine.NX);
        m.cpu.fastForms = fastForms;
        m.s.longMode64 = !mode32;
        System.arraycopy(regs, 0, m.s.gpr, 0, 16);
        if (mode32) {
            for (int i = 0; i < 16; i++) {
                m.s.gpr[i] &= 0xffff_ffffL; // 32-bit code sees (and leaves) only the low halves
            }
        }
        m.s.gpr[CpuState.RCX] = 1000; // loop count; the trailing jmp . absorbs any remaining budget
        m.s.setRflags(flags | CpuState.IF);
        m.s.rip = CODE;
        return m;
    }
}
