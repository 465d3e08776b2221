package org.mmulab.emulator.cpu;

import static org.mmulab.emulator.cpu.OperandAccess.RAX;
import static org.mmulab.emulator.cpu.OperandAccess.RCX;
import static org.mmulab.emulator.cpu.OperandAccess.RDI;
import static org.mmulab.emulator.cpu.OperandAccess.RSI;

/**
 * String instructions (Bochs' {@code cpu/string.cc}): SDM Vol. 2 MOVS, STOS, LODS, CMPS, SCAS with the
 * REP/REPE/REPNE prefixes. Each iteration commits RSI/RDI/RCX only after its memory accesses succeeded,
 * so a fault in the middle leaves the completed iterations committed, as hardware does.
 */
final class StringOps {
    private StringOps() {
    }

    static void strings(Interpreter cpu) {
        int sz = cpu.size();
        long step = cpu.fl.df() ? -(1L << sz) : (1L << sz);
        boolean a32 = (cpu.info & Decoder.ASZ32) != 0;
        long am = a32 ? 0xffff_ffffL : -1L;
        int rep = cpu.rep();
        long seg = cpu.segBase();
        if (rep == 0) {
            stringStep(cpu, sz, step, am, seg);
            return;
        }
        boolean cmp = cpu.op == Op.CMPS || cpu.op == Op.SCAS;
        for (;;) {
            long c = cpu.r[RCX] & am;
            if (c == 0) {
                return;
            }
            stringStep(cpu, sz, step, am, seg);
            cpu.r[RCX] = a32 ? (c - 1) & am : c - 1;
            if (cmp) {
                boolean z = cpu.fl.zf();
                if ((rep == 1 && !z) || (rep == 2 && z)) {
                    return;
                }
            }
        }
    }

    /** One iteration; commits RSI/RDI (and RAX for LODS) only after its memory accesses succeeded. */
    static void stringStep(Interpreter cpu, int sz, long step, long am, long seg) {
        long si = cpu.r[RSI] & am;
        long di = cpu.r[RDI] & am;
        switch (cpu.op) {
            case Op.MOVS: {
                long v = cpu.rd((si + seg) & cpu.addrMask, sz);
                cpu.wr(di, sz, v);
                cpu.r[RSI] = (si + step) & am;
                cpu.r[RDI] = (di + step) & am;
                break;
            }
            case Op.STOS:
                cpu.wr(di, sz, cpu.getR(RAX, sz));
                cpu.r[RDI] = (di + step) & am;
                break;
            case Op.LODS: {
                long v = cpu.rd((si + seg) & cpu.addrMask, sz);
                cpu.setR(RAX, sz, v);
                cpu.r[RSI] = (si + step) & am;
                break;
            }
            case Op.CMPS: {
                long a = cpu.rd((si + seg) & cpu.addrMask, sz);
                long b = cpu.rd(di, sz);
                Arith.alu(cpu, 7, sz, a, b);
                cpu.r[RSI] = (si + step) & am;
                cpu.r[RDI] = (di + step) & am;
                break;
            }
            default: { // SCAS
                long b = cpu.rd(di, sz);
                Arith.alu(cpu, 7, sz, cpu.getR(RAX, sz), b);
                cpu.r[RDI] = (di + step) & am;
                break;
            }
        }
    }
}
