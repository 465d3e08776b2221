package org.mmulab.emulator.cpu;

/**
 * The {@link Op#SSEX} group: the three-byte opcode maps 0F 38 and 0F 3A (SDM Vol. 2 Tables)
 * with a 66 prefix, split by extension as Bochs splits {@code sse*.cc}: SSSE3 ({@link Ssse3}), SSE4.1
 * integer ({@link Sse41}), SSE4.1 floating point ({@link Sse41Fp}: ROUND*, DPPS/DPPD), SSE4.2 string
 * compares ({@link SseString}), and CRC32/MOVBE ({@link IntExt}). The sub id is the opcode byte for
 * 0F 38 (CRC32: F2/F3) and {@code 0x80 | byte} for 0F 3A (whose imm8 is in the decoded immediate).
 */
final class SseX {
    // 0F 38 (sub = opcode byte)
    static final int PSHUFB = 0x00, PHADDW = 0x01, PHADDD = 0x02, PHADDSW = 0x03, PMADDUBSW = 0x04,
            PHSUBW = 0x05, PHSUBD = 0x06, PHSUBSW = 0x07, PSIGNB = 0x08, PSIGNW = 0x09, PSIGND = 0x0a,
            PMULHRSW = 0x0b, PBLENDVB = 0x10, BLENDVPS = 0x14, BLENDVPD = 0x15, PTEST = 0x17,
            PABSB = 0x1c, PABSW = 0x1d, PABSD = 0x1e,
            PMOVSXBW = 0x20, PMOVSXBD = 0x21, PMOVSXBQ = 0x22, PMOVSXWD = 0x23, PMOVSXWQ = 0x24, PMOVSXDQ = 0x25,
            PMULDQ = 0x28, PCMPEQQ = 0x29, MOVNTDQA = 0x2a, PACKUSDW = 0x2b,
            PMOVZXBW = 0x30, PMOVZXBD = 0x31, PMOVZXBQ = 0x32, PMOVZXWD = 0x33, PMOVZXWQ = 0x34, PMOVZXDQ = 0x35,
            PCMPGTQ = 0x37, PMINSB = 0x38, PMINSD = 0x39, PMINUW = 0x3a, PMINUD = 0x3b,
            PMAXSB = 0x3c, PMAXSD = 0x3d, PMAXUW = 0x3e, PMAXUD = 0x3f, PMULLD = 0x40, PHMINPOSUW = 0x41,
            MOVBE_LD = 0xf0, MOVBE_ST = 0xf1, CRC32_8 = 0xf2, CRC32_V = 0xf3;
    // 0F 3A (sub = 0x80 | opcode byte)
    static final int ROUNDPS = 0x88, ROUNDPD = 0x89, ROUNDSS = 0x8a, ROUNDSD = 0x8b, BLENDPS = 0x8c,
            BLENDPD = 0x8d, PBLENDW = 0x8e, PALIGNR = 0x8f, PEXTRB = 0x94, PEXTRW = 0x95, PEXTRD = 0x96,
            EXTRACTPS = 0x97, PINSRB = 0xa0, INSERTPS = 0xa1, PINSRD = 0xa2, DPPS = 0xc0, DPPD = 0xc1,
            MPSADBW = 0xc2, PCMPESTRM = 0xe0, PCMPESTRI = 0xe1, PCMPISTRM = 0xe2, PCMPISTRI = 0xe3;

    private static final long VALID38_LO = bits(0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a,
            0x0b, 0x10, 0x14, 0x15, 0x17, 0x1c, 0x1d, 0x1e, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x28, 0x29, 0x2a,
            0x2b, 0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x37, 0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f);
    private static final long VALID3A_LO = bits(0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x14, 0x15, 0x16,
            0x17, 0x20, 0x21, 0x22);

    private SseX() {
    }

    private static long bits(int... ops) {
        long b = 0;
        for (int o : ops) {
            b |= 1L << o;
        }
        return b;
    }

    /** 66 0F 38 opcode bytes below 0x80 that exist here. */
    static boolean valid38(int b) {
        return b < 64 ? (VALID38_LO & (1L << b)) != 0 : b == 0x40 || b == 0x41;
    }

    /** 66 0F 3A opcode bytes that exist here. */
    static boolean valid3a(int b) {
        return b < 64 ? (VALID3A_LO & (1L << b)) != 0 : b == 0x40 || b == 0x41 || b == 0x42 || (b >= 0x60 && b <= 0x63);
    }

    static void exec(Interpreter it) {
        int op = it.curSub();
        if (op != MOVBE_LD && op != MOVBE_ST && op != CRC32_8 && op != CRC32_V) {
            DeviceNotAvailable.simd(it.state()); // MOVBE and CRC32 are integer instructions
        }
        switch (op) {
            case MOVBE_LD, MOVBE_ST, CRC32_8, CRC32_V -> IntExt.exec(it, op);
            case PSHUFB, PHADDW, PHADDD, PHADDSW, PMADDUBSW, PHSUBW, PHSUBD, PHSUBSW, PSIGNB, PSIGNW, PSIGND,
                    PMULHRSW, PABSB, PABSW, PABSD, PALIGNR -> Ssse3.exec(it, op);
            case ROUNDPS, ROUNDPD, ROUNDSS, ROUNDSD, DPPS, DPPD -> Sse41Fp.exec(it, op);
            case PCMPESTRM, PCMPESTRI, PCMPISTRM, PCMPISTRI -> SseString.exec(it, op);
            default -> Sse41.exec(it, op);
        }
    }

    /** Byte {@code i} (0..15) of the 128-bit value lo:hi. */
    static int byteAt(long lo, long hi, int i) {
        return (int) ((i < 8 ? lo : hi) >>> (8 * (i & 7))) & 0xff;
    }

    /** Unsigned word {@code i} (0..7) of lo:hi. */
    static int wordAt(long lo, long hi, int i) {
        return (int) ((i < 4 ? lo : hi) >>> (16 * (i & 3))) & 0xffff;
    }
}
