package org.mmulab.emulator.cpu;

import static org.mmulab.emulator.cpu.CpuState.AF;
import static org.mmulab.emulator.cpu.CpuState.CF;
import static org.mmulab.emulator.cpu.CpuState.PF;
import static org.mmulab.emulator.cpu.CpuState.SF;
import static org.mmulab.emulator.cpu.CpuState.ZF;
import static org.mmulab.emulator.cpu.Interpreter.TSC_BASE;
import static org.mmulab.emulator.cpu.OperandAccess.RAX;
import static org.mmulab.emulator.cpu.OperandAccess.RBX;
import static org.mmulab.emulator.cpu.OperandAccess.RCX;
import static org.mmulab.emulator.cpu.OperandAccess.RDX;
import static org.mmulab.emulator.cpu.OperandAccess.sext;

import org.mmulab.emulator.memory.PhysicalMemory;

/**
 * Instruction dispatch over the dense {@link Op} ids for everything the run loop's fast forms do not
 * cover (the role of Bochs' {@code cpu/cpu.cc} handler call): three switches, commonest ops first, each
 * well under the JIT's 8000-byte limit. One-line instructions run inline (MOV forms, Jcc/JMP/JrCXZ, LEA,
 * MOVZX/MOVSX/MOVSXD, the flag-control group CLC/STC/CMC/CLD/STD/SAHF/LAHF/PUSHF, XLAT, CPUID, RDTSC,
 * fences, SYSCALL, INT3, INT n, privileged opcodes); the rest go to the group classes ({@link Arith},
 * {@link Mult}, {@link Shift}, {@link BitOps}, {@link DataXfer}, {@link StackOps}, {@link CtrlXfer},
 * {@link StringOps}) and the SSE/x87 executors ({@link SseExec}, {@link SseX}, {@link X87Exec},
 * {@link XState}).
 */
final class Dispatch {
    private Dispatch() {
    }

    static int exec(Interpreter cpu) {
        switch (cpu.op) {
            case Op.NOP:
                return Exit.BUDGET;
            case Op.ALU_EG:
                Arith.aluEG(cpu);
                return Exit.BUDGET;
            case Op.ALU_GE:
                Arith.aluGE(cpu);
                return Exit.BUDGET;
            case Op.ALU_EI:
                Arith.aluEI(cpu);
                return Exit.BUDGET;
            case Op.MOV_EG:
            case Op.MOVNTI:
                DataXfer.movEG(cpu);
                return Exit.BUDGET;
            case Op.MOV_GE:
                cpu.setR(cpu.reg(), cpu.size(), cpu.readE(cpu.size()));
                return Exit.BUDGET;
            case Op.MOV_EI:
                DataXfer.movEI(cpu);
                return Exit.BUDGET;
            case Op.MOV_RI:
                cpu.setR(cpu.rm(), cpu.size(), cpu.imm);
                return Exit.BUDGET;
            case Op.JCC:
                if (cpu.fl.cond(cpu.sub())) {
                    cpu.next += cpu.imm;
                }
                return Exit.BUDGET;
            case Op.JMP:
                cpu.next += cpu.imm;
                return Exit.BUDGET;
            case Op.CALL:
                CtrlXfer.call(cpu, cpu.next + cpu.imm);
                return Exit.BUDGET;
            case Op.RET:
                CtrlXfer.ret(cpu, 0);
                return Exit.BUDGET;
            case Op.LEA:
                cpu.setR(cpu.reg(), cpu.size(), cpu.eaNoSeg());
                return Exit.BUDGET;
            case Op.PUSH_R:
                StackOps.push(cpu, cpu.getR(cpu.rm(), cpu.size()));
                return Exit.BUDGET;
            case Op.POP_R:
                StackOps.popR(cpu);
                return Exit.BUDGET;
            case Op.MOVZX_B:
                cpu.setR(cpu.reg(), cpu.size(), cpu.readE(0));
                return Exit.BUDGET;
            case Op.MOVZX_W:
                cpu.setR(cpu.reg(), cpu.size(), cpu.readE(1));
                return Exit.BUDGET;
            case Op.MOVSX_B:
                cpu.setR(cpu.reg(), cpu.size(), sext(cpu.readE(0), 0));
                return Exit.BUDGET;
            case Op.MOVSX_W:
                cpu.setR(cpu.reg(), cpu.size(), sext(cpu.readE(1), 1));
                return Exit.BUDGET;
            case Op.MOVSXD:
                cpu.setR(cpu.reg(), cpu.size(), cpu.size() == 3 ? sext(cpu.readE(2), 2) : cpu.readE(cpu.size()));
                return Exit.BUDGET;
            case Op.CMOVCC:
                DataXfer.cmov(cpu);
                return Exit.BUDGET;
            case Op.SETCC:
                BitOps.setcc(cpu);
                return Exit.BUDGET;
            default:
                return exec2(cpu);
        }
    }

    static int exec2(Interpreter cpu) {
        switch (cpu.op) {
            case Op.PUSH_I:
                StackOps.push(cpu, cpu.imm);
                return Exit.BUDGET;
            case Op.PUSH_E:
                StackOps.push(cpu, cpu.readE(cpu.size()));
                return Exit.BUDGET;
            case Op.POP_E:
                StackOps.popE(cpu);
                return Exit.BUDGET;
            case Op.XCHG_EG:
                DataXfer.xchg(cpu);
                return Exit.BUDGET;
            case Op.UNARY:
                Arith.unary(cpu);
                return Exit.BUDGET;
            case Op.MULDIV:
                Mult.muldiv(cpu);
                return Exit.BUDGET;
            case Op.IMUL_GE:
                Mult.imul2(cpu, cpu.readE(cpu.size()), cpu.getR(cpu.reg(), cpu.size()));
                return Exit.BUDGET;
            case Op.IMUL_GEI:
                Mult.imul2(cpu, cpu.readE(cpu.size()), cpu.imm);
                return Exit.BUDGET;
            case Op.SHIFT_I:
                Shift.shift(cpu, (int) cpu.imm);
                return Exit.BUDGET;
            case Op.SHIFT_CL:
                Shift.shift(cpu, (int) cpu.r[RCX]);
                return Exit.BUDGET;
            case Op.SHLD_I:
            case Op.SHLD_CL:
            case Op.SHRD_I:
            case Op.SHRD_CL:
                Shift.shiftDouble(cpu);
                return Exit.BUDGET;
            case Op.BT_G:
            case Op.BT_I:
                BitOps.bt(cpu);
                return Exit.BUDGET;
            case Op.BSF:
            case Op.BSR:
            case Op.POPCNT:
                BitOps.bitScan(cpu);
                return Exit.BUDGET;
            case Op.BSWAP:
                BitOps.bswap(cpu);
                return Exit.BUDGET;
            case Op.CBW:
                DataXfer.cbw(cpu);
                return Exit.BUDGET;
            case Op.CWD:
                DataXfer.cwd(cpu);
                return Exit.BUDGET;
            case Op.JMP_E:
                cpu.next = cpu.readE(cpu.size());
                return Exit.BUDGET;
            case Op.CALL_E:
                CtrlXfer.call(cpu, cpu.readE(cpu.size()));
                return Exit.BUDGET;
            case Op.RET_I:
                CtrlXfer.ret(cpu, cpu.imm);
                return Exit.BUDGET;
            case Op.RETF:
                return CtrlXfer.retf(cpu, cpu.imm);
            case Op.JRCXZ:
                if (((cpu.info & Decoder.ASZ32) != 0 ? cpu.r[RCX] & 0xffff_ffffL : cpu.r[RCX]) == 0) {
                    cpu.next += cpu.imm;
                }
                return Exit.BUDGET;
            case Op.LOOP:
                CtrlXfer.loop(cpu);
                return Exit.BUDGET;
            case Op.MOVS:
            case Op.STOS:
            case Op.LODS:
            case Op.CMPS:
            case Op.SCAS:
                StringOps.strings(cpu);
                return Exit.BUDGET;
            case Op.MOV_AO:
                cpu.setR(RAX, cpu.size(), cpu.rd(cpu.linear(cpu.imm), cpu.size()));
                return Exit.BUDGET;
            case Op.MOV_OA:
                cpu.wr(cpu.linear(cpu.imm), cpu.size(), cpu.getR(RAX, cpu.size()));
                return Exit.BUDGET;
            case Op.CMPXCHG:
                Arith.cmpxchg(cpu);
                return Exit.BUDGET;
            case Op.XADD:
                Arith.xadd(cpu);
                return Exit.BUDGET;
            case Op.SSE:
                SseExec.exec(cpu);
                return Exit.BUDGET;
            case Op.X87:
                X87Exec.exec(cpu);
                return Exit.BUDGET;
            case Op.SSEX:
                SseX.exec(cpu);
                return Exit.BUDGET;
            case Op.MMX:
                Mmx.exec(cpu);
                return Exit.BUDGET;
            default:
                return exec3(cpu);
        }
    }

    static int exec3(Interpreter cpu) {
        switch (cpu.op) {
            case Op.CLD:
                cpu.fl.setDf(false);
                return Exit.BUDGET;
            case Op.STD:
                cpu.fl.setDf(true);
                return Exit.BUDGET;
            case Op.CLC:
                cpu.fl.setBits(CF, 0);
                return Exit.BUDGET;
            case Op.STC:
                cpu.fl.setBits(CF, CF);
                return Exit.BUDGET;
            case Op.CMC:
                cpu.fl.setBits(CF, cpu.fl.cf() ? 0 : CF);
                return Exit.BUDGET;
            case Op.LEAVE:
                StackOps.leave(cpu);
                return Exit.BUDGET;
            case Op.ENTER:
                StackOps.enter(cpu);
                return Exit.BUDGET;
            case Op.PUSHF:
                StackOps.push(cpu, cpu.s.getRflags() & ~0x30000L);
                return Exit.BUDGET;
            case Op.POPF:
                StackOps.popf(cpu);
                return Exit.BUDGET;
            case Op.SAHF: {
                long ah = (cpu.r[RAX] >>> 8) & 0xff;
                cpu.fl.setBits(SF | ZF | AF | PF | CF, ah);
                return Exit.BUDGET;
            }
            case Op.LAHF:
                cpu.setR(16, 0, (cpu.s.getRflags() & 0xd5) | 2);
                return Exit.BUDGET;
            case Op.XLAT:
                cpu.setR(RAX, 0, cpu.rd(cpu.linear((cpu.info & Decoder.ASZ32) != 0 ? (cpu.r[RBX] + (cpu.r[RAX] & 0xff)) & 0xffff_ffffL
                        : cpu.r[RBX] + (cpu.r[RAX] & 0xff)), 0));
                return Exit.BUDGET;
            case Op.CPUID:
                // Serializing (SDM Vol. 3A §8.3): after it, code another vCPU modified is run as modified.
                cpu.cache.serialize();
                Cpuid.execute(cpu.s, cpu.mmu.model(), cpu.r);
                return Exit.BUDGET;
            case Op.FENCE:
                PhysicalMemory.fence();
                return Exit.BUDGET;
            case Op.RDTSC: {
                long tsc = Cpuid.tsc(cpu.s, TSC_BASE);
                cpu.r[RAX] = tsc & 0xffff_ffffL;
                cpu.r[RDX] = tsc >>> 32;
                return Exit.BUDGET;
            }
            case Op.SYSCALL:
                cpu.r[RCX] = cpu.next;
                cpu.r[11] = cpu.s.getRflags();
                return Exit.SYSCALL;
            case Op.INT3:
                cpu.s.rip = cpu.next; // a trap: RIP past INT3
                cpu.s.instructions++;
                throw GuestFault.raise(cpu.s, Vectors.BP, 0);
            case Op.INT_N:
                if (cpu.imm == 0x80) {
                    return Exit.INT80;
                }
                cpu.lastFault = String.format("int 0x%x at 0x%x: no user-accessible gate", cpu.imm, cpu.s.rip);
                cpu.describing = true;
                throw GuestFault.raise(cpu.s, Vectors.GP, cpu.imm * 8 + 2);
            case Op.PRIV:
                cpu.lastFault = String.format("privileged instruction %s at 0x%x", cpu.bytesAt(cpu.s.rip, cpu.info & 15), cpu.s.rip);
                cpu.describing = true;
                throw GuestFault.raise(cpu.s, Vectors.GP, 0);
            case Op.CMPXCHG8B:
                Arith.cmpxchg8b(cpu);
                return Exit.BUDGET;
            case Op.SEG:
                DataXfer.segOp(cpu);
                return Exit.BUDGET;
            case Op.XSTATE:
                XState.execute(cpu, (cpu.info >>> Decoder.SUB_SHIFT) & 0xff);
                return Exit.BUDGET;
            case Op.PUSHA:
                StackOps.pusha(cpu);
                return Exit.BUDGET;
            case Op.POPA:
                StackOps.popa(cpu);
                return Exit.BUDGET;
            case Op.UD:
            default:
                throw cpu.undefined();
        }
    }
}
