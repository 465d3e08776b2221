package org.mmulab.kernel.mm;

import org.mmulab.emulator.mmu.Pte;

/**
 * x86 page-table entry values as Linux builds them (arch/x86/include/asm/pgtable_types.h,
 * pgtable.h): the protection map, pte_mk*, and the software bits Linux uses.
 */
public final class PteBits {
    public static final long PRESENT = Pte.P, RW = Pte.RW, USER = Pte.US, ACCESSED = Pte.A, DIRTY = Pte.D,
            PSE = Pte.PS, NX = Pte.XD;
    /** _PAGE_SPECIAL (software bit 9): no struct page behind it that mm may touch (the zero page). */
    public static final long SPECIAL = 1L << 9;
    /**
     * _PAGE_SOFT_DIRTY (software bit 11): written since the last clear_refs "4" ({@link SoftDirty}). Set
     * by the kernel wherever it makes a PTE dirty ({@link #mkdirty}), never by the page walker: that is
     * why clear_refs write-protects the PTEs, so that the next write faults.
     */
    public static final long SOFT_DIRTY = 1L << 11;
    /** _PAGE_PROTNONE: aliases _PAGE_GLOBAL and is only meaningful with P clear (PROT_NONE mapping). */
    public static final long PROTNONE = Pte.G;
    /** _PAGE_TABLE: how an upper-level entry points at a lower table. */
    public static final long PAGE_TABLE = PRESENT | RW | USER | ACCESSED | DIRTY;
    public static final long PFN_MASK = Pte.ADDR_MASK;

    private PteBits() {
    }

    public static boolean none(long e) {
        return e == 0;
    }

    /** pte_present: P, or a PROT_NONE entry that still maps a page. */
    public static boolean present(long e) {
        return (e & (PRESENT | PROTNONE)) != 0;
    }

    public static boolean write(long e) {
        return (e & RW) != 0;
    }

    public static boolean dirty(long e) {
        return (e & DIRTY) != 0;
    }

    public static boolean special(long e) {
        return (e & SPECIAL) != 0;
    }

    public static long pfn(long e) {
        return (e & PFN_MASK) >>> 12;
    }

    /** pmd_bad: a present upper-level entry that is not a table pointer with the usual bits. */
    public static boolean tableBad(long e) {
        return (e & (PRESENT | RW | USER | PSE)) != (PRESENT | RW | USER);
    }

    public static long mkTable(long pfn) {
        return (pfn << 12) | PAGE_TABLE;
    }

    /**
     * vm_get_page_prot(vm_flags) for x86 (protection_map): private mappings never get RW here (COW);
     * shared writable ones do; NX unless VM_EXEC; PROT_NONE gives a non-present PROTNONE entry.
     */
    public static long pageProt(int vmFlags) {
        boolean r = (vmFlags & VmArea.VM_READ) != 0, w = (vmFlags & VmArea.VM_WRITE) != 0,
                x = (vmFlags & VmArea.VM_EXEC) != 0, shared = (vmFlags & VmArea.VM_SHARED) != 0;
        if (!r && !w && !x) {
            return PROTNONE | ACCESSED | NX;
        }
        long p = PRESENT | USER | ACCESSED;
        // vma_wants_writenotify: with soft-dirty tracking on (VM_SOFTDIRTY clear) a shared mapping's
        // first write must fault, so its PTEs start read-only
        if (w && shared && (vmFlags & VmArea.VM_SOFTDIRTY) != 0) {
            p |= RW;
        }
        if (!x) {
            p |= NX;
        }
        return p;
    }

    /** pte_mkdirty: x86 sets the soft-dirty bit along with D. */
    public static long mkdirty(long e) {
        return e | DIRTY | SOFT_DIRTY;
    }

    public static long mkPte(long pfn, long prot) {
        return (pfn << 12) | prot;
    }

    /** pte_modify: keep the pfn and the A/D/special bits, take the protection from {@code newProt}. */
    public static long modify(long e, long newProt) {
        long keep = e & (PFN_MASK | ACCESSED | DIRTY | SPECIAL | SOFT_DIRTY); // _PAGE_CHG_MASK
        return keep | (newProt & ~PFN_MASK);
    }

    public static String describe(long e) {
        return String.format("%016x[%s%s]", e, Pte.flags(e), special(e) ? " special" : "");
    }
}
