package org.mmulab.kernel.mm;

/**
 * The out-parameters of pte_offset_map*(): Linux returns the PTE pointer and fills {@code *ptlp};
 * here the entry address, its table's lock (null: no page table) and the PMD value seen. Mutable
 * and reused, so the fault path allocates nothing.
 */
class PteSlot {
    long ptep;
    SpinLock ptl;
    long pmdval;
}
