/**
 * The Java port of Linux mm (6.x): the frame table and buddy allocator ({@link
 * org.mmulab.kernel.mm.FrameTable}), page tables in guest RAM behind {@link
 * org.mmulab.kernel.mm.PgtableOps} ({@link org.mmulab.kernel.mm.X86_64Pgtable} 4-level,
 * {@link org.mmulab.kernel.mm.PaePgtable} 3-level PAE with two-word entries), the fault path of
 * mm/memory.c ({@link org.mmulab.kernel.mm.Memory}, the facade), its teardown ({@code Zap},
 * {@link org.mmulab.kernel.mm.MmuGather}), mm/pgtable-generic.c and page-table allocation
 * ({@code PgtableGeneric}), mm_alloc/pgd_alloc/exit_mmap ({@code MmLifecycle}),
 * the address-space operations of mm/mmap.c ({@link org.mmulab.kernel.mm.Mmap}), mm/mprotect.c
 * ({@code Mprotect}), mm/madvise.c ({@code Madvise}) and mm/util.c's overcommit check
 * ({@link org.mmulab.kernel.mm.Overcommit}), mm/mremap.c ({@link org.mmulab.kernel.mm.Mremap}, with
 * move_page_tables in {@code MoveTables}), mm/mlock.c ({@link org.mmulab.kernel.mm.Mlock}), mm/mincore.c
 * ({@link org.mmulab.kernel.mm.Mincore}), mm/gup.c ({@link org.mmulab.kernel.mm.Gup}) and
 * mm/process_vm_access.c ({@link org.mmulab.kernel.mm.ProcessVmAccess}), remap_pfn_range/vm_insert_page
 * ({@link org.mmulab.kernel.mm.PfnMap}), unmap_mapping_range through i_mmap and hole punching
 * ({@link org.mmulab.kernel.mm.Truncate}), soft-dirty tracking for clear_refs and pagemap
 * ({@link org.mmulab.kernel.mm.SoftDirty}), transparent huge pages: PMD leaves and split_huge_pmd of
 * mm/huge_memory.c ({@link org.mmulab.kernel.mm.HugeMemory}), MADV_COLLAPSE and the khugepaged pass of
 * mm/khugepaged.c ({@link org.mmulab.kernel.mm.Khugepaged}) and pte_free_defer's grace periods for
 * lockless walkers ({@code RcuTableFree}),
 * kernel/fork.c's dup_mmap with copy_page_range ({@link org.mmulab.kernel.mm.Fork}), do_wp_page
 * ({@code WpFault}), arch/x86/mm/tlb.c's ASID/PCID switches, lazy TLB and IPI shootdowns
 * ({@link org.mmulab.kernel.mm.TlbFlush}), the lock types with lockdep's checks ({@code SpinLock},
 * {@code RwSemaphore}, {@code LockDep}, whose waiters answer IPIs: {@code LockWait}) and the
 * {@code --check} invariants ({@link org.mmulab.kernel.mm.MmCheck}).
 *
 * <p>SMP rules kept here: a vCPU's TLB state is touched only on its own thread (other vCPUs are reached
 * by {@code Machine.sendIpis}); nothing is freed until every vCPU in mm_cpumask acknowledged the
 * shootdown; every page-table word access, lock step and shootdown is a yield point of the machine's
 * scheduler ({@link org.mmulab.kernel.mm.CycleCharge}).
 *
 * <p>PAE rules kept here: every PTE/PMD read made without the entry's lock goes through
 * {@code PgtableOps.getLockless} (ptep_get_lockless / pmdp_get_lockless), which may return a torn value
 * when it is not present; so a non-none, non-present lockless value is revalidated under the PTE lock
 * (pte_unmap_same) and never acted on as it is (a torn PMD is "no table", not a bad one to clear); all four
 * PDPTEs are present from pgd_alloc, and a PDPTE written later (after free_pgtables freed a whole
 * gigabyte's PMD) is followed by a full flush, which reloads the PDPTE registers.
 * May call org.mmulab.emulator.memory and org.mmulab.emulator.mmu (invalidations) and
 * org.mmulab.emulator.machine (mm_cpumask holds vCPUs); knows nothing of processes or syscalls.
 */
package org.mmulab.kernel.mm;
