package org.mmulab.emulator.cpu;

import static org.mmulab.emulator.cpu.OperandAccess.RAX;
import static org.mmulab.emulator.cpu.OperandAccess.RDX;
import static org.mmulab.emulator.cpu.OperandAccess.RSP;

/**
 * Data transfer (Bochs' {@code cpu/data_xfer*.cc}, {@code segment_ctrl.cc}): SDM Vol. 2 MOV (r/m, imm
 * forms), CMOVcc, XCHG (implicitly locked with memory), CBW/CWDE/CDQE, CWD/CDQ/CQO, and MOV to/from
 * a segment register with PUSH/POP Sreg (loads follow {@link Segments#load}).
 */
final class DataXfer {
    private DataXfer() {
    }

    /**
     * MOV r/m16,Sreg (sub 0), MOV Sreg,r/m16 (1), PUSH Sreg (2), POP Sreg (3); the segment register is
     * the reg field. A register destination of MOV from Sreg is zero-extended to the operand size; a
     * memory one is a 16-bit store. PUSH writes the selector with a 16-bit move into an operand-size
     * slot (recent Intel cores; the slot's upper bytes keep their value). Loads follow {@link Segments#load}.
     */
    static void segOp(Interpreter cpu) {
        int sub = (cpu.info >>> Decoder.SUB_SHIFT) & 0xff;
        int sreg = (cpu.info >>> Decoder.REG_SHIFT) & 7;
        int sz = cpu.size();
        switch (sub) {
            case 0 -> {
                int v = cpu.s.segs.sel[sreg];
                if ((cpu.info & Decoder.HASMEM) != 0) {
                    cpu.wr(cpu.ea(), 1, v);
                } else {
                    cpu.setR((cpu.info >>> Decoder.RM_SHIFT) & 31, sz, v);
                }
            }
            case 1 -> loadSeg(cpu, sreg, (int) ((cpu.info & Decoder.HASMEM) != 0 ? cpu.rd(cpu.ea(), 1)
                    : cpu.getR((cpu.info >>> Decoder.RM_SHIFT) & 31, 1)));
            case 2 -> {
                long sp = (cpu.r[RSP] - (1L << sz)) & cpu.addrMask;
                cpu.wr(sp, 1, cpu.s.segs.sel[sreg]);
                cpu.r[RSP] = sp;
            }
            default -> {
                long sp = cpu.r[RSP] & cpu.addrMask;
                int v = (int) cpu.rd(sp, sz);
                loadSeg(cpu, sreg, v);
                cpu.r[RSP] = (sp + (1L << sz)) & cpu.addrMask;
            }
        }
    }

    static void loadSeg(Interpreter cpu, int sreg, int selector) {
        String why = cpu.s.segs.load(cpu.s, sreg, selector);
        if (why != null) {
            cpu.lastFault = why + " at 0x" + Long.toHexString(cpu.s.rip);
            cpu.describing = true;
            throw GuestFault.INSTANCE;
        }
    }

    static void movEG(Interpreter cpu) {
        int sz = cpu.size();
        long v = cpu.getR(cpu.reg(), sz);
        if (cpu.hasMem()) {
            cpu.wr(cpu.ea(), sz, v);
        } else {
            cpu.setR(cpu.rm(), sz, v);
        }
    }

    static void movEI(Interpreter cpu) {
        int sz = cpu.size();
        if (cpu.hasMem()) {
            cpu.wr(cpu.ea(), sz, cpu.imm);
        } else {
            cpu.setR(cpu.rm(), sz, cpu.imm);
        }
    }

    static void cmov(Interpreter cpu) {
        int sz = cpu.size();
        long v = cpu.readE(sz);
        int d = cpu.reg();
        if (cpu.fl.cond(cpu.sub())) {
            cpu.setR(d, sz, v);
        } else if (sz == 2) {
            cpu.r[d] &= 0xffff_ffffL; // a 32-bit CMOV always writes (zero-extends) its destination
        }
    }

    static void xchg(Interpreter cpu) {
        int sz = cpu.size();
        int g = cpu.reg();
        long v = cpu.getR(g, sz);
        if (!cpu.hasMem()) {
            int e = cpu.rm();
            long ev = cpu.getR(e, sz);
            cpu.setR(e, sz, v);
            cpu.setR(g, sz, ev);
            return;
        }
        // XCHG with memory is always locked (SDM Vol. 2 XCHG).
        long old = Arith.lockedRmw(cpu, 4, 0, sz, cpu.ea(), v);
        cpu.setR(g, sz, old);
    }

    static void cbw(Interpreter cpu) {
        switch (cpu.size()) {
            case 1 -> cpu.setR(RAX, 1, (byte) cpu.r[RAX]);
            case 2 -> cpu.setR(RAX, 2, (short) cpu.r[RAX]);
            default -> cpu.r[RAX] = (int) cpu.r[RAX];
        }
    }

    static void cwd(Interpreter cpu) {
        switch (cpu.size()) {
            case 1 -> cpu.setR(RDX, 1, ((short) cpu.r[RAX]) >> 15);
            case 2 -> cpu.setR(RDX, 2, ((int) cpu.r[RAX]) >> 31);
            default -> cpu.r[RDX] = cpu.r[RAX] >> 63;
        }
    }
}
