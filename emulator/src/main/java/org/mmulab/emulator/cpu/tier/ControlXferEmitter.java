package org.mmulab.emulator.cpu.tier;

import static org.objectweb.asm.Opcodes.*;

/**
 * Control transfer out of a block (Bochs's ctrl_xfer): the back edge of a looping trace, and every exit,
 * which flushes the flags, sets the next RIP and the retired count, charges cycle timing, and leaves through
 * the common exit.
 */
abstract class ControlXferEmitter extends CycleTimingEmitter {
    /** A taken branch to page offset {@code target}: the back edge when it is the trace start, else an exit. */
    void jumpTo(long target, int retired) {
        if (target == t.start) {
            flushCode();
            mv.visitVarInsn(LLOAD, N);
            pushLong(retired);
            mv.visitInsn(LADD);
            mv.visitVarInsn(LSTORE, N);
            cycleBackEdge();
            mv.visitJumpInsn(GOTO, head);
        } else {
            exitTo(target, retired);
        }
    }

    /** Exit to vbase + {@code off} (an offset, possibly outside the page) after {@code retired} in this pass. */
    void exitTo(long off, int retired) {
        exit(() -> {
            mv.visitVarInsn(LLOAD, VBASE);
            pushLong(off);
            mv.visitInsn(LADD);
        }, retired);
    }

    /** Set while a fault handler's exit is emitted (cycle timing: it records the faulting instruction's issue point). */
    boolean faulting;

    /** Flushes the flags (per this point's state), sets the RIP and retired count, and leaves via the common exit. */
    void exit(Runnable pushRip, int retired) {
        flushCode();
        mv.visitVarInsn(ALOAD, C);
        pushRip.run();
        addrMask(); // the interpreter's rip = nxt & amask (32-bit code: EIP wraps at 4 GiB)
        mv.visitFieldInsn(PUTFIELD, CTX, "rip", "J");
        mv.visitVarInsn(LLOAD, N);
        pushLong(retired);
        mv.visitInsn(LADD);
        mv.visitVarInsn(LSTORE, RETN);
        cycleExit(retired, faulting);
        mv.visitJumpInsn(GOTO, commonExit);
    }
}
