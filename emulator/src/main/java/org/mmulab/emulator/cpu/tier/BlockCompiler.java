package org.mmulab.emulator.cpu.tier;

import static org.objectweb.asm.Opcodes.*;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.ArrayList;
import java.util.List;

import org.mmulab.emulator.cpu.FastOps;
import org.mmulab.emulator.cpu.Flags;
import org.objectweb.asm.ClassWriter;
import org.objectweb.asm.Label;
import org.objectweb.asm.MethodVisitor;

/**
 * Compiles a {@link Trace} to a JVM class (ASM), one {@code run} method per block. The semantics are the
 * interpreter's fast forms ({@code Interpreter.run}'s switch and {@code fastMem}), instruction for
 * instruction; what changes is where state lives while the block runs:
 * <ul>
 * <li>Guest registers the trace touches are JVM locals, loaded at entry and stored back at every exit
 *     (only the ones the trace writes).</li>
 * <li>Arithmetic flags are tracked at compile time: after a flag-setting instruction the lazy operands sit
 *     in locals (fa, fb, fr, fc) and the compiler knows their kind and width, so a later Jcc/SETcc/CMOVcc
 *     tests them inline (ZF/SF for every kind, all of CMP's and TEST's conditions) and nothing is written to
 *     {@link Flags} until the block exits, faults, or needs the full flags (then they are flushed with the
 *     exact {@code Flags.lazy} call the interpreter would have made, so later reads see identical state).</li>
 * <li>A conditional branch or JMP back to the trace start is a JVM back edge (the flags are flushed first,
 *     so every pass starts from the same compile-time state).</li>
 * <li>Each memory access has its own exception handler: a {@code GuestFault} from the MMU stores the
 *     registers and flags as they were before that instruction, the faulting RIP and the retired count,
 *     and returns; it never propagates through the block.</li>
 * </ul>
 * The class is a hidden class defined in the interpreter's package (through the lookup the interpreter
 * hands over), so it can call the package-private {@code Flags.lazy}/{@code setCfOf} and read the
 * interpreter's stop/interrupt requests; it is unloaded when its code frame's translations are dropped.
 */
final class BlockCompiler {
    private static final String CPU = "org/mmulab/emulator/cpu/";
    private static final String FLAGS = CPU + "Flags", INTERP = CPU + "Interpreter", FAULT = CPU + "GuestFault";
    private static final String MMU = "org/mmulab/emulator/mmu/Mmu";
    private static final String CTX = Type.internal(TierContext.class), PAGE = Type.internal(CodeSource.class);
    private static final String SUPER = Type.internal(CompiledBlock.class);
    /** Decoder's base-register code for RIP-relative addressing (Decoder.RIPREL; checked by BlockCompilerTest). */
    static final int RIPREL = 17;
    private static final int RSP = 4;
    /** Compile-time flag state: the flags are in the Flags object (nothing pending in locals). */
    private static final int IN_FL = -1;

    // Local variable slots of run(TierContext c, long budgetLeft, long windowLeft).
    private static final int C = 1, BUDGET = 2, WINDOW = 4, R = 6, FL = 7, MMU_L = 8, IT = 9, PG = 10, VBASE = 11,
            N = 13, FA = 15, FB = 17, FR = 19, FC = 21, G0 = 22, T0 = 54, T1 = 56, I0 = 58, I1 = 59, RETN = 60;

    /**
     * Largest class file accepted; a bigger trace is halved. The class bounds its run() method's bytecode,
     * which must stay under HotSpot's HugeMethodLimit (8000 bytes) or the JIT never compiles it.
     */
    static final int MAX_CLASS_BYTES = 7000;

    private final MethodHandles.Lookup lookup;

    BlockCompiler(MethodHandles.Lookup cpuPackageLookup) {
        this.lookup = cpuPackageLookup;
    }

    /** Small indirection so the class names above read as names. */
    private static final class Type {
        static String internal(Class<?> c) {
            return c.getName().replace('.', '/');
        }
    }

    // Per-compilation state.
    private MethodVisitor mv;
    private Trace t;
    private int written; // bit i: guest register i is written by the trace
    private int fk, fbits; // compile-time flag state (kind or IN_FL, width)
    private Label head, commonExit;
    private final List<Runnable> handlers = new ArrayList<>();

    /** Compiles {@code trace} (count > 0) to a new block. */
    synchronized CompiledBlock compile(Trace trace) {
        byte[] bytes = bytes(trace);
        while (bytes.length > MAX_CLASS_BYTES && trace.count > 1) {
            trace.truncate(trace.count / 2); // keep run() under the JIT's huge-method limit
            bytes = bytes(trace);
        }
        try {
            MethodHandles.Lookup hidden = lookup.defineHiddenClass(bytes, true);
            return (CompiledBlock) hidden.findConstructor(hidden.lookupClass(), MethodType.methodType(void.class)).invoke();
        } catch (Throwable e) {
            throw new IllegalStateException("tier: cannot define the block at offset 0x" + Integer.toHexString(trace.start), e);
        }
    }

    byte[] bytes(Trace trace) {
        this.t = trace;
        ClassWriter cw = new ClassWriter(ClassWriter.COMPUTE_FRAMES | ClassWriter.COMPUTE_MAXS) {
            @Override
            protected String getCommonSuperClass(String a, String b) {
                return "java/lang/Object";
            }
        };
        cw.visit(V17, ACC_PUBLIC | ACC_FINAL | ACC_SUPER, CPU + "TierBlock", null, SUPER, null);
        MethodVisitor init = cw.visitMethod(ACC_PUBLIC, "<init>", "()V", null, null);
        init.visitCode();
        init.visitVarInsn(ALOAD, 0);
        init.visitMethodInsn(INVOKESPECIAL, SUPER, "<init>", "()V", false);
        init.visitInsn(RETURN);
        init.visitMaxs(0, 0);
        init.visitEnd();
        mv = cw.visitMethod(ACC_PUBLIC, "run", "(L" + CTX + ";JJ)J", null, null);
        mv.visitCode();
        emitRun();
        mv.visitMaxs(0, 0);
        mv.visitEnd();
        cw.visitEnd();
        mv = null;
        handlers.clear();
        return cw.toByteArray();
    }

    // ------------------------------------------------------------------------------------------

    private void emitRun() {
        written = 0;
        int used = 0;
        for (int i = 0; i < t.count; i++) {
            used |= regsRead(i) | regsWritten(i);
            written |= regsWritten(i);
        }
        // Prologue: a stale frame runs nothing (the interpreter re-decodes it).
        mv.visitVarInsn(ALOAD, C);
        mv.visitFieldInsn(GETFIELD, CTX, "page", "L" + PAGE + ";");
        mv.visitInsn(DUP);
        mv.visitVarInsn(ASTORE, PG);
        mv.visitMethodInsn(INVOKEINTERFACE, PAGE, "isValid", "()Z", true);
        Label valid = new Label();
        mv.visitJumpInsn(IFNE, valid);
        mv.visitInsn(LCONST_0);
        mv.visitInsn(LRETURN);
        mv.visitLabel(valid);
        loadField("r", "[J", R);
        loadField("fl", "L" + FLAGS + ";", FL);
        loadField("mmu", "L" + MMU + ";", MMU_L);
        mv.visitVarInsn(ALOAD, C);
        mv.visitFieldInsn(GETFIELD, CTX, "interp", "Ljava/lang/Object;");
        mv.visitTypeInsn(CHECKCAST, INTERP);
        mv.visitVarInsn(ASTORE, IT);
        mv.visitVarInsn(ALOAD, C);
        mv.visitFieldInsn(GETFIELD, CTX, "vbase", "J");
        mv.visitVarInsn(LSTORE, VBASE);
        for (int l : new int[] {N, FA, FB, FR}) {
            mv.visitInsn(LCONST_0);
            mv.visitVarInsn(LSTORE, l);
        }
        mv.visitInsn(ICONST_0);
        mv.visitVarInsn(ISTORE, FC);
        mv.visitInsn(LCONST_0);
        mv.visitVarInsn(LSTORE, T0);
        mv.visitInsn(LCONST_0);
        mv.visitVarInsn(LSTORE, T1);
        mv.visitInsn(LCONST_0);
        mv.visitVarInsn(LSTORE, RETN);
        for (int g = 0; g < 16; g++) {
            if ((used & (1 << g)) != 0) {
                mv.visitVarInsn(ALOAD, R);
                pushInt(g);
                mv.visitInsn(LALOAD);
                mv.visitVarInsn(LSTORE, G0 + 2 * g);
            }
        }
        commonExit = new Label();
        // Loop head: a pass runs only when it fits the budget, and the poll window (see Tier).
        head = new Label();
        Label exitHead = new Label(), body = new Label();
        mv.visitLabel(head);
        fk = IN_FL;
        mv.visitVarInsn(LLOAD, BUDGET);
        mv.visitVarInsn(LLOAD, N);
        mv.visitInsn(LSUB);
        pushLong(t.count);
        mv.visitInsn(LCMP);
        mv.visitJumpInsn(IFLT, exitHead);
        mv.visitVarInsn(LLOAD, WINDOW);
        mv.visitVarInsn(LLOAD, N);
        mv.visitInsn(LSUB);
        pushLong(t.count);
        mv.visitInsn(LCMP);
        mv.visitJumpInsn(IFGE, body);
        if (t.hasMem) {
            mv.visitVarInsn(ALOAD, C);
            mv.visitFieldInsn(GETFIELD, CTX, "strictPolls", "Z");
            mv.visitJumpInsn(IFNE, exitHead);
        }
        mv.visitVarInsn(ALOAD, IT);
        mv.visitFieldInsn(GETFIELD, INTERP, "stop", "Z");
        mv.visitJumpInsn(IFNE, exitHead);
        mv.visitVarInsn(ALOAD, IT);
        mv.visitFieldInsn(GETFIELD, INTERP, "interrupted", "Z");
        mv.visitJumpInsn(IFNE, exitHead);
        mv.visitLabel(body);
        boolean ended = false;
        for (int i = 0; i < t.count && !ended; i++) {
            ended = emitInsn(i);
        }
        if (!ended) {
            int last = t.count - 1;
            exitTo(t.off[last] + Trace.len(t.fw[last]), t.count);
        }
        mv.visitLabel(exitHead);
        fk = IN_FL;
        exitTo(t.start, 0);
        for (Runnable h : handlers) {
            h.run();
        }
        // Every exit ends here: store the registers the trace writes, return the retired count.
        mv.visitLabel(commonExit);
        for (int g = 0; g < 16; g++) {
            if ((written & (1 << g)) != 0) {
                mv.visitVarInsn(ALOAD, R);
                pushInt(g);
                mv.visitVarInsn(LLOAD, G0 + 2 * g);
                mv.visitInsn(LASTORE);
            }
        }
        mv.visitVarInsn(LLOAD, RETN);
        mv.visitInsn(LRETURN);
    }

    private void loadField(String name, String desc, int local) {
        mv.visitVarInsn(ALOAD, C);
        mv.visitFieldInsn(GETFIELD, CTX, name, desc);
        mv.visitVarInsn(ASTORE, local);
    }

    // ------------------------------------------------------------------------------------------
    // Registers read and written, for the prologue and the write-back.

    private int regsRead(int i) {
        int w = t.fw[i], id = Trace.id(w), a = field(w, FastOps.A_SHIFT), b = field(w, FastOps.B_SHIFT);
        boolean imm = (w & FastOps.IMM) != 0;
        int m = memRegs(t.mem[i]);
        switch (id) {
            case FastOps.MOV:
                return imm ? 0 : bit(b);
            case FastOps.LEA:
            case FastOps.LOAD:
            case FastOps.LOADX:
                return m;
            case FastOps.STORE:
                return m | (imm ? 0 : bit(a));
            case FastOps.ALUM:
                return m | ((w & FastOps.TO_REG) != 0 || !imm ? bit(a) : 0);
            case FastOps.PUSH:
                return bit(a) | bit(RSP);
            case FastOps.POP:
            case FastOps.CALL:
            case FastOps.RET:
                return bit(RSP);
            case FastOps.JCC:
            case FastOps.JMP:
            case FastOps.NOP:
                return 0;
            case FastOps.IMUL:
                return bit(b) | (imm ? 0 : bit(a));
            case FastOps.MOVX:
                return bit(b);
            case FastOps.CMOVCC:
                return bit(a) | bit(b);
            case FastOps.SETCC:
                return bit(a);
            default: // ALU, INC/DEC, shifts, rotates
                return bit(a) | (imm || id >= FastOps.INC ? 0 : bit(b));
        }
    }

    private int regsWritten(int i) {
        int w = t.fw[i], id = Trace.id(w), a = field(w, FastOps.A_SHIFT);
        switch (id) {
            case FastOps.CMP:
            case FastOps.TEST:
            case FastOps.JCC:
            case FastOps.JMP:
            case FastOps.NOP:
            case FastOps.STORE:
                return 0;
            case FastOps.ALUM: {
                int kind = (w >>> FastOps.X_SHIFT) & 15;
                return (w & FastOps.TO_REG) != 0 && kind != 7 && kind != 8 ? bit(a) : 0;
            }
            case FastOps.PUSH:
            case FastOps.CALL:
            case FastOps.RET:
                return bit(RSP);
            case FastOps.POP:
                return bit(RSP) | bit(a);
            default:
                return bit(a);
        }
    }

    private static int memRegs(int m) {
        int base = m & 31, idx = (m >>> 5) & 31;
        return (base < 16 ? 1 << base : 0) | (idx < 16 ? 1 << idx : 0);
    }

    private static int bit(int reg) {
        return reg < 16 ? 1 << reg : 0;
    }

    private static int field(int w, int shift) {
        return (w >>> shift) & 31;
    }

    // ------------------------------------------------------------------------------------------
    // One instruction. Returns true when it ends the trace (JMP, CALL, RET).

    private boolean emitInsn(int i) {
        final int w = t.fw[i], id = Trace.id(w);
        final int a = field(w, FastOps.A_SHIFT), b = field(w, FastOps.B_SHIFT);
        final int sz = (w >>> FastOps.SIZE_SHIFT) & 3, bits = 8 << sz;
        final long m = sz == 3 ? -1L : (1L << bits) - 1;
        final boolean imm = (w & FastOps.IMM) != 0;
        final int fall = t.off[i] + Trace.len(w);
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
                pushT1(i, 3);
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

    /** fr = fa op fb (fa, fb already masked); dest = fr & m unless dest < 0; sets the flag state. */
    private void aluOp(int id, int bits, int dest, long m) {
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

    // ------------------------------------------------------------------------------------------
    // Flags.

    /** Emits the Flags.lazy call the interpreter would have made for the current compile-time state. */
    private void flushCode() {
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
    private void flush() {
        flushCode();
        fk = IN_FL;
    }

    /** Pushes CF (0/1). */
    private void cf() {
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

    private void unsignedLess() {
        mv.visitMethodInsn(INVOKESTATIC, "java/lang/Long", "compareUnsigned", "(JJ)I", false);
        boolOf(IFLT);
    }

    /** Pushes condition {@code cc} (0/1), as Flags.cond evaluates it. */
    private void cond(int cc) {
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

    private void negate(boolean neg) {
        if (neg) {
            mv.visitInsn(ICONST_1);
            mv.visitInsn(IXOR);
        }
    }

    /** Flags.setCfOf(cf = I0, of = I1), kept lazy in locals after a logic op as the interpreter's LOGIC_CO. */
    private void setCfOf() {
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

    // ------------------------------------------------------------------------------------------
    // Memory.

    /** Pushes the effective address (no segment override: FastOps.classify). */
    private void ea(int i, int fall) {
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
    private void read(int i, int sz) {
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
    private void write(int i, int sz) {
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
    private void faultHandler(Label start, Label end, int i) {
        Label h = new Label();
        mv.visitTryCatchBlock(start, end, h, FAULT);
        final int k = fk, kb = fbits;
        handlers.add(() -> {
            mv.visitLabel(h);
            mv.visitInsn(POP);
            int saveK = fk, saveB = fbits;
            fk = k;
            fbits = kb;
            mv.visitVarInsn(ALOAD, C);
            mv.visitInsn(ICONST_1);
            mv.visitFieldInsn(PUTFIELD, CTX, "fault", "Z");
            exitTo(t.off[i], i);
            fk = saveK;
            fbits = saveB;
        });
    }

    /** After a memory access: if the code frame was written (by this instruction or another vCPU), leave. */
    private void checkValid(int i, int fall) {
        Label ok = new Label();
        mv.visitVarInsn(ALOAD, PG);
        mv.visitMethodInsn(INVOKEINTERFACE, PAGE, "isValid", "()Z", true);
        mv.visitJumpInsn(IFNE, ok);
        exitTo(fall, i + 1);
        mv.visitLabel(ok);
    }

    // ------------------------------------------------------------------------------------------
    // Control flow and exits.

    /** A taken branch to page offset {@code target}: the back edge when it is the trace start, else an exit. */
    private void jumpTo(long target, int retired) {
        if (target == t.start) {
            flushCode();
            mv.visitVarInsn(LLOAD, N);
            pushLong(retired);
            mv.visitInsn(LADD);
            mv.visitVarInsn(LSTORE, N);
            mv.visitJumpInsn(GOTO, head);
        } else {
            exitTo(target, retired);
        }
    }

    /** Exit to vbase + {@code off} (an offset, possibly outside the page) after {@code retired} in this pass. */
    private void exitTo(long off, int retired) {
        exit(() -> {
            mv.visitVarInsn(LLOAD, VBASE);
            pushLong(off);
            mv.visitInsn(LADD);
        }, retired);
    }

    /** Flushes the flags (per this point's state), sets the RIP and retired count, and leaves via the common exit. */
    private void exit(Runnable pushRip, int retired) {
        flushCode();
        mv.visitVarInsn(ALOAD, C);
        pushRip.run();
        mv.visitFieldInsn(PUTFIELD, CTX, "rip", "J");
        mv.visitVarInsn(LLOAD, N);
        pushLong(retired);
        mv.visitInsn(LADD);
        mv.visitVarInsn(LSTORE, RETN);
        mv.visitJumpInsn(GOTO, commonExit);
    }

    // ------------------------------------------------------------------------------------------
    // Small emitters.

    private static long widthMask(int bits) {
        return bits == 64 || bits == 0 ? -1L : (1L << bits) - 1;
    }

    private void loadReg(int g) {
        mv.visitVarInsn(LLOAD, G0 + 2 * g);
    }

    private void storeReg(int g) {
        mv.visitVarInsn(LSTORE, G0 + 2 * g);
    }

    private void mask(long m) {
        if (m != -1L) {
            pushLong(m);
            mv.visitInsn(LAND);
        }
    }

    private void sext(int sh) {
        if (sh != 0) {
            pushInt(sh);
            mv.visitInsn(LSHL);
            pushInt(sh);
            mv.visitInsn(LSHR);
        }
    }

    /** Pushes bit {@code n} of long local {@code local} as an int 0/1. */
    private void bitOf(int local, int n) {
        mv.visitVarInsn(LLOAD, local);
        pushInt(n);
        mv.visitInsn(LUSHR);
        mv.visitInsn(L2I);
        mv.visitInsn(ICONST_1);
        mv.visitInsn(IAND);
    }

    /** Consumes an int on the stack, pushes 1 if {@code ifOpcode} would jump, else 0. */
    private void boolOf(int ifOpcode) {
        Label yes = new Label(), done = new Label();
        mv.visitJumpInsn(ifOpcode, yes);
        mv.visitInsn(ICONST_0);
        mv.visitJumpInsn(GOTO, done);
        mv.visitLabel(yes);
        mv.visitInsn(ICONST_1);
        mv.visitLabel(done);
    }

    private void pushInt(int v) {
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

    private void pushLong(long v) {
        if (v == 0) {
            mv.visitInsn(LCONST_0);
        } else if (v == 1) {
            mv.visitInsn(LCONST_1);
        } else {
            mv.visitLdcInsn(v);
        }
    }

    /**
     * The stack half of PUSH and CALL: T0 = RSP - (1 << sz), store T1 there (may fault before RSP
     * changes), then RSP = T0.
     */
    private void pushT1(int i, int sz) {
        loadReg(RSP);
        pushLong(1L << sz);
        mv.visitInsn(LSUB);
        mv.visitVarInsn(LSTORE, T0);
        write(i, sz);
        mv.visitVarInsn(LLOAD, T0);
        storeReg(RSP);
    }

    /** The stack half of POP and RET: T1 = the value at RSP (may fault before RSP changes), then RSP += 1 << sz. */
    private void popToT1(int i, int sz) {
        loadReg(RSP);
        mv.visitVarInsn(LSTORE, T0);
        read(i, sz);
        mv.visitVarInsn(LSTORE, T1);
        mv.visitVarInsn(LLOAD, T0);
        pushLong(1L << sz);
        mv.visitInsn(LADD);
        storeReg(RSP);
    }
}
