package org.mmulab.emulator.cpu;

import org.mmulab.emulator.memory.PhysicalMemory;
import org.mmulab.emulator.mmu.Mmu;

/**
 * The two-byte opcode map of the decoder, 0F xx (SDM Vol. 2 Appendix A, Table A-3): Jcc rel32, SETcc,
 * CMOVcc, MOVZX/MOVSX, BT/BTS/BTR/BTC, BSF/BSR/POPCNT/LZCNT, SHLD/SHRD, CMPXCHG, XADD, BSWAP, CPUID,
 * RDTSC, SYSCALL, fences, group 15 (FXSAVE/LDMXCSR...) and the escapes to the SSE maps ({@link SseMaps}).
 */
abstract class TwoByteMap extends SseMaps {
    TwoByteMap(CpuState s, Mmu mmu, PhysicalMemory mem) {
        super(s, mmu, mem);
    }

    final void twoByte(int b) {
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
}
