package org.mmulab.emulator.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

/**
 * {@link Flags#setCfOf} (rotates, multiplies) must leave exactly the flags that materializing the lazy
 * state and then replacing CF and OF leaves, including its lazy {@link Flags#LOGIC_CO} form after a
 * logic op, seen through every reader: {@link Flags#get}, {@link Flags#cf}, {@link Flags#zf} and all 16
 * condition codes.
 */
class FlagsTest {
    private static final int[] KINDS = {Flags.ADD, Flags.SUB, Flags.LOGIC, Flags.INC, Flags.DEC, Flags.SHL};

    @Test
    void setCfOfEqualsMaterializeThenReplace() {
        SplittableRandom rnd = new SplittableRandom(42);
        for (int i = 0; i < 20_000; i++) {
            int bits = 8 << rnd.nextInt(4);
            long m = Flags.mask(bits);
            long a = rnd.nextLong() & m, b = rnd.nextInt(3) == 0 ? rnd.nextInt(4) : rnd.nextLong() & m;
            if (rnd.nextInt(4) == 0) {
                a = 0;
            }
            int kind = KINDS[rnd.nextInt(KINDS.length)];
            long r = kind == Flags.ADD ? a + b : kind == Flags.SUB ? a - b : kind == Flags.LOGIC ? a ^ b
                    : kind == Flags.INC ? a + 1 : kind == Flags.DEC ? a - 1 : (a << (b = 1 + (b & (bits - 1)))) & m;
            long before = rnd.nextLong() & Flags.ARITH;
            Flags lazy = new Flags();
            Flags eager = new Flags();
            for (Flags f : new Flags[] {lazy, eager}) {
                f.set(before | CpuState.IF);
                f.lazy(kind, bits, a, b, kind == Flags.LOGIC ? r & m : r, rnd.nextBoolean());
            }
            int steps = 1 + rnd.nextInt(2); // a rotate, or a rotate and then a multiply
            for (int s = 0; s < steps; s++) {
                boolean cf = rnd.nextBoolean(), of = rnd.nextBoolean();
                lazy.setCfOf(cf, of);
                eager.materialize();
                eager.setBits(CpuState.CF | CpuState.OF, (cf ? CpuState.CF : 0) | (of ? CpuState.OF : 0));
            }
            String where = "case " + i + " kind " + kind + " bits " + bits;
            for (int cc = 0; cc < 16; cc++) {
                assertEquals(eager.cond(cc), lazy.cond(cc), where + " cc " + cc);
            }
            assertEquals(eager.cf(), lazy.cf(), where);
            assertEquals(eager.zf(), lazy.zf(), where);
            assertEquals(eager.get(), lazy.get(), where);
        }
    }
}
