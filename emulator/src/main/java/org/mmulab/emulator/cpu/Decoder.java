package org.mmulab.emulator.cpu;

import org.mmulab.emulator.memory.PhysicalMemory;
import org.mmulab.emulator.mmu.Mmu;

/**
 * x86 instruction decoder: prefixes, REX, opcode maps (one-byte and 0F), ModRM/SIB/displacement and
 * immediates, producing an {@link Op} id plus packed operand info (see the {@code I_*} layout).
 *
 * <p>Bytes inside the starting frame are read from physical memory (the frame was translated for
 * fetch by the caller); bytes past the frame end go through {@link Mmu#fetch8}, so a fetch from an
 * unmapped or non-executable next page faults with that page's address in CR2. {@link #crossed}
 * tells the caller not to cache such an instruction.
 *
 * <p>Mode: {@link #mode64} selects 64-bit decoding (REX, RIP-relative, 64-bit stack operations,
 * invalid legacy opcodes). 32-bit protected/compatibility mode clears it: 40-4F are INC/DEC, the default
 * address size is 32 (every instruction carries {@link #ASZ32}), PUSHA/POPA decode, 0x82 is an alias of
 * 0x80, SYSCALL is #UD, and a 67 prefix (16-bit ModRM addressing, never emitted by gcc -m32) is #UD.
 */
final class Decoder {
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

    private final CpuState s;
    private final Mmu mmu;
    private final PhysicalMemory mem;
    boolean mode64 = true;

    // Decode output.
    int dOp, dInfo, dMem, dDisp;
    long dImm;
    boolean crossed;

    // Decode state.
    private long rip;
    private long pagePa;
    private int off;
    private int pos;
    private int rex;
    private boolean p66, asz;
    private int seg, rep;
    private boolean lock;
    private int size;
    private int reg, rm, sub;
    private boolean hasMem;
    private int modrmByte;

    Decoder(CpuState s, Mmu mmu, PhysicalMemory mem) {
        this.s = s;
        this.mmu = mmu;
        this.mem = mem;
    }

    /** Number of bytes consumed by the last decode (for #UD descriptions). */
    int consumed() {
        return pos;
    }

    private int fetch() {
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

    private int imm8() {
        return (byte) fetch();
    }

    private int imm16() {
        int lo = fetch();
        return (short) (lo | (fetch() << 8));
    }

    private int imm32() {
        int v = fetch();
        v |= fetch() << 8;
        v |= fetch() << 16;
        v |= fetch() << 24;
        return v;
    }

    private long imm64() {
        long lo = imm32() & 0xffff_ffffL;
        return lo | ((long) imm32() << 32);
    }

    /** Iz: 16 bits with a 16-bit operand size, otherwise 32 bits sign-extended. */
    private long immz() {
        return size == 1 ? imm16() : imm32();
    }

    private static int byteReg(int r, int rex) {
        return rex == 0 && r >= 4 && r < 8 ? r + 12 : r;
    }

    /** Decodes ModRM (+SIB, displacement). Sets reg (with REX.R), rm or the memory operand. */
    private void modrm() {
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

    private void out(int op) {
        dOp = op;
    }

    /** Decodes the instruction at {@code rip}, whose first byte is at {@code pagePa + off}. */
    void decode(long rip, long pagePa, int off) {
        this.rip = rip;
        this.pagePa = pagePa;
        this.off = off;
        pos = 0;
        crossed = false;
        rex = 0;
        p66 = false;
        asz = false;
        seg = 0;
        rep = 0;
        lock = false;
        reg = 0;
        rm = 0;
        sub = 0;
        hasMem = false;
        dMem = NOREG | (NOREG << 5);
        dDisp = 0;
        dImm = 0;
        dOp = Op.UD;
        int b;
        for (;;) {
            b = fetch();
            switch (b) {
                case 0x66:
                    p66 = true;
                    rex = 0;
                    continue;
                case 0x67:
                    asz = true;
                    rex = 0;
                    continue;
                case 0xf2:
                    rep = 2;
                    rex = 0;
                    continue;
                case 0xf3:
                    rep = 1;
                    rex = 0;
                    continue;
                case 0xf0:
                    lock = true;
                    rex = 0;
                    continue;
                case 0x26:
                case 0x2e:
                case 0x36:
                case 0x3e:
                    rex = 0;
                    continue;
                case 0x64:
                    seg = 1;
                    rex = 0;
                    continue;
                case 0x65:
                    seg = 2;
                    rex = 0;
                    continue;
                default:
                    break;
            }
            if (mode64 && (b & 0xf0) == 0x40) {
                rex = b;
                continue;
            }
            break;
        }
        size = (rex & 8) != 0 ? 3 : p66 ? 1 : 2;
        if (b == 0x0f) {
            twoByte(fetch());
        } else {
            oneByte(b);
        }
        if (lock && !lockAllowed()) {
            dOp = Op.UD;
        }
        if (!mode64) {
            if (asz) {
                // 67 in 32-bit mode selects 16-bit addressing (ModRM16), which -m32 code never uses: #UD.
                dOp = Op.UD;
            }
            asz = true; // 32-bit default address size: ASZ32 masks effective addresses to 32 bits
        }
        dInfo = pos | (size << SIZE_SHIFT) | (asz ? ASZ32 : 0) | (seg << SEG_SHIFT) | (rep << REP_SHIFT)
                | (lock ? LOCK : 0) | (hasMem ? HASMEM : 0) | (reg << REG_SHIFT) | (rm << RM_SHIFT)
                | (sub << SUB_SHIFT);
    }

    /** LOCK is legal only on read-modify-write instructions with a memory destination (SDM Vol. 2 LOCK). */
    private boolean lockAllowed() {
        if (!hasMem) {
            return false;
        }
        switch (dOp) {
            case Op.ALU_EG:
            case Op.ALU_EI:
                return sub < 7; // not CMP/TEST
            case Op.UNARY:
            case Op.XCHG_EG:
            case Op.CMPXCHG:
            case Op.XADD:
            case Op.CMPXCHG8B:
                return true;
            case Op.BT_G:
            case Op.BT_I:
                return sub != 0;
            default:
                return false;
        }
    }

    private void stackSize() {
        // PUSH/POP/CALL/RET/JMP near: 64-bit in 64-bit mode unless 66 (16-bit); REX.W changes nothing.
        size = mode64 ? (p66 ? 1 : 3) : (p66 ? 1 : 2);
    }

    private void oneByte(int b) {
        if (b < 0x40 && (b & 7) < 6) {
            sub = b >>> 3;
            switch (b & 7) {
                case 0:
                    size = 0;
                    modrm();
                    reg = byteReg(reg, rex);
                    rm = hasMem ? 0 : byteReg(rm, rex);
                    out(Op.ALU_EG);
                    return;
                case 1:
                    modrm();
                    out(Op.ALU_EG);
                    return;
                case 2:
                    size = 0;
                    modrm();
                    reg = byteReg(reg, rex);
                    rm = hasMem ? 0 : byteReg(rm, rex);
                    out(Op.ALU_GE);
                    return;
                case 3:
                    modrm();
                    out(Op.ALU_GE);
                    return;
                case 4:
                    size = 0;
                    rm = 0;
                    dImm = imm8();
                    out(Op.ALU_EI);
                    return;
                default:
                    rm = 0;
                    dImm = immz();
                    out(Op.ALU_EI);
                    return;
            }
        }
        switch (b) {
            case 0x40: case 0x41: case 0x42: case 0x43: case 0x44: case 0x45: case 0x46: case 0x47:
            case 0x48: case 0x49: case 0x4a: case 0x4b: case 0x4c: case 0x4d: case 0x4e: case 0x4f:
                // Only reached in 32-bit mode (REX in 64-bit mode): INC/DEC r16/r32.
                sub = (b >>> 3) & 1;
                rm = b & 7;
                out(Op.UNARY);
                return;
            case 0x60:
            case 0x61:
                if (!mode64) {
                    stackSize();
                    out(b == 0x60 ? Op.PUSHA : Op.POPA);
                }
                return;
            case 0x50: case 0x51: case 0x52: case 0x53: case 0x54: case 0x55: case 0x56: case 0x57:
                stackSize();
                rm = (b & 7) | ((rex & 1) << 3);
                out(Op.PUSH_R);
                return;
            case 0x58: case 0x59: case 0x5a: case 0x5b: case 0x5c: case 0x5d: case 0x5e: case 0x5f:
                stackSize();
                rm = (b & 7) | ((rex & 1) << 3);
                out(Op.POP_R);
                return;
            case 0x63:
                if (!mode64) {
                    return; // ARPL: not supported
                }
                modrm();
                out(Op.MOVSXD);
                return;
            case 0x68:
                stackSize();
                dImm = size == 1 ? imm16() : imm32();
                out(Op.PUSH_I);
                return;
            case 0x6a:
                stackSize();
                dImm = imm8();
                out(Op.PUSH_I);
                return;
            case 0x69:
                modrm();
                dImm = immz();
                out(Op.IMUL_GEI);
                return;
            case 0x6b:
                modrm();
                dImm = imm8();
                out(Op.IMUL_GEI);
                return;
            case 0x6c: case 0x6d: case 0x6e: case 0x6f:
            case 0xe4: case 0xe5: case 0xe6: case 0xe7:
            case 0xec: case 0xed: case 0xee: case 0xef:
            case 0xf4: case 0xfa: case 0xfb:
                out(Op.PRIV); // I/O, HLT, CLI/STI at CPL 3 with IOPL 0: #GP(0)
                if (b == 0xe4 || b == 0xe5 || b == 0xe6 || b == 0xe7) {
                    fetch();
                }
                return;
            case 0x70: case 0x71: case 0x72: case 0x73: case 0x74: case 0x75: case 0x76: case 0x77:
            case 0x78: case 0x79: case 0x7a: case 0x7b: case 0x7c: case 0x7d: case 0x7e: case 0x7f:
                sub = b & 15;
                dImm = imm8();
                out(Op.JCC);
                return;
            case 0x80:
            case 0x82:
                if (b == 0x82 && mode64) {
                    return;
                }
                size = 0;
                modrm();
                sub = reg & 7;
                rm = hasMem ? 0 : byteReg(rm, rex);
                reg = 0;
                dImm = imm8();
                out(Op.ALU_EI);
                return;
            case 0x81:
                modrm();
                sub = reg & 7;
                reg = 0;
                dImm = immz();
                out(Op.ALU_EI);
                return;
            case 0x83:
                modrm();
                sub = reg & 7;
                reg = 0;
                dImm = imm8();
                out(Op.ALU_EI);
                return;
            case 0x84:
            case 0x85:
            case 0x86:
            case 0x87:
            case 0x88:
            case 0x89:
            case 0x8a:
            case 0x8b: {
                if ((b & 1) == 0) {
                    size = 0;
                }
                modrm();
                if (size == 0) {
                    reg = byteReg(reg, rex);
                    rm = hasMem ? 0 : byteReg(rm, rex);
                }
                if (b <= 0x85) {
                    sub = 8;
                    out(Op.ALU_EG);
                } else if (b <= 0x87) {
                    out(Op.XCHG_EG);
                } else if (b <= 0x89) {
                    out(Op.MOV_EG);
                } else {
                    out(Op.MOV_GE);
                }
                return;
            }
            case 0x8d:
                modrm();
                if (hasMem) {
                    out(Op.LEA);
                }
                return;
            case 0x8c:
            case 0x8e: {
                // MOV r/m16,Sreg / MOV Sreg,r/m16: REX.R is ignored; Sreg 6-7 and MOV to CS are #UD.
                modrm();
                int sr = reg & 7;
                reg = sr;
                if (sr <= 5 && !(b == 0x8e && sr == 1)) {
                    sub = b == 0x8c ? 0 : 1;
                    out(Op.SEG);
                }
                return;
            }
            case 0x06: case 0x07: case 0x0e: case 0x16: case 0x17: case 0x1e: case 0x1f:
                // PUSH/POP ES, CS, SS, DS: invalid in 64-bit mode; POP CS does not exist (0F is the escape).
                if (!mode64) {
                    stackSize();
                    reg = b >>> 3;
                    sub = (b & 1) == 0 ? 2 : 3;
                    out(Op.SEG);
                }
                return;
            case 0x8f:
                stackSize();
                modrm();
                if ((reg & 7) == 0) {
                    out(Op.POP_E);
                }
                reg = 0;
                return;
            case 0x90:
                if ((rex & 1) != 0) {
                    rm = 8;
                    reg = 0;
                    out(Op.XCHG_EG);
                } else {
                    out(Op.NOP); // NOP, and F3 90 = PAUSE
                }
                return;
            case 0x91: case 0x92: case 0x93: case 0x94: case 0x95: case 0x96: case 0x97:
                rm = (b & 7) | ((rex & 1) << 3);
                reg = 0;
                out(Op.XCHG_EG);
                return;
            case 0x98:
                out(Op.CBW);
                return;
            case 0x99:
                out(Op.CWD);
                return;
            case 0x9b:
                sub = X87Exec.FWAIT;
                out(Op.X87); // FWAIT: #MF if an unmasked x87 exception is pending
                return;
            case 0x9c:
                stackSize();
                out(Op.PUSHF);
                return;
            case 0x9d:
                stackSize();
                out(Op.POPF);
                return;
            case 0x9e:
                out(Op.SAHF);
                return;
            case 0x9f:
                out(Op.LAHF);
                return;
            case 0xa0:
            case 0xa1:
            case 0xa2:
            case 0xa3:
                if ((b & 1) == 0) {
                    size = 0;
                }
                dImm = mode64 && !asz ? imm64() : imm32() & 0xffff_ffffL;
                out(b < 0xa2 ? Op.MOV_AO : Op.MOV_OA);
                return;
            case 0xa4: case 0xa5: case 0xa6: case 0xa7: case 0xaa: case 0xab:
            case 0xac: case 0xad: case 0xae: case 0xaf:
                if ((b & 1) == 0) {
                    size = 0;
                }
                switch (b & ~1) {
                    case 0xa4 -> out(Op.MOVS);
                    case 0xa6 -> out(Op.CMPS);
                    case 0xaa -> out(Op.STOS);
                    case 0xac -> out(Op.LODS);
                    default -> out(Op.SCAS);
                }
                return;
            case 0xa8:
                size = 0;
                sub = 8;
                rm = 0;
                dImm = imm8();
                out(Op.ALU_EI);
                return;
            case 0xa9:
                sub = 8;
                rm = 0;
                dImm = immz();
                out(Op.ALU_EI);
                return;
            case 0xb0: case 0xb1: case 0xb2: case 0xb3: case 0xb4: case 0xb5: case 0xb6: case 0xb7:
                size = 0;
                rm = byteReg((b & 7) | ((rex & 1) << 3), rex);
                dImm = imm8() & 0xff;
                out(Op.MOV_RI);
                return;
            case 0xb8: case 0xb9: case 0xba: case 0xbb: case 0xbc: case 0xbd: case 0xbe: case 0xbf:
                rm = (b & 7) | ((rex & 1) << 3);
                dImm = size == 3 ? imm64() : size == 1 ? imm16() & 0xffff : imm32() & 0xffff_ffffL;
                out(Op.MOV_RI);
                return;
            case 0xc0:
            case 0xc1:
            case 0xd0:
            case 0xd1:
            case 0xd2:
            case 0xd3:
                if ((b & 1) == 0) {
                    size = 0;
                }
                modrm();
                sub = reg & 7;
                reg = 0;
                if (size == 0 && !hasMem) {
                    rm = byteReg(rm, rex);
                }
                if (b <= 0xc1) {
                    dImm = imm8() & 0xff;
                    out(Op.SHIFT_I);
                } else if (b <= 0xd1) {
                    dImm = 1;
                    out(Op.SHIFT_I);
                } else {
                    out(Op.SHIFT_CL);
                }
                return;
            case 0xc2:
                stackSize();
                dImm = imm16() & 0xffff;
                out(Op.RET_I);
                return;
            case 0xca:
            case 0xcb:
                // RETF: the operand size is 32 bits by default in both modes (REX.W: 64, 66: 16).
                dImm = b == 0xca ? imm16() & 0xffff : 0;
                out(Op.RETF);
                return;
            case 0xc3:
                stackSize();
                out(Op.RET);
                return;
            case 0xc6:
            case 0xc7:
                if (b == 0xc6) {
                    size = 0;
                }
                modrm();
                if ((reg & 7) != 0) {
                    return;
                }
                reg = 0;
                if (size == 0 && !hasMem) {
                    rm = byteReg(rm, rex);
                }
                dImm = size == 0 ? imm8() : immz();
                out(Op.MOV_EI);
                return;
            case 0xc8:
                stackSize();
                dImm = (imm16() & 0xffff) | ((long) (fetch() & 0x1f) << 16);
                out(Op.ENTER);
                return;
            case 0xc9:
                stackSize();
                out(Op.LEAVE);
                return;
            case 0xcc:
                out(Op.INT3);
                return;
            case 0xcd:
                dImm = fetch();
                out(Op.INT_N);
                return;
            case 0xd7:
                size = 0;
                out(Op.XLAT);
                return;
            case 0xd8: case 0xd9: case 0xda: case 0xdb: case 0xdc: case 0xdd: case 0xde: case 0xdf:
                // x87 escape: sub = escape bits and ModRM.reg, imm = the 11-bit FOP.
                modrm();
                sub = ((b & 7) << 3) | (reg & 7);
                dImm = ((b & 7) << 8) | modrmByte;
                reg = 0;
                rm = hasMem ? 0 : rm & 7;
                out(Op.X87);
                return;
            case 0xe0:
            case 0xe1:
            case 0xe2:
                sub = b & 3;
                dImm = imm8();
                out(Op.LOOP);
                return;
            case 0xe3:
                dImm = imm8();
                out(Op.JRCXZ);
                return;
            case 0xe8:
                stackSize();
                dImm = imm32();
                out(Op.CALL);
                return;
            case 0xe9:
                dImm = imm32();
                out(Op.JMP);
                return;
            case 0xeb:
                dImm = imm8();
                out(Op.JMP);
                return;
            case 0xf5:
                out(Op.CMC);
                return;
            case 0xf6:
            case 0xf7: {
                if (b == 0xf6) {
                    size = 0;
                }
                modrm();
                int r = reg & 7;
                reg = 0;
                if (size == 0 && !hasMem) {
                    rm = byteReg(rm, rex);
                }
                if (r <= 1) {
                    sub = 8;
                    dImm = size == 0 ? imm8() : immz();
                    out(Op.ALU_EI);
                } else if (r <= 3) {
                    sub = r; // 2 NOT, 3 NEG
                    out(Op.UNARY);
                } else {
                    sub = r;
                    out(Op.MULDIV);
                }
                return;
            }
            case 0xf8:
                out(Op.CLC);
                return;
            case 0xf9:
                out(Op.STC);
                return;
            case 0xfc:
                out(Op.CLD);
                return;
            case 0xfd:
                out(Op.STD);
                return;
            case 0xfe:
                size = 0;
                modrm();
                if ((reg & 7) <= 1) {
                    sub = reg & 7;
                    if (!hasMem) {
                        rm = byteReg(rm, rex);
                    }
                    reg = 0;
                    out(Op.UNARY);
                }
                return;
            case 0xff: {
                modrm();
                int r = reg & 7;
                reg = 0;
                switch (r) {
                    case 0, 1 -> {
                        sub = r;
                        out(Op.UNARY);
                    }
                    case 2 -> {
                        stackSize();
                        out(Op.CALL_E);
                    }
                    case 4 -> {
                        stackSize();
                        out(Op.JMP_E);
                    }
                    case 6 -> {
                        stackSize();
                        out(Op.PUSH_E);
                    }
                    default -> {
                    }
                }
                return;
            }
            default:
                return; // Op.UD
        }
    }

    private void twoByte(int b) {
        switch (b) {
            case 0x00: // group 6: LLDT /2 and LTR /3 need CPL 0; SLDT, STR, VERR, VERW stay undefined here
                modrm();
                if ((reg & 7) == 2 || (reg & 7) == 3) {
                    out(Op.PRIV);
                }
                reg = 0;
                return;
            case 0x01: { // group 7
                modrm();
                int r = reg & 7;
                if (hasMem ? r == 2 || r == 3 || r == 6 || r == 7 // LGDT, LIDT, LMSW, INVLPG
                        : r == 6 || (mode64 && r == 7 && (modrmByte & 7) == 0) // LMSW, SWAPGS (0F 01 F8)
                                || modrmByte == 0xd1) { // XSETBV
                    out(Op.PRIV);
                } else if (modrmByte == 0xd0 && !p66 && rep == 0) {
                    sub = XState.XGETBV;
                    out(Op.XSTATE);
                }
                reg = 0;
                return;
            }
            case 0x05:
                if (mode64) {
                    out(Op.SYSCALL);
                }
                return;
            case 0x06: // CLTS
            case 0x08: // INVD
            case 0x09: // WBINVD
            case 0x30: // WRMSR
            case 0x32: // RDMSR
            case 0x33: // RDPMC: #GP(0) at CPL > 0 with CR4.PCE clear, as Linux leaves it
            case 0x35: // SYSEXIT (Intel: #GP(0) unless CPL 0)
                out(Op.PRIV);
                return;
            case 0x07: // SYSRET: #GP(0) at CPL > 0 in 64-bit mode
                if (mode64) {
                    out(Op.PRIV);
                }
                return;
            case 0x20: case 0x21: case 0x22: case 0x23: { // MOV from/to CRn, DRn: the mod bits are ignored
                int m = fetch();
                modrmByte = m;
                int n = ((m >>> 3) & 7) | ((rex & 4) << 1);
                boolean cr = b == 0x20 || b == 0x22;
                // CR1, CR5-7, CR9-15 and DR8-15 do not exist: #UD, which takes priority over the CPL check.
                if (cr ? n == 0 || n == 2 || n == 3 || n == 4 || n == 8 : n < 8) {
                    out(Op.PRIV);
                }
                return;
            }
            case 0x0b:
                return; // UD2
            case 0x0d:
            case 0x18: case 0x19: case 0x1a: case 0x1b: case 0x1c: case 0x1d: case 0x1e: case 0x1f:
                modrm(); // PREFETCH*, hint NOPs, ENDBR64 (F3 0F 1E FA)
                reg = 0;
                out(Op.NOP);
                return;
            case 0x31:
                out(Op.RDTSC);
                return;
            case 0x40: case 0x41: case 0x42: case 0x43: case 0x44: case 0x45: case 0x46: case 0x47:
            case 0x48: case 0x49: case 0x4a: case 0x4b: case 0x4c: case 0x4d: case 0x4e: case 0x4f:
                modrm();
                sub = b & 15;
                out(Op.CMOVCC);
                return;
            case 0x80: case 0x81: case 0x82: case 0x83: case 0x84: case 0x85: case 0x86: case 0x87:
            case 0x88: case 0x89: case 0x8a: case 0x8b: case 0x8c: case 0x8d: case 0x8e: case 0x8f:
                sub = b & 15;
                dImm = imm32();
                out(Op.JCC);
                return;
            case 0x90: case 0x91: case 0x92: case 0x93: case 0x94: case 0x95: case 0x96: case 0x97:
            case 0x98: case 0x99: case 0x9a: case 0x9b: case 0x9c: case 0x9d: case 0x9e: case 0x9f:
                size = 0;
                modrm();
                reg = 0;
                if (!hasMem) {
                    rm = byteReg(rm, rex);
                }
                sub = b & 15;
                out(Op.SETCC);
                return;
            case 0xa2:
                out(Op.CPUID);
                return;
            case 0xa3:
            case 0xab:
            case 0xb3:
            case 0xbb:
                modrm();
                sub = (b >>> 3) & 3; // a3->0 BT, ab->1 BTS, b3->2 BTR, bb->3 BTC
                out(Op.BT_G);
                return;
            case 0xa0: case 0xa1: case 0xa8: case 0xa9: // PUSH/POP FS, GS
                stackSize();
                reg = b < 0xa8 ? 4 : 5;
                sub = (b & 1) == 0 ? 2 : 3;
                out(Op.SEG);
                return;
            case 0xa4:
            case 0xac:
                modrm();
                dImm = fetch();
                out(b == 0xa4 ? Op.SHLD_I : Op.SHRD_I);
                return;
            case 0xa5:
            case 0xad:
                modrm();
                out(b == 0xa5 ? Op.SHLD_CL : Op.SHRD_CL);
                return;
            case 0xae:
                modrm();
                if (!hasMem) {
                    if ((reg & 7) >= 5) {
                        // MFENCE orders stores before later loads (TSO's one relaxation); LFENCE and
                        // SFENCE give only orders TSO already has (PhysicalMemory's header).
                        out((reg & 7) == 6 ? Op.FENCE : Op.NOP);
                    }
                    reg = 0;
                    return;
                }
                switch (reg & 7) {
                    case 0 -> sse(Sse.FXSAVE);
                    case 1 -> sse(Sse.FXRSTOR);
                    case 2 -> sse(Sse.LDMXCSR);
                    case 3 -> sse(Sse.STMXCSR);
                    case 4, 5, 6 -> { // XSAVE, XRSTOR, XSAVEOPT (66/F2/F3 forms are other instructions)
                        if (!p66 && rep == 0) {
                            sub = (reg & 7) == 4 ? XState.XSAVE : (reg & 7) == 5 ? XState.XRSTOR : XState.XSAVEOPT;
                            out(Op.XSTATE);
                        }
                    }
                    default -> {
                    }
                }
                reg = 0;
                return;
            case 0xaf:
                modrm();
                out(Op.IMUL_GE);
                return;
            case 0xb0:
            case 0xb1:
            case 0xc0:
            case 0xc1:
                if ((b & 1) == 0) {
                    size = 0;
                }
                modrm();
                if (size == 0) {
                    reg = byteReg(reg, rex);
                    if (!hasMem) {
                        rm = byteReg(rm, rex);
                    }
                }
                out(b <= 0xb1 ? Op.CMPXCHG : Op.XADD);
                return;
            case 0xb6:
            case 0xb7:
            case 0xbe:
            case 0xbf:
                modrm();
                if ((b & 1) == 0 && !hasMem) {
                    rm = byteReg(rm, rex);
                }
                out(b == 0xb6 ? Op.MOVZX_B : b == 0xb7 ? Op.MOVZX_W : b == 0xbe ? Op.MOVSX_B : Op.MOVSX_W);
                return;
            case 0xb8:
                modrm();
                if (rep == 1) {
                    rep = 0;
                    out(Op.POPCNT);
                }
                return;
            case 0x38:
                map0f38(fetch());
                return;
            case 0x3a:
                map0f3a(fetch());
                return;
            case 0xba:
                modrm();
                if ((reg & 7) >= 4) {
                    sub = (reg & 7) - 4;
                    reg = 0;
                    dImm = fetch();
                    out(Op.BT_I);
                }
                return;
            case 0xbc:
            case 0xbd:
                // F3 0F BD is LZCNT (ABM is advertised): sub 1. F3 0F BC (TZCNT) executes as BSF: BMI1 is
                // not advertised, as on processors without it (SDM Vol. 2 TZCNT: "executes as BSF").
                modrm();
                sub = b == 0xbd && rep == 1 ? 1 : 0;
                rep = 0;
                out(b == 0xbc ? Op.BSF : Op.BSR);
                return;
            case 0xc3:
                modrm();
                if (hasMem && size >= 2) {
                    out(Op.MOVNTI);
                }
                return;
            case 0xc7:
                modrm();
                if (hasMem && (reg & 7) == 1) {
                    reg = 0;
                    out(Op.CMPXCHG8B);
                } else if (hasMem && (reg & 7) == 4 && !p66 && rep == 0) {
                    reg = 0;
                    sub = XState.XSAVEC;
                    out(Op.XSTATE);
                }
                return;
            case 0xc8: case 0xc9: case 0xca: case 0xcb: case 0xcc: case 0xcd: case 0xce: case 0xcf:
                rm = (b & 7) | ((rex & 1) << 3);
                out(Op.BSWAP);
                return;
            default:
                sseOpcode(b);
        }
    }

    private void sse(int op) {
        sub = op;
        out(Op.SSE);
    }

    /**
     * 0F 38 map (SDM Vol. 2 Table A-4): SSSE3/SSE4.1/SSE4.2 with a mandatory 66 prefix (the MMX forms
     * without it are #UD: MMX is not advertised), sub = the opcode byte; MOVBE (no prefix or 66, sub =
     * F0/F1) and CRC32 (F2, F2 66, sub = F2/F3) at F0/F1.
     */
    private void map0f38(int b) {
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
        if (!p66 || rep != 0 || b >= 0x80 || !SseX.valid38(b)) {
            return;
        }
        modrm();
        sub = b;
        out(Op.SSEX);
    }

    /** 0F 3A map (SDM Vol. 2 Table A-5): 66-prefixed SSSE3/SSE4.1/SSE4.2 with an imm8, sub = 0x80 | byte. */
    private void map0f3a(int b) {
        if (!p66 || rep != 0 || b >= 0x70 || !SseX.valid3a(b)) {
            return;
        }
        modrm();
        dImm = fetch();
        sub = 0x80 | b;
        out(Op.SSEX);
    }

    /** 0F xx opcodes of SSE/SSE2 selected by the mandatory prefix (none, 66, F3, F2). */
    private void sseOpcode(int b) {
        // The mandatory prefix is consumed: 66 must not change integer operand size here, but REX.W
        // matters for MOVD/MOVQ.
        int pfx = rep == 1 ? 3 : rep == 2 ? 2 : p66 ? 1 : 0; // 0 none, 1 66, 2 F2, 3 F3
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
