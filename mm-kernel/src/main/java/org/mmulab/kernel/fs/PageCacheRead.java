package org.mmulab.kernel.fs;

import org.mmulab.kernel.mm.AddressSpace;
import org.mmulab.kernel.mm.FrameTable;

/**
 * filemap_read's copy loop (mm/filemap.c, Linux 6.6) shared by tmpfs and host files: page by page, a
 * page in the cache is copied out of guest RAM (with a reference held meanwhile); a page not cached is a
 * hole the file system fills ({@link Hole}: zeros for tmpfs, the host's bytes for a host file).
 */
final class PageCacheRead {
    /** Fills {@code len} bytes at file offset {@code pos} that no cached page holds. */
    interface Hole<E extends Exception> {
        void fill(long pos, byte[] b, int off, int len) throws E;
    }

    private PageCacheRead() {
    }

    /** Copies {@code n} bytes at {@code pos} (inside the file) into {@code b}. */
    static <E extends Exception> void copy(AddressSpace a, FrameTable frames, long pos, byte[] b, int off, int n,
            Hole<E> hole) throws E {
        int done = 0;
        while (done < n) {
            long p = pos + done;
            int inPage = (int) (p & 4095);
            int chunk = Math.min(n - done, 4096 - inPage);
            long pfn = a.findPage(p >>> 12);
            if (pfn >= 0) {
                frames.memory().readBytes((pfn << 12) + inPage, b, off + done, chunk);
                frames.put(pfn);
            } else {
                hole.fill(p, b, off + done, chunk);
            }
            done += chunk;
        }
    }
}
