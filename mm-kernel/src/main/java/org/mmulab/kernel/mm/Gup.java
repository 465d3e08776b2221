package org.mmulab.kernel.mm;

import org.mmulab.emulator.machine.YieldKind;

/**
 * get_user_pages and follow_page after mm/gup.c (Linux 6.6), for the kernel's own accesses to a
 * process's memory (another process's in process_vm_readv/writev, access_remote_vm).
 *
 * <ul>
 * <li>{@code check_vma_flags}: VM_IO/VM_PFNMAP are never followed (EFAULT: their frames have no
 *     struct page to take a reference on); a write needs VM_WRITE, or FOLL_FORCE on a private mapping
 *     that may be written (is_cow_mapping); a read needs VM_READ, or FOLL_FORCE with VM_MAYREAD.</li>
 * <li>{@code follow_page_pte} runs under the inner PTE lock (pte_offset_map_lock, which may fail: then
 *     the page is faulted in and looked at again) and takes the page reference before dropping it, so
 *     a racing zap cannot free the page between the look and the reference.</li>
 * <li>{@code can_follow_write_pte}, the 6.x rule that replaced FOLL_COW (Dirty COW, CVE-2016-5195): a
 *     read-only PTE is followed for writing under FOLL_FORCE only when it maps an exclusive anonymous
 *     page in a private, not-VM_WRITE mapping, i.e. a COW copy this mm owns. A page-cache page never
 *     qualifies, so if MADV_DONTNEED zaps the copy between the write fault and the retry, the retry
 *     faults again (making a new copy) instead of writing into the file's page.</li>
 * </ul>
 * The caller holds the mmap lock for reading.
 */
public final class Gup {
    public static final int FOLL_WRITE = 0x01, FOLL_TOUCH = 0x02, FOLL_GET = 0x04, FOLL_FORCE = 0x10,
            FOLL_REMOTE = 0x2000;
    private static final int ENOMEM = -12, EFAULT = -14, EEXIST = -17;
    /** follow_page result: no page (fault it in). */
    private static final long NO_PAGE = -1;

    private final Memory memory;
    /**
     * Test hook run after each faultin_page, before follow_page looks again: where a racing
     * MADV_DONTNEED on another vCPU can zap the page just faulted in (the Dirty COW window). Null: none.
     */
    volatile Runnable afterFaultHook;

    public Gup(Memory memory) {
        this.memory = memory;
    }

    /** check_vma_flags: 0 or -EFAULT. */
    static int checkVmaFlags(VmArea vma, int gupFlags) {
        return checkVmaFlags(vma.flags, gupFlags);
    }

    private static int checkVmaFlags(int f, int gupFlags) {
        boolean write = (gupFlags & FOLL_WRITE) != 0;
        if ((f & (VmArea.VM_IO | VmArea.VM_PFNMAP)) != 0) {
            return EFAULT;
        }
        if (write) {
            if ((f & VmArea.VM_WRITE) == 0) {
                if ((gupFlags & FOLL_FORCE) == 0 || !Fork.isCowMapping(f)) {
                    return EFAULT;
                }
            }
        } else if ((f & VmArea.VM_READ) == 0) {
            if ((gupFlags & FOLL_FORCE) == 0 || (f & VmArea.VM_MAYREAD) == 0) {
                return EFAULT;
            }
        }
        return 0;
    }

    /** can_follow_write_pte. */
    private boolean canFollowWritePte(long pte, long page, VmArea vma, int flags) {
        if (PteBits.write(pte)) {
            return true;
        }
        if ((flags & FOLL_FORCE) == 0) {
            return false;
        }
        if ((vma.flags & (VmArea.VM_MAYSHARE | VmArea.VM_SHARED)) != 0) {
            return false; // FOLL_FORCE has no effect on shared mappings
        }
        if ((vma.flags & VmArea.VM_MAYWRITE) == 0) {
            return false; // ... or read-only private ones
        }
        if ((vma.flags & VmArea.VM_WRITE) != 0) {
            return false; // ... or writable ones that just need a write fault
        }
        // We broke COW and could map the page writable only if it is an exclusive anonymous page.
        FrameTable frames = memory.frames();
        return page >= 0 && (frames.flags(page) & FrameTable.PG_ANON) != 0 && frames.anonExclusive(page);
    }

    /**
     * follow_page_pte: the pfn of the page mapped at {@code addr}, with a reference taken for the caller
     * under the PTE lock; {@link #NO_PAGE} when it must be faulted in; -EFAULT / -EEXIST for a PTE with
     * no struct page (follow_pfn_pte with and without FOLL_GET).
     */
    long followPage(VmArea vma, long addr, int flags) {
        PgtableGeneric pg = memory.pgtables;
        PgtableOps ops = memory.ops();
        long pmdp = pg.pmdOffset(vma.mm, addr);
        if (pmdp < 0) {
            return NO_PAGE;
        }
        PteSlot slot = new PteSlot();
        // MmFix.FOLLOW_PAGE_PTLOCK reverted: pte_offset_map without the lock (before seed 003's deceb6cd17)
        boolean locked = !memory.fixes.reverted(MmFix.FOLLOW_PAGE_PTLOCK);
        if (!(locked ? pg.mapLockSplit(vma, pmdp, addr, slot) : pg.mapNolock(pmdp, addr, slot))) {
            return NO_PAGE; // no page table (or it changed): fault
        }
        try {
            long pte = ops.get(slot.ptep);
            if (!PteBits.present(pte)) {
                return NO_PAGE;
            }
            long page = memory.vmNormalPage(pte);
            if (page < 0 && memory.fixes.reverted(MmFix.GUP_NO_PFNMAP) && PteBits.pfn(pte) != memory.zeroPfn()
                    && PteBits.pfn(pte) < memory.frames().frameCount()) {
                page = PteBits.pfn(pte); // reverted: pte_page of a PFN map's frame, as before vm_normal_page
            }
            if ((flags & FOLL_WRITE) != 0 && !canFollowWritePte(pte, page, vma, flags)) {
                return NO_PAGE;
            }
            if (page < 0) {
                if (PteBits.pfn(pte) == memory.zeroPfn()) {
                    return memory.zeroPfn(); // the zero page: no reference to take
                }
                return (flags & FOLL_GET) != 0 ? EFAULT : EEXIST;
            }
            if ((flags & FOLL_GET) != 0) {
                // try_grab_page, under the PTE lock: an atomic on the page's refcount, where the other
                // vCPUs' steps interleave like at any shared access (a yield point under DETERMINISTIC)
                memory.frames().charge().yieldPoint(YieldKind.QUANTUM);
                memory.frames().get(page);
            }
            return page;
        } finally {
            if (locked) {
                slot.ptl.unlock();
            }
        }
    }

    /**
     * __get_user_pages: up to {@code nrPages} pages from {@code start}, each with a reference (FOLL_GET,
     * put them with {@link FrameTable#put}; the zero page has none to put). Returns how many were got,
     * or -errno if none.
     */
    public long getUserPages(MmStruct mm, long start, int nrPages, int gupFlags, long[] pages) {
        if (pages != null) {
            gupFlags |= FOLL_GET;
        }
        int i = 0;
        long ret = 0;
        VmArea vma = null;
        while (i < nrPages) {
            if (vma == null || start >= vma.end) {
                vma = mm.vmaLookup(start);
                if (vma == null) {
                    ret = EFAULT;
                    break;
                }
                // MmFix.GUP_NO_PFNMAP reverted: a PFN map followed as for a driver that cleared VM_IO (1ff8038988)
                int err = memory.fixes.reverted(MmFix.GUP_NO_PFNMAP)
                        ? checkVmaFlags(vma.flags & ~(VmArea.VM_PFNMAP | VmArea.VM_IO), gupFlags) : checkVmaFlags(vma, gupFlags);
                if (err != 0) {
                    ret = err;
                    break;
                }
            }
            long page;
            int foll = gupFlags;
            for (;;) {
                page = followPage(vma, start, foll);
                if (page != NO_PAGE) {
                    break;
                }
                int fault = memory.handleMmFault(vma, start, (foll & FOLL_WRITE) != 0 ? Memory.FAULT_FLAG_WRITE : 0);
                if (fault == Memory.VM_FAULT_OOM) {
                    page = ENOMEM;
                    break;
                }
                if (fault != Memory.VM_FAULT_OK) {
                    page = EFAULT; // vm_fault_to_errno: SIGBUS / SIGSEGV
                    break;
                }
                if (memory.fixes.reverted(MmFix.FOLL_COW) && (foll & FOLL_WRITE) != 0 && (vma.flags & VmArea.VM_WRITE) == 0) {
                    foll &= ~FOLL_WRITE; // reverted: pre-2016 faultin_page, "COW done, follow it read-only"
                }
                Runnable hook = afterFaultHook;
                if (hook != null) {
                    hook.run();
                }
            }
            if (page == EEXIST && pages == null) {
                page = 0; // a PFN map entry exists: fine when no page is wanted
            } else if (page < 0) {
                ret = page;
                break;
            }
            if (pages != null) {
                pages[i] = page;
            }
            i++;
            start += 4096;
        }
        return i > 0 ? i : ret;
    }

    /** Drops the references getUserPages took (put_page; the zero page has none). */
    public void putPages(long[] pages, int n) {
        for (int i = 0; i < n; i++) {
            if (pages[i] != memory.zeroPfn()) {
                memory.frames().put(pages[i]);
            }
        }
    }

    /**
     * __access_remote_vm: copies between {@code buf} and {@code mm}'s memory at {@code addr} through GUP
     * (FOLL_FORCE as ptrace's access does when {@code force}), a page at a time, under the mmap read lock.
     * Returns the bytes copied (short at the first page that cannot be got).
     */
    public int accessRemoteVm(MmStruct mm, long addr, byte[] buf, int off, int len, boolean write, boolean force) {
        int flags = FOLL_REMOTE | (write ? FOLL_WRITE : 0) | (force ? FOLL_FORCE : 0);
        long[] page = new long[1];
        int done = 0;
        mm.mmapLock.downRead();
        try {
            while (done < len) {
                long a = addr + done;
                if (getUserPages(mm, a & -4096L, 1, flags, page) != 1) {
                    break;
                }
                int inPage = (int) (a & 4095);
                int n = Math.min(len - done, 4096 - inPage);
                long pa = (page[0] << 12) + inPage;
                if (write) {
                    memory.physicalMemory().writeBytes(pa, buf, off + done, n);
                } else {
                    memory.physicalMemory().readBytes(pa, buf, off + done, n);
                }
                putPages(page, 1);
                done += n;
            }
        } finally {
            mm.mmapLock.upRead();
        }
        return done;
    }
}
