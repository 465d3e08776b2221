package org.mmulab.emulator.cpu.tier;

import static org.objectweb.asm.Opcodes.*;

import java.lang.invoke.MethodHandles;

import org.mmulab.emulator.cpu.FastOps;
import org.mmulab.emulator.cpu.Flags;
import org.mmulab.emulator.cpu.InstructionTiming;
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
 *
 * <p>The code generators it builds on, one concern each, start at {@link BlockEmitter}.
 */
final class BlockCompiler extends InsnTranslator {
    /**
     * Largest class file accepted; a bigger trace is halved. The class bounds its run() method's bytecode,
     * which must stay under HotSpot's HugeMethodLimit (8000 bytes) or the JIT never compiles it.
     */
    static final int MAX_CLASS_BYTES = 7000;

    private final MethodHandles.Lookup lookup;

    BlockCompiler(MethodHandles.Lookup cpuPackageLookup) {
        this.lookup = cpuPackageLookup;
    }

    /**
     * Compiles {@code trace} (count > 0) to a new block; with {@code timing} (the vCPU runs under
     * {@code --timing cycle}) the block charges what the interpreter charges (see {@link CycleTimingEmitter});
     * with {@code mode32} it is 32-bit code (the trace was built from a 32-bit-mode decoded page).
     */
    synchronized CompiledBlock compile(Trace trace, InstructionTiming timing, boolean mode32) {
        cycle = timing != null;
        m32 = mode32;
        for (int i = 0; i < trace.count; i++) {
            cost[i] = cycle ? timing.cost(trace.op[i], trace.info[i]) : 0;
        }
        byte[] bytes = bytes(trace);
        while (bytes.length > MAX_CLASS_BYTES && trace.count > 1) {
            trace.truncate(trace.count / 2); // keep run() under the JIT's huge-method limit
            bytes = bytes(trace);
        }
        try {
            MethodHandles.Lookup hidden = lookup.defineHiddenClass(bytes, true);
            // Reflection, not a method handle: one call per class, so the native constructor accessor serves
            // it; a method handle would spin and JIT-compile lambda forms for every block class.
            return (CompiledBlock) hidden.lookupClass().getDeclaredConstructor().newInstance();
        } catch (Throwable e) {
            throw new IllegalStateException("tier: cannot define the block at offset 0x" + Integer.toHexString(trace.start), e);
        }
    }

    byte[] bytes(Trace trace) {
        this.t = trace;
        // Class file version 50 (Java 6) without a StackMapTable: the JVM verifies the block by type inference
        // in native code, where computing frames with ASM (COMPUTE_FRAMES) ran as Java code that itself had
        // to be interpreted and JIT-compiled within a short run (measured on compute 64).
        ClassWriter cw = new ClassWriter(ClassWriter.COMPUTE_MAXS);
        cw.visit(V1_6, ACC_PUBLIC | ACC_FINAL | ACC_SUPER, CPU + "TierBlock", null, SUPER, null);
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


    private void emitRun() {
        written = 0;
        used = 0;
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
        cyclePrologue();
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
        pend = 0;
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
        pend = 0; // ACC: the passes before this one
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


    // ------------------------------------------------------------------------------------------
    // Registers read and written, for the prologue and the write-back.

    private int regsRead(int i) {
        if (t.call[i] != FastOps.CALL_NONE) {
            return 0; // the interpreter's call reads the register array (the locals are stored first)
        }
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
        if (t.call[i] != FastOps.CALL_NONE) {
            return 0; // written to the register array (the locals are reloaded after it)
        }
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
}
