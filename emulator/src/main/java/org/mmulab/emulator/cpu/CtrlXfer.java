package org.mmulab.emulator.cpu;

import static org.mmulab.emulator.cpu.OperandAccess.RCX;
import static org.mmulab.emulator.cpu.OperandAccess.RSP;

/**
 * Control transfer (Bochs' {@code cpu/ctrl_xfer*.cc}): SDM Vol. 2 CALL (near), RET (near, with imm16),
 * RET far to the same privilege level (switching between 64-bit and compatibility mode), LOOP/LOOPE/LOOPNE.
 * Jcc, JMP and JrCXZ only change the next RIP and run inline in {@link Dispatch}.
 */
final class CtrlXfer {
    private CtrlXfer() {
    }

    /**
     * Near CALL: pushes the return address, 8 bytes in 64-bit mode (66 ignored, as the recorded host
     * behaviour was never exercised: unchanged from before 32-bit support), 4 in 32-bit mode, 2 with 66.
     */
    static void call(Interpreter cpu, long target) {
        int sz = cpu.m32 ? cpu.size() : 3;
        long sp = (cpu.r[RSP] - (1L << sz)) & cpu.addrMask;
        cpu.wr(sp, sz, cpu.next);
        cpu.r[RSP] = sp;
        cpu.next = sz == 1 ? target & 0xffff : target;
    }

    static void ret(Interpreter cpu, long extra) {
        int sz = cpu.size();
        long sp = cpu.r[RSP] & cpu.addrMask;
        long target = cpu.rd(sp, sz);
        cpu.r[RSP] = (sp + (1L << sz) + extra) & cpu.addrMask;
        cpu.next = target;
    }

    /** Internal exit code of {@link #retf} after a change between 64-bit and compatibility mode. */
    static final int MODE_SWITCH = -1;

    /**
     * RETF / RETF imm16 (SDM Vol. 2 RET, far return to the same privilege level): pops the offset and,
     * from a slot of the same operand size, the CS selector. A null selector is #GP(0); a selector whose
     * RPL is not the CPL (a return to an outer level cannot happen from CPL 3, the only level the
     * interpreter runs at), or that is not one of the GDT's user code segments ({@link CpuState#userCs64},
     * {@link CpuState#userCs32}: a data segment, a kernel segment, an LDT selector) is #GP(selector). The
     * new RIP must be canonical (64-bit target) or within the 4 GiB limit (32-bit target), else #GP(0).
     * Nothing is committed before the checks pass. Returning to the other code segment switches between
     * 64-bit and compatibility mode (only under long mode: a 32-bit kernel's GDT has one user code segment).
     */
    static int retf(Interpreter cpu, long extra) {
        int sz = cpu.size();
        int slot = 1 << sz;
        long sp = cpu.r[RSP] & cpu.addrMask;
        long offset = cpu.rd(sp, sz);
        int sel = (int) cpu.rd((sp + slot) & cpu.addrMask, sz) & 0xffff;
        if ((sel & 0xfffc) == 0) {
            cpu.lastFault = String.format("far return to the null selector at 0x%x", cpu.s.rip);
            cpu.describing = true;
            throw GuestFault.raise(cpu.s, Vectors.GP, 0);
        }
        boolean to64;
        if ((sel & 3) == cpu.s.cpl && sel == cpu.s.userCs64) {
            to64 = true;
        } else if ((sel & 3) == cpu.s.cpl && sel == cpu.s.userCs32) {
            to64 = false;
        } else {
            cpu.lastFault = String.format("far return to selector 0x%x (not a user code segment) at 0x%x", sel, cpu.s.rip);
            cpu.describing = true;
            throw GuestFault.raise(cpu.s, Vectors.GP, sel & 0xfffc);
        }
        if (to64 ? (offset << 16) >> 16 != offset : (offset >>> 32) != 0) {
            cpu.lastFault = String.format("far return to 0x%x:0x%x outside the code segment at 0x%x", sel, offset, cpu.s.rip);
            cpu.describing = true;
            throw GuestFault.raise(cpu.s, Vectors.GP, 0);
        }
        cpu.r[RSP] = (sp + 2L * slot + extra) & cpu.addrMask;
        cpu.next = sz == 1 ? offset & 0xffff : offset;
        if (to64 == cpu.m32) {
            cpu.s.longMode64 = to64;
            return MODE_SWITCH;
        }
        return Exit.BUDGET;
    }

    static void loop(Interpreter cpu) {
        boolean a32 = (cpu.info & Decoder.ASZ32) != 0;
        long c = cpu.r[RCX] - 1;
        if (a32) {
            c &= 0xffff_ffffL;
        }
        cpu.r[RCX] = c;
        boolean take = c != 0;
        int k = cpu.sub();
        if (k == 0) {
            take &= !cpu.fl.zf();
        } else if (k == 1) {
            take &= cpu.fl.zf();
        }
        if (take) {
            cpu.next += cpu.imm;
        }
    }
}
