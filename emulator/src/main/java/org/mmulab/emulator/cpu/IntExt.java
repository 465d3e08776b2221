package org.mmulab.emulator.cpu;

import org.mmulab.emulator.memory.PhysicalMemory;
import org.mmulab.emulator.mmu.Mmu;

/**
 * Integer instructions of the x86-64-v2 level that are not SIMD (SDM Vol. 2): CRC32 (SSE4.2, F2 0F 38
 * F0/F1), MOVBE (0F 38 F0/F1 with a memory operand) and CMPXCHG16B (REX.W 0F C7 /1, CPUID CX16).
 * CRC32 and MOVBE change no flags.
 *
 * <p>CMPXCHG16B atomicity: guest RAM offers 64-bit compare-and-exchange only. The instruction checks
 * 16-byte alignment (#GP(0)) and write permission first, then, under one of 64 locks striped by
 * physical address, compares both halves and installs the new value with two 64-bit CASes (low, then
 * high; if the high CAS loses a race with a 64-bit locked instruction on that half, the low half is put
 * back and the whole operation retried). Guarantee: CMPXCHG16Bs on one location are linearizable with
 * each other, and no concurrent 64-bit locked update of either half is lost; a plain (non-locked) reader
 * of the 16 bytes can see the new low half with the old high half for the instant between the CASes,
 * which a real 128-bit locked bus cycle would not show.
 */
final class IntExt {
    private static final int[] CRC_TABLE = new int[256];
    private static final Object[] LOCKS = new Object[64];

    static {
        for (int i = 0; i < 256; i++) {
            int c = i;
            for (int k = 0; k < 8; k++) {
                c = (c & 1) != 0 ? (c >>> 1) ^ 0x82f6_3b78 : c >>> 1; // CRC-32C (Castagnoli), reflected
            }
            CRC_TABLE[i] = c;
        }
        for (int i = 0; i < LOCKS.length; i++) {
            LOCKS[i] = new Object();
        }
    }

    private IntExt() {
    }

    static void exec(Interpreter it, int op) {
        int sz = it.curSize();
        if (op == SseX.MOVBE_LD) {
            it.setGpr(it.curReg(), sz, swap(it.readOperand(sz), sz));
            return;
        }
        if (op == SseX.MOVBE_ST) {
            it.writeOperand(sz, swap(it.gpr(it.curReg(), sz), sz));
            return;
        }
        // CRC32: sz is the source size (0 for the r/m8 form); the destination is r32 (r64 zero-extended).
        long src = it.readOperand(sz);
        int crc = (int) it.gpr(it.curReg(), 2);
        int bytes = 1 << sz;
        for (int i = 0; i < bytes; i++) {
            crc = (crc >>> 8) ^ CRC_TABLE[(crc ^ (int) (src >>> (8 * i))) & 0xff];
        }
        it.setGpr(it.curReg(), 2, crc & 0xffff_ffffL);
    }

    static long swap(long v, int sz) {
        switch (sz) {
            case 3:
                return Long.reverseBytes(v);
            case 2:
                return Integer.reverseBytes((int) v) & 0xffff_ffffL;
            default:
                return Short.reverseBytes((short) v) & 0xffff;
        }
    }

    /** CMPXCHG16B m128: compare RDX:RAX with m128, store RCX:RBX if equal (ZF=1), else load RDX:RAX (ZF=0). */
    static void cmpxchg16b(Interpreter it) {
        long va = it.curEa();
        CpuState s = it.state();
        if ((va & 15) != 0) {
            throw GuestFault.raise(s, Vectors.GP, 0);
        }
        Mmu mmu = it.mmu();
        long pa = mmu.translateWrite(va); // 16-byte aligned: both halves in this page
        PhysicalMemory mem = it.memory();
        long[] r = s.gpr;
        long expLo = r[CpuState.RAX];
        long expHi = r[CpuState.RDX];
        long newLo = r[CpuState.RBX];
        long newHi = r[CpuState.RCX];
        long oldLo;
        long oldHi;
        boolean ok;
        synchronized (LOCKS[(int) (pa >>> 4) & (LOCKS.length - 1)]) {
            for (;;) {
                oldLo = mem.read64Acquire(pa);
                oldHi = mem.read64Acquire(pa + 8);
                if (oldLo != expLo || oldHi != expHi) {
                    ok = false;
                    break;
                }
                if (mem.compareAndExchange64(pa, oldLo, newLo) != oldLo) {
                    continue;
                }
                if (mem.compareAndExchange64(pa + 8, oldHi, newHi) == oldHi) {
                    ok = true;
                    break;
                }
                mem.compareAndExchange64(pa, newLo, oldLo);
            }
        }
        Flags fl = it.flagsReg();
        if (ok) {
            fl.setBits(CpuState.ZF, CpuState.ZF);
        } else {
            fl.setBits(CpuState.ZF, 0);
            r[CpuState.RAX] = oldLo;
            r[CpuState.RDX] = oldHi;
        }
    }
}
