package org.mmulab.emulator.cpu;

import static org.mmulab.emulator.cpu.CpuState.ZF;
import static org.mmulab.emulator.cpu.OperandAccess.RAX;
import static org.mmulab.emulator.cpu.OperandAccess.RBX;
import static org.mmulab.emulator.cpu.OperandAccess.RCX;
import static org.mmulab.emulator.cpu.OperandAccess.RDX;
import static org.mmulab.emulator.cpu.OperandAccess.casAble;
import static org.mmulab.emulator.cpu.OperandAccess.mask;

import org.mmulab.emulator.memory.PhysicalMemory;

/**
 * Integer arithmetic and logic (Bochs' {@code cpu/arith*.cc}, {@code logical*.cc}): SDM Vol. 2 ADD, OR,
 * ADC, SBB, AND, SUB, XOR, CMP (ALU kinds 0-7) and TEST (8); INC, DEC, NOT, NEG; their LOCK forms
 * (SDM Vol. 3A §9.1.2: an atomic compare-and-exchange loop, split locks serialized); CMPXCHG, XADD,
 * CMPXCHG8B/CMPXCHG16B. Flags are lazy ({@link Flags}).
 */
final class Arith {
    private Arith() {
    }

    /**
     * Serializes LOCKed read-modify-writes that cannot use one compare-and-exchange (a split lock across
     * a word or page boundary, SDM Vol. 3A §9.1.2.2) against each other; aligned ones never take it.
     */
    private static final Object SPLIT_LOCK = new Object();

    /** Computes ALU operation {@code kind} (0 ADD..7 CMP, 8 TEST), sets lazy flags, returns the result. */
    static long alu(Interpreter cpu, int kind, int sz, long a, long b) {
        int bits = 8 << sz;
        long m = mask(sz);
        a &= m;
        b &= m;
        long res;
        switch (kind) {
            case 0:
                res = a + b;
                cpu.fl.lazy(Flags.ADD, bits, a, b, res);
                break;
            case 1:
                res = a | b;
                cpu.fl.lazy(Flags.LOGIC, bits, a, b, res);
                break;
            case 2: {
                boolean c = cpu.fl.cf();
                res = a + b + (c ? 1 : 0);
                cpu.fl.lazy(Flags.ADC, bits, a, b, res, c);
                break;
            }
            case 3: {
                boolean c = cpu.fl.cf();
                res = a - b - (c ? 1 : 0);
                cpu.fl.lazy(Flags.SBB, bits, a, b, res, c);
                break;
            }
            case 4:
            case 8:
                res = a & b;
                cpu.fl.lazy(Flags.LOGIC, bits, a, b, res);
                break;
            case 5:
            case 7:
                res = a - b;
                cpu.fl.lazy(Flags.SUB, bits, a, b, res);
                break;
            default:
                res = a ^ b;
                cpu.fl.lazy(Flags.LOGIC, bits, a, b, res);
                break;
        }
        return res & m;
    }

    static void aluEG(Interpreter cpu) {
        int sz = cpu.size();
        int kind = cpu.sub();
        long src = cpu.getR(cpu.reg(), sz);
        if (!cpu.hasMem()) {
            int d = cpu.rm();
            long res = alu(cpu, kind, sz, cpu.getR(d, sz), src);
            if (kind != 7 && kind != 8) {
                cpu.setR(d, sz, res);
            }
            return;
        }
        aluMem(cpu, kind, sz, src);
    }

    static void aluEI(Interpreter cpu) {
        int sz = cpu.size();
        int kind = cpu.sub();
        long src = cpu.imm;
        if (!cpu.hasMem()) {
            int d = cpu.rm();
            long res = alu(cpu, kind, sz, cpu.getR(d, sz), src);
            if (kind != 7 && kind != 8) {
                cpu.setR(d, sz, res);
            }
            return;
        }
        aluMem(cpu, kind, sz, src);
    }

    static void aluMem(Interpreter cpu, int kind, int sz, long src) {
        long va = cpu.ea();
        if (kind == 7 || kind == 8) {
            alu(cpu, kind, sz, cpu.rd(va, sz), src);
            return;
        }
        if (cpu.locked()) {
            lockedRmw(cpu, 0, kind, sz, va, src);
            return;
        }
        long old = cpu.rmwRead(va, sz);
        long res = alu(cpu, kind, sz, old, src);
        cpu.rmwWrite(sz, res);
    }

    /**
     * A LOCK-prefixed read-modify-write: {@code what} 0 = ALU kind, 1 = unary kind, 2 = BT kind
     * ({@code src} is the bit number), 3 = XADD, 4 = XCHG. Returns the old memory value.
     */
    static long lockedRmw(Interpreter cpu, int what, int kind, int sz, long va, long src) {
        if (casAble(va, sz)) {
            long pa = cpu.mmu.translateWrite(va);
            for (;;) {
                long old = cpu.physRd(pa, sz);
                long res = rmwCompute(cpu, what, kind, sz, old, src);
                if (cpu.cas(pa, sz, old, res)) {
                    return old;
                }
            }
        }
        synchronized (SPLIT_LOCK) { // split lock: serialized against other split locks only
            long old = cpu.rmwRead(va, sz);
            cpu.rmwWrite(sz, rmwCompute(cpu, what, kind, sz, old, src));
            return old;
        }
    }

    static long rmwCompute(Interpreter cpu, int what, int kind, int sz, long old, long src) {
        switch (what) {
            case 0:
                return alu(cpu, kind, sz, old, src);
            case 1:
                return unaryCompute(cpu, kind, sz, old);
            case 2:
                return BitOps.btCompute(cpu, kind, old, src);
            case 3:
                return alu(cpu, 0, sz, old, src);
            default:
                return src;
        }
    }

    static void aluGE(Interpreter cpu) {
        int sz = cpu.size();
        int kind = cpu.sub();
        int d = cpu.reg();
        long res = alu(cpu, kind, sz, cpu.getR(d, sz), cpu.readE(sz));
        if (kind != 7 && kind != 8) {
            cpu.setR(d, sz, res);
        }
    }

    static long unaryCompute(Interpreter cpu, int kind, int sz, long a) {
        int bits = 8 << sz;
        long m = mask(sz);
        a &= m;
        long res;
        switch (kind) {
            case 0: {
                boolean c = cpu.fl.cf();
                res = a + 1;
                cpu.fl.lazy(Flags.INC, bits, a, 1, res, c);
                break;
            }
            case 1: {
                boolean c = cpu.fl.cf();
                res = a - 1;
                cpu.fl.lazy(Flags.DEC, bits, a, 1, res, c);
                break;
            }
            case 2:
                res = ~a;
                break;
            default:
                res = -a;
                cpu.fl.lazy(Flags.NEG, bits, a, a, res);
                break;
        }
        return res & m;
    }

    static void unary(Interpreter cpu) {
        int sz = cpu.size();
        int kind = cpu.sub();
        if (!cpu.hasMem()) {
            int d = cpu.rm();
            cpu.setR(d, sz, unaryCompute(cpu, kind, sz, cpu.getR(d, sz)));
            return;
        }
        long va = cpu.ea();
        if (cpu.locked()) {
            lockedRmw(cpu, 1, kind, sz, va, 0);
            return;
        }
        long old = cpu.rmwRead(va, sz);
        cpu.rmwWrite(sz, unaryCompute(cpu, kind, sz, old));
    }

    static void cmpxchg(Interpreter cpu) {
        int sz = cpu.size();
        long acc = cpu.getR(RAX, sz);
        long src = cpu.getR(cpu.reg(), sz);
        if (!cpu.hasMem()) {
            int d = cpu.rm();
            long dv = cpu.getR(d, sz);
            alu(cpu, 7, sz, acc, dv);
            if (acc == dv) {
                cpu.setR(d, sz, src);
            } else {
                cpu.setR(RAX, sz, dv);
            }
            return;
        }
        long va = cpu.ea();
        long old;
        if (cpu.locked() && casAble(va, sz)) {
            long pa = cpu.mmu.translateWrite(va);
            for (;;) {
                old = cpu.physRd(pa, sz);
                if (old != acc) {
                    PhysicalMemory.fence(); // a failed LOCK CMPXCHG is still a locked (fencing) instruction
                    break;
                }
                if (cpu.cas(pa, sz, acc, src)) {
                    break;
                }
            }
        } else if (cpu.locked()) {
            synchronized (SPLIT_LOCK) {
                old = cpu.rmwRead(va, sz);
                cpu.rmwWrite(sz, old == acc ? src : old);
            }
        } else {
            old = cpu.rmwRead(va, sz);
            cpu.rmwWrite(sz, old == acc ? src : old); // the destination is always written
        }
        alu(cpu, 7, sz, acc, old);
        if (old != acc) {
            cpu.setR(RAX, sz, old);
        }
    }

    static void xadd(Interpreter cpu) {
        int sz = cpu.size();
        int g = cpu.reg();
        long src = cpu.getR(g, sz);
        if (!cpu.hasMem()) {
            int d = cpu.rm();
            long dv = cpu.getR(d, sz);
            long sum = alu(cpu, 0, sz, dv, src);
            cpu.setR(g, sz, dv);
            cpu.setR(d, sz, sum);
            return;
        }
        long va = cpu.ea();
        long old;
        if (cpu.locked()) {
            old = lockedRmw(cpu, 3, 0, sz, va, src);
        } else {
            old = cpu.rmwRead(va, sz);
            cpu.rmwWrite(sz, alu(cpu, 0, sz, old, src));
        }
        alu(cpu, 0, sz, old, src);
        cpu.setR(g, sz, old);
    }

    static void cmpxchg8b(Interpreter cpu) {
        if (cpu.size() == 3) {
            IntExt.cmpxchg16b(cpu);
            return;
        }
        long va = cpu.ea();
        long expect = ((cpu.r[RDX] & 0xffff_ffffL) << 32) | (cpu.r[RAX] & 0xffff_ffffL);
        long update = ((cpu.r[RCX] & 0xffff_ffffL) << 32) | (cpu.r[RBX] & 0xffff_ffffL);
        long old;
        if ((va & 7) == 0) {
            long pa = cpu.mmu.translateWrite(va);
            old = cpu.mem.compareAndExchange64(pa, expect, update);
        } else {
            synchronized (SPLIT_LOCK) {
                old = cpu.rmwRead(va, 3);
                cpu.rmwWrite(3, old == expect ? update : old);
            }
        }
        if (old == expect) {
            cpu.fl.setBits(ZF, ZF);
        } else {
            cpu.fl.setBits(ZF, 0);
            cpu.r[RAX] = old & 0xffff_ffffL;
            cpu.r[RDX] = old >>> 32;
        }
    }
}
