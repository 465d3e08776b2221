package org.mmulab.kernel.mm;

/**
 * How page-table entries are laid out and accessed in guest RAM for one paging mode. The generic mm
 * code (memory.c port) walks levels through this interface only, so 4-level x86-64
 * ({@link X86_64Pgtable}, arch/x86/include/asm/pgtable_64.h) and PAE 3-level (pgtable-3level.h, where a
 * 64-bit entry is two 32-bit words written in {@code native_set_pte} order) share all of mm.
 *
 * <p>Levels are numbered as the SDM walks them: 1 = PTE table, 2 = PMD (page directory), 3 = PUD
 * (PDPT), 4 = PGD (PML4). {@link #levels()} is the top level. Entry values are always 64-bit x86
 * entries ({@link PteBits}).
 */
public interface PgtableOps {
    /** Number of levels (4 for x86-64, 3 for PAE). */
    int levels();

    /** log2 of the bytes one entry at {@code level} maps (PTE 12, PMD 21, PUD 30, PGD 39). */
    int shift(int level);

    /** Entries in a table at {@code level} (512; 4 for the PAE PDPT). */
    int entries(int level);

    /** Bytes of one entry (8 in both modes). */
    default int entrySize() {
        return 8;
    }

    /** Physical address of the entry for {@code va} in the table at {@code tablePa}. */
    default long entryAddr(long tablePa, long va, int level) {
        return tablePa + (((va >>> shift(level)) & (entries(level) - 1)) << 3);
    }

    /** Reads an entry with the page-table lock held (ptep_get). */
    long get(long entryPa);

    /**
     * Lockless read (ptep_get_lockless / pmdp_get_lockless, include/linux/pgtable.h). In 4-level mode one
     * atomic 64-bit load. Under PAE the entry is two words and the value <em>can be torn</em>: the low
     * word is re-read and the read retried only if it changed, so a reader that reads the low word, then
     * (after native_set_pte stored the new high word) the new high word, then the still-old low word again
     * returns the new high word with the old low word. What is guaranteed, as in Linux: a value with P set
     * is a value the entry really held (set_pte stores the low word, which holds P, last; pte_clear clears
     * it first), so a present result can be used; a non-present, non-none result may be rubbish. Every
     * caller that acts on what it read must revalidate under the entry's lock (pte_same under the PTE
     * lock, pmd_same in pte_offset_map_lock, the re-check in __pte_alloc under page_table_lock) or be a
     * path that no writer can race (the mmap write lock held, the machine stopped).
     */
    long getLockless(long entryPa);

    /**
     * Index of the first entry in [from, to) of the table at {@code tablePa} that is not none, or
     * {@code to}: how teardown skips the empty stretches of a sparse range in one scan instead of an
     * ordered read per entry. The caller re-reads a hit with {@link #getLockless} before using it.
     */
    default int nextNonNone(long tablePa, int from, int to) {
        for (int i = from; i < to; i++) {
            if (!PteBits.none(getLockless(tablePa + 8L * i))) {
                return i;
            }
        }
        return to;
    }

    /** set_pte / set_pmd (native_set_pte order in PAE). */
    void set(long entryPa, long value);

    /**
     * ptep_set_wrprotect: atomically clears RW ({@code clear_bit(_PAGE_BIT_RW)}, a locked AND): another
     * vCPU's page walker may set A or D in the same entry at any moment, and a read-modify-write with a
     * plain store would drop that bit. RW lives in the low word, so under PAE the locked op is on it alone.
     */
    void wrprotect(long entryPa);

    /** pte_clear (native_pte_clear order in PAE: low word first). */
    void clear(long entryPa);

    /** ptep_get_and_clear: atomically read and clear (xchg in 4-level, cmpxchg64 in PAE). */
    long getAndClear(long entryPa);

    /**
     * The entry at {@code level} (2..levels) pointing to a lower table ({@code pmd_populate},
     * {@code pud_populate}...). PAE's PDPTEs differ: only P may be set (RW/US are reserved there).
     */
    default long mkTable(int level, long pfn) {
        return PteBits.mkTable(pfn);
    }

    /** pXd_bad for an entry at {@code level} that should point to a table. */
    default boolean tableBad(int level, long e) {
        return PteBits.tableBad(e);
    }

    /**
     * {@code --check}: {@code c} is told the address of every entry about to be written (set, clear,
     * get-and-clear, write-protect), before the write, and may throw. Null: none. Formats used only by
     * tests may ignore it.
     */
    default void setWriteCheck(java.util.function.LongConsumer c) {
    }

    /** Highest user address + 1 (TASK_SIZE). */
    long taskSize();
}
