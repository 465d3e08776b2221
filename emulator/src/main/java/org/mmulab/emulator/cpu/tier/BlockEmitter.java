package org.mmulab.emulator.cpu.tier;

import static org.objectweb.asm.Opcodes.*;

import java.util.ArrayList;
import java.util.List;

import org.objectweb.asm.Label;
import org.objectweb.asm.MethodVisitor;

/**
 * The state and the smallest emitters shared by the translation tier's code generators: the JVM local
 * slots of a block's {@code run(TierContext c, long budgetLeft, long windowLeft)}, the trace being compiled,
 * the compile-time flag state, the labels every exit reaches, and constant/register/mask helpers (the
 * counterpart of QEMU's tcg-op helpers). The generators build on each other in one chain, each adding one
 * concern: {@link LazyFlagsEmitter} (flags), {@link CycleTimingEmitter} (cycle charges),
 * {@link ControlXferEmitter} (exits and branches, Bochs's ctrl_xfer), {@link MemAccessEmitter} (guest
 * loads/stores and their fault handlers), {@link InsnTranslator} (one guest instruction) and
 * {@link BlockCompiler} (a whole trace, the class file).
 */
abstract class BlockEmitter {
    static final String CPU = "org/mmulab/emulator/cpu/";
    static final String FLAGS = CPU + "Flags", INTERP = CPU + "Interpreter", FAULT = CPU + "GuestFault";
    static final String MMU = "org/mmulab/emulator/mmu/Mmu";
    static final String CTX = Type.internal(TierContext.class), PAGE = Type.internal(CodeSource.class);
    static final String SUPER = Type.internal(CompiledBlock.class);
    static final int RSP = 4;
    /** Compile-time flag state: the flags are in the Flags object (nothing pending in locals). */
    static final int IN_FL = -1;

    // Local variable slots of run(TierContext c, long budgetLeft, long windowLeft).
    static final int C = 1, BUDGET = 2, WINDOW = 4, R = 6, FL = 7, MMU_L = 8, IT = 9, PG = 10, VBASE = 11,
            N = 13, FA = 15, FB = 17, FR = 19, FC = 21, G0 = 22, T0 = 54, T1 = 56, I0 = 58, I1 = 59, RETN = 60,
            CLK = 62, WALK_L = 63, ACC = 64, IC = 66, WIC = 68, ST = 70; // the last six: cycle timing (CycleTimingEmitter)

    /** Small indirection so the class names above read as names. */
    static final class Type {
        static String internal(Class<?> c) {
            return c.getName().replace('.', '/');
        }
    }

    // Per-compilation state.
    MethodVisitor mv;
    Trace t;
    int written; // bit i: guest register i is written by the trace
    int used; // bit i: guest register i is read or written by the trace (kept in a local)
    /**
     * 32-bit code (the interpreter's {@code m32}): stack addresses and ESP wrap at 4 GiB and every exit's
     * EIP too ({@code addrMask}); data effective addresses already carry {@code A32} from the decoder.
     */
    boolean m32;
    int fk, fbits; // compile-time flag state (kind or IN_FL, width)
    Label head, commonExit;
    final List<Runnable> handlers = new ArrayList<>();

    void loadField(String name, String desc, int local) {
        mv.visitVarInsn(ALOAD, C);
        mv.visitFieldInsn(GETFIELD, CTX, name, desc);
        mv.visitVarInsn(ASTORE, local);
    }

    static int memRegs(int m) {
        int base = m & 31, idx = (m >>> 5) & 31;
        return (base < 16 ? 1 << base : 0) | (idx < 16 ? 1 << idx : 0);
    }

    static int bit(int reg) {
        return reg < 16 ? 1 << reg : 0;
    }

    static int field(int w, int shift) {
        return (w >>> shift) & 31;
    }

    static long widthMask(int bits) {
        return bits == 64 || bits == 0 ? -1L : (1L << bits) - 1;
    }

    void loadReg(int g) {
        mv.visitVarInsn(LLOAD, G0 + 2 * g);
    }

    void storeReg(int g) {
        mv.visitVarInsn(LSTORE, G0 + 2 * g);
    }

    void mask(long m) {
        if (m != -1L) {
            pushLong(m);
            mv.visitInsn(LAND);
        }
    }

    /** Masks the long on the stack to the address size ({@code Interpreter.addrMask}: 32 bits in 32-bit code). */
    void addrMask() {
        if (m32) {
            mask(0xffff_ffffL);
        }
    }

    void sext(int sh) {
        if (sh != 0) {
            pushInt(sh);
            mv.visitInsn(LSHL);
            pushInt(sh);
            mv.visitInsn(LSHR);
        }
    }

    /** Pushes bit {@code n} of long local {@code local} as an int 0/1. */
    void bitOf(int local, int n) {
        mv.visitVarInsn(LLOAD, local);
        pushInt(n);
        mv.visitInsn(LUSHR);
        mv.visitInsn(L2I);
        mv.visitInsn(ICONST_1);
        mv.visitInsn(IAND);
    }

    /** Consumes an int on the stack, pushes 1 if {@code ifOpcode} would jump, else 0. */
    void boolOf(int ifOpcode) {
        Label yes = new Label(), done = new Label();
        mv.visitJumpInsn(ifOpcode, yes);
        mv.visitInsn(ICONST_0);
        mv.visitJumpInsn(GOTO, done);
        mv.visitLabel(yes);
        mv.visitInsn(ICONST_1);
        mv.visitLabel(done);
    }

    void pushInt(int v) {
        if (v >= -1 && v <= 5) {
            mv.visitInsn(ICONST_0 + v);
        } else if (v >= Byte.MIN_VALUE && v <= Byte.MAX_VALUE) {
            mv.visitIntInsn(BIPUSH, v);
        } else if (v >= Short.MIN_VALUE && v <= Short.MAX_VALUE) {
            mv.visitIntInsn(SIPUSH, v);
        } else {
            mv.visitLdcInsn(v);
        }
    }

    void pushLong(long v) {
        if (v == 0) {
            mv.visitInsn(LCONST_0);
        } else if (v == 1) {
            mv.visitInsn(LCONST_1);
        } else {
            mv.visitLdcInsn(v);
        }
    }
}
