package org.mmulab.kernel;

import org.mmulab.kernel.fs.DriverDevice;
import org.mmulab.kernel.fs.SuperBlock;
import org.mmulab.kernel.mm.FrameTable;
import org.mmulab.kernel.mm.MmStruct;
import org.mmulab.kernel.mm.PfnMap;

/**
 * Two mmulab-only character devices exercising the driver side of mm/memory.c (Linux 6.x) through
 * {@link PfnMap}:
 * <ul>
 * <li>/dev/mmulab-pfn (10, 240): {@link #FRAMES} physically contiguous frames reserved at first use
 *     (PG_reserved, never freed, no refcounting: like a device's BAR or a carve-out); mmap calls
 *     remap_pfn_range, so the VMA is VM_PFNMAP|VM_IO: special PTEs, GUP refuses it (process_vm_readv
 *     of it is EFAULT), fork copies its PTEs, a private writable map copies a frame on the first write.</li>
 * <li>/dev/mmulab-page (10, 241): {@link #FRAMES} ordinary pages the driver allocates and keeps a
 *     reference on; mmap calls vm_insert_page for each, so the VMA is VM_MIXEDMAP with refcounted,
 *     mapcounted pages (fork copies them: seed 003).</li>
 * </ul>
 * Frame {@code i} of each device holds the byte {@code 'A' + i} (pfn) or {@code 'a' + i} (page)
 * throughout, so a program can check which frame it sees. The mmap offset selects the first frame;
 * a range past the last frame is EINVAL, as a driver checking vm_pgoff + pages does.
 */
final class PfnDevices {
    static final int FRAMES = 16;
    private final Kernel k;
    private long pfnBase = -1;
    private long[] pages;

    PfnDevices(Kernel k) {
        this.k = k;
    }

    DriverDevice pfnDevice(SuperBlock sb) {
        return new DriverDevice(sb, 10, 240, (addr, len, prot, flags, pgoff) -> mmap(true, addr, len, prot, flags, pgoff));
    }

    DriverDevice pageDevice(SuperBlock sb) {
        return new DriverDevice(sb, 10, 241, (addr, len, prot, flags, pgoff) -> mmap(false, addr, len, prot, flags, pgoff));
    }

    /** The reserved frames' first pfn, or -1 when memory ran out (allocated on first use). */
    synchronized long pfnBase() {
        if (pfnBase < 0) {
            FrameTable frames = k.memory().frames();
            long p = frames.allocPages(4); // 16 contiguous frames
            if (p < 0) {
                return -1;
            }
            for (int i = 0; i < FRAMES; i++) {
                fill(p + i, 'A' + i);
                frames.reserve(p + i);
            }
            pfnBase = p;
        }
        return pfnBase;
    }

    /** The driver's pages, or null when memory ran out (allocated on first use, one reference each kept). */
    synchronized long[] pages() {
        if (pages == null) {
            FrameTable frames = k.memory().frames();
            long[] p = new long[FRAMES];
            for (int i = 0; i < FRAMES; i++) {
                p[i] = frames.allocZeroedPage();
                if (p[i] < 0) {
                    for (int j = 0; j < i; j++) {
                        frames.put(p[j]);
                    }
                    return null;
                }
                fill(p[i], 'a' + i);
                frames.setFlags(p[i], FrameTable.PG_DRIVER);
            }
            pages = p;
        }
        return pages;
    }

    private void fill(long pfn, int b) {
        byte[] page = new byte[4096];
        java.util.Arrays.fill(page, (byte) b);
        k.memory().frames().memory().writeBytes(pfn << 12, page, 0, 4096);
    }

    private long mmap(boolean pfn, long addr, long len, int prot, int flags, long pgoff) {
        long n = (len + 4095) >>> 12;
        if (len == 0 || pgoff < 0 || pgoff >= FRAMES || n > FRAMES - pgoff) {
            return -Errno.EINVAL;
        }
        MmStruct mm = k.current().mm;
        PfnMap map = new PfnMap(k.memory());
        if (pfn) {
            long base = pfnBase();
            if (base < 0) {
                return -Errno.ENOMEM;
            }
            return k.mmap().mmapDriver(mm, addr, len, prot, flags, pgoff,
                    v -> map.remapPfnRange(v, v.start(), base + pgoff, v.end() - v.start()));
        }
        long[] p = pages();
        if (p == null) {
            return -Errno.ENOMEM;
        }
        return k.mmap().mmapDriver(mm, addr, len, prot, flags, pgoff, v -> {
            for (long a = v.start(), i = pgoff; a < v.end(); a += 4096, i++) {
                int r = map.vmInsertPage(v, a, p[(int) i]);
                if (r < 0) {
                    return r;
                }
            }
            return 0;
        });
    }
}
