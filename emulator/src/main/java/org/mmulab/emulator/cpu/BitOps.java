package org.mmulab.emulator.cpu;

import static org.mmulab.emulator.cpu.CpuState.AF;
import static org.mmulab.emulator.cpu.CpuState.CF;
import static org.mmulab.emulator.cpu.CpuState.PF;
import static org.mmulab.emulator.cpu.CpuState.SF;
import static org.mmulab.emulator.cpu.CpuState.ZF;
import static org.mmulab.emulator.cpu.OperandAccess.sext;

/**
 * Bit instructions (Bochs' {@code cpu/bit*.cc}): SDM Vol. 2 BT, BTS, BTR, BTC (a register bit offset
 * addresses a bit string in memory), BSF, BSR, POPCNT, LZCNT, BSWAP and SETcc.
 */
final class BitOps {
    private BitOps() {
    }

    static void setcc(Interpreter cpu) {
        int v = cpu.fl.cond(cpu.sub()) ? 1 : 0;
        if (cpu.hasMem()) {
            cpu.wr(cpu.ea(), 0, v);
        } else {
            cpu.setR(cpu.rm(), 0, v);
        }
    }

    static long btCompute(Interpreter cpu, int kind, long old, long bit) {
        long m = 1L << bit;
        cpu.fl.setBits(CF, (old & m) != 0 ? CF : 0);
        switch (kind) {
            case 1:
                return old | m;
            case 2:
                return old & ~m;
            case 3:
                return old ^ m;
            default:
                return old;
        }
    }

    static void bt(Interpreter cpu) {
        int sz = cpu.size();
        int bits = 8 << sz;
        int kind = cpu.sub();
        long offset = cpu.op == Op.BT_G ? cpu.getR(cpu.reg(), sz) : cpu.imm;
        if (!cpu.hasMem()) {
            int d = cpu.rm();
            long v = cpu.getR(d, sz);
            long res = btCompute(cpu, kind, v, offset & (bits - 1));
            if (kind != 0) {
                cpu.setR(d, sz, res);
            }
            return;
        }
        long va = cpu.ea();
        long bit;
        if (cpu.op == Op.BT_G) {
            long so = sext(offset, sz); // bit string addressing: signed offset from the base
            va += (so >> (3 + sz)) << sz;
            bit = so & (bits - 1);
        } else {
            bit = offset & (bits - 1);
        }
        if (kind == 0) {
            btCompute(cpu, 0, cpu.rd(va, sz), bit);
            return;
        }
        if (cpu.locked()) {
            Arith.lockedRmw(cpu, 2, kind, sz, va, bit);
            return;
        }
        long old = cpu.rmwRead(va, sz);
        cpu.rmwWrite(sz, btCompute(cpu, kind, old, bit));
    }

    static void bitScan(Interpreter cpu) {
        int sz = cpu.size();
        long v = cpu.readE(sz);
        if (cpu.op == Op.POPCNT) {
            cpu.setR(cpu.reg(), sz, Long.bitCount(v));
            cpu.fl.setBits(Flags.ARITH, v == 0 ? ZF : 0);
            return;
        }
        if (cpu.op == Op.BSR && cpu.sub() == 1) { // LZCNT: CF = source zero, ZF = result zero; AMD clears SF/AF/PF, keeps OF
            int bits = 8 << sz;
            long n = v == 0 ? bits : Long.numberOfLeadingZeros(v) - (64 - bits);
            cpu.setR(cpu.reg(), sz, n);
            cpu.fl.setBits(CF | ZF | SF | AF | PF, (v == 0 ? CF : 0) | (n == 0 ? ZF : 0));
            return;
        }
        if (v == 0) {
            cpu.fl.setBits(ZF, ZF); // destination unchanged (AMD documents it; Intel hardware does it)
            return;
        }
        long idx = cpu.op == Op.BSF ? Long.numberOfTrailingZeros(v) : 63 - Long.numberOfLeadingZeros(v);
        cpu.setR(cpu.reg(), sz, idx);
        cpu.fl.setBits(ZF, 0); // AMD: the other flags are unchanged (recorded on the host)
    }

    static void bswap(Interpreter cpu) {
        int sz = cpu.size();
        int d = cpu.rm();
        if (sz == 3) {
            cpu.r[d] = Long.reverseBytes(cpu.r[d]);
        } else if (sz == 2) {
            cpu.r[d] = Integer.reverseBytes((int) cpu.r[d]) & 0xffff_ffffL;
        } else {
            cpu.r[d] &= ~0xffffL; // BSWAP r16 is undefined; hardware clears the low word
        }
    }
}
