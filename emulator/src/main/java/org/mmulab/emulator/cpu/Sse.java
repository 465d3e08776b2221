package org.mmulab.emulator.cpu;

/**
 * SSE/SSE2/SSE3 sub-operation ids (the {@code sub} field of an {@link Op#SSE} instruction). Names follow the
 * mnemonic; "LD" is register &lt;- r/m, "ST" is r/m &lt;- register.
 */
final class Sse {
    static final int MOVUPS_LD = 0, MOVUPS_ST = 1, MOVAPS_LD = 2, MOVAPS_ST = 3,
            MOVLPS_LD = 4, MOVLPS_ST = 5, MOVHPS_LD = 6, MOVHPS_ST = 7, MOVHLPS = 8, MOVLHPS = 9,
            MOVSS_LD = 10, MOVSS_ST = 11, MOVSD_LD = 12, MOVSD_ST = 13,
            MOVD_LD = 14, MOVD_ST = 15, MOVQ_LD = 16, MOVQ_ST = 17, /* F3 0F 7E */ MOVQ_XLD = 18, /* 66 0F D6 */ MOVQ_XST = 19,
            MOVMSKPS = 20, MOVMSKPD = 21, PMOVMSKB = 22,
            PSHUFD = 23, PSHUFHW = 24, PSHUFLW = 25, SHUFPS = 26, SHUFPD = 27,
            // shifts by immediate: sub-op + imm
            PSRLW_I = 28, PSRAW_I = 29, PSLLW_I = 30, PSRLD_I = 31, PSRAD_I = 32, PSLLD_I = 33,
            PSRLQ_I = 34, PSRLDQ = 35, PSLLQ_I = 36, PSLLDQ = 37,
            MOVNT_ST = 38, LDMXCSR = 39, STMXCSR = 40, FXSAVE = 41, FXRSTOR = 42,
            MOVDQU_LD = 43, MOVDQU_ST = 44, PINSRW = 45, PEXTRW = 46,
            MASKMOVDQU = 47, /* SSE3 */ MOVDDUP = 48, MOVSLDUP = 49, MOVSHDUP = 50, LDDQU = 51,
            // Binary packed ops (dst = dst op src, m128 must be 16-byte aligned): from BIN on.
            BIN = 64,
            PAND = 64, PANDN = 65, POR = 66, PXOR = 67,
            PADDB = 68, PADDW = 69, PADDD = 70, PADDQ = 71, PSUBB = 72, PSUBW = 73, PSUBD = 74, PSUBQ = 75,
            PCMPEQB = 76, PCMPEQW = 77, PCMPEQD = 78, PCMPGTB = 79, PCMPGTW = 80, PCMPGTD = 81,
            PADDSB = 82, PADDSW = 83, PADDUSB = 84, PADDUSW = 85, PSUBSB = 86, PSUBSW = 87, PSUBUSB = 88, PSUBUSW = 89,
            PMINUB = 90, PMAXUB = 91, PMINSW = 92, PMAXSW = 93, PAVGB = 94, PAVGW = 95,
            PMULLW = 96, PMULHW = 97, PMULHUW = 98, PMULUDQ = 99, PMADDWD = 100, PSADBW = 101,
            PUNPCKLBW = 102, PUNPCKLWD = 103, PUNPCKLDQ = 104, PUNPCKLQDQ = 105,
            PUNPCKHBW = 106, PUNPCKHWD = 107, PUNPCKHDQ = 108, PUNPCKHQDQ = 109,
            PACKSSWB = 110, PACKSSDW = 111, PACKUSWB = 112,
            UNPCKLPS = 113, UNPCKHPS = 114, UNPCKLPD = 115, UNPCKHPD = 116,
            PSRLW = 117, PSRLD = 118, PSRLQ = 119, PSRAW = 120, PSRAD = 121, PSLLW = 122, PSLLD = 123, PSLLQ = 124;

    // Floating point (SseFp): from FP on.
    static final int FP = 128;
    /** Arithmetic: FP_ARITH + 4 * k + form, k: 0 SQRT 1 ADD 2 MUL 3 SUB 4 MIN 5 DIV 6 MAX; form 0 PS 1 PD 2 SD 3 SS. */
    static final int FP_ARITH = 128, // .. 155
            CVTSI2SS = 160, CVTSI2SD = 161, CVTTSS2SI = 162, CVTTSD2SI = 163, CVTSS2SI = 164, CVTSD2SI = 165,
            UCOMISS = 166, UCOMISD = 167,
            CVTPS2PD = 168, CVTPD2PS = 169, CVTSS2SD = 170, CVTSD2SS = 171,
            CVTDQ2PS = 172, CVTPS2DQ = 173, CVTTPS2DQ = 174, CVTTPD2DQ = 175, CVTDQ2PD = 176, CVTPD2DQ = 177,
            CMPPS = 178, CMPPD = 179, CMPSD = 180, CMPSS = 181,
            COMISS = 182, COMISD = 183, RCPPS = 184, RCPSS = 185, RSQRTPS = 186, RSQRTSS = 187,
            // SSE3
            ADDSUBPS = 188, ADDSUBPD = 189, HADDPS = 190, HADDPD = 191, HSUBPS = 192, HSUBPD = 193;

    private Sse() {
    }
}
