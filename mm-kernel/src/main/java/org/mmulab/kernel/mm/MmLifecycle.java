package org.mmulab.kernel.mm;

/**
 * An mm's birth and death: {@code mm_alloc} (kernel/fork.c) with {@code pgd_alloc}
 * (arch/x86/mm/pgtable.c), and {@code exit_mmap} (mm/mmap.c), Linux 6.x.
 */
final class MmLifecycle {
    private final Memory memory;
    private final PgtableGeneric pg;
    private final PgtableOps ops;
    private final FrameTable frames;

    MmLifecycle(Memory memory, PgtableGeneric pg) {
        this.memory = memory;
        this.pg = pg;
        this.ops = memory.ops();
        this.frames = memory.frames();
    }

    /**
     * mm_alloc + pgd_alloc for a process whose TASK_SIZE is {@code taskSize} (a compat 32-bit process
     * under 4-level paging has TASK_SIZE_32, below the format's limit). Null when out of frames.
     *
     * <p>PAE (arch/x86/mm/pgtable.c pgd_alloc, preallocate_pmds / pgd_prepopulate_pmd): all four PDPTEs
     * are made present here — a PMD page each for the three user gigabytes and the kernel's shared PMD
     * for the top one — because the CPU reads PDPTEs only at MOV CR3: a PDPTE populated later would
     * need a CR3 reload on every CPU using the mm ({@code pud_populate}'s flush_tlb_mm).
     */
    MmStruct mmAlloc(long taskSize) {
        if (Long.compareUnsigned(taskSize, ops.taskSize()) > 0) {
            throw new IllegalArgumentException("task size 0x" + Long.toHexString(taskSize) + " above the paging format's");
        }
        long pgd = pg.allocPgtablePage();
        if (pgd < 0) {
            return null;
        }
        MmStruct mm = new MmStruct(memory, pgd, taskSize, memory.nextCtxId());
        if (ops.levels() == 3) {
            long kpmd = kernelPmd();
            if (kpmd < 0) {
                pg.freePgtablePage(pgd);
                return null;
            }
            int user = (int) (PaePgtable.TASK_SIZE >>> ops.shift(3)); // KERNEL_PGD_BOUNDARY = 3
            for (int i = 0; i < ops.entries(3); i++) {
                long pmd = i < user ? pg.allocPgtablePage() : kpmd;
                if (pmd < 0) {
                    for (int j = 0; j < i; j++) {
                        long e = ops.get((pgd << 12) + 8L * j);
                        pg.freePgtablePage(PteBits.pfn(e));
                    }
                    pg.freePgtablePage(pgd);
                    return null;
                }
                if (i < user) {
                    mm.nrPgtables.incrementAndGet();
                }
                ops.set((pgd << 12) + 8L * i, ops.mkTable(3, pmd));
            }
        }
        return mm;
    }

    /** PAE: the kernel's PMD (swapper_pg_dir's 4th gigabyte), shared by every PDPT; no user entries. */
    private long kernelPmd = -1;

    private synchronized long kernelPmd() {
        if (kernelPmd < 0) {
            long p = frames.allocZeroedPage();
            if (p >= 0) {
                frames.reserve(p);
            }
            kernelPmd = p;
        }
        return kernelPmd;
    }

    /**
     * exit_mmap: unmaps every VMA, frees every page table and the PGD. Before anything is freed, every
     * vCPU that may still reach the mm's tables (mm_cpumask) leaves it for init_mm and drops its
     * PCID-tagged entries ({@link TlbFlush#forgetMm}), each on its own thread by IPI: in
     * Linux the exiting task's CPU keeps the mm loaded lazily and tlb_finish_mmu's flush (freed_tables)
     * reaches lazy CPUs too, whose flush_tlb_func switches them to init_mm; the PGD itself is freed only
     * by the final mmdrop, once no CPU has it in CR3. Here the switch comes first, so no CR3, PAE PDPTE
     * register, TLB, paging-structure-cache or fast-path entry can name a table when it is freed.
     */
    void exitMmap(MmStruct mm) {
        mm.exiting = true;
        memory.khugepaged.exitMm(mm);
        mm.mmapLock.downWrite();
        try {
            memory.tlbFlush.shootdownExitingMm(mm);
            mm.updateHiwaterRss();
            mm.updateHiwaterVm();
            MmuGather tlb = new MmuGather(mm);
            for (VmArea v : mm.vmaList()) {
                memory.unmapSingleVma(tlb, v, v.start, v.end);
            }
            for (VmArea v : mm.vmaList()) {
                if (v.file != null) {
                    v.file.iMmap.unlinkVma(v); // free_pgtables' unlink_file_vma
                }
            }
            memory.freePgdRange(tlb, 0, mm.taskSize, 0, 0);
            tlb.finish();
            // zap split every huge PMD, withdrawing its deposited table; none can be left, but a table
            // must never outlive its mm
            while (!mm.hugePmdDeposit.isEmpty()) {
                mm.nrPgtables.decrementAndGet();
                pg.freePgtablePage(mm.hugePmdDeposit.pop());
            }
            for (VmArea v : mm.vmaList()) {
                if (v.file != null) {
                    v.file.releaseUser();
                }
            }
            mm.clearVmas();
            mm.totalVm = 0;
            mm.cpus.clear();
            pg.freePgtablePage(mm.pgd); // mm_free_pgd
        } finally {
            mm.mmapLock.upWrite();
        }
        pg.rcu.poll();
    }
}
