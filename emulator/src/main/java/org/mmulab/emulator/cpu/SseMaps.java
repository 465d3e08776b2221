package org.mmulab.emulator.cpu;

import org.mmulab.emulator.memory.PhysicalMemory;
import org.mmulab.emulator.mmu.Mmu;

/**
 * The SSE opcode maps of the decoder: 0F xx SSE/SSE2 opcodes selected by the mandatory prefix (none, 66,
 * F3, F2; SDM Vol. 2 Table A-3 and §2.1.2), the 0F 38 three-byte map (Table A-4: SSSE3, SSE4.1, SSE4.2,
 * MOVBE, CRC32) and the 0F 3A map (Table A-5, with an imm8). Executed by {@link SseExec} and {@link SseX}.
 */
abstract class SseMaps extends OperandDecoder {
    SseMaps(CpuState s, Mmu mmu, PhysicalMemory mem) {
        super(s, mmu, mem);
    }

    final void sse(int op) {
        sub = op;
        out(Op.SSE);
    }

    /**
     * 0F 38 map (SDM Vol. 2 Table A-4): SSSE3/SSE4.1/SSE4.2 with a mandatory 66 prefix, sub = the opcode byte; MOVBE (no prefix or 66, sub =
     * F0/F1) and CRC32 (F2, F2 66, sub = F2/F3) at F0/F1. The SSSE3 forms without 66 are MMX ({@link Mmx}).
     */
    final void map0f38(int b) {
        if (b == 0xf0 || b == 0xf1) {
            modrm();
            if (rep == 2) { // CRC32 Gd/Gq, Eb (F0) or Ev (F1)
                if (b == 0xf0) {
                    size = 0;
                    rm = hasMem ? 0 : byteReg(rm, rex);
                }
                rep = 0;
                sub = b + 2;
            } else if (rep != 0 || !hasMem) {
                return; // MOVBE needs memory
            } else {
                sub = b;
            }
            out(Op.SSEX);
            return;
        }
        if (!p66 && rep == 0 && Mmx.ssse3Byte(b)) {
            modrm();
            mmx(Mmx.SSSE3 + b);
            return;
        }
        if (!p66 || rep != 0 || b >= 0x80 || !SseX.valid38(b)) {
            return;
        }
        modrm();
        sub = b;
        out(Op.SSEX);
    }

    /** 0F 3A map (SDM Vol. 2 Table A-5): 66-prefixed SSSE3/SSE4.1/SSE4.2 with an imm8, sub = 0x80 | byte. */
    final void map0f3a(int b) {
        if (b == 0x0f && !p66 && rep == 0) { // PALIGNR mm, mm/m64, imm8
            modrm();
            dImm = fetch();
            mmx(Mmx.PALIGNR);
            return;
        }
        if (!p66 || rep != 0 || b >= 0x70 || !SseX.valid3a(b)) {
            return;
        }
        modrm();
        dImm = fetch();
        sub = 0x80 | b;
        out(Op.SSEX);
    }

    /** 0F xx opcodes of SSE/SSE2 selected by the mandatory prefix (none, 66, F3, F2). */
    final void sseOpcode(int b) {
        // The mandatory prefix is consumed: 66 must not change integer operand size here, but REX.W
        // matters for MOVD/MOVQ.
        int pfx = rep == 1 ? 3 : rep == 2 ? 2 : p66 ? 1 : 0; // 0 none, 1 66, 2 F2, 3 F3
        int mm = Mmx.decode(b, pfx, (rex & 8) != 0);
        if (mm >= 0) {
            mmxForm(b, mm);
            return;
        }
        int op = -1;
        boolean needsModrm = true;
        switch (b) {
            case 0x10 -> op = pfx == 0 ? Sse.MOVUPS_LD : pfx == 1 ? Sse.MOVUPS_LD : pfx == 3 ? Sse.MOVSS_LD : Sse.MOVSD_LD;
            case 0x11 -> op = pfx == 0 ? Sse.MOVUPS_ST : pfx == 1 ? Sse.MOVUPS_ST : pfx == 3 ? Sse.MOVSS_ST : Sse.MOVSD_ST;
            case 0x12 -> op = pfx <= 1 ? Sse.MOVLPS_LD : pfx == 2 ? Sse.MOVDDUP : Sse.MOVSLDUP;
            case 0x13 -> op = pfx <= 1 ? Sse.MOVLPS_ST : -1;
            case 0x14 -> op = pfx == 0 ? Sse.UNPCKLPS : pfx == 1 ? Sse.UNPCKLPD : -1;
            case 0x15 -> op = pfx == 0 ? Sse.UNPCKHPS : pfx == 1 ? Sse.UNPCKHPD : -1;
            case 0x16 -> op = pfx <= 1 ? Sse.MOVHPS_LD : pfx == 3 ? Sse.MOVSHDUP : -1;
            case 0x17 -> op = pfx <= 1 ? Sse.MOVHPS_ST : -1;
            case 0x28 -> op = pfx <= 1 ? Sse.MOVAPS_LD : -1;
            case 0x29 -> op = pfx <= 1 ? Sse.MOVAPS_ST : -1;
            case 0x2b -> op = pfx <= 1 ? Sse.MOVNT_ST : -1;
            case 0x50 -> op = pfx == 0 ? Sse.MOVMSKPS : pfx == 1 ? Sse.MOVMSKPD : -1;
            case 0x54 -> op = pfx <= 1 ? Sse.PAND : -1;
            case 0x55 -> op = pfx <= 1 ? Sse.PANDN : -1;
            case 0x56 -> op = pfx <= 1 ? Sse.POR : -1;
            case 0x57 -> op = pfx <= 1 ? Sse.PXOR : -1;
            case 0x6e -> op = pfx == 1 ? ((rex & 8) != 0 ? Sse.MOVQ_LD : Sse.MOVD_LD) : -1;
            case 0x7e -> op = pfx == 1 ? ((rex & 8) != 0 ? Sse.MOVQ_ST : Sse.MOVD_ST) : pfx == 3 ? Sse.MOVQ_XLD : -1;
            case 0x6f -> op = pfx == 1 ? Sse.MOVAPS_LD : pfx == 3 ? Sse.MOVDQU_LD : -1;
            case 0x7f -> op = pfx == 1 ? Sse.MOVAPS_ST : pfx == 3 ? Sse.MOVDQU_ST : -1;
            case 0x70 -> op = pfx == 1 ? Sse.PSHUFD : pfx == 3 ? Sse.PSHUFHW : pfx == 2 ? Sse.PSHUFLW : -1;
            case 0xc6 -> op = pfx == 0 ? Sse.SHUFPS : pfx == 1 ? Sse.SHUFPD : -1;
            case 0xd6 -> op = pfx == 1 ? Sse.MOVQ_XST : -1;
            case 0xc4 -> op = pfx == 1 ? Sse.PINSRW : -1;
            case 0xc5 -> op = pfx == 1 ? Sse.PEXTRW : -1;
            case 0xd7 -> op = pfx == 1 ? Sse.PMOVMSKB : -1;
            case 0xe7 -> op = pfx == 1 ? Sse.MOVNT_ST : -1;
            case 0x51, 0x58, 0x59, 0x5c, 0x5d, 0x5e, 0x5f -> {
                int k = b == 0x51 ? 0 : b == 0x58 ? 1 : b == 0x59 ? 2 : b == 0x5c ? 3 : b == 0x5d ? 4 : b == 0x5e ? 5 : 6;
                int form = pfx == 0 ? 0 : pfx == 1 ? 1 : pfx == 2 ? 2 : 3;
                op = Sse.FP_ARITH + 4 * k + form;
            }
            case 0x2a -> op = pfx == 3 ? Sse.CVTSI2SS : pfx == 2 ? Sse.CVTSI2SD : -1;
            case 0x2c -> op = pfx == 3 ? Sse.CVTTSS2SI : pfx == 2 ? Sse.CVTTSD2SI : -1;
            case 0x2d -> op = pfx == 3 ? Sse.CVTSS2SI : pfx == 2 ? Sse.CVTSD2SI : -1;
            case 0x2e -> op = pfx == 0 ? Sse.UCOMISS : pfx == 1 ? Sse.UCOMISD : -1;
            case 0x2f -> op = pfx == 0 ? Sse.COMISS : pfx == 1 ? Sse.COMISD : -1;
            case 0x52 -> op = pfx == 0 ? Sse.RSQRTPS : pfx == 3 ? Sse.RSQRTSS : -1;
            case 0x53 -> op = pfx == 0 ? Sse.RCPPS : pfx == 3 ? Sse.RCPSS : -1;
            case 0xd0 -> op = pfx == 1 ? Sse.ADDSUBPD : pfx == 2 ? Sse.ADDSUBPS : -1;
            case 0x7c -> op = pfx == 1 ? Sse.HADDPD : pfx == 2 ? Sse.HADDPS : -1;
            case 0x7d -> op = pfx == 1 ? Sse.HSUBPD : pfx == 2 ? Sse.HSUBPS : -1;
            case 0xf0 -> op = pfx == 2 ? Sse.LDDQU : -1;
            case 0xf7 -> op = pfx == 1 ? Sse.MASKMOVDQU : -1;
            case 0x5a -> op = pfx == 0 ? Sse.CVTPS2PD : pfx == 1 ? Sse.CVTPD2PS : pfx == 3 ? Sse.CVTSS2SD : Sse.CVTSD2SS;
            case 0x5b -> op = pfx == 0 ? Sse.CVTDQ2PS : pfx == 1 ? Sse.CVTPS2DQ : pfx == 3 ? Sse.CVTTPS2DQ : -1;
            case 0xe6 -> op = pfx == 1 ? Sse.CVTTPD2DQ : pfx == 3 ? Sse.CVTDQ2PD : pfx == 2 ? Sse.CVTPD2DQ : -1;
            case 0xc2 -> op = pfx == 0 ? Sse.CMPPS : pfx == 1 ? Sse.CMPPD : pfx == 2 ? Sse.CMPSD : Sse.CMPSS;
            case 0x71, 0x72, 0x73 -> {
                if (pfx != 1) {
                    return;
                }
                modrm();
                if (hasMem) {
                    return;
                }
                int r = reg & 7;
                int[] tbl = b == 0x71 ? SHIFT71 : b == 0x72 ? SHIFT72 : SHIFT73;
                op = tbl[r];
                if (op < 0) {
                    return;
                }
                reg = 0;
                dImm = fetch();
                rep = 0;
                sse(op);
                return;
            }
            default -> {
                if (pfx == 1 && b >= 0x60) {
                    op = PACKED66[b - 0x60];
                }
            }
        }
        if (op < 0) {
            return;
        }
        if (needsModrm) {
            modrm();
        }
        if ((op == Sse.MOVLPS_LD || op == Sse.MOVHPS_LD) && !hasMem) {
            if (pfx == 1) {
                return; // MOVLPD/MOVHPD need memory
            }
            op = op == Sse.MOVLPS_LD ? Sse.MOVHLPS : Sse.MOVLHPS;
        }
        if ((op == Sse.MOVLPS_ST || op == Sse.MOVHPS_ST || op == Sse.MOVNT_ST || op == Sse.LDDQU) && !hasMem) {
            return;
        }
        if (op == Sse.MASKMOVDQU && hasMem) {
            return;
        }
        if (op == Sse.PSHUFD || op == Sse.PSHUFHW || op == Sse.PSHUFLW || op == Sse.SHUFPS || op == Sse.SHUFPD
                || (op >= Sse.CMPPS && op <= Sse.CMPSS) || op == Sse.PINSRW || op == Sse.PEXTRW) {
            dImm = fetch();
        }
        if ((op == Sse.MOVMSKPS || op == Sse.MOVMSKPD || op == Sse.PMOVMSKB || op == Sse.PEXTRW) && hasMem) {
            return;
        }
        rep = 0;
        sse(op);
    }

    private void mmx(int op) {
        rep = 0;
        sub = op;
        out(Op.MMX);
    }

    /** An MMX form ({@link Mmx#decode}): ModRM, the register/memory rules, an imm8; #UD (no out) otherwise. */
    private void mmxForm(int b, int op) {
        if (op == Mmx.EMMS) {
            mmx(op);
            return;
        }
        modrm();
        if (op == Mmx.SHIFT_I) {
            op = hasMem ? -1 : Mmx.shiftGroup(b, reg & 7);
            if (op < 0) {
                return;
            }
            reg = 0;
            dImm = fetch();
            mmx(op);
            return;
        }
        if ((Mmx.needsMem(op) && !hasMem) || (Mmx.needsReg(op) && hasMem)) {
            return;
        }
        if (Mmx.hasImm(op)) {
            dImm = fetch();
        }
        mmx(op);
    }

    /** The SSE2 id of 66 0F {@code b} (60..FF), or -1. */
    static int packed66(int b) {
        return PACKED66[b - 0x60];
    }

    private static final int[] SHIFT71 = {-1, -1, Sse.PSRLW_I, -1, Sse.PSRAW_I, -1, Sse.PSLLW_I, -1};
    private static final int[] SHIFT72 = {-1, -1, Sse.PSRLD_I, -1, Sse.PSRAD_I, -1, Sse.PSLLD_I, -1};
    private static final int[] SHIFT73 = {-1, -1, Sse.PSRLQ_I, Sse.PSRLDQ, -1, -1, Sse.PSLLQ_I, Sse.PSLLDQ};

    /** 66 0F 60..FF packed-integer opcodes. */
    private static final int[] PACKED66 = new int[0xa0];

    static {
        java.util.Arrays.fill(PACKED66, -1);
        int[][] t = {
            {0x60, Sse.PUNPCKLBW}, {0x61, Sse.PUNPCKLWD}, {0x62, Sse.PUNPCKLDQ}, {0x63, Sse.PACKSSWB},
            {0x64, Sse.PCMPGTB}, {0x65, Sse.PCMPGTW}, {0x66, Sse.PCMPGTD}, {0x67, Sse.PACKUSWB},
            {0x68, Sse.PUNPCKHBW}, {0x69, Sse.PUNPCKHWD}, {0x6a, Sse.PUNPCKHDQ}, {0x6b, Sse.PACKSSDW},
            {0x6c, Sse.PUNPCKLQDQ}, {0x6d, Sse.PUNPCKHQDQ},
            {0x74, Sse.PCMPEQB}, {0x75, Sse.PCMPEQW}, {0x76, Sse.PCMPEQD},
            {0xd1, Sse.PSRLW}, {0xd2, Sse.PSRLD}, {0xd3, Sse.PSRLQ}, {0xd4, Sse.PADDQ}, {0xd5, Sse.PMULLW},
            {0xd8, Sse.PSUBUSB}, {0xd9, Sse.PSUBUSW}, {0xda, Sse.PMINUB}, {0xdb, Sse.PAND},
            {0xdc, Sse.PADDUSB}, {0xdd, Sse.PADDUSW}, {0xde, Sse.PMAXUB}, {0xdf, Sse.PANDN},
            {0xe0, Sse.PAVGB}, {0xe1, Sse.PSRAW}, {0xe2, Sse.PSRAD}, {0xe3, Sse.PAVGW}, {0xe4, Sse.PMULHUW},
            {0xe5, Sse.PMULHW}, {0xe8, Sse.PSUBSB}, {0xe9, Sse.PSUBSW}, {0xea, Sse.PMINSW}, {0xeb, Sse.POR},
            {0xec, Sse.PADDSB}, {0xed, Sse.PADDSW}, {0xee, Sse.PMAXSW}, {0xef, Sse.PXOR},
            {0xf1, Sse.PSLLW}, {0xf2, Sse.PSLLD}, {0xf3, Sse.PSLLQ}, {0xf4, Sse.PMULUDQ}, {0xf5, Sse.PMADDWD},
            {0xf6, Sse.PSADBW}, {0xf8, Sse.PSUBB}, {0xf9, Sse.PSUBW}, {0xfa, Sse.PSUBD}, {0xfb, Sse.PSUBQ},
            {0xfc, Sse.PADDB}, {0xfd, Sse.PADDW}, {0xfe, Sse.PADDD},
        };
        for (int[] e : t) {
            PACKED66[e[0] - 0x60] = e[1];
        }
    }
}
