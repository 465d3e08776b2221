package org.mmulab.kernel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;
import org.mmulab.emulator.cpu.CpuState;

/**
 * The x87 part of the signal frame's FXSAVE image (copy_fpstate_to_sigframe / restore_fpregs_from_user):
 * what a handler's frame holds and what rt_sigreturn restores, incl. a pending unmasked exception.
 */
class SignalFpuStateTest {
    @Test
    void x87StateRoundTripsThroughTheFxsaveImage() {
        CpuState a = new CpuState();
        a.fpu.init();
        a.fpu.push(0x3fff, Long.MIN_VALUE);
        a.fpu.push(0xc000, 0xC90FDAA22168C235L);
        a.fpu.fcw = 0x037b; // ZE unmasked
        a.fpu.fsw = 0x0004; // ZE pending
        a.fpu.updateSummary();
        a.mxcsr = 0x1fa0;
        byte[] img = new byte[Signals.FXSAVE_SIZE];
        Signals.fxsaveImage(a, img, 0, 16);
        assertEquals(0x7b, img[0] & 0xff);
        assertEquals(0x03, img[1] & 0xff);
        assertEquals(0xc0, img[4] & 0xff, "abridged tag: R6 and R7 in use");
        CpuState b = new CpuState();
        Signals.restoreFxsave(b, img, 16);
        assertEquals(a.fpu.fcw, b.fpu.fcw);
        assertEquals(a.fpu.statusWord(), b.fpu.statusWord(), "TOP, ZE and ES/B");
        assertEquals(a.fpu.tagWord(), b.fpu.tagWord());
        assertArrayEquals(a.fpu.sig, b.fpu.sig);
        assertArrayEquals(a.fpu.se, b.fpu.se);
        assertEquals(0x1fa0, b.mxcsr);
    }
}
