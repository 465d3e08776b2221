package org.mmulab.kernel.mm;

import static org.mmulab.kernel.mm.Mmap.PAGE_SIZE;
import static org.mmulab.kernel.mm.Mmap.PROT_EXEC;
import static org.mmulab.kernel.mm.Mmap.PROT_GROWSDOWN;
import static org.mmulab.kernel.mm.Mmap.PROT_GROWSUP;
import static org.mmulab.kernel.mm.Mmap.PROT_READ;
import static org.mmulab.kernel.mm.Mmap.PROT_SEM;
import static org.mmulab.kernel.mm.Mmap.PROT_WRITE;

/**
 * mprotect(2) after mm/mprotect.c (Linux 6.x): do_mprotect_pkey and mprotect_fixup. Addresses and
 * lengths are unsigned longs as in the kernel: {@code end} may lie above 2^63 (a length of 2^63 is
 * applied to the VMAs up to the first hole and then fails with ENOMEM, as Linux does). Making a private
 * mapping writable charges it against overcommit ({@link Overcommit}) unless it already is charged,
 * shared or MAP_NORESERVE.
 */
final class Mprotect {
    private static final int ENOMEM = -12, EINVAL = -22, EACCES = -13;
    private static final int VM_ACCESS_FLAGS = VmArea.VM_READ | VmArea.VM_WRITE | VmArea.VM_EXEC;

    private final Mmap mmap;
    private final Memory memory;

    Mprotect(Mmap mmap, Memory memory) {
        this.mmap = mmap;
        this.memory = memory;
    }

    int doMprotect(MmStruct mm, long start, long len, int prot) {
        int grows = prot & (PROT_GROWSDOWN | PROT_GROWSUP);
        prot &= ~(PROT_GROWSDOWN | PROT_GROWSUP);
        if (grows == (PROT_GROWSDOWN | PROT_GROWSUP)) {
            return EINVAL;
        }
        if ((start & (PAGE_SIZE - 1)) != 0) {
            return EINVAL;
        }
        if (len == 0) {
            return 0;
        }
        len = Mmap.pageAlign(len);
        long end = start + len;
        if (Long.compareUnsigned(end, start) <= 0) {
            return ENOMEM;
        }
        if ((prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC | PROT_SEM)) != 0) {
            return EINVAL;
        }
        mm.mmapLock.downWrite();
        try {
            VmArea vma = mm.findVma(start);
            if (vma == null || Long.compareUnsigned(vma.start, end) >= 0) {
                return ENOMEM; // vma_find(&vmi, end): nothing in [start, end)
            }
            if ((grows & PROT_GROWSDOWN) != 0) {
                start = vma.start;
                if ((vma.flags & VmArea.VM_GROWSDOWN) == 0) {
                    return EINVAL;
                }
            } else if (vma.start > start) {
                return ENOMEM;
            }
            long nstart = start;
            MmuGather tlb = new MmuGather(mm);
            int error = 0;
            try {
                for (;;) {
                    int newflags = Mmap.vmFlags(prot, 0) | (vma.flags & ~VM_ACCESS_FLAGS);
                    // newflags >> 4 puts VM_MAY* where VM_* are
                    if (((newflags & ~(newflags >> 4)) & VM_ACCESS_FLAGS) != 0) {
                        error = EACCES;
                        break;
                    }
                    long tmp = Long.compareUnsigned(vma.end, end) < 0 ? vma.end : end;
                    error = mprotectFixup(tlb, mm, vma, nstart, tmp, newflags);
                    if (error != 0) {
                        break;
                    }
                    nstart = tmp;
                    if (Long.compareUnsigned(nstart, end) >= 0) {
                        break;
                    }
                    // The VMA holding nstart (the fixup may have merged it with the previous one);
                    // none: a hole or the end of the address space before end.
                    VmArea next = mm.vmaLookup(nstart);
                    if (next == null) {
                        error = ENOMEM;
                        break;
                    }
                    vma = next;
                }
            } finally {
                tlb.finish();
            }
            return error;
        } finally {
            mm.mmapLock.upWrite();
        }
    }

    /**
     * mprotect_fixup: charge a private mapping that becomes writable, split to [start, end), set the
     * flags, change the PTEs, merge. 0 or -ENOMEM (nothing changed then).
     */
    private int mprotectFixup(MmuGather tlb, MmStruct mm, VmArea vma, long start, long end, int newflags) {
        if (newflags == vma.flags) {
            return 0;
        }
        if ((newflags & VmArea.VM_WRITE) != 0
                && (vma.flags & (VmArea.VM_ACCOUNT | VmArea.VM_WRITE | VmArea.VM_SHARED | VmArea.VM_NORESERVE)) == 0) {
            if (!Overcommit.vmEnoughMemory(memory.frames(), (end - start) >>> 12)) {
                return ENOMEM;
            }
            newflags |= VmArea.VM_ACCOUNT;
        }
        vma = mmap.vmaOps.isolate(mm, vma, start, end);
        vma.flags = newflags;
        changeProtection(tlb, vma, start, end);
        tlb.flushTlbOnly();
        long s = vma.start;
        mmap.vmaOps.mergeAround(mm, vma.end);
        mmap.vmaOps.mergeAround(mm, s);
        return 0;
    }

    /** change_protection: rewrites the protection of present PTEs in [start, end) of {@code vma}; returns pages changed. */
    private long changeProtection(MmuGather tlb, VmArea vma, long start, long end) {
        long newProt = vma.pageProt();
        boolean tryWritable = (vma.flags & (VmArea.VM_WRITE | VmArea.VM_SHARED)) == VmArea.VM_WRITE;
        long[] pages = {0};
        changeLevel(tlb, vma, vma.mm.pgd << 12, memory.ops().levels(), start, end, newProt, tryWritable, pages,
                new PteSlot());
        return pages[0];
    }

    /**
     * change_p4d_range / change_pud_range / change_pmd_range. At the PMD level, when
     * pte_offset_map_lock fails (the PMD changed between the lockless read and the lock) the entry is
     * looked at again, as change_pmd_range's {@code goto again} does: a table installed meanwhile is
     * changed too, a PMD gone none is skipped. Skipping at once would leave a racing refault's PTE with
     * the old protection (writable after mprotect(PROT_READ)).
     */
    private void changeLevel(MmuGather tlb, VmArea vma, long table, int level, long addr, long end, long newProt,
            boolean tryWritable, long[] pages, PteSlot slot) {
        PgtableOps ops = memory.ops();
        do {
            long next = memory.pgtables.addrEnd(addr, end, level);
            long ep = ops.entryAddr(table, addr, level);
            for (;;) {
                long e = ops.getLockless(ep);
                e = level == 2 ? memory.huge.splitIfHuge(vma, ep, addr, e) : e; // change_huge_pmd's job, on PTEs
                if (PteBits.none(e) || ops.tableBad(level, e)) {
                    break;
                }
                if (level != 2) {
                    changeLevel(tlb, vma, PteBits.pfn(e) << 12, level - 1, addr, next, newProt, tryWritable, pages, slot);
                    break;
                }
                if (changePteRange(tlb, vma, ep, addr, next, newProt, tryWritable, pages, slot)) {
                    break;
                }
            }
            addr = next;
        } while (addr != end);
    }

    /**
     * change_pte_range: under the PTE lock, each present PTE whose protection changes goes through
     * ptep_modify_prot_start (an atomic get-and-clear) and ptep_modify_prot_commit, and the new value is
     * made from what the atomic clear returned: between the read that decided to change the PTE and the
     * clear, another vCPU's page walker may have set A or D in it (a locked CAS the PTE lock does not
     * stop), and a PTE built from the earlier read would drop that bit. False when
     * pte_offset_map_lock failed ({@code -EAGAIN}): the caller looks at the PMD again.
     */
    private boolean changePteRange(MmuGather tlb, VmArea vma, long pmdp, long addr, long end, long newProt,
            boolean tryWritable, long[] pages, PteSlot slot) {
        if (!memory.pgtables.mapLock(pmdp, addr, slot)) {
            return false;
        }
        PgtableOps ops = memory.ops();
        try {
            long ptep = slot.ptep;
            for (long a = addr; a != end; a += 4096, ptep += 8) {
                long old = ops.get(ptep);
                if (!PteBits.present(old) || newPte(old, newProt, tryWritable && softDirtyOk(vma, old)) == old) {
                    continue;
                }
                long cleared = ops.getAndClear(ptep); // ptep_modify_prot_start
                if (!memory.fixes.reverted(MmFix.MODIFY_PROT_START)) {
                    old = cleared; // explorer's revert: build from the first read instead
                }
                ops.set(ptep, newPte(old, newProt, tryWritable && softDirtyOk(vma, old))); // ptep_modify_prot_commit
                tlb.removeTlbEntry(a);
                pages[0]++;
            }
        } finally {
            slot.ptl.unlock();
            slot.ptl = null;
        }
        return true;
    }

    /** can_change_pte_writable's soft-dirty rule: with tracking on, a clean PTE must take the write fault. */
    private static boolean softDirtyOk(VmArea vma, long pte) {
        return (vma.flags & VmArea.VM_SOFTDIRTY) != 0 || (pte & PteBits.SOFT_DIRTY) != 0;
    }

    /**
     * pte_modify, plus MM_CP_TRY_CHANGE_WRITABLE: an exclusive anon page (PageAnonExclusive, 6.x
     * can_change_pte_writable) may become writable at once; a page fork shares must go through do_wp_page.
     */
    private long newPte(long old, long newProt, boolean tryWritable) {
        long nw = PteBits.modify(old, newProt);
        if (tryWritable && (nw & PteBits.PRESENT) != 0) {
            long page = memory.vmNormalPage(old);
            FrameTable frames = memory.frames();
            if (page >= 0 && frames.anonExclusive(page)) { // can_change_pte_writable: PageAnonExclusive
                nw |= PteBits.RW;
            }
        }
        return nw;
    }
}
