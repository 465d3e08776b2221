package org.mmulab.emulator.cpu.tier;

import static org.objectweb.asm.Opcodes.*;

import org.mmulab.emulator.cpu.FastOps;
import org.mmulab.emulator.cpu.Flags;
import org.objectweb.asm.Label;

/**
 * Lazy arithmetic flags at compile time (Bochs's lazy_flags, the interpreter's {@code Flags}): after a
 * flag-setting instruction the operands sit in the locals fa, fb, fr, fc and the emitter knows their kind and
 * width, so a Jcc/SETcc/CMOVcc tests them inline; nothing reaches {@code Flags} until an exit, a fault or a
 * reader of the full flags, and then through the exact {@code Flags.lazy} call the interpreter would make.
 */
abstract class LazyFlagsEmitter extends BlockEmitter {
    /** fr = fa op fb (fa, fb already masked); dest = fr & m unless dest < 0; sets the flag state. */
    void aluOp(int id, int bits, int dest, long m) {
        mv.visitVarInsn(LLOAD, FA);
        mv.visitVarInsn(LLOAD, FB);
        int kind;
        switch (id) {
            case FastOps.ADD:
                mv.visitInsn(LADD);
                kind = Flags.ADD;
                break;
            case FastOps.OR:
                mv.visitInsn(LOR);
                kind = Flags.LOGIC;
                break;
            case FastOps.AND:
            case FastOps.TEST:
                mv.visitInsn(LAND);
                kind = Flags.LOGIC;
                break;
            case FastOps.XOR:
                mv.visitInsn(LXOR);
                kind = Flags.LOGIC;
                break;
            default: // SUB, CMP
                mv.visitInsn(LSUB);
                kind = Flags.SUB;
                break;
        }
        if (dest >= 0) {
            mv.visitInsn(DUP2);
            mv.visitVarInsn(LSTORE, FR);
            mask(m);
            storeReg(dest);
        } else {
            mv.visitVarInsn(LSTORE, FR);
        }
        fk = kind;
        fbits = bits;
    }

    /** Emits the Flags.lazy call the interpreter would have made for the current compile-time state. */
    void flushCode() {
        if (fk == IN_FL) {
            return;
        }
        mv.visitVarInsn(ALOAD, FL);
        pushInt(fk);
        pushInt(fbits);
        mv.visitVarInsn(LLOAD, FA);
        mv.visitVarInsn(LLOAD, FB);
        mv.visitVarInsn(LLOAD, FR);
        mv.visitVarInsn(ILOAD, FC);
        mv.visitMethodInsn(INVOKEVIRTUAL, FLAGS, "lazy", "(IIJJJZ)V", false);
    }

    /** Flushes and forgets: from here on the flags are in the Flags object. */
    void flush() {
        flushCode();
        fk = IN_FL;
    }

    /** Pushes CF (0/1). */
    void cf() {
        long m = widthMask(fbits);
        switch (fk) {
            case Flags.ADD: // unsigned r < a
                mv.visitVarInsn(LLOAD, FR);
                mask(m);
                mv.visitVarInsn(LLOAD, FA);
                mask(m);
                unsignedLess();
                return;
            case Flags.SUB: // unsigned a < b
                mv.visitVarInsn(LLOAD, FA);
                mask(m);
                mv.visitVarInsn(LLOAD, FB);
                mask(m);
                unsignedLess();
                return;
            case Flags.LOGIC:
                mv.visitInsn(ICONST_0);
                return;
            case Flags.LOGIC_CO:
            case Flags.INC:
            case Flags.DEC:
                mv.visitVarInsn(ILOAD, FC);
                return;
            default:
                flush();
                mv.visitVarInsn(ALOAD, FL);
                mv.visitMethodInsn(INVOKEVIRTUAL, FLAGS, "cf", "()Z", false);
        }
    }

    void unsignedLess() {
        mv.visitMethodInsn(INVOKESTATIC, "java/lang/Long", "compareUnsigned", "(JJ)I", false);
        boolOf(IFLT);
    }

    /** Pushes condition {@code cc} (0/1), as Flags.cond evaluates it. */
    void cond(int cc) {
        int k = cc >> 1;
        boolean neg = (cc & 1) != 0;
        int sh = 64 - fbits;
        long m = fk == IN_FL ? 0 : widthMask(fbits);
        if (fk != IN_FL && (k == 2 || k == 4)) { // E / S from the result
            mv.visitVarInsn(LLOAD, FR);
            pushInt(sh);
            mv.visitInsn(LSHL);
            mv.visitInsn(LCONST_0);
            mv.visitInsn(LCMP);
            boolOf(k == 2 ? (neg ? IFNE : IFEQ) : (neg ? IFGE : IFLT));
            return;
        }
        if (fk == Flags.SUB && (k == 1 || k == 3 || k == 6 || k == 7)) {
            if (k == 1 || k == 3) { // B: unsigned a < b; BE: also r == 0
                mv.visitVarInsn(LLOAD, FA);
                mask(m);
                mv.visitVarInsn(LLOAD, FB);
                mask(m);
                mv.visitMethodInsn(INVOKESTATIC, "java/lang/Long", "compareUnsigned", "(JJ)I", false);
                boolOf(k == 1 ? IFLT : IFLE); // a <= b unsigned is a < b || a == b, and a == b iff (r & m) == 0
            } else { // L: signed a < b; LE: a <= b
                mv.visitVarInsn(LLOAD, FA);
                pushInt(sh);
                mv.visitInsn(LSHL);
                mv.visitVarInsn(LLOAD, FB);
                pushInt(sh);
                mv.visitInsn(LSHL);
                mv.visitInsn(LCMP);
                boolOf(k == 6 ? IFLT : IFLE);
            }
            negate(neg);
            return;
        }
        if (fk == Flags.LOGIC && (k == 1 || k == 3 || k == 6 || k == 7)) {
            if (k == 1) {
                mv.visitInsn(ICONST_0);
            } else if (k == 3) { // BE: ZF
                mv.visitVarInsn(LLOAD, FR);
                mask(m);
                mv.visitInsn(LCONST_0);
                mv.visitInsn(LCMP);
                boolOf(IFEQ);
            } else { // L: SF; LE: ZF or SF
                mv.visitVarInsn(LLOAD, FR);
                pushInt(sh);
                mv.visitInsn(LSHL);
                mv.visitInsn(LCONST_0);
                mv.visitInsn(LCMP);
                boolOf(k == 6 ? IFLT : IFLE);
            }
            negate(neg);
            return;
        }
        flush();
        mv.visitVarInsn(ALOAD, FL);
        pushInt(cc);
        mv.visitMethodInsn(INVOKEVIRTUAL, FLAGS, "cond", "(I)Z", false);
    }

    void negate(boolean neg) {
        if (neg) {
            mv.visitInsn(ICONST_1);
            mv.visitInsn(IXOR);
        }
    }

    /** Flags.setCfOf(cf = I0, of = I1), kept lazy in locals after a logic op as the interpreter's LOGIC_CO. */
    void setCfOf() {
        if (fk == Flags.LOGIC || fk == Flags.LOGIC_CO) {
            fk = Flags.LOGIC_CO;
            mv.visitVarInsn(ILOAD, I0);
            mv.visitVarInsn(ISTORE, FC);
            mv.visitVarInsn(ILOAD, I1);
            mv.visitInsn(I2L);
            mv.visitVarInsn(LSTORE, FB);
            return;
        }
        flush();
        mv.visitVarInsn(ALOAD, FL);
        mv.visitVarInsn(ILOAD, I0);
        mv.visitVarInsn(ILOAD, I1);
        mv.visitMethodInsn(INVOKEVIRTUAL, FLAGS, "setCfOf", "(ZZ)V", false);
    }
}
