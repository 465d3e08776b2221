package org.mmulab.kernel.mm;

import java.util.HashMap;
import java.util.Map;

/**
 * struct address_space for the two kinds of mapped objects mmulab has (mm/filemap.c, mm/shmem.c): a
 * read-only file image (an executable's page cache: pages filled from its bytes on first fault, bytes
 * past EOF read as zero) and a shmem object (MAP_SHARED|MAP_ANONYMOUS: pages zero-filled on first
 * fault, kept until the object goes). The cache holds one reference to each of its pages; every PTE
 * mapping one holds another, so a page outlives the mappings that zapped it.
 */
public final class AddressSpace {
    private int users = 1;
    private final String name;
    private final FileBytes data;
    private final boolean shmem;
    private final Map<Long, Long> pages = new HashMap<>();
    private final FrameTable frames;

    private AddressSpace(FrameTable frames, String name, FileBytes data, boolean shmem) {
        this.frames = frames;
        this.name = name;
        this.data = data;
        this.shmem = shmem;
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

    synchronized long shrinkUnmapped() {
        long n = 0;
        var it = pages.entrySet().iterator();
        while (it.hasNext()) {
            long pfn = it.next().getValue();
            if (frames.refcount(pfn) == 1 && frames.mapcount(pfn) == 0) {
                it.remove();
                frames.put(pfn);
                n++;
            }
        }
        return n;
    }

    public static AddressSpace shmem(FrameTable frames) {
        return new AddressSpace(frames, "/dev/zero (deleted)", null, true);
    }

    public String name() {
        return name;
    }

    public boolean isShmem() {
        return shmem;
    }

    /**
     * filemap_fault / shmem_get_folio: returns the pfn of page {@code index} with a reference taken for
     * the caller, reading it in if needed; -1 when no frame is free.
     */
    public synchronized long getPage(long index) {
        Long pfn = pages.get(index);
        if (pfn == null) {
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
            pages.put(index, p);
            pfn = p;
        }
        frames.get(pfn);
        return pfn;
    }

    public synchronized int cachedPages() {
        return pages.size();
    }

    /** get_file: one more VMA (or the exec) refers to the object. */
    public synchronized void acquire() {
        users++;
    }

    /** fput: when the last user goes, the cached pages are dropped. */
    public void releaseUser() {
        boolean last;
        synchronized (this) {
            last = --users == 0;
        }
        if (last) {
            frames.unregisterShrinker(shrinker);
            release();
        }
    }

    /** truncate_inode_pages: drops the cache's references (mapped pages live on until unmapped). */
    public synchronized void release() {
        for (long pfn : pages.values()) {
            frames.put(pfn);
        }
        pages.clear();
    }
}
