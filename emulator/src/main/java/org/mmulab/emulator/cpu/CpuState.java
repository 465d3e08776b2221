package org.mmulab.emulator.cpu;

/**
 * Architectural state of one logical processor (SDM Vol. 1 ch. 3, Vol. 3A ch. 2 for control registers).
 *
 * <p>Public fields because the interpreter, MMU, kernel and debug API all touch them on hot or
 * near-hot paths. RFLAGS is read and written only through {@link #getRflags()} and
 * {@link #setRflags(long)} by anyone but the interpreter, which may keep the arithmetic flags lazily.
 */
public final class CpuState {
    public static final int RAX = 0, RCX = 1, RDX = 2, RBX = 3, RSP = 4, RBP = 5, RSI = 6, RDI = 7;
    public static final int R8 = 8, R9 = 9, R10 = 10, R11 = 11, R12 = 12, R13 = 13, R14 = 14, R15 = 15;

    // RFLAGS bits (SDM Vol. 1 §3.4.3).
    public static final long CF = 1L, PF = 1L << 2, AF = 1L << 4, ZF = 1L << 6, SF = 1L << 7, TF = 1L << 8,
            IF = 1L << 9, DF = 1L << 10, OF = 1L << 11, AC = 1L << 18, ID = 1L << 21;
    /** Bit 1 of RFLAGS always reads as 1. */
    public static final long RFLAGS_FIXED = 1L << 1;

    // Control-register bits that paging depends on (SDM Vol. 3A §2.5, §4.1).
    public static final long CR0_PE = 1L, CR0_WP = 1L << 16, CR0_PG = 1L << 31;
    /** CR0.MP, EM and TS: when x87, MMX and SSE instructions trap (SDM Vol. 3A §2.5, {@link DeviceNotAvailable}). */
    public static final long CR0_MP = 1L << 1, CR0_EM = 1L << 2, CR0_TS = 1L << 3;
    public static final long CR4_PSE = 1L << 4, CR4_PAE = 1L << 5, CR4_PGE = 1L << 7, CR4_PCIDE = 1L << 17,
            CR4_OSXSAVE = 1L << 18,
            CR4_SMEP = 1L << 20, CR4_SMAP = 1L << 21;
    public static final long EFER_SCE = 1L, EFER_LME = 1L << 8, EFER_LMA = 1L << 10, EFER_NXE = 1L << 11;

    /** General-purpose registers, indexed by the x86 register number. */
    public final long[] gpr = new long[16];
    public long rip;

    /**
     * Flags owned by the interpreter's lazy-flag machinery; see {@link Flags}. Others use
     * {@link #getRflags()} / {@link #setRflags(long)}.
     */
    public final Flags flags = new Flags();

    public long fsBase, gsBase;
    /** IA32_KERNEL_GS_BASE (MSR C000_0102H), what SWAPGS exchanges with the GS base. */
    public long kernelGsBase;
    public long cr0 = CR0_PE | CR0_PG | CR0_WP;
    public long cr2, cr3;
    public long cr4 = CR4_PAE | CR4_PGE;
    public long efer = EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE;
    /** CR8, the task-priority register (bits 3:0; 64-bit mode only on hardware). Stored, nothing reads it. */
    public long cr8;
    /** Current privilege level: 3 while guest code runs, 0 while the kernel acts on its behalf. */
    public int cpl = 3;
    /** True in 64-bit mode (CS.L=1); false in 32-bit protected or compatibility mode. */
    public boolean longMode64 = true;
    /**
     * The user code segments the GDT holds, as selectors with RPL 3, or -1 for none: a 64-bit one
     * (L=1) and a 32-bit one (D=1), both DPL 3. There are no descriptor tables in guest memory: a far
     * transfer (RETF) may load only these into CS, anything else is #GP. The OS sets them (Linux's GDT:
     * __USER_CS 0x33 and __USER32_CS 0x23 under a 64-bit kernel, __USER_CS 0x73 under a 32-bit one).
     */
    public int userCs64 = -1, userCs32 = -1;
    /** Segment selectors, the GDT the OS set up, FS/GS hidden limits ({@link Segments}). */
    public final Segments segs = new Segments();
    /** This logical processor's index (initial APIC id) and the machine's vCPU count, for CPUID. */
    public int cpuIndex, cpuCount = 1;
    /** XCR0 (XFEATURE_ENABLED_MASK), what XGETBV ECX=0 reads; set by the OS with CR4.OSXSAVE. */
    public long xcr0 = 1;

    /** XMM0-15 as lo/hi 64-bit halves: xmm[2*i] is bits 63:0 of XMMi. */
    public final long[] xmm = new long[32];
    public int mxcsr = 0x1f80;
    /** x87 FPU: register stack, control/status/tag words, last-instruction pointers. */
    public final org.mmulab.emulator.cpu.fpu.X87State fpu = new org.mmulab.emulator.cpu.fpu.X87State();

    /** Retired instructions on this vCPU. */
    public long instructions;

    /**
     * Source of the time-stamp counter (IA32_TIME_STAMP_COUNTER, what RDTSC reads): the machine's
     * virtual clock under {@code --deterministic}; null means host time.
     */
    public java.util.function.LongSupplier tscSource;

    /** Pending exception set when the interpreter exits with {@code Exit.EXCEPTION}. */
    public int exceptionVector = -1;
    public long exceptionErrorCode;
    /** Address of the instruction that raised the pending exception (RIP already points there for faults). */
    public long exceptionRip;

    public long getRflags() {
        return flags.get() | RFLAGS_FIXED;
    }

    public void setRflags(long v) {
        flags.set(v);
    }

    public long reg(int r) {
        return gpr[r];
    }

    public boolean pagingLongMode() {
        return (efer & EFER_LMA) != 0;
    }

    public void copyFrom(CpuState o) {
        System.arraycopy(o.gpr, 0, gpr, 0, 16);
        rip = o.rip;
        setRflags(o.getRflags());
        fsBase = o.fsBase;
        gsBase = o.gsBase;
        System.arraycopy(o.xmm, 0, xmm, 0, 32);
        mxcsr = o.mxcsr;
        fpu.copyFrom(o.fpu);
        longMode64 = o.longMode64;
        segs.copyFrom(o.segs);
        xcr0 = o.xcr0;
    }
}
