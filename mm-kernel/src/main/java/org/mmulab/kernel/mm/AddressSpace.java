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
    /**
     * {@code mapping->i_mmap}: every VMA of every mm that maps this object, in link order (Linux keeps an
     * interval tree by pgoff; a walk over all of them is what unmap_mapping_range needs here). Changed
     * only with {@link #iMmapRwsem} held for writing; so are the bounds of a linked VMA, which lets a
     * walker holding it for reading use them without the VMA's mmap lock ({@link Truncate}).
     */
    private final java.util.LinkedHashSet<VmArea> iMmap = new java.util.LinkedHashSet<>();
    /**
     * i_mmap_writable: the number of shared VMAs that may write the object (VM_SHARED|VM_MAYWRITE) plus
     * mmaps making one; negative once F_SEAL_WRITE denied them ({@link #denyWritable}).
     */
    private final java.util.concurrent.atomic.AtomicInteger iMmapWritable = new java.util.concurrent.atomic.AtomicInteger();

    private AddressSpace(FrameTable frames, String name, FileBytes data, boolean shmem) {
        this.frames = frames;
        this.name = name;
        this.data = data;
        this.shmem = shmem;
        this.iPages = new SpinLock(LockDep.I_PAGES, CycleCharge.NONE);
        // a sleeping waiter answers shootdown IPIs meanwhile (its holder may be waiting for them)
        this.iMmapRwsem = new RwSemaphore(LockDep.I_MMAP, frames.charge());
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
                long pfn = it.next().getValue();
                if (frames.refcount(pfn) == 1 && frames.mapcount(pfn) == 0) {
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

    /** vma_link's __vma_link_file: {@code v} maps this object from now on. */
    void linkVma(VmArea v) {
        iMmapRwsem.downWrite();
        try {
            linkVmaLocked(v);
        } finally {
            iMmapRwsem.upWrite();
        }
    }

    /** unlink_file_vma: before the VMA's page tables can be freed. */
    void unlinkVma(VmArea v) {
        iMmapRwsem.downWrite();
        try {
            unlinkVmaLocked(v);
        } finally {
            iMmapRwsem.upWrite();
        }
    }

    /** __vma_link_file with {@link #iMmapRwsem} already held for writing (mapping_allow_writable too). */
    void linkVmaLocked(VmArea v) {
        if (iMmap.add(v) && sharedMaywrite(v.flags)) {
            iMmapWritable.incrementAndGet();
        }
    }

    /** __remove_shared_vm_struct with {@link #iMmapRwsem} already held for writing (mapping_unmap_writable). */
    void unlinkVmaLocked(VmArea v) {
        if (iMmap.remove(v) && sharedMaywrite(v.flags)) {
            iMmapWritable.decrementAndGet();
        }
    }

    /** is_shared_maywrite: a VMA through which the object can be written now or after mprotect. */
    public static boolean sharedMaywrite(int vmFlags) {
        return (vmFlags & (VmArea.VM_SHARED | VmArea.VM_MAYWRITE)) == (VmArea.VM_SHARED | VmArea.VM_MAYWRITE);
    }

    /**
     * mapping_map_writable: mmap_region's hold on the object while it makes a shared writable VMA;
     * false (EPERM) once F_SEAL_WRITE denied writable mappings. Paired with {@link #unmapWritable}.
     */
    public boolean mapWritable() {
        return iMmapWritable.getAndUpdate(n -> n < 0 ? n : n + 1) >= 0;
    }

    /** mapping_unmap_writable. */
    public void unmapWritable() {
        iMmapWritable.decrementAndGet();
    }

    /**
     * mapping_deny_writable (F_SEAL_WRITE): succeeds only while no shared writable VMA or mmap in progress
     * holds the object (EBUSY otherwise), and from then on {@link #mapWritable} fails.
     */
    public boolean denyWritable() {
        return iMmapWritable.getAndUpdate(n -> n > 0 ? n : n - 1) <= 0;
    }

    /** A snapshot of i_mmap; the caller holds {@link #iMmapRwsem}. */
    java.util.List<VmArea> mappings() {
        return new java.util.ArrayList<>(iMmap);
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

    /** get_file: one more VMA (or the exec) refers to the object. */
    public void acquire() {
        iPages.lock();
        try {
            users++;
        } finally {
            iPages.unlock();
        }
    }

    /** fput: when the last user goes, the cached pages are dropped. */
    public void releaseUser() {
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
        } finally {
            iPages.unlock();
        }
    }
}
