package org.mmulab.emulator.cpu;

import org.mmulab.emulator.memory.PhysicalMemory;
import org.mmulab.emulator.mmu.Mmu;

/**
 * The operand and memory access layer every instruction group uses (after Bochs' {@code cpu/access.cc}
 * and {@code access2.cc}): the current instruction's decoded fields; general-register reads and writes at
 * every operand size (SDM Vol. 1 §3.4.1.1: a 32-bit result zero-extends, 8/16-bit ones merge, AH-BH are
 * ids 16-19); effective addresses (SDM Vol. 2 §2.1.5 ModR/M and SIB, §2.2.1.6 RIP-relative, Vol. 3A §3.4.4
 * FS/GS bases and the 32-bit limit checks); guest virtual and physical accesses through the {@link Mmu};
 * read-modify-write with the write check first so a fault commits nothing; locked compare-and-exchange
 * (SDM Vol. 3A §9.1.2.2); and the description of the current instruction's fault (#UD bytes, #GP reasons).
 *
 * <p>{@link Interpreter} is its only subclass, so the group classes ({@link Arith}, {@link Mult}, ...)
 * reach all of this as final-method and field accesses on the interpreter they are handed: no interface
 * call, no allocation per instruction.
 */
abstract class OperandAccess {
    static final int RAX = 0, RCX = 1, RDX = 2, RBX = 3, RSP = 4, RBP = 5, RSI = 6, RDI = 7;
    static final long M32 = 0xffff_ffffL;

    final CpuState s;
    final long[] r;
    final Flags fl;
    final Mmu mmu;
    final PhysicalMemory mem;

    // Mode of the current run() call (CpuState.longMode64): 32-bit protected/compatibility mode wraps
    // linear addresses, ESP and EIP at 4 GiB.
    boolean m32;
    /** -1 in 64-bit mode, 0xffff_ffff in 32-bit mode: applied to RIP, RSP and segment-relative addresses. */
    long addrMask = -1L;

    // Current instruction.
    int op, info, memw, disp;
    long imm;
    long next;

    // Read-modify-write scratch.
    long rmwPa, rmwVa;
    boolean rmwSplit;
    /** DIV/IDIV results of {@link Mult#div128} (no allocation per instruction). */
    long divQ, divR;
    /** POPA's eight loaded registers, written back after all loads succeeded ({@link StackOps#popa}). */
    final long[] scratchPopa = new long[8];
    /** 128-bit scratch for SseExec (no allocation per instruction). */
    final long[] scratch128 = new long[2];
    /** SSE floating-point environment (MXCSR rounding, DAZ/FTZ, exception flags) of this vCPU. */
    final SoftFloat sf = new SoftFloat();

    String lastFault = "";
    /** lastFault describes the current fault; describing: an instruction just wrote lastFault. */
    boolean described = true, describing;
    int lastFaultVector = -1;
    long lastFaultError, lastFaultRip, lastFaultCr2;

    OperandAccess(CpuState state, Mmu mmu, PhysicalMemory mem) {
        this.s = state;
        this.r = state.gpr;
        this.fl = state.flags;
        this.mmu = mmu;
        this.mem = mem;
    }

    final int size() {
        return (info >>> Decoder.SIZE_SHIFT) & 3;
    }

    final int reg() {
        return (info >>> Decoder.REG_SHIFT) & 31;
    }

    final int rm() {
        return (info >>> Decoder.RM_SHIFT) & 31;
    }

    final int sub() {
        return (info >>> Decoder.SUB_SHIFT) & 0xff;
    }

    final boolean hasMem() {
        return (info & Decoder.HASMEM) != 0;
    }

    final boolean locked() {
        return (info & Decoder.LOCK) != 0;
    }

    final int rep() {
        return (info >>> Decoder.REP_SHIFT) & 3;
    }

    static long mask(int sz) {
        return sz == 3 ? -1L : (1L << (8 << sz)) - 1;
    }

    static long sext(long v, int sz) {
        int sh = 64 - (8 << sz);
        return (v << sh) >> sh;
    }

    // getR/setR: the 32/64-bit cases are small enough for the JIT to inline everywhere; 8/16-bit
    // registers take the out-of-line path.
    final long getR(int reg, int sz) {
        if (sz >= 2) {
            long v = r[reg];
            return sz == 3 ? v : v & 0xffff_ffffL;
        }
        return getRNarrow(reg, sz);
    }

    final long getRNarrow(int reg, int sz) {
        if (sz == 1) {
            return r[reg] & 0xffff;
        }
        return reg < 16 ? r[reg] & 0xff : (r[reg - 16] >>> 8) & 0xff;
    }

    final void setR(int reg, int sz, long v) {
        if (sz >= 2) {
            r[reg] = sz == 3 ? v : v & 0xffff_ffffL;
            return;
        }
        setRNarrow(reg, sz, v);
    }

    final void setRNarrow(int reg, int sz, long v) {
        switch (sz) {
            case 1:
                r[reg] = (r[reg] & ~0xffffL) | (v & 0xffff);
                return;
            default:
                if (reg < 16) {
                    r[reg] = (r[reg] & ~0xffL) | (v & 0xff);
                } else {
                    r[reg - 16] = (r[reg - 16] & ~0xff00L) | ((v & 0xff) << 8);
                }
        }
    }

    final long eaNoSeg() {
        int m = memw;
        int base = m & 31;
        int idx = (m >>> 5) & 31;
        long a = disp;
        if (base < 16) {
            a += r[base];
        } else if (base == Decoder.RIPREL) {
            a += s.rip + (info & Decoder.LEN_MASK);
        }
        if (idx < 16) {
            a += r[idx] << ((m >>> 10) & 3);
        }
        if ((info & Decoder.ASZ32) != 0) {
            a &= 0xffff_ffffL;
        }
        return a;
    }

    final long segBase() {
        int seg = (info >>> Decoder.SEG_SHIFT) & 3;
        if (seg != 0 && m32) {
            checkSeg32(seg, 0);
        }
        return seg == 0 ? 0 : seg == 1 ? s.fsBase : s.gsBase;
    }

    /**
     * Linear address of offset {@code a} in the instruction's data segment (FS/GS base or 0). In 32-bit
     * code FS/GS must hold a usable selector and the offset must be within the hidden limit (#GP(0)).
     */
    final long linear(long a) {
        int seg = (info >>> Decoder.SEG_SHIFT) & 3;
        if (seg != 0) {
            if (m32) {
                checkSeg32(seg, a);
            }
            // 32-bit mode: flat segments except FS/GS (i386 TLS lives at %gs:), wrapping at 4 GiB.
            a = (a + (seg == 1 ? s.fsBase : s.gsBase)) & addrMask;
        }
        return a;
    }

    final void checkSeg32(int seg, long offset) {
        if (!s.segs.usable32(seg, offset)) {
            lastFault = String.format("%%%s:0x%x with selector 0x%x (null or beyond the limit) at 0x%x",
                    seg == 1 ? "fs" : "gs", offset, s.segs.sel[seg == 1 ? Segments.FS : Segments.GS], s.rip);
            describing = true;
            throw GuestFault.raise(s, Vectors.GP, 0);
        }
    }

    final long ea() {
        return linear(eaNoSeg());
    }

    final long rd(long va, int sz) {
        switch (sz) {
            case 3:
                return mmu.read64(va);
            case 2:
                return mmu.read32(va) & 0xffff_ffffL;
            case 1:
                return mmu.read16(va);
            default:
                return mmu.read8(va);
        }
    }

    final void wr(long va, int sz, long v) {
        switch (sz) {
            case 3:
                mmu.write64(va, v);
                return;
            case 2:
                mmu.write32(va, (int) v);
                return;
            case 1:
                mmu.write16(va, (int) v);
                return;
            default:
                mmu.write8(va, (int) v);
        }
    }

    final long physRd(long pa, int sz) {
        switch (sz) {
            case 3:
                return mem.read64(pa);
            case 2:
                return mem.read32(pa) & 0xffff_ffffL;
            case 1:
                return mem.read16(pa);
            default:
                return mem.read8(pa);
        }
    }

    final void physWr(long pa, int sz, long v) {
        switch (sz) {
            case 3:
                mem.write64(pa, v);
                return;
            case 2:
                mem.write32(pa, (int) v);
                return;
            case 1:
                mem.write16(pa, (int) v);
                return;
            default:
                mem.write8(pa, (int) v);
        }
    }

    /** Reads the E operand (register or memory). */
    final long readE(int sz) {
        return hasMem() ? rd(ea(), sz) : getR(rm(), sz);
    }

    /** Begins a read-modify-write of memory at {@code va}: checks write access first, then reads. */
    final long rmwRead(long va, int sz) {
        int n = 1 << sz;
        if ((va & 0xfff) + n > 0x1000) {
            mmu.translateWrite(va);
            mmu.translateWrite((va | 0xfff) + 1); // CR2 = first byte on the second page, as Mmu.writeSplit
            rmwSplit = true;
            rmwVa = va;
            return rd(va, sz);
        }
        rmwSplit = false;
        rmwPa = mmu.translateWrite(va);
        return physRd(rmwPa, sz);
    }

    final void rmwWrite(int sz, long v) {
        if (rmwSplit) {
            wr(rmwVa, sz, v);
        } else {
            physWr(rmwPa, sz, v);
        }
    }

    /**
     * Atomic compare-and-exchange of {@code sz} bytes at physical {@code pa} (naturally aligned 32/64-bit
     * words directly, bytes and words through their containing aligned dword). Returns false if memory
     * no longer held {@code expect}.
     */
    final boolean cas(long pa, int sz, long expect, long update) {
        if (sz == 3) {
            return mem.compareAndExchange64(pa, expect, update) == expect;
        }
        if (sz == 2) {
            return mem.compareAndExchange32(pa, (int) expect, (int) update) == (int) expect;
        }
        long word = pa & ~3L;
        int sh = (int) (pa & 3) * 8;
        int m = (int) mask(sz);
        for (;;) {
            int w = mem.read32Acquire(word);
            if (((w >>> sh) & m) != (int) expect) {
                return false;
            }
            int nw = (w & ~(m << sh)) | (((int) update & m) << sh);
            if (mem.compareAndExchange32(word, w, nw) == w) {
                return true;
            }
        }
    }

    /** Whether a locked access of {@code sz} bytes at {@code va} can use {@link #cas}. */
    static boolean casAble(long va, int sz) {
        int n = 1 << sz;
        if (sz >= 2) {
            return (va & (n - 1)) == 0;
        }
        return (va & 3) + n <= 4;
    }

    final GuestFault undefined() {
        long at = s.rip;
        int n = info & Decoder.LEN_MASK;
        lastFault = "undefined opcode " + bytesAt(at, n == 0 ? 1 : n) + " at 0x" + Long.toHexString(at);
        describing = true;
        return GuestFault.raise(s, Vectors.UD, 0);
    }

    /** Instruction bytes as hex for messages; slow path, never faults. */
    final String bytesAt(long va, int n) {
        StringBuilder sb = new StringBuilder();
        int vec = s.exceptionVector;
        long err = s.exceptionErrorCode;
        long cr2 = s.cr2;
        for (int i = 0; i < n; i++) {
            if (i > 0) {
                sb.append(' ');
            }
            try {
                sb.append(String.format("%02x", mmu.fetch8(va + i)));
            } catch (GuestFault f) {
                sb.append("??");
            }
        }
        s.exceptionVector = vec;
        s.exceptionErrorCode = err;
        s.cr2 = cr2;
        return sb.toString();
    }

    final CpuState state() {
        return s;
    }

    final Mmu mmu() {
        return mmu;
    }

    final int curSize() {
        return size();
    }

    final int curSub() {
        return sub();
    }

    final int curReg() {
        return reg();
    }

    final int curRm() {
        return rm();
    }

    final boolean curHasMem() {
        return hasMem();
    }

    final long curImm() {
        return imm;
    }

    final long curEa() {
        return ea();
    }

    /** Linear address of offset {@code a} under the current instruction's segment override. */
    final long curLinear(long a) {
        return linear(a);
    }

    final int curInfo() {
        return info;
    }

    final long gpr(int reg, int sz) {
        return getR(reg, sz);
    }

    final void setGpr(int reg, int sz, long v) {
        setR(reg, sz, v);
    }

    final long readOperand(int sz) {
        return readE(sz);
    }

    final void writeOperand(int sz, long v) {
        if (hasMem()) {
            wr(ea(), sz, v);
        } else {
            setR(rm(), sz, v);
        }
    }

    final GuestFault undefinedOpcode() {
        return undefined();
    }

    final PhysicalMemory memory() {
        return mem;
    }

    final Flags flagsReg() {
        return fl;
    }
}
