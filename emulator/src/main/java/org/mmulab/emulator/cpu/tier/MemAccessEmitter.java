package org.mmulab.emulator.cpu.tier;

import static org.objectweb.asm.Opcodes.*;

import org.mmulab.emulator.cpu.FastOps;
import org.objectweb.asm.Label;

/**
 * Guest memory accesses of a block (QEMU's softmmu load/store helpers, the interpreter's {@code rd}/{@code wr}
 * and {@code fastMem}): effective addresses, the MMU calls, the per-access exception handler that turns a
 * {@code GuestFault} into a precise exit at the faulting instruction, the stack halves of PUSH/POP/CALL/RET,
 * and the check after each access that the code frame was not written.
 */
abstract class MemAccessEmitter extends ControlXferEmitter {
    /** Decoder's base-register code for RIP-relative addressing (Decoder.RIPREL; checked by TierConstantsTest). */
    static final int RIPREL = 17;

    /** Pushes the effective address (no segment override: FastOps.classify). */
    void ea(int i, int fall) {
        int mem = t.mem[i];
        pushLong(t.disp[i]);
        int base = mem & 31, idx = (mem >>> 5) & 31;
        if (base < 16) {
            loadReg(base);
            mv.visitInsn(LADD);
        } else if (base == RIPREL) {
            mv.visitVarInsn(LLOAD, VBASE);
            mv.visitInsn(LADD);
            pushLong(fall);
            mv.visitInsn(LADD);
        }
        if (idx < 16) {
            loadReg(idx);
            int scale = (mem >>> 10) & 3;
            if (scale != 0) {
                pushInt(scale);
                mv.visitInsn(LSHL);
            }
            mv.visitInsn(LADD);
        }
        if ((t.fw[i] & FastOps.A32) != 0) {
            mask(0xffff_ffffL);
        }
    }

    /** Pushes the value read at T0 ({@code Interpreter.rd}: zero-extended 32-bit, as-returned 8/16-bit). */
    void read(int i, int sz) {
        Label start = new Label(), end = new Label();
        mv.visitLabel(start);
        mv.visitVarInsn(ALOAD, MMU_L);
        mv.visitVarInsn(LLOAD, T0);
        switch (sz) {
            case 3:
                mv.visitMethodInsn(INVOKEVIRTUAL, MMU, "read64", "(J)J", false);
                break;
            case 2:
                mv.visitMethodInsn(INVOKEVIRTUAL, MMU, "read32", "(J)I", false);
                mv.visitInsn(I2L);
                mask(0xffff_ffffL);
                break;
            case 1:
                mv.visitMethodInsn(INVOKEVIRTUAL, MMU, "read16", "(J)I", false);
                mv.visitInsn(I2L);
                break;
            default:
                mv.visitMethodInsn(INVOKEVIRTUAL, MMU, "read8", "(J)I", false);
                mv.visitInsn(I2L);
                break;
        }
        mv.visitLabel(end);
        faultHandler(start, end, i);
    }

    /** Writes T1 at T0 ({@code Interpreter.wr}). */
    void write(int i, int sz) {
        Label start = new Label(), end = new Label();
        mv.visitLabel(start);
        mv.visitVarInsn(ALOAD, MMU_L);
        mv.visitVarInsn(LLOAD, T0);
        mv.visitVarInsn(LLOAD, T1);
        switch (sz) {
            case 3:
                mv.visitMethodInsn(INVOKEVIRTUAL, MMU, "write64", "(JJ)V", false);
                break;
            case 2:
                mv.visitInsn(L2I);
                mv.visitMethodInsn(INVOKEVIRTUAL, MMU, "write32", "(JI)V", false);
                break;
            case 1:
                mv.visitInsn(L2I);
                mv.visitMethodInsn(INVOKEVIRTUAL, MMU, "write16", "(JI)V", false);
                break;
            default:
                mv.visitInsn(L2I);
                mv.visitMethodInsn(INVOKEVIRTUAL, MMU, "write8", "(JI)V", false);
                break;
        }
        mv.visitLabel(end);
        faultHandler(start, end, i);
    }

    /**
     * The exception handler of instruction {@code i}'s memory access: the instruction committed nothing
     * (its memory access comes before any register or flag update), so the state to restore is the one
     * before it: write back, flush the flags as they stood, RIP = the instruction, retired = i.
     */
    void faultHandler(Label start, Label end, int i) {
        Label h = new Label();
        mv.visitTryCatchBlock(start, end, h, FAULT);
        final int k = fk, kb = fbits;
        handlers.add(() -> {
            mv.visitLabel(h);
            mv.visitInsn(POP);
            faultExit(i, k, kb, () -> { }); // ACC was charged and cleared before the access
        });
    }

    /**
     * The out-of-line end of instruction {@code i}'s fault handler: the flags as they stood ({@code k},
     * {@code kb}), {@code reload} of what the instruction committed before it faulted (nothing for a
     * plain access; a called instruction's completed REP iterations), then ctx.fault, the issue point and
     * the exit at {@code i}. The emitter's bookkeeping (flags, pending charge, ACC) is put back after it
     * for the code that follows the handler.
     */
    void faultExit(int i, int k, int kb, Runnable reload) {
        int saveK = fk, saveB = fbits;
        long saveP = pend;
        boolean saveA = accLive;
        fk = k;
        fbits = kb;
        reload.run();
        mv.visitVarInsn(ALOAD, C);
        mv.visitInsn(ICONST_1);
        mv.visitFieldInsn(PUTFIELD, CTX, "fault", "Z");
        cycleFault(); // the issue point; nothing pending (ACC, and a REP's elements, were charged before)
        accLive = false;
        faulting = true;
        exitTo(t.off[i], i);
        faulting = false;
        fk = saveK;
        fbits = saveB;
        pend = saveP;
        accLive = saveA;
    }

    /** After a memory access: if the code frame was written (by this instruction or another vCPU), leave. */
    void checkValid(int i, int fall) {
        Label ok = new Label();
        mv.visitVarInsn(ALOAD, PG);
        mv.visitMethodInsn(INVOKEINTERFACE, PAGE, "isValid", "()Z", true);
        mv.visitJumpInsn(IFNE, ok);
        exitTo(fall, i + 1);
        mv.visitLabel(ok);
    }

    /**
     * The stack half of PUSH and CALL: T0 = (RSP - (1 << sz)) & addrMask, store T1 there (may fault before
     * RSP changes), then RSP = T0 ({@code FastMem}: in 32-bit code ESP wraps and RSP's upper half is cleared).
     */
    void pushT1(int i, int sz) {
        loadReg(RSP);
        pushLong(1L << sz);
        mv.visitInsn(LSUB);
        addrMask();
        mv.visitVarInsn(LSTORE, T0);
        write(i, sz);
        mv.visitVarInsn(LLOAD, T0);
        storeReg(RSP);
    }

    /**
     * The stack half of POP and RET: T0 = RSP & addrMask, T1 = the value there (may fault before RSP
     * changes), then RSP = (T0 + (1 << sz)) & addrMask ({@code FastMem}).
     */
    void popToT1(int i, int sz) {
        loadReg(RSP);
        addrMask();
        mv.visitVarInsn(LSTORE, T0);
        read(i, sz);
        mv.visitVarInsn(LSTORE, T1);
        mv.visitVarInsn(LLOAD, T0);
        pushLong(1L << sz);
        mv.visitInsn(LADD);
        addrMask();
        storeReg(RSP);
    }
}
