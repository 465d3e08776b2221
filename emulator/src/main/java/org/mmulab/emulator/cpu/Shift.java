package org.mmulab.emulator.cpu;

import static org.mmulab.emulator.cpu.CpuState.AF;
import static org.mmulab.emulator.cpu.CpuState.CF;
import static org.mmulab.emulator.cpu.CpuState.OF;
import static org.mmulab.emulator.cpu.CpuState.PF;
import static org.mmulab.emulator.cpu.CpuState.SF;
import static org.mmulab.emulator.cpu.CpuState.ZF;
import static org.mmulab.emulator.cpu.OperandAccess.RCX;
import static org.mmulab.emulator.cpu.OperandAccess.mask;
import static org.mmulab.emulator.cpu.OperandAccess.sext;

/**
 * Shifts and rotates (Bochs' {@code cpu/shift*.cc}): SDM Vol. 2 SAL/SHL, SHR, SAR, ROL, ROR, RCL, RCR
 * (group 2, count masked to 5 or 6 bits, a zero count changes no flags) and SHLD, SHRD.
 */
final class Shift {
    private Shift() {
    }

    static long szpFlags(long res, int sz) {
        long m = mask(sz);
        long v = res & m;
        long f = (Integer.bitCount((int) v & 0xff) & 1) == 0 ? PF : 0;
        if (v == 0) {
            f |= ZF;
        }
        if (((v >>> ((8 << sz) - 1)) & 1) != 0) {
            f |= SF;
        }
        return f;
    }

    static void shift(Interpreter cpu, int rawCount) {
        int sz = cpu.size();
        int bits = 8 << sz;
        int count = rawCount & (sz == 3 ? 63 : 31);
        if (count == 0) {
            // Flags untouched; a 32-bit register destination is still written (zero-extended), as on hardware.
            if (sz == 2 && !cpu.hasMem()) {
                cpu.r[cpu.rm()] &= 0xffff_ffffL;
            }
            return;
        }
        int kind = cpu.sub();
        boolean memOp = cpu.hasMem();
        long va = 0;
        long a;
        if (memOp) {
            va = cpu.ea();
            a = cpu.rmwRead(va, sz);
        } else {
            a = cpu.getR(cpu.rm(), sz);
        }
        long m = mask(sz);
        long res;
        switch (kind) {
            case 0: { // ROL
                int c = count % bits;
                res = c == 0 ? a : ((a << c) | (a >>> (bits - c))) & m;
                boolean cf = (res & 1) != 0;
                boolean msb = ((res >>> (bits - 1)) & 1) != 0;
                cpu.fl.setCfOf(cf, msb != cf);
                break;
            }
            case 1: { // ROR
                int c = count % bits;
                res = c == 0 ? a : ((a >>> c) | (a << (bits - c))) & m;
                boolean msb = ((res >>> (bits - 1)) & 1) != 0;
                boolean msb1 = ((res >>> (bits - 2)) & 1) != 0;
                cpu.fl.setCfOf(msb, msb != msb1);
                break;
            }
            case 2: { // RCL
                int c = sz >= 2 ? count : count % (bits + 1);
                boolean cf = cpu.fl.cf();
                res = a;
                for (int i = 0; i < c; i++) {
                    boolean out = ((res >>> (bits - 1)) & 1) != 0;
                    res = ((res << 1) | (cf ? 1 : 0)) & m;
                    cf = out;
                }
                boolean msb = ((res >>> (bits - 1)) & 1) != 0;
                cpu.fl.setBits(CF | OF, (cf ? CF : 0) | (msb != cf ? OF : 0));
                break;
            }
            case 3: { // RCR
                int c = sz >= 2 ? count : count % (bits + 1);
                boolean cf = cpu.fl.cf();
                res = a;
                for (int i = 0; i < c; i++) {
                    boolean out = (res & 1) != 0;
                    res = (res >>> 1) | ((cf ? 1L : 0L) << (bits - 1));
                    cf = out;
                }
                boolean msb = ((res >>> (bits - 1)) & 1) != 0;
                boolean msb1 = ((res >>> (bits - 2)) & 1) != 0;
                cpu.fl.setBits(CF | OF, (cf ? CF : 0) | (msb != msb1 ? OF : 0));
                break;
            }
            case 4:
            case 6: // SHL/SAL
                res = count >= 64 ? 0 : (a << count) & m;
                cpu.fl.lazy(Flags.SHL, bits, a, count, res);
                break;
            case 5: // SHR
                res = count >= 64 ? 0 : a >>> count;
                cpu.fl.lazy(Flags.SHR, bits, a, count, res);
                break;
            default: { // SAR
                long sa = sext(a, sz);
                res = (sa >> Math.min(count, 63)) & m;
                cpu.fl.lazy(Flags.SAR, bits, a, count, res);
                break;
            }
        }
        if (memOp) {
            cpu.rmwWrite(sz, res);
        } else {
            cpu.setR(cpu.rm(), sz, res);
        }
    }

    static void shiftDouble(Interpreter cpu) {
        int sz = cpu.size();
        int bits = 8 << sz;
        int raw = (cpu.op == Op.SHLD_CL || cpu.op == Op.SHRD_CL) ? (int) cpu.r[RCX] : (int) cpu.imm;
        int count = raw & (sz == 3 ? 63 : 31);
        if (count == 0) {
            if (sz == 2 && !cpu.hasMem()) {
                cpu.r[cpu.rm()] &= 0xffff_ffffL;
            }
            return;
        }
        boolean left = cpu.op == Op.SHLD_I || cpu.op == Op.SHLD_CL;
        long src = cpu.getR(cpu.reg(), sz);
        boolean memOp = cpu.hasMem();
        long a = memOp ? cpu.rmwRead(cpu.ea(), sz) : cpu.getR(cpu.rm(), sz);
        long m = mask(sz);
        long res;
        boolean cf;
        if (sz == 1 && count > 16) {
            // Undefined result for 16-bit operands with count > 16: model as a 48-bit funnel shift.
            count -= 16;
            a = src;
        }
        if (left) {
            res = ((a << count) | (src >>> (bits - count))) & m;
            cf = ((a >>> (bits - count)) & 1) != 0;
        } else {
            res = ((a >>> count) | (src << (bits - count))) & m;
            cf = ((a >>> (count - 1)) & 1) != 0;
        }
        boolean msb = ((res >>> (bits - 1)) & 1) != 0;
        boolean ofl = left ? msb != cf : msb != (((res >>> (bits - 2)) & 1) != 0);
        cpu.fl.setBits(Flags.ARITH, szpFlags(res, sz) | AF | (cf ? CF : 0) | (ofl ? OF : 0));
        if (memOp) {
            cpu.rmwWrite(sz, res);
        } else {
            cpu.setR(cpu.rm(), sz, res);
        }
    }
}
