package org.mmulab.emulator.cpu;

import org.mmulab.emulator.memory.PhysicalMemory;
import org.mmulab.emulator.mmu.Mmu;

/**
 * The operand part of the x86 decoder (Bochs' {@code cpu/fetchdecode*.cc} prefix and ModRM handling): the
 * info-word and memory-word layouts the interpreter reads, the per-instruction decode state (legacy
 * prefixes, REX, operand size), byte fetch with the 15-byte limit (SDM Vol. 2 §2.3.11) and the page-cross
 * rule, immediates, and ModRM/SIB/displacement decoding (SDM Vol. 2 §2.1.3-2.1.5, RIP-relative §2.2.1.6).
 *
 * <p>The opcode maps sit on top of it as subclasses ({@link SseMaps}, {@link TwoByteMap}, {@link OneByteMap},
 * then {@link Decoder}), so each map reads the decode state as plain fields, the way Bochs' decoder files
 * share one class; every method is final and nothing is allocated per decode.
 */
abstract class OperandDecoder {
    // Info word layout.
    static final int LEN_MASK = 0xf;
    static final int SIZE_SHIFT = 4; // 2 bits: 0=8,1=16,2=32,3=64
    static final int ASZ32 = 1 << 6;
    static final int SEG_SHIFT = 7; // 2 bits: 0 none, 1 FS, 2 GS
    static final int REP_SHIFT = 9; // 2 bits: 0 none, 1 F3 (REP/REPE), 2 F2 (REPNE)
    static final int LOCK = 1 << 11;
    static final int HASMEM = 1 << 12;
    static final int REG_SHIFT = 13; // 5 bits; 16..19 = AH,CH,DH,BH
    static final int RM_SHIFT = 18; // 5 bits
    static final int SUB_SHIFT = 23; // 8 bits
    // Memory-operand word layout.
    static final int NOREG = 16, RIPREL = 17;

    final CpuState s;
    final Mmu mmu;
    final PhysicalMemory mem;
    boolean mode64 = true;

    // Decode output.
    int dOp, dInfo, dMem, dDisp;
    long dImm;
    boolean crossed;

    // Decode state.
    long rip;
    long pagePa;
    int off;
    int pos;
    int rex;
    boolean p66, asz;
    int seg, rep;
    boolean lock;
    int size;
    int reg, rm, sub;
    boolean hasMem;
    int modrmByte;

    OperandDecoder(CpuState s, Mmu mmu, PhysicalMemory mem) {
        this.s = s;
        this.mmu = mmu;
        this.mem = mem;
    }

    final int fetch() {
        if (pos == 15) {
            throw GuestFault.raise(s, Vectors.GP, 0); // longer than 15 bytes (SDM Vol. 2 §2.3.11)
        }
        int o = off + pos;
        int b;
        if (o < DecodedPage.PAGE) {
            b = mem.read8(pagePa + o);
        } else {
            crossed = true;
            b = mmu.fetch8(rip + pos);
        }
        pos++;
        return b;
    }

    final int imm8() {
        return (byte) fetch();
    }

    final int imm16() {
        int lo = fetch();
        return (short) (lo | (fetch() << 8));
    }

    final int imm32() {
        int v = fetch();
        v |= fetch() << 8;
        v |= fetch() << 16;
        v |= fetch() << 24;
        return v;
    }

    final long imm64() {
        long lo = imm32() & 0xffff_ffffL;
        return lo | ((long) imm32() << 32);
    }

    /** Iz: 16 bits with a 16-bit operand size, otherwise 32 bits sign-extended. */
    final long immz() {
        return size == 1 ? imm16() : imm32();
    }

    static int byteReg(int r, int rex) {
        return rex == 0 && r >= 4 && r < 8 ? r + 12 : r;
    }

    /** Decodes ModRM (+SIB, displacement). Sets reg (with REX.R), rm or the memory operand. */
    final void modrm() {
        int m = fetch();
        modrmByte = m;
        int mod = m >>> 6;
        reg = ((m >>> 3) & 7) | ((rex & 4) << 1);
        int r = m & 7;
        if (mod == 3) {
            hasMem = false;
            rm = r | ((rex & 1) << 3);
            return;
        }
        hasMem = true;
        rm = 0;
        int base;
        int index = NOREG;
        int scale = 0;
        int disp = 0;
        if (r == 4) {
            int sib = fetch();
            scale = sib >>> 6;
            index = ((sib >>> 3) & 7) | ((rex & 2) << 2);
            if (index == 4) {
                index = NOREG;
            }
            int b = sib & 7;
            if (b == 5 && mod == 0) {
                base = NOREG;
                disp = imm32();
            } else {
                base = b | ((rex & 1) << 3);
            }
        } else if (r == 5 && mod == 0) {
            base = mode64 ? RIPREL : NOREG;
            disp = imm32();
        } else {
            base = r | ((rex & 1) << 3);
        }
        if (mod == 1) {
            disp = imm8();
        } else if (mod == 2) {
            disp = imm32();
        }
        dMem = base | (index << 5) | (scale << 10);
        dDisp = disp;
    }

    final void out(int op) {
        dOp = op;
    }

    final void stackSize() {
        // PUSH/POP/CALL/RET/JMP near: 64-bit in 64-bit mode unless 66 (16-bit); REX.W changes nothing.
        size = mode64 ? (p66 ? 1 : 3) : (p66 ? 1 : 2);
    }
}
