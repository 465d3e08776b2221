package org.mmulab.kernel;

import org.mmulab.kernel.mm.FrameTable;
import org.mmulab.kernel.mm.MmStruct;
import org.mmulab.kernel.mm.PteBits;
import org.mmulab.kernel.mm.VmArea;

/**
 * /proc/PID/smaps (fs/proc/task_mmu.c show_smap, smaps_pte_entry, show_smap_vma_flags; Linux 6.12): per
 * VMA its /proc/PID/maps line, the page counts its present PTEs give (Rss; Pss dividing each page by its
 * mapcount; shared or private by mapcount, clean or dirty by the PTE's Dirty bit; Referenced by the
 * Accessed bit; Anonymous for anonymous pages), then VmFlags with Linux's two-letter names in bit order
 * (the mm's vm_flags have Linux's bit values). No swap, no THP, no hugetlb: those lines are 0.
 */
final class ProcSmaps {
    /** show_smap_vma_flags' mnemonics, indexed by bit; null where mmulab has no such flag. */
    private static final String[] MNEMONICS = {"rd", "wr", "ex", "sh", "mr", "mw", "me", "ms", "gd", "um", "pf", null,
        "uw", "lo", "io", "sr", "rr", "dc", "de", "lf", "ac", "nr", "ht", "sf", "ar", "wf", "dd", "sd", "mm", "hg", "nh",
        "mg"};

    private ProcSmaps() {
    }

    static String text(Kernel k, ProcFs proc, Task t) {
        return ProcFs.eachVma(t, (b, v, mm) -> {
            proc.mapLine(b, v, mm);
            vma(k, b, v, mm);
        });
    }

    private static void vma(Kernel k, StringBuilder b, VmArea v, MmStruct mm) {
        FrameTable frames = k.memory().frames();
        long rss = 0, pss = 0, pssDirty = 0, sharedClean = 0, sharedDirty = 0, privClean = 0, privDirty = 0, ref = 0,
                anon = 0;
        boolean pfnmap = (v.flags() & VmArea.VM_PFNMAP) != 0;
        for (long a = v.start(); a < v.end() && !pfnmap; a += 4096) {
            long pte = k.memory().lookupPte(mm, a);
            if (!PteBits.present(pte)) {
                continue;
            }
            long pfn = PteBits.pfn(pte);
            if (PteBits.special(pte) || pfn == k.memory().zeroPfn() || pfn >= frames.frameCount()) {
                continue; // vm_normal_page: no struct page
            }
            boolean dirty = (pte & PteBits.DIRTY) != 0;
            int mc = Math.max(1, frames.mapcount(pfn));
            rss += 4096;
            long share = (4096L << 12) / mc; // PSS_SHIFT 12
            pss += share;
            if (dirty) {
                pssDirty += share;
            }
            if (mc >= 2) {
                if (dirty) {
                    sharedDirty += 4096;
                } else {
                    sharedClean += 4096;
                }
            } else if (dirty) {
                privDirty += 4096;
            } else {
                privClean += 4096;
            }
            if ((pte & PteBits.ACCESSED) != 0) {
                ref += 4096;
            }
            if ((frames.flags(pfn) & FrameTable.PG_ANON) != 0) {
                anon += 4096;
            }
        }
        long locked = (v.flags() & VmArea.VM_LOCKED) != 0 ? pss : 0;
        line(b, "Size:           ", v.end() - v.start());
        line(b, "KernelPageSize: ", 4096);
        line(b, "MMUPageSize:    ", 4096);
        line(b, "Rss:            ", rss);
        line(b, "Pss:            ", pss >>> 12);
        line(b, "Pss_Dirty:      ", pssDirty >>> 12);
        line(b, "Shared_Clean:   ", sharedClean);
        line(b, "Shared_Dirty:   ", sharedDirty);
        line(b, "Private_Clean:  ", privClean);
        line(b, "Private_Dirty:  ", privDirty);
        line(b, "Referenced:     ", ref);
        line(b, "Anonymous:      ", anon);
        line(b, "KSM:            ", 0);
        line(b, "LazyFree:       ", 0);
        line(b, "AnonHugePages:  ", 0);
        line(b, "ShmemPmdMapped: ", 0);
        line(b, "FilePmdMapped:  ", 0);
        line(b, "Shared_Hugetlb: ", 0);
        line(b, "Private_Hugetlb:", 0);
        line(b, "Swap:           ", 0);
        line(b, "SwapPss:        ", 0);
        line(b, "Locked:         ", locked >>> 12);
        b.append("THPeligible:           0\n");
        b.append("VmFlags:");
        int f = v.flags();
        for (int bit = 0; bit < MNEMONICS.length; bit++) {
            if ((f & (1 << bit)) != 0 && MNEMONICS[bit] != null) {
                b.append(' ').append(MNEMONICS[bit]);
            }
        }
        b.append(" \n");
    }

    /** SEQ_PUT_DEC: the 16-column name, the value in kB right-aligned in 8 columns. */
    private static void line(StringBuilder b, String name, long bytes) {
        b.append(name).append(String.format("%8d kB%n", bytes >>> 10));
    }
}
