package org.mmulab.kernel.mm;

/**
 * The Linux mm fixes the port carries that the race explorer ({@code org.mmulab.kernel.explore}) can
 * turn off one at a time ({@code mmulab explore NAME --revert-fix}), to show that each one matters: with
 * the fix reverted a schedule breaks an invariant, with it none does. Each constant names the Linux
 * change it stands for (a seed document in shared/seeds or a commit) and the place in the port that
 * carries it. The switches live in a {@link Fixes} per {@link Memory}; all are on by default and only
 * Java code that builds the Memory can turn one off — no syscall, file or guest-visible path reaches them.
 */
public enum MmFix {
    /** Seed 000 (c74df32c72 "ptd_alloc take ptlock"): __pte_alloc takes page_table_lock and re-checks pmd_none. */
    PTE_ALLOC_PTLOCK("seed 000", "__pte_alloc populates the PMD under page_table_lock after re-checking pmd_none"),
    /** Seed 003 (8f4e2101fd "page fault handler locking"): pte_unmap_same revalidates a lockless PAE read. */
    PTE_UNMAP_SAME("seed 003", "do_swap_page's pte_unmap_same revalidates a torn lockless PAE PTE read under the PTE lock"),
    /** Seed 003 (508034a32b "unmap_vmas with inner ptlock"): zap_pte_range holds the PTE table's lock. */
    ZAP_PTLOCK("seed 003", "zap_pte_range clears PTEs under the PTE table's split lock (pte_offset_map_lock)"),
    /** 4.18 99baac21e458 "fix MADV_[FREE|DONTNEED] TLB flush miss problem": mm_tlb_flush_nested. */
    TLB_FLUSH_NESTED("99baac21e458", "tlb_finish_mmu flushes the whole mm when another mmu_gather of it is pending"),
    /** mm/mmu_gather.c: tlb_flush_mmu flushes the TLB (tlb_flush_mmu_tlbonly) before freeing the batch. */
    GATHER_FLUSH_BEFORE_FREE("mmu_gather", "tlb_flush_mmu shoots down every vCPU's TLB before freeing the batched pages"),
    /** Seed 003 (1a44e14908 ".text page fault SMP scalability"): no rewrite of an unchanged PTE. */
    NO_IDENTICAL_PTE_REWRITE("seed 003", "handle_pte_fault writes the PTE only if the access flags change it"),
    /** Seed 003 (f412ac08c9 "fix rss and mmlist locking"): the RSS counters are atomic. */
    RSS_ATOMIC("seed 003", "the mm's RSS counters are atomic: split PTE locks no longer serialize their updates"),
    /** The port's exact hiwater_rss: a decrease records the RSS it lowers from the same atomic add. */
    HIWATER_EXACT("port", "a decrease of RSS records the value it lowers in hiwater_rss from the same atomic add"),
    /** mm/mprotect.c change_pte_range: the new PTE is built from ptep_modify_prot_start's atomic read. */
    MODIFY_PROT_START("mprotect.c", "change_pte_range builds the new PTE from ptep_modify_prot_start's atomic get-and-clear"),
    /** Seed 002 (Hugh Dickins, "mm/pgtable: allow pte_offset_map[_lock]() to fail"): the pmd_same recheck. */
    PMD_SAME_RECHECK("seed 002", "__pte_offset_map_lock re-checks pmd_same after taking the PTE lock and retries if the PMD changed"),
    /** Seed 001 ("mm/khugepaged: collapse_pte_mapped_thp() with mmap_read_lock()"): pmd_lock + pte_free_defer. */
    PTE_FREE_DEFER("seed 001", "collapse_pte_mapped_thp/retract_page_tables unlink the PTE table under pmd_lock and its PTE lock and free it with pte_free_defer after a grace period"),
    /**
     * 4.20 eb66ae030829 (CVE-2018-18281), carried by {@code MoveTables}: move_ptes flushes the old range
     * before it drops the PTE locks ({@link Mremap#setRevertFlushBeforeUnlock} sets the same switch).
     */
    MREMAP_FLUSH_BEFORE_UNLOCK("eb66ae030829", "move_ptes flushes the TLB of the old range before dropping the PTE locks"),
    /**
     * Seed 004 (rmap 14 "i_shared_lock fixes"), carried by {@code MoveTables} take_rmap_locks: a file or
     * shmem VMA's PTEs move with the mapping's i_mmap lock held ({@link Mremap#setRevertRmapLocks} sets the
     * same switch). Reverted: a truncate walking i_mmap in pgoff order can visit the VMA copy_vma merged
     * the moved range into before the PTEs arrive and the source VMA after they left.
     */
    MREMAP_RMAP_LOCKS("seed 004", "move_page_tables holds the file's i_mmap lock while file PTEs move, so a truncate walk cannot miss them"),
    /**
     * 4.8.3 19be0eaffa3a (Dirty COW, CVE-2016-5195) as 6.x carries it ({@code Gup} can_follow_write_pte):
     * after a FOLL_FORCE write fault GUP keeps FOLL_WRITE and follows only the COW copy it made.
     * Reverted: the pre-2016 rule, FOLL_WRITE dropped once the COW fault returned.
     */
    FOLL_COW("19be0eaffa3a", "GUP keeps FOLL_WRITE after a forced COW fault and writes only into its own anon copy"),
    /**
     * 5.8-6.x's do_wp_page reuse rule ({@code WpFault} wp_can_reuse_anon_folio: refcount, not mapcount;
     * 09854ba94c6a, CVE-2020-29374). Reverted: the 2.6 rule, reuse when page_mapcount is 1 — a page
     * another mm pinned through GUP is then written in place.
     */
    COW_REUSE_REFCOUNT("09854ba94c6a", "do_wp_page reuses an anon page only when the PTE holds its only reference"),
    /** Seed 003 (deceb6cd17 "follow_page with inner ptlock"): follow_page takes the reference under the PTE lock. */
    FOLLOW_PAGE_PTLOCK("seed 003", "follow_page reads the PTE and takes the page reference under the PTE table's lock"),
    /**
     * Seed 003 (1ff8038988 "get_user_pages: don't try to follow PFNMAP pages", with 6aab341e0a's
     * vm_normal_page): GUP never follows a VM_PFNMAP mapping, whose frames have no struct page to count.
     */
    GUP_NO_PFNMAP("seed 003", "get_user_pages refuses VM_PFNMAP mappings and never counts a PFN-mapped frame"),
    /**
     * Seed 003 (920fc356f5 "unpaged: COW on VM_UNPAGED"): do_wp_page copies a private PFN map's frame
     * without touching its (nonexistent) page counts.
     */
    COW_PFNMAP_NO_REFCOUNT("seed 003", "do_wp_page on a private PFN map copies the frame without counting or unmapping it");

    private final String origin;
    private final String description;

    MmFix(String origin, String description) {
        this.origin = origin;
        this.description = description;
    }

    /** Where the fix comes from: a seed document, a Linux commit, or the port. */
    public String origin() {
        return origin;
    }

    public String description() {
        return description;
    }

    /** The CLI spelling: lower case with dashes. */
    public String cliName() {
        return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
    }

    /**
     * The switches of one {@link Memory}: every fix on unless {@link #revert} turned it off. Set them
     * before any vCPU runs (starting the vCPU threads publishes them); the kernel reads them with a
     * plain array load on the paths they guard.
     */
    public static final class Fixes {
        private final boolean[] reverted = new boolean[values().length];

        /** Turns {@code f} off in this Memory's kernel (race explorer only). */
        public void revert(MmFix f) {
            reverted[f.ordinal()] = true;
        }

        /** Turns {@code f} off (true) or back on (the switch a test sets from Java, e.g. Mremap's). */
        public void set(MmFix f, boolean revert) {
            reverted[f.ordinal()] = revert;
        }

        /** Is {@code f} turned off? */
        public boolean reverted(MmFix f) {
            return reverted[f.ordinal()];
        }
    }
}
