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
 *
 * <p>This class is the prefix loop and the LOCK rule; the rest is layered below it one concern a file:
 * {@link OneByteMap}, {@link TwoByteMap}, {@link SseMaps} (0F SSE, 0F 38, 0F 3A) and
 * {@link OperandDecoder} (decode state, fetch, immediates, ModRM/SIB).
 */
final class Decoder extends OneByteMap {
    Decoder(CpuState s, Mmu mmu, PhysicalMemory mem) {
        super(s, mmu, mem);
    }

    /** Number of bytes consumed by the last decode (for #UD descriptions). */
    int consumed() {
        return pos;
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
}
