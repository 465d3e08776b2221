package org.mmulab.kernel;

import org.mmulab.kernel.fs.FsException;
import org.mmulab.kernel.mm.MmStruct;
import org.mmulab.kernel.mm.SoftDirty;

/**
 * /proc/PID/pagemap and clear_refs (fs/proc/task_mmu.c pagemap_read, pte_to_pagemap_entry,
 * pagemap_pte_hole, clear_refs_write; Linux 6.x with CONFIG_MEM_SOFT_DIRTY), as root reads them: one
 * u64 per virtual page with bit 63 present, 62 swapped (never: no swap), 61 file page or shared
 * anonymous, 57 uffd-wp (never: no userfaultfd), 56 exclusively mapped (mapcount 1), 55 soft-dirty and
 * the PFN in bits 0-54 (shown: the guest runs as root, CAP_SYS_ADMIN). The entries come from
 * {@link SoftDirty#pagemap}; writing 1-5 to clear_refs runs {@link SoftDirty#clearRefs(MmStruct, int)}.
 */
final class ProcPagemap {
    /** clear_refs_write's buffer: char buffer[PROC_NUMBUF] (13), at most 12 bytes of a write are parsed. */
    private static final int PROC_NUMBUF = 13;

    private ProcPagemap() {
    }

    /**
     * pagemap_read: offsets and sizes not a multiple of 8 are EINVAL; a read starting at or past the
     * task size's last page returns 0 bytes; at most 64 Ki entries are returned by one read (a short
     * read, which pagemap_read's PAGEMAP_WALK_SIZE loop also produces when the buffer faults).
     */
    static byte[] read(Kernel k, Task t, long pos, int len) throws FsException {
        if ((pos & 7) != 0 || (len & 7) != 0) {
            throw new FsException(Errno.EINVAL);
        }
        MmStruct mm = t.mm;
        if (mm == null || pos < 0) {
            return new byte[0];
        }
        long first = pos >>> 3;
        long pages = mm.taskSize >>> 12;
        if (first >= pages) {
            return new byte[0];
        }
        int n = (int) Math.min(len / 8, Math.min(pages - first, 1 << 16));
        long[] e = new long[n];
        new SoftDirty(k.memory()).pagemap(mm, first << 12, e, true);
        byte[] out = new byte[n * 8];
        for (int i = 0; i < n; i++) {
            Le.put64(out, i * 8, e[i]);
        }
        return out;
    }

    /**
     * clear_refs_write: the first 12 bytes, whitespace-stripped, as a base-10 int (kstrtoint: an optional
     * sign); a number too large for an int is ERANGE, anything else or a type outside 1..5 EINVAL.
     */
    static void clearRefs(Kernel k, Task t, String s) throws FsException {
        if (s.length() > PROC_NUMBUF - 1) {
            s = s.substring(0, PROC_NUMBUF - 1);
        }
        int type = parseKstrtoint(s.strip());
        if (type < SoftDirty.CLEAR_REFS_ALL || type > SoftDirty.CLEAR_REFS_MM_HIWATER_RSS) {
            throw new FsException(Errno.EINVAL);
        }
        if (t.mm != null) {
            new SoftDirty(k.memory()).clearRefs(t.mm, type);
        }
    }

    /** kstrtoint(s, 10): [+-]digits with an optional trailing newline; overflow ERANGE, anything else EINVAL. */
    static int parseKstrtoint(String s) throws FsException {
        if (s.endsWith("\n")) {
            s = s.substring(0, s.length() - 1);
        }
        if (s.isEmpty() || !s.matches("[+-]?[0-9]+")) {
            throw new FsException(Errno.EINVAL);
        }
        try {
            return Integer.parseInt(s.startsWith("+") ? s.substring(1) : s);
        } catch (NumberFormatException e) {
            throw new FsException(Errno.ERANGE); // kstrtoint's overflow, returned as it is
        }
    }
}
