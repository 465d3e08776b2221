package org.mmulab.emulator.cpu;

import org.mmulab.emulator.memory.PhysicalMemory;
import org.mmulab.emulator.mmu.Mmu;
import org.mmulab.emulator.mmu.Pte;

/**
 * A bare machine for CPU tests: RAM, a 4-level page table built by hand (PML4/PDPT/PD/PT entries in
 * guest RAM), a CPU at CPL 3 and an interpreter. Frames are handed out by a bump allocator starting
 * at 1 MiB; page-table frames come from the same allocator.
 */
final class TestMachine {
    static final long P = Pte.P, RW = Pte.RW, US = Pte.US, NX = Pte.XD;

    final PhysicalMemory mem;
    final CpuState s = new CpuState();
    final Mmu mmu;
    final Interpreter cpu;
    private long nextFrame = 0x100000;
    final long pml4;

    TestMachine() {
        this(new PhysicalMemory(64L << 20));
    }

    /** The user-mode layout the instruction tests share: one code page (read-only), data and stack pages (NX). */
    static final long USER_CODE = 0x40_0000L, USER_DATA = 0x60_0000L, USER_STACK = 0x7f_f000L;

    /** A machine with the {@link #USER_CODE} / {@link #USER_DATA} / {@link #USER_STACK} pages mapped and RSP in the stack page. */
    static TestMachine withUserPages() {
        TestMachine m = new TestMachine();
        m.mapNew(USER_CODE, P | US);
        m.mapNew(USER_DATA, P | RW | US | NX);
        m.mapNew(USER_STACK, P | RW | US | NX);
        m.s.gpr[CpuState.RSP] = USER_STACK + 0x800;
        return m;
    }

    /** Runs the one instruction {@code hex} at {@link #USER_CODE}; returns the interpreter's exit code. */
    int execOne(String hex) {
        load(USER_CODE, hex(hex));
        s.rip = USER_CODE;
        s.exceptionVector = -1;
        return cpu.run(1);
    }

    TestMachine(PhysicalMemory mem) {
        this.mem = mem;
        pml4 = allocFrame();
        s.cr3 = pml4;
        s.cpl = 3;
        mmu = new Mmu(mem, s, 39);
        cpu = new Interpreter(s, mmu, mem);
    }

    long allocFrame() {
        long f = nextFrame;
        nextFrame += 4096;
        mem.zeroFrame(f);
        return f;
    }

    private long table(long tablePa, int index) {
        long ea = tablePa + index * 8L;
        long e = mem.read64(ea);
        if ((e & P) == 0) {
            long t = allocFrame();
            e = t | P | RW | US;
            mem.write64(ea, e);
        }
        return e & 0x000f_ffff_ffff_f000L;
    }

    /** Maps the 4 KiB page of {@code va} to frame {@code pa} with leaf flags {@code flags}. */
    void map(long va, long pa, long flags) {
        long pdpt = table(pml4, (int) (va >>> 39) & 511);
        long pd = table(pdpt, (int) (va >>> 30) & 511);
        long pt = table(pd, (int) (va >>> 21) & 511);
        mem.write64(pt + ((va >>> 12) & 511) * 8, (pa & ~0xfffL) | flags);
    }

    /** Maps a fresh zeroed frame at {@code va}; returns its physical address. */
    long mapNew(long va, long flags) {
        long f = allocFrame();
        map(va, f, flags);
        return f;
    }

    void unmap(long va) {
        map(va, 0, 0);
        mmu.invlpg(va);
    }

    /** Physical address of a mapped {@code va} (test-side walk, no A/D updates). */
    long pa(long va) {
        long t = pml4;
        for (int level = 4; level >= 1; level--) {
            long e = mem.read64(t + ((va >>> (12 + 9 * (level - 1))) & 511) * 8);
            if ((e & P) == 0) {
                throw new IllegalStateException("unmapped 0x" + Long.toHexString(va));
            }
            t = e & 0x000f_ffff_ffff_f000L;
        }
        return t | (va & 0xfff);
    }

    void load(long va, byte[] bytes) {
        for (int i = 0; i < bytes.length; i++) {
            mem.write8(pa(va + i), bytes[i]);
        }
    }

    static byte[] hex(String h) {
        h = h.replace(" ", "");
        byte[] b = new byte[h.length() / 2];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) Integer.parseInt(h.substring(2 * i, 2 * i + 2), 16);
        }
        return b;
    }

    /** Runs single instructions until RIP reaches {@code end} or an exit other than BUDGET happens. */
    int runTo(long end, int maxInsns) {
        for (int i = 0; i < maxInsns; i++) {
            if (s.rip == end) {
                return Exit.BUDGET;
            }
            int x = cpu.run(1);
            if (x != Exit.BUDGET) {
                return x;
            }
        }
        throw new AssertionError("did not reach 0x" + Long.toHexString(end) + ", rip=0x" + Long.toHexString(s.rip));
    }

    long rflags() {
        return s.getRflags();
    }
}
