package org.mmulab.kernel.mm;

import java.util.HashMap;
import java.util.Map;

/**
 * struct address_space for the two kinds of mapped objects mmulab has (mm/filemap.c, mm/shmem.c): a
 * read-only file image (an executable's page cache: pages filled from its bytes on first fault, bytes
 * past EOF read as zero) and a shmem object (MAP_SHARED|MAP_ANONYMOUS: pages zero-filled on first
 * fault, kept until the object goes). The cache holds one reference to each of its pages; every PTE
 * mapping one holds another, so a page outlives the mappings that zapped it. Locking: see {@link #iPages}
 * and {@link #shrinkUnmapped}.
 */
public final class AddressSpace {
    private int users = 1;
    /** What {@link #getPage} returns for a page at or past end of file: the fault is SIGBUS. */
    public static final long SIGBUS = -2;
    /** Pages of the file (i_size rounded up): a fault at or beyond is SIGBUS; unlimited unless set. */
    private volatile long eofPages = Long.MAX_VALUE;
    private final String name;
    private final FileBytes data;
    /** Where a writable file's pages come from and go back to (null: an image or shmem). */
    private final Backing backing;
    /** The xarray's PAGECACHE_TAG_DIRTY: indexes of pages written through a mapping, not yet written back. */
    private final java.util.TreeSet<Long> dirty = new java.util.TreeSet<>();
    private final boolean shmem;
    private final Map<Long, Long> pages = new HashMap<>();
    private final FrameTable frames;
    /**
     * {@code mapping->i_pages}' lock: guards {@link #pages} and {@link #users}; innermost in the mm's
     * lock order, held only around the index, never across an allocation.
     */
    private final SpinLock iPages;
    /**
     * {@code mapping->i_mmap_rwsem}: taken for writing by whatever must not miss a PTE of this object
     * while mappings move (mremap's move_page_tables on a file/shmem VMA, seed 004) against truncate and
     * hole punching, which unmap the object's range under it. Ordered after mmap_lock and before
     * page_table_lock (mm/rmap.c "Lock ordering in mm").
     */
    public final RwSemaphore iMmapRwsem;
    /** mapping->i_mmap with i_mmap_writable: which VMAs map this object ({@link IMmap}). */
    public final IMmap iMmap;

    private AddressSpace(FrameTable frames, String name, FileBytes data, boolean shmem) {
        this(frames, name, data, null, shmem);
    }

    private AddressSpace(FrameTable frames, String name, FileBytes data, Backing backing, boolean shmem) {
        this.frames = frames;
        this.name = name;
        this.data = data;
        this.backing = backing;
        this.shmem = shmem;
        this.iPages = new SpinLock(LockDep.I_PAGES, CycleCharge.NONE);
        // a sleeping waiter answers shootdown IPIs meanwhile (its holder may be waiting for them)
        this.iMmapRwsem = new RwSemaphore(LockDep.I_MMAP, frames.charge());
        this.iMmap = new IMmap(iMmapRwsem);
    }

    public static AddressSpace file(FrameTable frames, String name, byte[] data) {
        return file(frames, name, FileBytes.of(data));
    }

    /** The page cache of a read-only file image (read or mapped from the host by {@link FileBytes}). */
    public static AddressSpace file(FrameTable frames, String name, FileBytes data) {
        AddressSpace a = new AddressSpace(frames, name, data, false);
        frames.registerShrinker(a.shrinker);
        return a;
    }

    /**
     * A file's address_space_operations as the page cache uses them: {@code read_folio} fills a page
     * from the file (bytes past EOF stay zero) and {@code writepage} writes a dirty page back (no further
     * than the file's current end). Both run without the mapping's locks.
     */
    public interface Backing {
        /** Reads up to {@code dst.length} bytes at {@code off}; returns how many (0 past EOF). */
        int readPage(long off, byte[] dst);

        /** Writes {@code src} at {@code off}, clipped to the file's size: 0 or -errno. */
        int writePage(long off, byte[] src);
    }

    /** The page cache of a file that can be written back ({@link PageWriteback}): pages read at fault. */
    public static AddressSpace file(FrameTable frames, String name, Backing backing) {
        AddressSpace a = new AddressSpace(frames, name, null, backing, false);
        frames.registerShrinker(a.shrinker);
        return a;
    }

    /** Page-cache reclaim: a clean file page nobody maps (only the cache's reference) can be dropped. */
    private final FrameTable.Shrinker shrinker = this::shrinkUnmapped;

    /**
     * The shrinker's scan: drops the clean pages only the cache holds. It runs inside another task's
     * allocation, which may hold other locks (another mapping's, in filemap_fault), so like Linux's
     * shrinkers it never waits for this mapping's lock: if the mapping is busy it skips it
     * ({@code xa_trylock}-style), and returns what it freed.
     */
    long shrinkUnmapped() {
        if (!iPages.tryLock()) {
            return 0;
        }
        long n = 0;
        try {
            var it = pages.entrySet().iterator();
            while (it.hasNext()) {
                var e = it.next();
                long pfn = e.getValue();
                if (frames.refcount(pfn) == 1 && frames.mapcount(pfn) == 0 && !dirty.contains(e.getKey())) {
                    it.remove();
                    frames.put(pfn);
                    n++;
                }
            }
        } finally {
            iPages.unlock();
        }
        return n;
    }

    public static AddressSpace shmem(FrameTable frames) {
        return new AddressSpace(frames, "/dev/zero (deleted)", null, true);
    }

    /** A tmpfs file's shmem object (mm/shmem.c shmem_file_setup): {@code name} is what /proc/pid/maps shows. */
    public static AddressSpace shmem(FrameTable frames, String name) {
        return new AddressSpace(frames, name, null, true);
    }

    /**
     * filemap_get_folio without FGP_CREAT: the pfn of page {@code index} with a reference for the caller,
     * or -1 when it is not in the cache (a tmpfs hole reads as zeros without allocating).
     */
    public long findPage(long index) {
        iPages.lock();
        try {
            Long pfn = pages.get(index);
            if (pfn == null) {
                return -1;
            }
            frames.get(pfn);
            return pfn;
        } finally {
            iPages.unlock();
        }
    }

    /**
     * truncate_inode_pages_range from page {@code fromIndex} on: the cache drops its references to those
     * pages (a page still mapped lives on until its PTEs go). Returns how many pages were dropped.
     */
    public long truncatePages(long fromIndex) {
        long n = 0;
        iPages.lock();
        try {
            var it = pages.entrySet().iterator();
            while (it.hasNext()) {
                var e = it.next();
                if (e.getKey() >= fromIndex) {
                    dirty.remove(e.getKey());
                    frames.put(e.getValue());
                    it.remove();
                    n++;
                }
            }
        } finally {
            iPages.unlock();
        }
        return n;
    }

    /** i_size changed: faults at or past {@code bytes} (rounded up to a page) are SIGBUS from now on. */
    public void setEof(long bytes) {
        eofPages = (bytes + 4095) >>> 12;
    }

    /** The frame table the pages come from. */
    public FrameTable frames() {
        return frames;
    }

    public String name() {
        return name;
    }

    public boolean isShmem() {
        return shmem;
    }

    /**
     * filemap_fault / shmem_get_folio: returns the pfn of page {@code index} with a reference taken for
     * the caller, reading it in if needed; -1 when no frame is free. As filemap_add_folio does, a new
     * page is allocated and filled without the mapping's lock (the allocation may reclaim, and reclaim
     * must be free to scan other mappings), then inserted under it; if another task inserted the page
     * meanwhile, that one is used and ours freed.
     */
    public long getPage(long index) {
        if (index >= eofPages) {
            return SIGBUS; // filemap_fault / shmem_fault: beyond i_size
        }
        iPages.lock();
        try {
            Long pfn = pages.get(index);
            if (pfn != null) {
                frames.get(pfn);
                return pfn;
            }
        } finally {
            iPages.unlock();
        }
        long p = frames.allocZeroedPage();
        if (p < 0) {
            return -1;
        }
        if (data != null) {
            long off = index << 12;
            if (index >= 0 && index < (1L << 52) && off < data.size()) {
                int n = (int) Math.min(4096, data.size() - off);
                byte[] page = new byte[n];
                data.read(off, page, 0, n);
                frames.memory().writeBytes(p << 12, page, 0, n);
                frames.charge().bulk(p << 12, n);
            }
        } else if (backing != null) {
            byte[] page = new byte[4096];
            int n = backing.readPage(index << 12, page); // read_folio, outside the mapping's lock
            if (n > 0) {
                frames.memory().writeBytes(p << 12, page, 0, n);
                frames.charge().bulk(p << 12, n);
            }
        }
        frames.setFlags(p, shmem ? FrameTable.PG_SHMEM : FrameTable.PG_PAGECACHE);
        long raced = -1;
        iPages.lock();
        try {
            Long pfn = pages.putIfAbsent(index, p);
            if (pfn != null) {
                raced = p;
                p = pfn;
            }
            frames.get(p); // the caller's reference; the cache keeps the allocation's
        } finally {
            iPages.unlock();
        }
        if (raced >= 0) {
            frames.put(raced);
        }
        return p;
    }

    /**
     * shmem_undo_range for [fromIndex, toIndex): the cache drops its references to those pages (a page
     * still mapped lives on until its PTEs go). Returns how many pages were dropped.
     */
    public long punchHole(long fromIndex, long toIndex) {
        long n = 0;
        iPages.lock();
        try {
            var it = pages.entrySet().iterator();
            while (it.hasNext()) {
                var e = it.next();
                if (e.getKey() >= fromIndex && e.getKey() < toIndex) {
                    dirty.remove(e.getKey());
                    frames.put(e.getValue());
                    it.remove();
                    n++;
                }
            }
        } finally {
            iPages.unlock();
        }
        return n;
    }

    /** What hpage_collapse_scan_file saw in [start, start + n): see {@link #scanForCollapse}. */
    public record HugeScan(int present, boolean compound, long headAt, boolean eofShort) {
    }

    /**
     * hpage_collapse_scan_file's look at the cache: how many of the pages are cached, whether any is part
     * of a compound page, whether page {@code start} is the head of a huge folio that covers the range
     * ({@code headAt}: its pfn, else -1), and whether the range reaches past end of file.
     */
    HugeScan scanForCollapse(long start, int n) {
        if (start + n > eofPages) {
            return new HugeScan(0, false, -1, true);
        }
        iPages.lock();
        try {
            int present = 0;
            boolean compound = false;
            for (int i = 0; i < n; i++) {
                Long pfn = pages.get(start + i);
                if (pfn != null) {
                    present++;
                    compound |= frames.isCompound(pfn);
                }
            }
            Long first = pages.get(start);
            long head = first != null && (frames.flags(first) & FrameTable.PG_HEAD) != 0 ? first : -1;
            return new HugeScan(present, compound, head, false);
        } finally {
            iPages.unlock();
        }
    }

    /**
     * collapse_file's replacement step for shmem: under i_pages, if every small page of [start, start + 512)
     * is held by the cache alone (refcount 1, not mapped: the caller unmapped them everywhere, and a fault
     * or read(2) that took a reference since makes this fail), copy each into the subpage of the huge folio
     * at {@code hpage} (a hole stays zero) and let the cache point at the subpages, holding one folio
     * reference per page as Linux's cache does. Returns false, changing nothing, if a page is busy.
     */
    boolean replaceWithHuge(long start, long hpage) {
        int n = FrameTable.HPAGE_PMD_NR;
        long[] old = new long[n];
        iPages.lock();
        try {
            for (int i = 0; i < n; i++) {
                Long pfn = pages.get(start + i);
                old[i] = pfn == null ? -1 : pfn;
                if (pfn != null && (frames.isCompound(pfn) || frames.refcount(pfn) != 1 || frames.mapcount(pfn) != 0)) {
                    return false;
                }
            }
            for (int i = 0; i < n; i++) {
                if (old[i] >= 0) {
                    frames.copyPage(old[i], hpage + i);
                }
                frames.setFlags(hpage + i, shmem ? FrameTable.PG_SHMEM : FrameTable.PG_PAGECACHE);
                pages.put(start + i, hpage + i);
            }
            frames.refAdd(hpage, n);
            for (int i = 0; i < n; i++) {
                if (old[i] >= 0) {
                    frames.put(old[i]);
                }
            }
            return true;
        } finally {
            iPages.unlock();
        }
    }

    /** The pfn cached at {@code index} (no reference taken), or -1. */
    long cachedPfn(long index) {
        iPages.lock();
        try {
            Long pfn = pages.get(index);
            return pfn == null ? -1 : pfn;
        } finally {
            iPages.unlock();
        }
    }

    /**
     * force_page_cache_readahead for pages [from, to) of a file image: each page inside the file is read
     * into the cache (a shmem object has nothing to read). Returns the pages now cached in the range.
     */
    public long readahead(long from, long to) {
        if (data == null) {
            return 0;
        }
        long end = Math.min(to, (data.size() + 4095) >>> 12);
        long n = 0;
        for (long i = Math.max(from, 0); i < end; i++) {
            long pfn = getPage(i);
            if (pfn < 0) {
                break; // no memory: readahead is only advice
            }
            frames.put(pfn);
            n++;
        }
        return n;
    }

    /** Whether page {@code index} is in the cache (mincore's view of a file page not mapped here). */
    public boolean isCached(long index) {
        iPages.lock();
        try {
            return pages.containsKey(index);
        } finally {
            iPages.unlock();
        }
    }

    public int cachedPages() {
        iPages.lock();
        try {
            return pages.size();
        } finally {
            iPages.unlock();
        }
    }

    /** Whether dirty pages of this object go back to a file ({@link Backing}). */
    public boolean hasBacking() {
        return backing != null;
    }

    /**
     * folio_mark_dirty / __folio_mark_dirty: tags page {@code index} dirty (a zapped or cleaned dirty
     * PTE passes its bit on here). Only a file with a {@link Backing} keeps the tag: shmem and image
     * pages have nowhere to go.
     */
    public void markDirty(long index) {
        if (backing == null) {
            return;
        }
        iPages.lock();
        try {
            if (pages.containsKey(index)) {
                dirty.add(index);
            }
        } finally {
            iPages.unlock();
        }
    }

    /** Whether page {@code index} is tagged dirty. */
    public boolean isDirty(long index) {
        iPages.lock();
        try {
            return dirty.contains(index);
        } finally {
            iPages.unlock();
        }
    }

    /**
     * write_cache_pages over PAGECACHE_TAG_DIRTY in [fromIndex, toIndex): each tagged page has its tag
     * cleared (folio_clear_dirty_for_io) and is written through the {@link Backing} ({@code writepage}),
     * outside the mapping's lock with a reference held. Returns 0, or the first error (mapping_set_error:
     * the page is tagged again so a later fsync retries it).
     */
    public int writeDirty(long fromIndex, long toIndex) {
        if (backing == null) {
            return 0;
        }
        int err = 0;
        byte[] buf = null;
        for (long at = fromIndex; at < toIndex;) {
            long index, pfn;
            iPages.lock();
            try {
                Long i = dirty.ceiling(at);
                if (i == null || i >= toIndex) {
                    break;
                }
                dirty.remove(i);
                index = i;
                Long p = pages.get(i);
                pfn = p == null ? -1 : p;
                if (pfn >= 0) {
                    frames.get(pfn);
                }
            } finally {
                iPages.unlock();
            }
            at = index + 1;
            if (pfn < 0) {
                continue;
            }
            if (buf == null) {
                buf = new byte[4096];
            }
            frames.memory().readBytes(pfn << 12, buf, 0, 4096);
            frames.put(pfn);
            int r = backing.writePage(index << 12, buf);
            if (r < 0 && err == 0) {
                err = r;
                markDirty(index);
            }
        }
        return err;
    }

    /** get_file: one more VMA (or the exec) refers to the object. */
    public void acquire() {
        iPages.lock();
        try {
            users++;
        } finally {
            iPages.unlock();
        }
    }

    /**
     * fput: when the last user goes, the cached pages are dropped. A file with a {@link Backing} first
     * writes back what its mappings dirtied (munmap and exit_mmap zap the PTEs, passing their dirty bits
     * to the pages, before they release the VMA's reference).
     */
    public void releaseUser() {
        if (backing != null) {
            writeDirty(0, Long.MAX_VALUE);
        }
        boolean last;
        iPages.lock();
        try {
            last = --users == 0;
        } finally {
            iPages.unlock();
        }
        if (last) {
            frames.unregisterShrinker(shrinker);
            release();
        }
    }

    /** truncate_inode_pages: drops the cache's references (mapped pages live on until unmapped). */
    public void release() {
        iPages.lock();
        try {
            for (long pfn : pages.values()) {
                frames.put(pfn);
            }
            pages.clear();
            dirty.clear();
        } finally {
            iPages.unlock();
        }
    }
}
