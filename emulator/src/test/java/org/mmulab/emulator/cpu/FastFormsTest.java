package org.mmulab.emulator.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The run loop's inline {@link FastOps} forms must compute exactly what the group methods compute: the
 * same loop (every fast form in 64- and 32-bit operand sizes, register and immediate sources, taken and
 * not-taken Jcc, straight-line FALL links) runs from random registers on two machines, one with fast
 * forms and one without, and must end in identical registers, flags, RIP and retired count.
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

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void fastFormsMatchTheGroupMethods(boolean mode32) {
        long seed = new SplittableRandom().nextLong();
        System.out.println("FastFormsTest seed " + seed + (mode32 ? " (32-bit)" : " (64-bit)"));
        SplittableRandom rnd = new SplittableRandom(seed);
        for (int round = 0; round < 50; round++) {
            long[] regs = new long[16];
            for (int i = 0; i < 16; i++) {
                regs[i] = rnd.nextInt(4) == 0 ? rnd.nextInt(256) - 128 : rnd.nextLong();
            }
            long flags = rnd.nextLong() & (CpuState.CF | CpuState.ZF | CpuState.SF | CpuState.OF | CpuState.PF);
            int budget = 1 + rnd.nextInt(3000);
            TestMachine fast = machine(mode32, regs, flags, true);
            TestMachine slow = machine(mode32, regs, flags, false);
            assertEquals(Exit.BUDGET, fast.cpu.run(budget));
            assertEquals(Exit.BUDGET, slow.cpu.run(budget));
            String where = "seed " + seed + " round " + round;
            assertArrayEquals(slow.s.gpr, fast.s.gpr, where);
            assertEquals(slow.s.getRflags(), fast.s.getRflags(), where);
            assertEquals(slow.s.rip, fast.s.rip, where);
            assertEquals(slow.s.instructions, fast.s.instructions, where);
        }
    }

    private static TestMachine machine(boolean mode32, long[] regs, long flags, boolean fastForms) {
        TestMachine m = new TestMachine();
        m.mapNew(CODE, TestMachine.P | TestMachine.US);
        m.load(CODE, TestMachine.hex(mode32 ? LOOP32 : LOOP64));
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
