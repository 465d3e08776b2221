package org.mmulab.emulator.cpu;

import static org.mmulab.emulator.cpu.CpuState.AF;
import static org.mmulab.emulator.cpu.CpuState.CF;
import static org.mmulab.emulator.cpu.CpuState.OF;
import static org.mmulab.emulator.cpu.CpuState.PF;
import static org.mmulab.emulator.cpu.CpuState.SF;
import static org.mmulab.emulator.cpu.CpuState.ZF;
import static org.mmulab.emulator.cpu.OperandAccess.RBP;
import static org.mmulab.emulator.cpu.OperandAccess.RSP;

/**
 * Stack instructions (Bochs' {@code cpu/stack*.cc}): SDM Vol. 2 PUSH, POP, PUSHA/PUSHAD, POPA/POPAD,
 * ENTER, LEAVE, POPF (SDM Vol. 1 §6.2: the stack width is the operand size, RSP wraps at 4 GiB in 32-bit
 * mode). Every form stores or loads before it commits RSP, so a faulting push or pop changes nothing.
 */
final class StackOps {
    private StackOps() {
    }

    static void push(Interpreter cpu, long v) {
        int sz = cpu.size();
        long sp = (cpu.r[RSP] - (1L << sz)) & cpu.addrMask;
        cpu.wr(sp, sz, v);
        cpu.r[RSP] = sp;
    }

    static void popR(Interpreter cpu) {
        int sz = cpu.size();
        long sp = cpu.r[RSP] & cpu.addrMask;
        long v = cpu.rd(sp, sz);
        cpu.r[RSP] = (sp + (1L << sz)) & cpu.addrMask;
        cpu.setR(cpu.rm(), sz, v);
    }

    static void popE(Interpreter cpu) {
        int sz = cpu.size();
        long sp = cpu.r[RSP] & cpu.addrMask;
        long v = cpu.rd(sp, sz);
        if (!cpu.hasMem()) {
            cpu.r[RSP] = (sp + (1L << sz)) & cpu.addrMask;
            cpu.setR(cpu.rm(), sz, v);
            return;
        }
        long va = cpu.ea();
        if ((cpu.memw & 31) == RSP) {
            va = (va + (1L << sz)) & cpu.addrMask; // RSP as base is used after the increment (SDM Vol. 2 POP)
        }
        cpu.wr(va, sz, v);
        cpu.r[RSP] = (sp + (1L << sz)) & cpu.addrMask;
    }

    static void leave(Interpreter cpu) {
        int sz = cpu.size();
        long bp = cpu.r[RBP] & cpu.addrMask;
        long v = cpu.rd(bp, sz);
        cpu.r[RSP] = (bp + (1L << sz)) & cpu.addrMask;
        cpu.setR(RBP, sz, v);
    }

    /** PUSHA/PUSHAD (32-bit mode): EAX, ECX, EDX, EBX, original ESP, EBP, ESI, EDI; commits after all stores. */
    static void pusha(Interpreter cpu) {
        int sz = cpu.size();
        int n = 1 << sz;
        long sp0 = cpu.r[RSP] & cpu.addrMask;
        long low = (sp0 - 8L * n) & cpu.addrMask;
        // Check the whole area is writable first so a fault commits nothing (precise).
        cpu.mmu.translateWrite(low);
        cpu.mmu.translateWrite((low + 8L * n - 1) & cpu.addrMask);
        long sp = sp0;
        for (int i = 0; i < 8; i++) {
            sp = (sp - n) & cpu.addrMask;
            cpu.wr(sp, sz, i == RSP ? sp0 : cpu.r[i]);
        }
        cpu.r[RSP] = sp;
    }

    /** POPA/POPAD: EDI, ESI, EBP, (ESP skipped), EBX, EDX, ECX, EAX; registers written after all loads. */
    static void popa(Interpreter cpu) {
        int sz = cpu.size();
        int n = 1 << sz;
        long sp = cpu.r[RSP] & cpu.addrMask;
        long[] v = cpu.scratchPopa;
        for (int i = 7; i >= 0; i--) {
            v[i] = cpu.rd(sp, sz);
            sp = (sp + n) & cpu.addrMask;
        }
        for (int i = 0; i < 8; i++) {
            if (i != RSP) {
                cpu.setR(i, sz, v[i]);
            }
        }
        cpu.r[RSP] = sp;
    }

    static void enter(Interpreter cpu) {
        int alloc = (int) (cpu.imm & 0xffff);
        int level = (int) (cpu.imm >>> 16) & 0x1f;
        int sz = cpu.size();
        int n = 1 << sz;
        long sp = (cpu.r[RSP] - n) & cpu.addrMask;
        cpu.wr(sp, sz, cpu.r[RBP]);
        long frame = sp;
        long bp = cpu.r[RBP];
        for (int i = 1; i < level; i++) {
            bp = (bp - n) & cpu.addrMask;
            sp = (sp - n) & cpu.addrMask;
            cpu.wr(sp, sz, cpu.rd(bp, sz));
        }
        if (level > 0) {
            sp = (sp - n) & cpu.addrMask;
            cpu.wr(sp, sz, frame);
        }
        cpu.mmu.translateWrite((sp - alloc) & cpu.addrMask); // the new frame's lowest byte must be writable (#PF before commit)
        cpu.setR(RBP, sz, frame);
        cpu.r[RSP] = (sp - alloc) & cpu.addrMask;
    }

    static void popf(Interpreter cpu) {
        int sz = cpu.size();
        long sp = cpu.r[RSP] & cpu.addrMask;
        long v = cpu.rd(sp, sz);
        cpu.r[RSP] = (sp + (1L << sz)) & cpu.addrMask;
        // CPL 3, IOPL 0: IF and IOPL are left alone; VM/RF/VIF/VIP cannot be set by POPF.
        long changeable = CF | PF | AF | ZF | SF | CpuState.TF | CpuState.DF | OF | (1L << 14) | CpuState.AC | CpuState.ID;
        if (sz == 1) {
            changeable &= 0xffff;
        }
        long old = cpu.s.getRflags();
        cpu.s.setRflags((old & ~changeable) | (v & changeable));
    }
}
