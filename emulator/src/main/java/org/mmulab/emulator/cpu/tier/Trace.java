package org.mmulab.emulator.cpu.tier;

import org.mmulab.emulator.cpu.FastOps;

/**
 * The guest instructions one {@link CompiledBlock} covers: from a start offset, straight-line successors
 * in the same code frame, as long as each is already decoded and translatable. Conditional branches are
 * side exits (or the loop's back edge when they return to the start); JMP, CALL and RET end the trace, and
 * so does the first instruction the tier does not translate (the interpreter runs it).
 *
 * <p>Translated: the interpreter's {@link FastOps} forms in 64-bit and 32-bit mode (register ALU, MOV,
 * LEA, shifts and rotates by an immediate, INC/DEC, IMUL, MOVZX/MOVSX, SETcc, CMOVcc, Jcc/JMP, loads and
 * stores, ALU with a memory source, CMP/TEST with memory, PUSH/POP, CALL/RET). An ALU instruction writing
 * memory (a read-modify-write, translated for write before the read) and ADC/SBB have no translation, nor
 * has everything FastOps leaves generic: segment overrides (FS/GS, whose 32-bit limit checks are the
 * interpreter's), LOCK, REP, 16-bit operand forms other than Jcc/JMP/SETcc; in 32-bit code also
 * 66h-prefixed Jcc/JMP/CALL/RET ({@link #translatable32}). Under either timing those are called in the
 * interpreter's implementation ({@link #call}, {@code InsnTranslator.emitCall}; a cycle-mode block charges
 * them as the interpreter does, see {@code CycleTimingEmitter}) unless {@link FastOps#tierCall} rules them
 * out (SYSCALL, INT, CPUID, RDTSC, POPF...): the trace ends before those and the interpreter runs them.
 */
final class Trace {
    /** Longest trace, in instructions (keeps the compiled method small for the JIT). */
    static final int MAX = 48;

    final int start;
    int count;
    final int[] off = new int[MAX], fw = new int[MAX], mem = new int[MAX], disp = new int[MAX];
    final long[] imm = new long[MAX];
    /** The decoder's op id and info word of each instruction (its cost under cycle timing). */
    final int[] op = new int[MAX], info = new int[MAX];
    /** Physical address of the code frame (the instructions' fetch addresses under cycle timing). */
    final long frame;
    /** Some instruction accesses memory (a pass may then stop at a walker yield point: see {@link Tier}). */
    boolean hasMem;
    /** Some conditional branch or JMP returns to the start: the block is a JVM loop. */
    boolean loops;
    /**
     * Per instruction: {@link FastOps#CALL_NONE} when it is translated to bytecode, else how the block
     * calls the interpreter's implementation of it ({@link FastOps#tierCall}).
     */
    final int[] call = new int[MAX];

    private Trace(int start, long frame) {
        this.start = start;
        this.frame = frame;
    }

    static int id(int fw) {
        return fw & FastOps.ID_MASK;
    }

    static int len(int fw) {
        return (fw >>> FastOps.LEN_SHIFT) & 15;
    }

    /**
     * Builds the trace at {@code start}; its count is 0 when the first instruction can be neither translated
     * nor called. An instruction without a translation that the interpreter's implementation can run from
     * the block ({@link FastOps#tierCall}) is called there instead of ending the trace; an unconditional
     * transfer among them ends it.
     */
    static Trace build(CodeSource page, int start, boolean m32) {
        Trace t = new Trace(start, page.frame());
        int o = start;
        while (t.count < MAX && o < 4096) {
            int slot = page.slotAt(o);
            if (slot < 0) {
                break;
            }
            int w = page.fastWord(slot);
            int call = FastOps.CALL_NONE;
            if (!translatable(w) || (m32 && !translatable32(w))) {
                call = FastOps.tierCall(page.op(slot));
                if (call == FastOps.CALL_NONE) {
                    break;
                }
                // The length from the decoder's info word (a generic fast word carries none).
                w = FastOps.length(page.info(slot)) << FastOps.LEN_SHIFT;
            }
            int i = t.count++;
            t.call[i] = call;
            t.off[i] = o;
            t.fw[i] = w;
            t.mem[i] = page.memWord(slot);
            t.disp[i] = page.disp(slot);
            t.imm[i] = page.imm(slot);
            t.op[i] = page.op(slot);
            t.info[i] = page.info(slot);
            int id = id(w);
            int next = o + len(w);
            if (call != FastOps.CALL_NONE) {
                t.hasMem = true; // it may access memory (a walker yield point: see Tier)
                if (call == FastOps.CALL_BRANCH) {
                    break;
                }
                o = next;
                continue;
            }
            if (id >= FastOps.LOAD) {
                t.hasMem = true;
            }
            if (id == FastOps.JCC || id == FastOps.JMP) {
                if (next + t.imm[i] == start) {
                    t.loops = true;
                }
            }
            if (id == FastOps.JMP || id == FastOps.CALL || id == FastOps.RET) {
                break;
            }
            o = next;
        }
        return t;
    }

    /**
     * Keeps the first {@code n} instructions (a smaller class for the JIT). The trace then falls through to
     * the instruction after them; it still loops only through a kept branch back to the start.
     */
    void truncate(int n) {
        count = n;
        hasMem = false;
        loops = false;
        for (int i = 0; i < n; i++) {
            if (call[i] != FastOps.CALL_NONE) {
                hasMem = true;
                continue;
            }
            int id = id(fw[i]);
            hasMem |= id >= FastOps.LOAD;
            loops |= (id == FastOps.JCC || id == FastOps.JMP) && off[i] + len(fw[i]) + imm[i] == start;
        }
    }

    /**
     * The 32-bit-code restriction on top of {@link #translatable}: a branch, CALL or RET with a 66h prefix
     * (16-bit operand size, which on hardware truncates EIP to 16 bits) stays with the interpreter. The
     * other fast forms only exist with 32-bit operands in 32-bit code (FastOps.classify's {@code wide};
     * SETcc writes one byte either way) and always carry A32 (the decoder's 32-bit address size).
     */
    static boolean translatable32(int w) {
        int id = id(w), sz = (w >>> FastOps.SIZE_SHIFT) & 3;
        boolean xfer = id == FastOps.JCC || id == FastOps.JMP || id == FastOps.CALL || id == FastOps.RET;
        return !(xfer && sz != 2) && (id < FastOps.LOAD || id == FastOps.PUSH || id == FastOps.POP
                || id == FastOps.CALL || id == FastOps.RET || (w & FastOps.A32) != 0);
    }

    static boolean translatable(int w) {
        int id = id(w);
        if (id == FastOps.GENERIC || id > FastOps.RET) {
            return false;
        }
        if (id == FastOps.ALUM) {
            int kind = (w >>> FastOps.X_SHIFT) & 15;
            boolean toReg = (w & FastOps.TO_REG) != 0;
            if (kind == 2 || kind == 3 || kind > 8) {
                return false; // ADC/SBB read CF: the interpreter's
            }
            return toReg || kind == 7 || kind == 8; // ALU m, r writes memory: read-modify-write stays interpreted
        }
        return len(w) != 0;
    }
}
