package org.mmulab.kernel;

import org.mmulab.emulator.cpu.CpuState;
import org.mmulab.emulator.cpu.Segments;
import org.mmulab.emulator.machine.Vcpu;

/**
 * The GDT a vCPU runs user code with and the task's TLS entries in it: arch/x86/kernel/tls.c
 * (do_set_thread_area, do_get_thread_area, fill_ldt, fill_user_desc, tls_desc_okay), the GDT layout
 * of arch/x86/include/asm/segment.h and cpu/common.c's gdt_page, and start_thread's selectors
 * (process_64.c start_thread_common / compat_start_thread, process_32.c start_thread).
 *
 * <p>32-bit kernel (PAE): GDT_ENTRIES 32, TLS entries 6-8, __KERNEL_CS 0x60, __KERNEL_DS 0x68,
 * __USER_CS 0x73, __USER_DS 0x7b, __KERNEL_PERCPU 0xd8. 64-bit kernel: GDT_ENTRIES 16,
 * __KERNEL32_CS 0x08, __KERNEL_CS 0x10, __KERNEL_DS 0x18, __USER32_CS 0x23, __USER_DS 0x2b,
 * __USER_CS 0x33, TLS entries 12-14, __CPUNODE_SEG 0x7b (a DPL 3 read-only data segment whose limit
 * is the CPU number, for the vDSO's getcpu). TSS/LDT system descriptors are not installed: nothing
 * at CPL 3 can load them.
 */
final class Tls {
    /** GDT_ENTRY_TLS_ENTRIES. */
    static final int TLS_ENTRIES = 3;
    // struct user_desc flags word bits.
    static final int SEG_32BIT = 1, CONTENTS_SHIFT = 1, READ_EXEC_ONLY = 1 << 3, LIMIT_IN_PAGES = 1 << 4,
            SEG_NOT_PRESENT = 1 << 5, USEABLE = 1 << 6, LM = 1 << 7;

    private Tls() {
    }

    static int tlsMin(boolean pae) {
        return pae ? 6 : 12;
    }

    /** Installs the kernel's GDT on {@code cpu} for the paging mode (the per-CPU gdt_page). */
    static void installGdt(Vcpu cpu, boolean pae) {
        Segments g = cpu.state.segs;
        java.util.Arrays.fill(g.gdt, 0);
        long flat = 0xfffff;
        if (pae) {
            g.gdtEntries = 32;
            g.gdt[12] = Segments.descriptor(0, flat, 0xb, true, 0, true, false, false, true, true); // KERNEL_CS
            g.gdt[13] = Segments.descriptor(0, flat, 0x3, true, 0, true, false, false, true, true); // KERNEL_DS
            g.gdt[14] = Segments.descriptor(0, flat, 0xb, true, 3, true, false, false, true, true); // USER_CS
            g.gdt[15] = Segments.descriptor(0, flat, 0x3, true, 3, true, false, false, true, true); // USER_DS
            g.gdt[27] = Segments.descriptor(0, flat, 0x3, true, 0, true, false, false, true, true); // PERCPU
        } else {
            g.gdtEntries = 16;
            g.gdt[1] = Segments.descriptor(0, flat, 0xb, true, 0, true, false, false, true, true); // KERNEL32_CS
            g.gdt[2] = Segments.descriptor(0, flat, 0xb, true, 0, true, false, true, false, true); // KERNEL_CS
            g.gdt[3] = Segments.descriptor(0, flat, 0x3, true, 0, true, false, false, true, true); // KERNEL_DS
            g.gdt[4] = Segments.descriptor(0, flat, 0xb, true, 3, true, false, false, true, true); // USER32_CS
            g.gdt[5] = Segments.descriptor(0, flat, 0x3, true, 3, true, false, false, true, true); // USER_DS
            g.gdt[6] = Segments.descriptor(0, flat, 0xb, true, 3, true, false, true, false, true); // USER_CS
            g.gdt[15] = Segments.descriptor(0, cpu.id(), 0x1, true, 3, true, false, false, true, false); // CPUNODE
        }
    }

    /** start_thread: the user selectors of a new image, FS/GS null with zero bases. */
    static void startThread(CpuState s, boolean pae, boolean elf32) {
        if (pae) {
            s.segs.reset(s, 0x73, 0x7b, 0x7b);
        } else if (elf32) {
            s.segs.reset(s, 0x23, 0x2b, 0x2b);
        } else {
            s.segs.reset(s, 0x33, 0, 0x2b);
        }
    }

    /** load_TLS: copies the task's TLS descriptors into the vCPU's GDT. */
    static void loadTls(Task t, CpuState s, boolean pae) {
        int min = tlsMin(pae);
        for (int i = 0; i < TLS_ENTRIES; i++) {
            s.segs.gdt[min + i] = t.tls[i];
        }
    }

    private static boolean ldtEmpty(long base, long limit, long flags) {
        return base == 0 && limit == 0 && (flags & 0x7f) == (READ_EXEC_ONLY | SEG_NOT_PRESENT);
    }

    private static boolean ldtZero(long base, long limit, long flags) {
        return base == 0 && limit == 0 && (flags & 0xff) == 0;
    }

    /** tls_desc_okay: only present 32-bit data segments (or the two empty forms). */
    private static boolean descOkay(long base, long limit, long flags, boolean lm64) {
        if (ldtEmpty(base, limit, flags) || ldtZero(base, limit, flags)) {
            return true;
        }
        if ((flags & SEG_32BIT) == 0) {
            return false; // espfix would be needed for 16-bit segments
        }
        if (((flags >>> CONTENTS_SHIFT) & 3) > 1) {
            return false; // only data segments in the TLS array
        }
        if ((flags & LM) != 0 && !lm64) {
            return false;
        }
        return (flags & SEG_NOT_PRESENT) == 0;
    }

    /** fill_ldt: struct user_desc to a descriptor (DPL 3, accessed). */
    static long fillLdt(long base, long limit, long flags) {
        int type = ((flags & READ_EXEC_ONLY) == 0 ? 2 : 0) | (int) (((flags >>> CONTENTS_SHIFT) & 3) << 2) | 1;
        return Segments.descriptor(base, limit, type, true, 3, (flags & SEG_NOT_PRESENT) == 0, (flags & USEABLE) != 0,
                (flags & LM) != 0, (flags & SEG_32BIT) != 0, (flags & LIMIT_IN_PAGES) != 0);
    }

    /**
     * set_thread_area (do_set_thread_area with can_allocate): entry_number -1 takes the first empty TLS
     * slot (get_free_idx, -ESRCH if none) and writes the number back; the descriptor must pass
     * tls_desc_okay (-EINVAL); an entry outside GDT_ENTRY_TLS_MIN..MAX is -EINVAL. The GDT is updated
     * (load_TLS) and any of DS, ES, FS, GS that holds the modified selector is reloaded.
     */
    static long setThreadArea(Kernel k, Vcpu cpu, long uinfo, boolean lm64) {
        return setThreadArea(k, k.current(), cpu.state, uinfo, lm64);
    }

    /**
     * do_set_thread_area for task {@code t} whose user registers are {@code s}: the caller's own, or a
     * new thread's (clone's CLONE_SETTLS from an i386 task, whose tls argument is a struct user_desc).
     */
    static long setThreadArea(Kernel k, Task t, CpuState s, long uinfo, boolean lm64) {
        byte[] u = new byte[16];
        if (k.userAccess().copyFromUser(u, 0, uinfo, 16) != 0) {
            return -Errno.EFAULT;
        }
        long entry = Le.le32(u, 0);
        long base = Le.le32(u, 4), limit = Le.le32(u, 8), flags = Le.le32(u, 12);
        if (!descOkay(base, limit, flags, lm64)) {
            return -Errno.EINVAL;
        }
        boolean pae = k.config().paging() == KernelConfig.PagingMode.PAE;
        int min = tlsMin(pae);
        if (entry == 0xffff_ffffL) {
            int idx = -1;
            for (int i = 0; i < TLS_ENTRIES; i++) {
                if (t.tls[i] == 0) {
                    idx = i;
                    break;
                }
            }
            if (idx < 0) {
                return -Errno.ESRCH;
            }
            entry = min + idx;
            Le.put32(u, 0, entry);
            if (k.userAccess().copyToUser(uinfo, u, 0, 4) != 0) {
                return -Errno.EFAULT;
            }
        }
        if (entry < min || entry >= min + TLS_ENTRIES) {
            return -Errno.EINVAL;
        }
        boolean clear = ldtEmpty(base, limit, flags) || ldtZero(base, limit, flags);
        t.tls[(int) (entry - min)] = clear ? 0 : fillLdt(base, limit, flags);
        loadTls(t, s, pae);
        int modified = (int) (entry << 3) | 3;
        for (int sreg : new int[] {Segments.DS, Segments.ES, Segments.FS, Segments.GS}) {
            if (s.segs.sel[sreg] == modified) {
                reload(s, sreg, modified);
            }
        }
        return 0;
    }

    /** loadsegment with the kernel's exception fixup: a selector that cannot be loaded loads null. */
    static void reload(CpuState s, int sreg, int selector) {
        int vec = s.exceptionVector;
        long err = s.exceptionErrorCode;
        int cpl = s.cpl;
        s.cpl = 3; // the checks are those of a load of a user selector
        if (s.segs.load(s, sreg, selector) != null) {
            s.segs.load(s, sreg, 0);
        }
        s.cpl = cpl;
        s.exceptionVector = vec;
        s.exceptionErrorCode = err;
    }

    /** get_thread_area: fill_user_desc of a TLS entry (-EINVAL outside the TLS range). */
    static long getThreadArea(Kernel k, long uinfo) {
        byte[] e = new byte[4];
        if (k.userAccess().copyFromUser(e, 0, uinfo, 4) != 0) {
            return -Errno.EFAULT;
        }
        long entry = Le.le32(e, 0);
        int min = tlsMin(k.config().paging() == KernelConfig.PagingMode.PAE);
        if (entry < min || entry >= min + TLS_ENTRIES) {
            return -Errno.EINVAL;
        }
        long d = k.current().tls[(int) (entry - min)];
        byte[] u = new byte[16];
        Le.put32(u, 0, entry);
        Le.put32(u, 4, Segments.base(d));
        long rawLimit = (d & 0xffff) | (((d >>> 48) & 0xf) << 16);
        Le.put32(u, 8, rawLimit);
        long type = (d >>> 40) & 0xf;
        long flags = ((d >>> 54) & 1) // seg_32bit = D
                | ((type >>> 2) << CONTENTS_SHIFT)
                | ((type & 2) == 0 ? READ_EXEC_ONLY : 0)
                | (((d >>> 55) & 1) << 4) // limit_in_pages = G
                | ((d & (1L << 47)) == 0 ? SEG_NOT_PRESENT : 0)
                | (((d >>> 52) & 1) << 6) // useable = AVL
                | (((d >>> 53) & 1) << 7); // lm = L
        Le.put32(u, 12, flags);
        return k.userAccess().copyToUser(uinfo, u, 0, 16) == 0 ? 0 : -Errno.EFAULT;
    }
}
