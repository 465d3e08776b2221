package org.mmulab.kernel.mm;

/**
 * fork's half of mm (Linux 6.x): kernel/fork.c {@code dup_mm}/{@code dup_mmap} and mm/memory.c
 * {@code copy_page_range} / {@code copy_pte_range} / {@code copy_present_pte}.
 *
 * <ul>
 * <li>Both mmap locks are held for write (the child's nested), so no VMA of either changes meanwhile;
 *     the parent's other threads keep faulting and their page walkers keep setting A/D bits, which is
 *     why the parent's PTEs are write-protected with an atomic bit clear ({@link PgtableOps#wrprotect}).</li>
 * <li>Per VMA: {@code VM_DONTCOPY} is left out of the child (and out of its total_vm), a VMA charged
 *     against overcommit ({@code VM_ACCOUNT}) is charged again, {@code VM_LOCKED} is not inherited, and
 *     {@code VM_WIPEONFORK} gives the child the range with no pages at all.</li>
 * <li>{@code vma_needs_copy}: Linux copies the PTEs of a VMA only if it has an anon_vma (it may hold
 *     anon pages) and lets faults refill the rest. mmulab keeps no anon_vma, so every private VMA is
 *     treated as having one (copied), every shared one as having none: the child's faults map the same
 *     page-cache/shmem pages, shared and writable.</li>
 * <li>{@code copy_present_pte}: the child's PTE maps the same page (one more reference and mapcount;
 *     an anon page stops being exclusive, {@code page_try_dup_anon_rmap}); in a COW mapping
 *     ({@code is_cow_mapping}: private, may be written) a writable PTE is write-protected in the parent
 *     and the child; the child's copy is old (A clear). RSS per type is summed per table and added once
 *     ({@code add_mm_rss_vec}).</li>
 * <li>{@code copy_pte_range} takes the child's PTE lock ({@code pte_alloc_map_lock}), maps the parent's
 *     table with {@code pte_offset_map_nolock} and locks it nested: if the parent's PMD has no table any
 *     more there is nothing to copy there.</li>
 * <li>At the end {@code flush_tlb_mm(oldmm)}: no vCPU running the parent keeps a writable TLB entry for
 *     a page now shared with the child, else a parent write would bypass COW and show in the child.</li>
 * </ul>
 * Out of memory: the partly built child is torn down by {@code mmput}'s exit_mmap, which gives back
 * every page reference, table and file reference it took; {@link #dupMmap} then returns null (-ENOMEM).
 */
public final class Fork {
    private Fork() {
    }

    /**
     * dup_mm: a new mm that is a copy-on-write copy of {@code oldmm} (whose caller holds no mmap lock
     * of it), with its VMAs, page tables, layout fields and counters. Null when memory ran out; nothing
     * is leaked then. The new mm is not active on any vCPU.
     */
    public static MmStruct dupMmap(Memory memory, MmStruct oldmm) {
        MmStruct mm = memory.mmAlloc(oldmm.taskSize);
        if (mm == null) {
            return null;
        }
        boolean ok;
        oldmm.mmapLock.downWrite();
        try {
            mm.mmapLock.downWriteNested();
            try {
                ok = copyMm(memory, oldmm, mm);
            } finally {
                mm.mmapLock.upWrite();
            }
            // dup_mmap: flush_tlb_mm(oldmm) before the parent's mmap lock is released.
            oldmm.flushTlbAll();
        } finally {
            oldmm.mmapLock.upWrite();
        }
        if (!ok) {
            memory.exitMmap(mm); // mmput -> exit_mmap
            return null;
        }
        return mm;
    }

    /** The body of dup_mmap (both mmap locks held); false on -ENOMEM. */
    private static boolean copyMm(Memory memory, MmStruct oldmm, MmStruct mm) {
        // dup_mm's memcpy of the mm_struct: the layout fields set by exec, brk, rlimit.
        mm.startCode = oldmm.startCode;
        mm.endCode = oldmm.endCode;
        mm.startData = oldmm.startData;
        mm.endData = oldmm.endData;
        mm.startBrk = oldmm.startBrk;
        mm.brk = oldmm.brk;
        mm.startStack = oldmm.startStack;
        mm.argStart = oldmm.argStart;
        mm.argEnd = oldmm.argEnd;
        mm.envStart = oldmm.envStart;
        mm.envEnd = oldmm.envEnd;
        mm.mmapBase = oldmm.mmapBase;
        mm.stackRlimit = oldmm.stackRlimit;
        long totalVm = oldmm.totalVm;
        PteSlot dst = new PteSlot();
        PteSlot src = new PteSlot();
        boolean ok = true;
        for (VmArea mpnt : oldmm.vmaList()) {
            if ((mpnt.flags & VmArea.VM_DONTCOPY) != 0) {
                totalVm -= mpnt.pages(); // vm_stat_account(mm, mpnt->vm_flags, -vma_pages(mpnt))
                continue;
            }
            if ((mpnt.flags & VmArea.VM_ACCOUNT) != 0 && !Overcommit.vmEnoughMemory(memory.frames(), mpnt.pages())) {
                ok = false;
                break;
            }
            VmArea tmp = new VmArea(mm, mpnt.start, mpnt.end, mpnt.flags & ~VmArea.VM_LOCKED, mpnt.pgoff, mpnt.file);
            tmp.name = mpnt.name;
            mm.insertVma(tmp.start, tmp);
            if (tmp.file != null) {
                tmp.file.acquire(); // get_file
                tmp.file.iMmap.linkVma(tmp); // __vma_link_file
            }
            if ((tmp.flags & VmArea.VM_WIPEONFORK) == 0 && !copyPageRange(memory, tmp, mpnt, dst, src)) {
                ok = false;
                break;
            }
        }
        mm.totalVm = totalVm;
        mm.hiwaterVm = totalVm; // dup_mm: mm->hiwater_vm = mm->total_vm
        mm.updateHiwaterRss(); // mm->hiwater_rss = get_mm_rss(mm)
        return ok;
    }

    /** vma_needs_copy: see the class comment (a private VMA may hold anon pages; a shared one refaults). */
    static boolean vmaNeedsCopy(VmArea src) {
        // VM_COPY_ON_FORK: a PFN or mixed map cannot be refilled by faults (seed 003, vm_insert_page fix)
        if ((src.flags & (VmArea.VM_PFNMAP | VmArea.VM_MIXEDMAP)) != 0) {
            return true;
        }
        return (src.flags & VmArea.VM_SHARED) == 0;
    }

    /** is_cow_mapping. */
    static boolean isCowMapping(int flags) {
        return (flags & (VmArea.VM_SHARED | VmArea.VM_MAYWRITE)) == VmArea.VM_MAYWRITE;
    }

    /** copy_page_range: one PMD span (one PTE table) at a time; false on -ENOMEM. */
    private static boolean copyPageRange(Memory memory, VmArea dstVma, VmArea srcVma, PteSlot dst, PteSlot src) {
        if (!vmaNeedsCopy(srcVma)) {
            return true;
        }
        PgtableGeneric pg = memory.pgtables;
        PgtableOps ops = memory.ops();
        long addr = srcVma.start;
        long end = srcVma.end;
        while (addr != end) {
            long next = pg.addrEnd(addr, end, 2);
            long srcPmdp = pg.pmdOffset(srcVma.mm, addr);
            if (srcPmdp >= 0 && !PteBits.none(memory.huge.splitIfHuge(srcVma, srcPmdp, addr, ops.getLockless(srcPmdp)))) {
                long dstPmdp = pg.pmdAlloc(dstVma.mm, addr);
                if (dstPmdp < 0 || !copyPteRange(memory, dstVma, srcVma, dstPmdp, srcPmdp, addr, next, dst, src)) {
                    return false;
                }
            }
            addr = next;
        }
        return true;
    }

    /** copy_pte_range for [addr, end) inside one PTE table; false on -ENOMEM. */
    private static boolean copyPteRange(Memory memory, VmArea dstVma, VmArea srcVma, long dstPmdp, long srcPmdp,
            long addr, long end, PteSlot dst, PteSlot src) {
        PgtableGeneric pg = memory.pgtables;
        PgtableOps ops = memory.ops();
        FrameTable frames = memory.frames();
        // pte_alloc_map_lock: a failure (no memory for the table) is -ENOMEM.
        if (PteBits.none(ops.getLockless(dstPmdp)) && pg.pteAlloc(dstVma.mm, dstPmdp) != 0) {
            return false;
        }
        if (!pg.mapLock(dstPmdp, addr, dst)) {
            return false;
        }
        try {
            // pte_offset_map_nolock + spin_lock_nested: the parent's table vanished: nothing to copy.
            if (!pg.mapNolock(srcPmdp, addr, src)) {
                return true;
            }
            src.ptl.lockNested();
            boolean cow = isCowMapping(srcVma.flags);
            boolean shared = (srcVma.flags & VmArea.VM_SHARED) != 0;
            long anon = 0, file = 0, shmem = 0, copied = 0, wrprotected = 0;
            try {
                long sp = src.ptep;
                long dp = dst.ptep;
                for (; addr != end; addr += 4096, sp += 8, dp += 8) {
                    long pte = ops.get(sp);
                    if (PteBits.none(pte)) {
                        continue;
                    }
                    if (PteBits.present(pte)) {
                        // copy_present_pte
                        long page = memory.vmNormalPage(pte);
                        if (page >= 0) {
                            frames.get(page);
                            if ((frames.flags(page) & FrameTable.PG_ANON) != 0) {
                                frames.dupAnonRmap(page);
                                anon++;
                            } else {
                                frames.addMap(page); // page_dup_file_rmap
                                if (memory.mmCounter(page) == MmStruct.MM_SHMEMPAGES) {
                                    shmem++;
                                } else {
                                    file++;
                                }
                            }
                        }
                        if (cow && PteBits.write(pte)) {
                            ops.wrprotect(sp); // ptep_set_wrprotect in the parent
                            pte &= ~PteBits.RW;
                            wrprotected++;
                        }
                        if (shared) {
                            pte &= ~PteBits.DIRTY; // pte_mkclean
                        }
                        pte &= ~PteBits.ACCESSED; // pte_mkold
                    }
                    // a non-present, non-none entry would be a swap entry (copy_nonpresent_pte): copied as is
                    ops.set(dp, pte);
                    copied++;
                }
                // add_mm_rss_vec(dst_mm, rss), under the locks as in copy_pte_range
                MmStruct mm = dstVma.mm;
                if (anon != 0) {
                    mm.addCounter(MmStruct.MM_ANONPAGES, anon);
                }
                if (file != 0) {
                    mm.addCounter(MmStruct.MM_FILEPAGES, file);
                }
                if (shmem != 0) {
                    mm.addCounter(MmStruct.MM_SHMEMPAGES, shmem);
                }
            } finally {
                src.ptl.unlock();
                src.ptl = null;
            }
            memory.stats.forkPtesCopied.addAndGet(copied);
            memory.stats.forkPtesWrprotected.addAndGet(wrprotected);
            return true;
        } finally {
            dst.ptl.unlock();
            dst.ptl = null;
        }
    }
}
