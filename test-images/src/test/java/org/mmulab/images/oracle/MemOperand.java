package org.mmulab.images.oracle;

import static org.mmulab.emulator.debug.RegisterTraceWriter.REG_FS_BASE;
import static org.mmulab.emulator.debug.RegisterTraceWriter.REG_GPR0;

/**
 * The memory operand of a decoded instruction, for following values through memory in the oracle
 * ({@link X87Flow}: status words that FNSTSW stores and a MOV loads back): its effective address from
 * the registers of a trace record, and what a plain load from it (MOV, MOVZX, MOVSX into a
 * general-purpose register) writes.
 */
final class MemOperand {
    private MemOperand() {
    }

    /**
     * The linear address of {@code insn}'s ModRM memory operand given the registers before it
     * ({@code r}, trace slots) and the address of the next instruction (for RIP-relative operands);
     * null for a register operand or 16-bit addressing. Segment bases are zero except FS (traced);
     * a GS-relative operand gives null.
     */
    static Long address(X86Insn insn, long[] r, long nextRip) {
        int m = insn.modrm();
        boolean longMode = insn.longMode();
        if (m < 0 || (m >> 6) == 3 || (!longMode && insn.addressSizePrefix()) || insn.segmentPrefix() == 0x65) {
            return null;
        }
        int mod = m >> 6, rm = m & 7, rex = insn.rex();
        int p = insn.modrmPos() + 1;
        long ea;
        if (rm == 4) {
            int sib = insn.byteAt(p++);
            if (sib < 0) {
                return null;
            }
            int index = ((sib >> 3) & 7) | ((rex & 2) << 2), base = (sib & 7) | ((rex & 1) << 3);
            ea = index == 4 ? 0 : r[REG_GPR0 + index] << (sib >> 6);
            if ((sib & 7) == 5 && mod == 0) {
                ea += disp32(insn, p);
                p += 4;
            } else {
                ea += r[REG_GPR0 + base];
            }
        } else if (rm == 5 && mod == 0) {
            ea = disp32(insn, p) + (longMode ? nextRip : 0);
            p += 4;
        } else {
            ea = r[REG_GPR0 + (rm | ((rex & 1) << 3))];
        }
        if (mod == 1) {
            int d = insn.byteAt(p);
            ea += (byte) d;
        } else if (mod == 2) {
            ea += disp32(insn, p);
        }
        if (!longMode || insn.addressSizePrefix()) {
            ea &= 0xffff_ffffL;
        }
        if (insn.segmentPrefix() == 0x64) {
            ea += r[REG_FS_BASE];
        }
        return ea;
    }

    private static long disp32(X86Insn insn, int p) {
        int v = 0;
        for (int i = 0; i < 4; i++) {
            v |= (insn.byteAt(p + i) & 0xff) << (8 * i);
        }
        return v;
    }

    /**
     * For a load into a general-purpose register (8A/8B MOV, 0F B6/B7 MOVZX, 0F BE/BF MOVSX with a
     * memory source): {destination register, bytes read, bit position of the first byte in it (8 for
     * AH..BH)}; null for anything else.
     */
    static int[] load(X86Insn insn) {
        int m = insn.modrm();
        if (m < 0 || m >= 0xc0) {
            return null;
        }
        int reg = ((m >> 3) & 7) | ((insn.rex() & 4) << 1);
        int op = insn.opcode();
        if (insn.map() == 0 && (op == 0x8a || op == 0x8b)) {
            if (op == 0x8a) {
                boolean high = insn.rex() == 0 && reg >= 4 && reg < 8;
                return new int[] { high ? reg - 4 : reg, 1, high ? 8 : 0 };
            }
            int bytes = (insn.rex() & 8) != 0 ? 8 : insn.operandSizePrefix() ? 2 : 4;
            return new int[] { reg, bytes, 0 };
        }
        if (insn.map() == 1 && (op == 0xb6 || op == 0xb7 || op == 0xbe || op == 0xbf)) {
            return new int[] { reg, (op & 1) != 0 ? 2 : 1, 0 };
        }
        return null;
    }
}
