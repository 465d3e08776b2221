package org.mmulab.emulator.cpu;

import org.mmulab.emulator.memory.PhysicalMemory;
import org.mmulab.emulator.mmu.Mmu;

/**
 * The one-byte opcode map of the decoder (SDM Vol. 2 Appendix A, Table A-2, with the group encodings of
 * Table A-6): ALU forms, INC/DEC and PUSHA/POPA in 32-bit mode, PUSH/POP, MOV, shifts (group 2), group 3/5,
 * string instructions, Jcc rel8, CALL/RET/JMP, flag control, x87 escapes D8-DF.
 */
abstract class OneByteMap extends TwoByteMap {
    OneByteMap(CpuState s, Mmu mmu, PhysicalMemory mem) {
        super(s, mmu, mem);
    }

    final void oneByte(int b) {
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
}
