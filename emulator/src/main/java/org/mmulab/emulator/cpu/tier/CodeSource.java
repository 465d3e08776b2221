package org.mmulab.emulator.cpu.tier;

/**
 * What the translation tier reads from the interpreter's decoded-code cache: one physical code frame's
 * decoded instructions (implemented by the interpreter's {@code DecodedPage}). A slot's fast word is the
 * interpreter's {@code FastOps} classification (id, registers, length, operand size); the memory word,
 * displacement and immediate are the decoder's.
 */
public interface CodeSource {
    /** Slot of the decoded instruction at byte offset {@code off} of the frame, or -1 when not decoded. */
    int slotAt(int off);

    /** The {@code FastOps} word of {@code slot} (0: no fast form), without the fall-through link bit. */
    int fastWord(int slot);

    int memWord(int slot);

    /** The decoder's op id of {@code slot} (with {@link #info}: what cycle timing charges, InstructionTiming#cost). */
    int op(int slot);

    /** The decoder's info word of {@code slot}. */
    int info(int slot);

    /** Physical address of the frame (instruction fetches are charged by its lines under cycle timing). */
    long frame();

    int disp(int slot);

    long imm(int slot);

    /** False once the frame was written (self-modifying or cross-modifying code): its translations are stale. */
    boolean isValid();

    /** The tier's per-frame state (execution counts, compiled blocks), created on first use. */
    TierPage tierPage();
}
