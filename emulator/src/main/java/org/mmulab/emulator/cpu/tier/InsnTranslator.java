package org.mmulab.emulator.cpu.tier;

import static org.objectweb.asm.Opcodes.*;

import org.mmulab.emulator.cpu.FastOps;
import org.mmulab.emulator.cpu.Flags;
import org.objectweb.asm.Label;

/**
 * One guest instruction to bytecode (QEMU's translate.c): the interpreter's {@code FastOps} forms, with the
 * same semantics as {@code Interpreter.run}'s switch and {@code fastMem}, instruction for instruction.
 */
abstract class InsnTranslator extends MemAccessEmitter {
    // ------------------------------------------------------------------------------------------
    // One instruction. Returns true when it ends the trace (JMP, CALL, RET).

    boolean emitInsn(int i) {
        if (t.call[i] != FastOps.CALL_NONE) {
            return emitCall(i);
        }
        final int w = t.fw[i], id = Trace.id(w);
        final int a = field(w, FastOps.A_SHIFT), b = field(w, FastOps.B_SHIFT);
        final int sz = (w >>> FastOps.SIZE_SHIFT) & 3, bits = 8 << sz;
        final long m = sz == 3 ? -1L : (1L << bits) - 1;
        final boolean imm = (w & FastOps.IMM) != 0;
        final int fall = t.off[i] + Trace.len(w);
        issue(i, id >= FastOps.LOAD); // cycle timing: charges and the fetch, before the instruction's work
        switch (id) {
            case FastOps.ADD:
            case FastOps.OR:
            case FastOps.AND:
            case FastOps.SUB:
            case FastOps.XOR:
            case FastOps.CMP:
            case FastOps.TEST: {
                // fa = A & m; fb = src & m; fr = fa op fb; A = fr & m (not CMP/TEST).
                loadReg(a);
                mask(m);
                mv.visitVarInsn(LSTORE, FA);
                if (imm) {
                    pushLong(t.imm[i]);
                } else {
                    loadReg(b);
                }
                mask(m);
                mv.visitVarInsn(LSTORE, FB);
                aluOp(id, bits, id != FastOps.CMP && id != FastOps.TEST ? a : -1, m);
                return false;
            }
            case FastOps.MOV:
                if (imm) {
                    pushLong(t.imm[i]);
                } else {
                    loadReg(b);
                }
                mask(m);
                storeReg(a);
                return false;
            case FastOps.LEA:
                ea(i, fall);
                mask(m);
                storeReg(a);
                return false;
            case FastOps.JCC: {
                cond(b);
                Label notTaken = new Label();
                mv.visitJumpInsn(IFEQ, notTaken);
                jumpTo(fall + t.imm[i], i + 1);
                mv.visitLabel(notTaken);
                return false;
            }
            case FastOps.JMP:
                jumpTo(fall + t.imm[i], i + 1);
                return true;
            case FastOps.INC:
            case FastOps.DEC: {
                cf();
                mv.visitVarInsn(ISTORE, FC);
                loadReg(a);
                mask(m);
                mv.visitInsn(DUP2);
                mv.visitVarInsn(LSTORE, FA);
                mv.visitInsn(LCONST_1);
                mv.visitInsn(DUP2);
                mv.visitVarInsn(LSTORE, FB);
                mv.visitInsn(id == FastOps.INC ? LADD : LSUB);
                mv.visitInsn(DUP2);
                mv.visitVarInsn(LSTORE, FR);
                mask(m);
                storeReg(a);
                fk = id == FastOps.INC ? Flags.INC : Flags.DEC;
                fbits = bits;
                return false;
            }
            case FastOps.SHL:
            case FastOps.SHR:
            case FastOps.SAR: {
                final int c = (int) t.imm[i] & (bits - 1); // non-zero (FastOps.classify)
                loadReg(a);
                mask(m);
                mv.visitInsn(DUP2);
                mv.visitVarInsn(LSTORE, FA);
                pushInt(c);
                if (id == FastOps.SHL) {
                    mv.visitInsn(LSHL);
                    mask(m);
                } else if (id == FastOps.SHR) {
                    mv.visitInsn(LUSHR);
                } else {
                    mv.visitInsn(POP); // recompute: sign-extend from the operand width first
                    mv.visitInsn(POP2);
                    mv.visitVarInsn(LLOAD, FA);
                    pushInt(64 - bits);
                    mv.visitInsn(LSHL);
                    pushInt(64 - bits);
                    mv.visitInsn(LSHR);
                    pushInt(c);
                    mv.visitInsn(LSHR);
                    mask(m);
                }
                mv.visitInsn(DUP2);
                mv.visitVarInsn(LSTORE, FR);
                storeReg(a);
                pushLong(c);
                mv.visitVarInsn(LSTORE, FB);
                fk = id == FastOps.SHL ? Flags.SHL : id == FastOps.SHR ? Flags.SHR : Flags.SAR;
                fbits = bits;
                return false;
            }
            case FastOps.ROL:
            case FastOps.ROR: {
                final int c = (int) t.imm[i] & (bits - 1);
                loadReg(a);
                mask(m);
                mv.visitVarInsn(LSTORE, T0);
                boolean rol = id == FastOps.ROL;
                mv.visitVarInsn(LLOAD, T0);
                pushInt(rol ? c : c);
                mv.visitInsn(rol ? LSHL : LUSHR);
                mv.visitVarInsn(LLOAD, T0);
                pushInt(bits - c);
                mv.visitInsn(rol ? LUSHR : LSHL);
                mv.visitInsn(LOR);
                mask(m);
                mv.visitInsn(DUP2);
                storeReg(a);
                mv.visitVarInsn(LSTORE, T0); // res
                if (rol) { // cf = res & 1; of = msb(res) != cf
                    bitOf(T0, 0);
                    mv.visitVarInsn(ISTORE, I0);
                    bitOf(T0, bits - 1);
                    mv.visitVarInsn(ILOAD, I0);
                    mv.visitInsn(IXOR);
                    mv.visitVarInsn(ISTORE, I1);
                } else { // cf = msb(res); of = cf != bit(bits - 2)
                    bitOf(T0, bits - 1);
                    mv.visitVarInsn(ISTORE, I0);
                    bitOf(T0, bits - 2);
                    mv.visitVarInsn(ILOAD, I0);
                    mv.visitInsn(IXOR);
                    mv.visitVarInsn(ISTORE, I1);
                }
                setCfOf();
                return false;
            }
            case FastOps.IMUL: {
                final int sh = 64 - bits;
                loadReg(b);
                sext(sh);
                mv.visitVarInsn(LSTORE, T0); // f1
                if (imm) {
                    pushLong((t.imm[i] << sh) >> sh);
                } else {
                    loadReg(a);
                    sext(sh);
                }
                mv.visitVarInsn(LSTORE, T1); // f2
                if (sh == 0) { // ovf = multiplyHigh(f1, f2) != (lo >> 63)
                    mv.visitVarInsn(LLOAD, T0);
                    mv.visitVarInsn(LLOAD, T1);
                    mv.visitMethodInsn(INVOKESTATIC, "java/lang/Math", "multiplyHigh", "(JJ)J", false);
                    mv.visitVarInsn(LLOAD, T0);
                    mv.visitVarInsn(LLOAD, T1);
                    mv.visitInsn(LMUL);
                    pushInt(63);
                    mv.visitInsn(LSHR);
                } else { // ovf = lo != (int) lo
                    mv.visitVarInsn(LLOAD, T0);
                    mv.visitVarInsn(LLOAD, T1);
                    mv.visitInsn(LMUL);
                    mv.visitVarInsn(LLOAD, T0);
                    mv.visitVarInsn(LLOAD, T1);
                    mv.visitInsn(LMUL);
                    mv.visitInsn(L2I);
                    mv.visitInsn(I2L);
                }
                mv.visitInsn(LCMP);
                boolOf(IFNE);
                mv.visitInsn(DUP);
                mv.visitVarInsn(ISTORE, I0);
                mv.visitVarInsn(ISTORE, I1);
                mv.visitVarInsn(LLOAD, T0);
                mv.visitVarInsn(LLOAD, T1);
                mv.visitInsn(LMUL);
                mask(m);
                storeReg(a);
                setCfOf();
                return false;
            }
            case FastOps.MOVX: {
                final int sh = 64 - (8 << ((w >>> FastOps.X_SHIFT) & 3));
                loadReg(b);
                pushInt(sh);
                mv.visitInsn(LSHL);
                pushInt(sh);
                mv.visitInsn((w & FastOps.X_SIGN) != 0 ? LSHR : LUSHR);
                mask(m);
                storeReg(a);
                return false;
            }
            case FastOps.SETCC:
                loadReg(a);
                pushLong(~0xffL);
                mv.visitInsn(LAND);
                cond(b);
                mv.visitInsn(I2L);
                mv.visitInsn(LOR);
                storeReg(a);
                return false;
            case FastOps.CMOVCC: {
                cond((w >>> FastOps.X_SHIFT) & 15);
                Label no = new Label(), done = new Label();
                mv.visitJumpInsn(IFEQ, no);
                loadReg(b);
                mv.visitJumpInsn(GOTO, done);
                mv.visitLabel(no);
                loadReg(a);
                mv.visitLabel(done);
                mask(m);
                storeReg(a);
                return false;
            }
            case FastOps.NOP:
                return false;
            case FastOps.LOAD:
                ea(i, fall);
                mv.visitVarInsn(LSTORE, T0);
                read(i, sz);
                storeReg(a);
                checkValid(i, fall);
                return false;
            case FastOps.LOADX: {
                final int xw = (w >>> FastOps.X_SHIFT) & 3;
                ea(i, fall);
                mv.visitVarInsn(LSTORE, T0);
                read(i, xw);
                if ((w & FastOps.X_SIGN) != 0) {
                    sext(64 - (8 << xw));
                }
                mask(m);
                storeReg(a);
                checkValid(i, fall);
                return false;
            }
            case FastOps.STORE:
                ea(i, fall);
                mv.visitVarInsn(LSTORE, T0);
                if (imm) {
                    pushLong(t.imm[i]);
                } else {
                    loadReg(a);
                }
                mv.visitVarInsn(LSTORE, T1);
                write(i, sz);
                checkValid(i, fall);
                return false;
            case FastOps.ALUM: {
                final int kind = (w >>> FastOps.X_SHIFT) & 15;
                final int aluId = kind == 0 ? FastOps.ADD : kind == 1 ? FastOps.OR : kind == 4 ? FastOps.AND
                        : kind == 5 ? FastOps.SUB : kind == 6 ? FastOps.XOR : kind == 7 ? FastOps.CMP : FastOps.TEST;
                ea(i, fall);
                mv.visitVarInsn(LSTORE, T0);
                read(i, sz);
                mask(m);
                if ((w & FastOps.TO_REG) != 0) { // ALU r, m
                    mv.visitVarInsn(LSTORE, FB);
                    loadReg(a);
                    mask(m);
                    mv.visitVarInsn(LSTORE, FA);
                    aluOp(aluId, bits, kind != 7 && kind != 8 ? a : -1, m);
                } else { // CMP/TEST m, r/imm
                    mv.visitVarInsn(LSTORE, FA);
                    if (imm) {
                        pushLong(t.imm[i]);
                    } else {
                        loadReg(a);
                    }
                    mask(m);
                    mv.visitVarInsn(LSTORE, FB);
                    aluOp(aluId, bits, -1, m);
                }
                checkValid(i, fall);
                return false;
            }
            case FastOps.PUSH:
                loadReg(a);
                mv.visitVarInsn(LSTORE, T1);
                pushT1(i, sz);
                checkValid(i, fall);
                return false;
            case FastOps.POP:
                popToT1(i, sz);
                mv.visitVarInsn(LLOAD, T1);
                storeReg(a); // after RSP: POP %rsp loads the popped value
                checkValid(i, fall);
                return false;
            case FastOps.CALL:
                mv.visitVarInsn(LLOAD, VBASE);
                pushLong(fall);
                mv.visitInsn(LADD);
                mv.visitVarInsn(LSTORE, T1);
                pushT1(i, m32 ? sz : 3); // FastMem: a 64-bit CALL pushes 8 bytes, a 32-bit one its operand size
                exitTo(fall + t.imm[i], i + 1);
                return true;
            case FastOps.RET:
                popToT1(i, sz);
                exit(() -> mv.visitVarInsn(LLOAD, T1), i + 1);
                return true;
            default:
                throw new IllegalStateException("tier: untranslatable fast id " + id);
        }
    }

    /**
     * An instruction without a translation, run by the interpreter's own implementation
     * ({@code Interpreter.execForTier}, QEMU's helper call): the flags and the registers the trace keeps in
     * locals go back to the interpreter's state first and are reloaded after, since it may read and write
     * any of them. A fault (#PF, #DE, #GP, #NM...) leaves what the instruction committed (a REP string's
     * completed iterations: StringOps commits each after its accesses) and exits at the instruction, as
     * the interpreter's run loop does. Returns true when it ends the trace (an unconditional transfer).
     */
    boolean emitCall(int i) {
        final int fall = t.off[i] + Trace.len(t.fw[i]);
        // Cycle timing: like a memory instruction (it may access memory, where another vCPU may read this
        // one's clock): what the block retired is charged, the issue point recorded, RIP stored, the
        // instruction fetched; its base cost is pending after it returns (a fault leaves it uncharged).
        issue(i, true);
        flush();
        storeRegs(written);
        Label start = new Label(), end = new Label(), h = new Label();
        mv.visitTryCatchBlock(start, end, h, FAULT);
        mv.visitLabel(start);
        mv.visitVarInsn(ALOAD, IT);
        pushInt(t.op[i]);
        pushInt(t.info[i]);
        pushInt(t.mem[i]);
        pushInt(t.disp[i]);
        pushLong(t.imm[i]);
        mv.visitVarInsn(LLOAD, VBASE);
        pushLong(t.off[i]);
        mv.visitInsn(LADD);
        mv.visitVarInsn(LLOAD, VBASE);
        pushLong(fall);
        mv.visitInsn(LADD);
        mv.visitMethodInsn(INVOKEVIRTUAL, INTERP, "execForTier", "(IIIIJJJ)J", false);
        mv.visitLabel(end);
        mv.visitVarInsn(LSTORE, T1);
        loadRegs(used);
        handlers.add(() -> {
            mv.visitLabel(h);
            mv.visitInsn(POP);
            // flags flushed before the call; reload what the instruction committed before it faulted
            faultExit(i, IN_FL, fbits, () -> loadRegs(used));
        });
        switch (t.call[i]) {
            case FastOps.CALL_BRANCH:
                exit(() -> mv.visitVarInsn(LLOAD, T1), i + 1);
                return true;
            case FastOps.CALL_MAY_BRANCH: {
                Label straight = new Label();
                mv.visitVarInsn(LLOAD, T1);
                mv.visitVarInsn(LLOAD, VBASE);
                pushLong(fall);
                mv.visitInsn(LADD);
                mv.visitInsn(LCMP);
                mv.visitJumpInsn(IFEQ, straight);
                exit(() -> mv.visitVarInsn(LLOAD, T1), i + 1);
                mv.visitLabel(straight);
                break;
            }
            default:
                break;
        }
        checkValid(i, fall);
        return false;
    }

    /** Stores the registers in {@code set} (bit per register) from their locals to the register array. */
    void storeRegs(int set) {
        for (int g = 0; g < 16; g++) {
            if ((set & (1 << g)) != 0) {
                mv.visitVarInsn(ALOAD, R);
                pushInt(g);
                loadReg(g);
                mv.visitInsn(LASTORE);
            }
        }
    }

    /** Loads the registers in {@code set} from the register array into their locals. */
    void loadRegs(int set) {
        for (int g = 0; g < 16; g++) {
            if ((set & (1 << g)) != 0) {
                mv.visitVarInsn(ALOAD, R);
                pushInt(g);
                mv.visitInsn(LALOAD);
                storeReg(g);
            }
        }
    }
}
