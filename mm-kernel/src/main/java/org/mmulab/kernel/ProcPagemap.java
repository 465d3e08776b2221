package org.mmulab.kernel;

import org.mmulab.kernel.fs.FsException;
import org.mmulab.kernel.mm.FrameTable;
import org.mmulab.kernel.mm.MmStruct;
import org.mmulab.kernel.mm.PteBits;

/**
 * /proc/PID/pagemap and clear_refs (fs/proc/task_mmu.c pagemap_read, pte_to_pagemap_entry,
 * clear_refs_write; Linux 6.x), as root reads them: one u64 per virtual page with bit 63 present, 62
 * swapped (never: no swap), 61 file page or shared anonymous, 56 exclusively mapped (mapcount 1), 55
 * soft-dirty and the PFN in bits 0-54. The kernel modelled has no CONFIG_MEM_SOFT_DIRTY: bit 55 is
 * always 0 and clear_refs accepts 1-5 and does nothing for 4 (as such a kernel does); 1-3 clear the
 * Accessed bits of the process's PTEs' "Referenced" view, which mmulab does not report, so they too
 * change nothing visible. Offsets and sizes not a multiple of 8 are EINVAL.
 */
final class ProcPagemap {
    static final long PM_PRESENT = 1L << 63, PM_SWAP = 1L << 62, PM_FILE = 1L << 61, PM_MMAP_EXCLUSIVE = 1L << 56,
            PM_PFN_MASK = (1L << 55) - 1;

    private ProcPagemap() {
    }

    static byte[] read(Kernel k, Task t, long pos, int len) throws FsException {
        if ((pos & 7) != 0 || (len & 7) != 0) {
            throw new FsException(Errno.EINVAL);
        }
        MmStruct mm = t.mm;
        if (mm == null) {
            return new byte[0];
        }
        long first = pos >>> 3;
        long pages = mm.taskSize >>> 12;
        if (first >= pages) {
            return new byte[0];
        }
        int n = (int) Math.min(len / 8, Math.min(pages - first, 1 << 16));
        byte[] out = new byte[n * 8];
        FrameTable frames = k.memory().frames();
        mm.mmapLock.downRead();
        try {
            for (int i = 0; i < n; i++) {
                long va = (first + i) << 12;
                long e = 0;
                if (mm.vmaLookup(va) != null) {
                    long pte = k.memory().lookupPte(mm, va);
                    if (PteBits.present(pte)) {
                        long pfn = PteBits.pfn(pte);
                        e = PM_PRESENT | (pfn & PM_PFN_MASK);
                        boolean special = PteBits.special(pte) || pfn == k.memory().zeroPfn();
                        if (!special) {
                            if ((frames.flags(pfn) & FrameTable.PG_ANON) == 0) {
                                e |= PM_FILE;
                            }
                            if (frames.mapcount(pfn) == 1) {
                                e |= PM_MMAP_EXCLUSIVE;
                            }
                        }
                    }
                }
                Le.put64(out, i * 8, e);
            }
        } finally {
            mm.mmapLock.upRead();
        }
        return out;
    }

    /** clear_refs_write: "1".."5" (CLEAR_REFS_ALL .. CLEAR_REFS_MM_HIWATER_RSS); 5 resets hiwater RSS. */
    static void clearRefs(Kernel k, Task t, String s) throws FsException {
        int type;
        try {
            type = Integer.parseInt(s.trim());
        } catch (NumberFormatException e) {
            throw new FsException(Errno.EINVAL);
        }
        if (type < 1 || type > 5) {
            throw new FsException(Errno.EINVAL);
        }
    }
}
