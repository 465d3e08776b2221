package org.mmulab.kernel;

/**
 * The XSAVE extension of a signal frame's FP state (arch/x86/kernel/fpu/signal.c save_sw_bytes,
 * save_xstate_epilog, check_xstate_in_sigframe, __fpu_restore_sig; uapi/asm/sigcontext.h
 * struct _fpx_sw_bytes): with XCR0 = x87|SSE the frame's FP area is the 576-byte XSAVE image (the
 * 512-byte FXSAVE image and the 64-byte XSAVE header) followed by FP_XSTATE_MAGIC2, 64-byte aligned;
 * the FXSAVE image's sw_reserved bytes 464.. carry FP_XSTATE_MAGIC1, extended_size (the area plus
 * MAGIC2, plus the 112-byte fregs header for an ia32 frame), xfeatures and xstate_size. The header's
 * XSTATE_BV has the x87 and SSE bits set (Linux sets FP/SSE for legacy compatibility).
 *
 * <p>On sigreturn a frame whose sw_reserved does not check out (bad MAGIC1, sizes, or MAGIC2) is
 * restored "fx only" from its FXSAVE image, as Linux does. Otherwise it is restored as XRSTOR would,
 * with RFBM = xfeatures: a bad header (XSTATE_BV outside XCR0, XCOMP_BV or reserved bytes set) fails
 * the sigreturn (SIGSEGV); a component whose XSTATE_BV bit is clear gets its initial state (for SSE:
 * XMM registers zero; MXCSR is loaded from the image, as standard-form XRSTOR does).
 */
final class SigXstate {
    static final int FP_XSTATE_MAGIC1 = 0x46505853, FP_XSTATE_MAGIC2 = 0x46505845;
    static final int FXSAVE_SIZE = 512, XSTATE_SIZE = 576, MAGIC2_SIZE = 4, FRAME_FP_SIZE = XSTATE_SIZE + MAGIC2_SIZE;
    static final int FREGS_SIZE = 112;
    static final long XFEATURES = 3;
    private static final int SW = 464;

    private SigXstate() {
    }

    /** Writes sw_reserved, the XSAVE header and MAGIC2 around the FXSAVE image at {@code fx} in {@code b}. */
    static void extend(byte[] b, int fx, boolean ia32) {
        Le.put32(b, fx + SW, FP_XSTATE_MAGIC1);
        Le.put32(b, fx + SW + 4, FRAME_FP_SIZE + (ia32 ? FREGS_SIZE : 0)); // extended_size
        Le.put64(b, fx + SW + 8, XFEATURES);
        Le.put32(b, fx + SW + 16, XSTATE_SIZE);
        for (int i = SW + 20; i < FXSAVE_SIZE; i++) {
            b[fx + i] = 0;
        }
        for (int i = FXSAVE_SIZE; i < XSTATE_SIZE; i++) {
            b[fx + i] = 0;
        }
        Le.put64(b, fx + FXSAVE_SIZE, XFEATURES); // XSTATE_BV
        Le.put32(b, fx + XSTATE_SIZE, FP_XSTATE_MAGIC2);
    }

    /**
     * Reads the frame's FP area at user address {@code fx} and returns the FXSAVE image to restore
     * (components absent from XSTATE_BV replaced by their initial state), or null for a frame the
     * sigreturn must fail on (a fault reading it, or a header XRSTOR would #GP on).
     */
    static byte[] restoreImage(UserAccess ua, long fx, long xcr0) {
        byte[] img = new byte[FXSAVE_SIZE];
        if (ua.copyFromUser(img, 0, fx, FXSAVE_SIZE) != 0) {
            return null;
        }
        long magic1 = Le.le32(img, SW);
        long xstateSize = Le.le32(img, SW + 16), extended = Le.le32(img, SW + 4);
        if (magic1 != FP_XSTATE_MAGIC1 || xstateSize < XSTATE_SIZE || xstateSize > XSTATE_SIZE || xstateSize > extended) {
            return img; // fx only
        }
        byte[] ext = new byte[XSTATE_SIZE - FXSAVE_SIZE + MAGIC2_SIZE];
        if (ua.copyFromUser(ext, 0, fx + FXSAVE_SIZE, ext.length) != 0) {
            return null;
        }
        if (Le.le32(ext, XSTATE_SIZE - FXSAVE_SIZE) != FP_XSTATE_MAGIC2) {
            return img; // fx only
        }
        long rfbm = Le.le64(img, SW + 8) & xcr0;
        long bv = Le.le64(ext, 0), comp = Le.le64(ext, 8);
        if ((bv & ~xcr0) != 0 || comp != 0) {
            return null;
        }
        for (int o = 16; o < 64; o++) {
            if (ext[o] != 0) {
                return null;
            }
        }
        if ((rfbm & 1) != 0 && (bv & 1) == 0) {
            initX87(img);
        }
        if ((rfbm & 2) != 0 && (bv & 2) == 0) {
            java.util.Arrays.fill(img, 160, 416, (byte) 0); // XMM0-15 in their initial state
        }
        return img;
    }

    /** The x87 part of an FXSAVE image in its initial configuration (FNINIT: FCW 037FH, all else zero). */
    static void initX87(byte[] img) {
        java.util.Arrays.fill(img, 0, 24, (byte) 0);
        java.util.Arrays.fill(img, 32, 160, (byte) 0);
        img[0] = 0x7f;
        img[1] = 0x03;
    }
}
