package org.mmulab.emulator.cpu;

/**
 * Segment registers and the global descriptor table of one logical processor (SDM Vol. 3A §3.4
 * segment selectors and descriptors, §3.4.5 descriptor format, §5.5-5.8 privilege checks; Vol. 2
 * MOV, POP and PUSH for the load rules).
 *
 * <p>The GDT is not in guest memory: the OS (the Java kernel) writes its raw 8-byte descriptors here,
 * as Linux's per-CPU {@code gdt_page} holds them (arch/x86/kernel/cpu/common.c), including the task's
 * TLS entries that {@code load_TLS} copies in. There is no LDT (LDTR is null, so a selector with TI=1
 * is #GP(selector)), and the interpreter runs at CPL 3 only.
 *
 * <p>Selectors are kept for ES, CS, SS, DS, FS and GS. Only FS and GS carry a hidden base (the
 * {@link CpuState#fsBase}/{@link CpuState#gsBase} fields, which 64-bit code also sets through
 * WRFSBASE-like paths such as arch_prctl) and a hidden limit used by FS/GS-relative addressing in
 * 32-bit code. DS, ES and SS must be flat (base 0, 4 GiB limit): the interpreter's fast path adds no
 * base for them, so loading a non-flat data descriptor into DS/ES/SS is refused with #GP(selector) —
 * a stated limitation; Linux user code never does it. The limit check on FS/GS-relative accesses
 * tests the first byte of the access against the effective limit (expand-up data segments; an
 * expand-down TLS descriptor is refused by Linux's set_thread_area anyway).
 */
public final class Segments {
    public static final int ES = 0, CS = 1, SS = 2, DS = 3, FS = 4, GS = 5;
    /** GDT_ENTRIES: 32 on a 32-bit kernel, 16 on a 64-bit one; the table here is sized for the larger. */
    public static final int GDT_ENTRIES = 32;

    /** Raw descriptors; entry 0 is the null descriptor. */
    public final long[] gdt = new long[GDT_ENTRIES];
    /** Number of valid GDT entries (GDTR.limit = 8 * gdtEntries - 1). */
    public int gdtEntries = GDT_ENTRIES;
    /** Visible selectors, indexed ES..GS. */
    public final int[] sel = new int[6];
    /** Hidden limits of FS and GS (byte granular, effective), valid when the selector is not null. */
    public long fsLimit = 0xffff_ffffL, gsLimit = 0xffff_ffffL;

    // Descriptor fields (SDM Vol. 3A Figure 3-8).
    static final long TYPE_ACCESSED = 1L << 40, TYPE_WRITE = 1L << 41, TYPE_EXPDOWN = 1L << 42, TYPE_CODE = 1L << 43,
            S = 1L << 44, P = 1L << 47, DB = 1L << 54, G = 1L << 55;

    public static long base(long d) {
        return ((d >>> 16) & 0xff_ffffL) | (((d >>> 56) & 0xff) << 24);
    }

    /** The effective (byte-granular) limit. */
    public static long limit(long d) {
        long l = (d & 0xffff) | (((d >>> 48) & 0xf) << 16);
        return (d & G) != 0 ? (l << 12) | 0xfff : l;
    }

    public static int dpl(long d) {
        return (int) ((d >>> 45) & 3);
    }

    /** A descriptor from its fields: {@code type} is the 4-bit type, {@code s} the code/data bit. */
    public static long descriptor(long base, long limit, int type, boolean s, int dpl, boolean present, boolean avl,
            boolean l, boolean db, boolean g) {
        long d = (limit & 0xffff) | ((base & 0xff_ffffL) << 16) | ((long) (type & 15) << 40) | (s ? S : 0)
                | ((long) (dpl & 3) << 45) | (present ? P : 0) | (((limit >>> 16) & 0xf) << 48) | (avl ? 1L << 52 : 0)
                | (l ? 1L << 53 : 0) | (db ? DB : 0) | (g ? G : 0) | (((base >>> 24) & 0xff) << 56);
        return d;
    }

    /** Resets to the state after exec: the given selectors in every register, FS/GS bases zero. */
    public void reset(CpuState s, int cs, int ds, int ss) {
        sel[ES] = ds;
        sel[CS] = cs;
        sel[SS] = ss;
        sel[DS] = ds;
        sel[FS] = 0;
        sel[GS] = 0;
        fsLimit = gsLimit = 0xffff_ffffL;
        s.fsBase = 0;
        s.gsBase = 0;
    }

    public void copyFrom(Segments o) {
        System.arraycopy(o.gdt, 0, gdt, 0, GDT_ENTRIES);
        gdtEntries = o.gdtEntries;
        System.arraycopy(o.sel, 0, sel, 0, 6);
        fsLimit = o.fsLimit;
        gsLimit = o.gsLimit;
    }

    /**
     * MOV Sreg / POP Sreg at the current CPL (SDM Vol. 2 MOV "Operation"): SS needs a non-null,
     * present, writable data segment with RPL = DPL = CPL (#GP(0) for null, #GP(selector) otherwise,
     * #SS(selector) if not present); DS/ES/FS/GS accept a null selector, else a data or readable code
     * segment with RPL &lt;= DPL and CPL &lt;= DPL unless conforming code (#GP(selector)), present
     * (#NP(selector)). The FS/GS load in 64-bit mode takes the 32-bit base from the descriptor; a null
     * selector clears the base (Intel). Loading CS this way is #UD and never reaches here.
     *
     * @return null on success, or a description of the fault (already raised into {@code s})
     */
    public String load(CpuState s, int sreg, int selector) {
        selector &= 0xffff;
        int index = selector >>> 3;
        if ((selector & 0xfffc) == 0) {
            if (sreg == SS) {
                s.exceptionVector = Vectors.GP;
                s.exceptionErrorCode = 0;
                return "load of a null selector into SS";
            }
            commit(s, sreg, selector, 0, 0);
            return null;
        }
        if ((selector & 4) != 0 || index >= gdtEntries) {
            return fault(s, Vectors.GP, selector, (selector & 4) != 0 ? "an LDT selector (no LDT)" : "beyond the GDT limit");
        }
        long d = gdt[index];
        boolean data = (d & S) != 0 && (d & TYPE_CODE) == 0;
        boolean code = (d & S) != 0 && (d & TYPE_CODE) != 0;
        int dpl = dpl(d), rpl = selector & 3, cpl = s.cpl;
        if (sreg == SS) {
            if (rpl != cpl || dpl != cpl || !data || (d & TYPE_WRITE) == 0) {
                return fault(s, Vectors.GP, selector, "not a writable data segment at the CPL");
            }
            if ((d & P) == 0) {
                return fault(s, Vectors.SS, selector, "segment not present");
            }
        } else {
            boolean readableCode = code && (d & TYPE_WRITE) != 0; // bit 41 is R for code
            if (!data && !readableCode) {
                return fault(s, Vectors.GP, selector, "not a data or readable code segment");
            }
            boolean conforming = code && (d & TYPE_EXPDOWN) != 0; // bit 42 is C for code
            if (!conforming && (rpl > dpl || cpl > dpl)) {
                return fault(s, Vectors.GP, selector, "descriptor privilege level " + dpl);
            }
            if ((d & P) == 0) {
                return fault(s, Vectors.NP, selector, "segment not present");
            }
        }
        long base = base(d), limit = limit(d);
        if ((sreg == DS || sreg == ES || sreg == SS) && (base != 0 || limit != 0xffff_ffffL || (d & TYPE_EXPDOWN) != 0 && data)) {
            return fault(s, Vectors.GP, selector, "a non-flat descriptor for DS/ES/SS (mmulab keeps those flat)");
        }
        if (data && (d & TYPE_EXPDOWN) != 0) {
            return fault(s, Vectors.GP, selector, "an expand-down segment for FS/GS (not modelled)");
        }
        gdt[index] = d | TYPE_ACCESSED; // the processor sets the accessed bit on a load
        commit(s, sreg, selector, base, limit);
        return null;
    }

    private void commit(CpuState s, int sreg, int selector, long base, long limit) {
        sel[sreg] = selector;
        if (sreg == FS) {
            s.fsBase = base;
            fsLimit = limit;
        } else if (sreg == GS) {
            s.gsBase = base;
            gsLimit = limit;
        }
    }

    private static String fault(CpuState s, int vector, int selector, String why) {
        s.exceptionVector = vector;
        s.exceptionErrorCode = selector & 0xfffc;
        return String.format("load of selector 0x%x: %s", selector, why);
    }

    /**
     * Whether an access through FS ({@code seg} 1) or GS (2) at {@code offset} is allowed in 32-bit
     * mode: a null selector is unusable (#GP(0)), and the offset must be within the hidden limit.
     */
    boolean usable32(int seg, long offset) {
        int r = seg == 1 ? FS : GS;
        return (sel[r] & 0xfffc) != 0 && offset <= (seg == 1 ? fsLimit : gsLimit);
    }
}
