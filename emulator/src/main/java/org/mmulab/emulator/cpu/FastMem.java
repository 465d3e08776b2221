package org.mmulab.emulator.cpu;

import static org.mmulab.emulator.cpu.OperandAccess.M32;
import static org.mmulab.emulator.cpu.OperandAccess.RSP;
import static org.mmulab.emulator.cpu.OperandAccess.sext;

/**
 * The memory forms of {@link FastOps} (loads, stores, ALU with a memory operand, PUSH/POP, CALL/RET): one
 * method {@link Interpreter#run} calls and the JIT compiles on its own. Semantics are the group methods'
 * (SDM Vol. 2 MOV, ADD..CMP/TEST, PUSH, POP, CALL, RET); only the operand decoding differs.
 */
final class FastMem {
    private FastMem() {
    }

    /**
     * The memory forms of {@link FastOps} (loads, stores, ALU with a memory operand, PUSH/POP, CALL/RET):
     * one method the run loop calls and the JIT compiles on its own (too large to inline), so the MMU's
     * access paths are not inlined at each case of {@link Interpreter#run} (see the FastOps class comment), yet the
     * operands come from the fast word instead of the group methods' decoding of the info word. No
     * segment override, LOCK or REP reaches here ({@link FastOps#classify}); semantics are the group
     * methods' ({@link DataXfer#movEG}, {@link Arith#aluMem}, {@link StackOps#push}, {@link StackOps#popR}, {@link CtrlXfer#call}, {@link CtrlXfer#ret}).
     * Returns the next RIP.
     */
    static long fastMem(Interpreter cpu, int fw, int m, int dsp, long immv, long fall) {
        final int sz = (fw >>> FastOps.SIZE_SHIFT) & 3;
        final int a = (fw >>> FastOps.A_SHIFT) & 31;
        switch (fw & FastOps.ID_MASK) {
            case FastOps.LOAD:
                cpu.r[a] = cpu.rd(fastEa(cpu, fw, m, dsp, fall), sz);
                return fall;
            case FastOps.LOADX: {
                final int w = (fw >>> FastOps.X_SHIFT) & 3;
                final long v = cpu.rd(fastEa(cpu, fw, m, dsp, fall), w);
                cpu.r[a] = ((fw & FastOps.X_SIGN) != 0 ? sext(v, w) : v) & cpu.sizeMask(fw);
                return fall;
            }
            case FastOps.STORE:
                cpu.wr(fastEa(cpu, fw, m, dsp, fall), sz, (fw & FastOps.IMM) != 0 ? immv : cpu.r[a]);
                return fall;
            case FastOps.ALUM: {
                final int kind = (fw >>> FastOps.X_SHIFT) & 15;
                final long va = fastEa(cpu, fw, m, dsp, fall);
                if ((fw & FastOps.TO_REG) != 0) { // ALU r, m
                    final long res = Arith.alu(cpu, kind, sz, cpu.r[a], cpu.rd(va, sz));
                    if (kind != 7 && kind != 8) {
                        cpu.r[a] = res; // alu() masks to the operand size: a 32-bit result is zero-extended
                    }
                    return fall;
                }
                final long src = (fw & FastOps.IMM) != 0 ? immv : cpu.r[a];
                if (kind == 7 || kind == 8) { // CMP/TEST m, r/imm: a plain read
                    Arith.alu(cpu, kind, sz, cpu.rd(va, sz), src);
                    return fall;
                }
                cpu.rmwWrite(sz, Arith.alu(cpu, kind, sz, cpu.rmwRead(va, sz), src));
                return fall;
            }
            case FastOps.PUSH: {
                final long v = cpu.r[a];
                final long sp = (cpu.r[RSP] - (1L << sz)) & cpu.addrMask;
                cpu.wr(sp, sz, v);
                cpu.r[RSP] = sp;
                return fall;
            }
            case FastOps.POP: {
                final long sp = cpu.r[RSP] & cpu.addrMask;
                final long v = cpu.rd(sp, sz);
                cpu.r[RSP] = (sp + (1L << sz)) & cpu.addrMask;
                cpu.r[a] = v; // after the RSP update: POP %rsp loads the popped value
                return fall;
            }
            case FastOps.CALL: {
                final int ssz = cpu.m32 ? sz : 3;
                final long sp = (cpu.r[RSP] - (1L << ssz)) & cpu.addrMask;
                cpu.wr(sp, ssz, fall);
                cpu.r[RSP] = sp;
                return fall + immv;
            }
            default: { // RET
                final long sp = cpu.r[RSP] & cpu.addrMask;
                final long target = cpu.rd(sp, sz);
                cpu.r[RSP] = (sp + (1L << sz)) & cpu.addrMask;
                return target;
            }
        }
    }

    /**
     * Effective address of a fast-path memory operand (no segment override): base (or RIP-relative:
     * {@code fall} is the next instruction's address) + index * scale + displacement, as {@link OperandAccess#eaNoSeg}.
     */
    static long fastEa(Interpreter cpu, int fw, int m, int dsp, long fall) {
        long a = dsp;
        int base = m & 31;
        if (base < 16) {
            a += cpu.r[base];
        } else if (base == Decoder.RIPREL) {
            a += fall;
        }
        int idx = (m >>> 5) & 31;
        if (idx < 16) {
            a += cpu.r[idx] << ((m >>> 10) & 3);
        }
        return (fw & FastOps.A32) != 0 ? a & M32 : a;
    }
}
